package library

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// ParseSDF reads an SD file: records of a molfile (V2000 or V3000, read by
// chem.ParseMolfile) and data items, each record ended by a "$$$$" line
// (the last one may lack it). Each record becomes a row:
//   - its structure is written as SMILES (chem's writer, in the molfile's
//     atom order; stereo is not kept, see chem.ParseMolfile);
//   - its name is the title line (the molfile's first line), or, where the
//     title is blank, the first data item whose field name is a name
//     (IDNUMBER, Compound ID, ... as for CSV headers);
//   - its data items ("> <MW>" and the lines below it, up to a blank line)
//     are metadata columns named by the field, bounded as CSV columns are:
//     at most MaxMetadataColumns distinct fields in the file, names of at
//     most MaxColumnNameBytes, values (their lines joined by "\n") of at
//     most MaxCellBytes.
//
// Row numbers are record numbers, 1-based. A record whose molfile is
// refused is an invalid row (field "row") whose reason names the record
// and the file's line, "record 3, line 45: nitrogen (atom 2) has valence 4
// (max 3)". Blank records (a trailing "$$$$") are skipped. The file is
// bounded by MaxFileBytes and MaxLigands records, each molfile by chem's
// atom, bond and line limits.
func ParseSDF(r io.Reader, opt Options) (*Library, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	s := &sdfReader{seen: map[string]bool{}}
	line := 1 // file line of the record's first line
	for len(text) > 0 {
		rec, rest := cutRecord(text)
		n := strings.Count(text[:len(text)-len(rest)], "\n") // lines consumed, "$$$$" included
		text = rest
		if strings.TrimSpace(rec) != "" {
			if len(s.rows) == MaxLigands {
				return nil, TooMany()
			}
			if err := s.record(rec, line); err != nil {
				return nil, err
			}
		}
		line += n
	}
	if len(s.rows) == 0 {
		return nil, errEmpty("the SD file has no records")
	}
	return finish(len(s.rows), func(i int) rawRow { return s.rows[i] }, opt)
}

// cutRecord splits text after the first "$$$$" line, returning the record
// without that line (and without its own last newline).
func cutRecord(text string) (rec, rest string) {
	off := 0
	for {
		i := strings.Index(text[off:], "$$$$")
		if i < 0 {
			return strings.TrimSuffix(text, "\n"), ""
		}
		i += off
		atStart := i == 0 || text[i-1] == '\n'
		end := i + 4
		for end < len(text) && (text[end] == ' ' || text[end] == '\t' || text[end] == '\r') {
			end++
		}
		if atStart && (end == len(text) || text[end] == '\n') {
			rec = strings.TrimSuffix(text[:i], "\n")
			if end < len(text) {
				end++
			}
			return rec, text[end:]
		}
		off = i + 4
	}
}

type sdfReader struct {
	rows    []rawRow
	columns []string // field names, in order of first appearance
	seen    map[string]bool
}

// record reads one record whose first line is line first of the file.
func (s *sdfReader) record(rec string, first int) error {
	n := len(s.rows) + 1
	r := rawRow{line: n}
	lines := strings.Split(rec, "\n")
	end := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "M  END") })
	items := lines[min(len(lines), end+1):]
	if end < 0 {
		items = nil
	}
	fields, err := s.dataItems(items, first+end+1, n)
	if err != nil {
		return err
	}
	r.metadata = fields.values
	if end < 0 {
		r.problem = fmt.Sprintf("record %d, line %d: has no \"M  END\" line; it is not a molfile", n, first)
		r.name = sdfName(lines[0], fields)
		s.rows = append(s.rows, r)
		return nil
	}
	mf, err := chem.ParseMolfile(strings.Join(lines[:end+1], "\n"))
	if err != nil {
		var me *chem.MolfileError
		if errors.As(err, &me) && me.Line > 0 {
			r.problem = fmt.Sprintf("record %d, line %d: %s", n, first+me.Line-1, me.Reason)
		} else {
			r.problem = fmt.Sprintf("record %d (lines %d-%d): %v", n, first, first+end, err)
		}
		r.name = sdfName(lines[0], fields)
		s.rows = append(s.rows, r)
		return nil
	}
	r.smiles = moleculeSMILES(mf.Molecule)
	r.name = sdfName(mf.Title, fields)
	size := len(r.smiles) + len(r.name)
	for _, v := range r.metadata {
		size += len(v)
	}
	if size > MaxRowBytes && r.problem == "" {
		r.problem = fmt.Sprintf("record %d: SMILES, name and data items are %d bytes, more than %d", n, size, MaxRowBytes)
	}
	if fields.problem != "" && r.problem == "" {
		r.problem = fields.problem
	}
	s.rows = append(s.rows, r)
	return nil
}

// sdfFields are the data items of one record.
type sdfFields struct {
	values  map[string]string
	order   []string
	problem string // an item over MaxCellBytes
}

// sdfName is the title, or the first data item named as a name column.
func sdfName(title string, f sdfFields) string {
	if t := strings.TrimSpace(title); t != "" {
		return t
	}
	for _, h := range nameHeaders {
		for _, k := range f.order {
			if normalizeHeader(k) == h && strings.TrimSpace(f.values[k]) != "" {
				return strings.TrimSpace(f.values[k])
			}
		}
	}
	return ""
}

// dataItems reads the data items after "M  END"; line is the file line of
// items[0], rec the record number.
func (s *sdfReader) dataItems(items []string, line, rec int) (sdfFields, error) {
	var f sdfFields
	for i := 0; i < len(items); i++ {
		h := items[i]
		if strings.TrimSpace(h) == "" {
			continue
		}
		if !strings.HasPrefix(h, ">") {
			return f, omtx.Errorf(omtx.EInvalid, "file", "record %d, line %d: expected a data header \"> <field>\" after the molfile, found %q", rec, line+i, clip(strings.ToValidUTF8(h, "\uFFFD"), 40))
		}
		open := strings.IndexByte(h, '<')
		closing := strings.LastIndexByte(h, '>')
		if open < 0 || closing < open {
			return f, omtx.Errorf(omtx.EInvalid, "file", "record %d, line %d: data header %q has no field name in < >", rec, line+i, clip(strings.ToValidUTF8(h, "\uFFFD"), 40))
		}
		key := strings.TrimSpace(h[open+1 : closing])
		if key == "" {
			key = fmt.Sprintf("field_%d", len(f.order)+1)
		}
		var val []string
		j := i + 1
		for ; j < len(items) && strings.TrimSpace(items[j]) != ""; j++ {
			val = append(val, strings.TrimRight(items[j], " \r"))
		}
		if err := s.column(key, rec, line+i); err != nil {
			return f, err
		}
		v := strings.ToValidUTF8(strings.TrimSpace(strings.Join(val, "\n")), "\uFFFD")
		if len(v) > MaxCellBytes && f.problem == "" {
			f.problem = fmt.Sprintf("record %d, line %d: data item %q is %d bytes, more than %d", rec, line+i, key, len(v), MaxCellBytes)
		}
		if f.values == nil {
			f.values = map[string]string{}
		}
		if _, dup := f.values[key]; !dup {
			f.order = append(f.order, key)
			f.values[key] = clip(v, MaxCellBytes)
		}
		i = j
	}
	return f, nil
}

// column admits a field name as a metadata column.
func (s *sdfReader) column(key string, rec, line int) error {
	if s.seen[key] {
		return nil
	}
	if err := columnName(len(s.columns), key); err != nil {
		return omtx.Errorf(omtx.EInvalid, "file", "record %d, line %d: data field %q cannot be a metadata column: %s",
			rec, line, clip(strings.ToValidUTF8(key, "\uFFFD"), 40), omtxMessage(err))
	}
	if len(s.columns) == MaxMetadataColumns {
		return omtx.Errorf(omtx.EInvalid, "file", "record %d, line %d: data field %q is the %dth distinct field; at most %d are kept as metadata columns", rec, line, key, MaxMetadataColumns+1, MaxMetadataColumns)
	}
	s.seen[key] = true
	s.columns = append(s.columns, key)
	return nil
}

// omtxMessage is the message of an *omtx.Error, or err's text.
func omtxMessage(err error) string {
	var de *omtx.Error
	if errors.As(err, &de) {
		return de.Message
	}
	return err.Error()
}
