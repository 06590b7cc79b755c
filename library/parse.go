package library

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Header names recognised for the SMILES and name columns, matched
// case-insensitively after trimming. When several are present the first in
// the list wins and the others are kept as metadata.
var (
	smilesHeaders = []string{"smiles", "canonical_smiles", "smi"}
	nameHeaders   = []string{"name", "ligand_name", "compound_id", "id", "title"}
)

// Parse reads an uploaded library file, choosing the format from the file
// name's extension (case-insensitive): .csv is CSV, .tsv is tab-separated
// CSV, and .smi, .smiles and .txt are SMILES files (see ParseSMI). Other
// extensions are refused with omtx.EInvalid, field "file".
func Parse(filename string, r io.Reader, opt Options) (*Library, error) {
	base := filename[strings.LastIndexByte(filename, '\\')+1:]
	switch ext := strings.ToLower(path.Ext(base)); ext {
	case ".csv":
		return parseDelimited(r, ',', opt)
	case ".tsv":
		return parseDelimited(r, '\t', opt)
	case ".smi", ".smiles", ".txt":
		return ParseSMI(r, opt)
	case "":
		return nil, omtx.Errorf(omtx.EInvalid, "file", "%q has no extension; use .csv, .tsv, .smi, .smiles or .txt", filename)
	default:
		return nil, omtx.Errorf(omtx.EInvalid, "file", "has unsupported extension %q; use .csv, .tsv, .smi, .smiles or .txt", ext)
	}
}

// ParseCSV reads a CSV library with a header row (RFC 4180: quoted fields
// may hold commas, quotes and line breaks). The SMILES column is required
// and may be called smiles, canonical_smiles or smi; the name column is
// optional and may be called name, ligand_name, compound_id, id or title
// (matched case-insensitively after trimming). Every other column is kept in
// Entry.Metadata under its header name, trimmed; a column without a header
// is called "column_N" (1-based).
//
// A UTF-8 byte order mark, CRLF line ends and a trailing newline are
// accepted; blank rows (also rows whose fields are all blank) are skipped.
// A row with another number of fields than the header is an invalid row
// (Problem field "row"), except that extra blank fields at its end are
// ignored. A file that is not CSV at all (an unterminated quote, say) is
// refused with omtx.EInvalid, field "file", naming the line.
func ParseCSV(r io.Reader, opt Options) (*Library, error) {
	return parseDelimited(r, ',', opt)
}

// ParseSMI reads a SMILES file: one "SMILES name" per line, where the
// SMILES ends at the first space or tab and the name is the rest of the
// line, trimmed (it may contain spaces, and may be absent). Blank lines and
// lines starting with '#' are skipped, and so is a first line that is a
// header ("smiles name", "SMILES\tID", ...). A UTF-8 byte order mark and CRLF
// line ends are accepted. Row numbers are line numbers.
func ParseSMI(r io.Reader, opt Options) (*Library, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	var rows []rawRow
	first := true
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		smiles, name := line, ""
		if j := strings.IndexFunc(line, unicode.IsSpace); j >= 0 {
			smiles, name = line[:j], strings.TrimSpace(line[j:])
		}
		if first {
			first = false
			if isOneOf(smiles, smilesHeaders) {
				continue
			}
		}
		if len(rows) == MaxLigands {
			return nil, TooMany()
		}
		r := rawRow{line: i + 1, smiles: smiles, name: name}
		if len(line) > MaxRowBytes {
			r.problem = fmt.Sprintf("is %d bytes, more than %d", len(line), MaxRowBytes)
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 {
		return nil, errEmpty("the file has no SMILES lines")
	}
	return finish(len(rows), func(i int) rawRow { return rows[i] }, opt)
}

// parseDelimited is ParseCSV with the field separator comma.
func parseDelimited(r io.Reader, comma rune, opt Options) (*Library, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = comma
	cr.FieldsPerRecord = -1

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errEmpty("the file has no header and no rows")
	}
	if err != nil {
		return nil, notCSV(err)
	}
	cols, err := readHeader(header)
	if err != nil {
		return nil, err
	}

	var rows []rawRow
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, notCSV(err)
		}
		if blank(rec) {
			continue
		}
		if len(rows) == MaxLigands {
			return nil, TooMany()
		}
		line, _ := cr.FieldPos(0)
		rows = append(rows, cols.row(line, rec))
	}
	if len(rows) == 0 {
		return nil, errEmpty("the file has a header but no rows")
	}
	return finish(len(rows), func(i int) rawRow { return rows[i] }, opt)
}

// columns is a parsed CSV header.
type columns struct {
	n      int      // number of header fields
	smiles int      // index of the SMILES column
	name   int      // index of the name column, or -1
	keys   []string // metadata key of each column; "" for smiles and name
}

func readHeader(header []string) (*columns, error) {
	c := &columns{n: len(header), smiles: -1, name: -1, keys: make([]string, len(header))}
	lower := make([]string, len(header))
	seen := make(map[string]bool, len(header))
	for i, h := range header {
		key := strings.TrimSpace(h)
		if key == "" {
			key = fmt.Sprintf("column_%d", i+1)
		}
		if err := columnName(i, key); err != nil {
			return nil, err
		}
		l := strings.ToLower(key)
		if seen[l] {
			return nil, omtx.Errorf(omtx.EInvalid, "file", "header has more than one column named %q", key)
		}
		seen[l] = true
		c.keys[i], lower[i] = key, l
	}
	c.smiles = findColumn(lower, smilesHeaders)
	if c.smiles < 0 {
		return nil, omtx.Errorf(omtx.EInvalid, "file", "has no SMILES column: the header (%s) has none of %s",
			strings.Join(c.keys, ", "), strings.Join(smilesHeaders, ", "))
	}
	c.name = findColumn(lower, nameHeaders)
	c.keys[c.smiles] = ""
	if c.name >= 0 {
		c.keys[c.name] = ""
	}
	extra := c.n - 1 // besides the SMILES column
	if c.name >= 0 {
		extra--
	}
	if extra > MaxMetadataColumns {
		return nil, omtx.Errorf(omtx.EInvalid, "file", "header has %d metadata columns besides SMILES and name; at most %d are kept, so drop the others", extra, MaxMetadataColumns)
	}
	return c, nil
}

// columnName checks a header field: it becomes a key of the child
// documents' ligand_metadata and a column of batch_results.csv.
func columnName(i int, key string) error {
	switch {
	case !utf8.ValidString(key):
		return omtx.Errorf(omtx.EInvalid, "file", "header column %d is not valid UTF-8", i+1)
	case len(key) > MaxColumnNameBytes:
		return omtx.Errorf(omtx.EInvalid, "file", "header column %d is %d bytes long; column names may be at most %d", i+1, len(key), MaxColumnNameBytes)
	case strings.HasPrefix(key, "__") && strings.HasSuffix(key, "__"):
		return omtx.Errorf(omtx.EInvalid, "file", "header column %d, %q, is a name reserved by the database (__name__); rename it", i+1, key)
	}
	for _, r := range key {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return omtx.Errorf(omtx.EInvalid, "file", "header column %d contains a control or invisible character (U+%04X)", i+1, r)
		}
	}
	return nil
}

// findColumn returns the index of the first of names among header, or -1.
func findColumn(header, names []string) int {
	for _, n := range names {
		for i, h := range header {
			if h == n {
				return i
			}
		}
	}
	return -1
}

// row turns a data record into a raw row.
func (c *columns) row(line int, rec []string) rawRow {
	r := rawRow{line: line}
	if n := len(rec); n > c.n && blank(rec[c.n:]) {
		rec = rec[:c.n]
	}
	if len(rec) != c.n {
		r.problem = fmt.Sprintf("has %d fields but the header has %d", len(rec), c.n)
	}
	size := 0
	for _, v := range rec {
		size += len(v)
	}
	if size > MaxRowBytes && r.problem == "" {
		r.problem = fmt.Sprintf("is %d bytes, more than %d", size, MaxRowBytes)
	}
	for i, v := range rec {
		if i >= c.n {
			break
		}
		switch {
		case i == c.smiles:
			r.smiles = v
		case i == c.name:
			r.name = v
		default:
			v = strings.ToValidUTF8(strings.TrimSpace(v), "\uFFFD")
			if len(v) > MaxCellBytes && r.problem == "" {
				r.problem = fmt.Sprintf("column %q is %d bytes, more than %d", c.keys[i], len(v), MaxCellBytes)
			}
			if r.metadata == nil {
				r.metadata = make(map[string]string, c.n)
			}
			// An invalid row is kept (Options.SkipInvalid) and stored too:
			// keep no more of a cell than a valid row may have.
			r.metadata[c.keys[i]] = clip(v, MaxCellBytes)
		}
	}
	return r
}

// readAll reads an uploaded file, refusing one over MaxFileBytes, and drops
// a UTF-8 byte order mark.
func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("library: reading the file: %w", err)
	}
	if len(data) > MaxFileBytes {
		return nil, omtx.Errorf(omtx.ETooLarge, "file", "is larger than %d MiB, the limit for a library", MaxFileBytes>>20)
	}
	return bytes.TrimPrefix(data, []byte("\uFEFF")), nil
}

func notCSV(err error) error {
	return omtx.Errorf(omtx.EInvalid, "file", "is not valid CSV: %v", err)
}

// blank reports whether every field is empty or white space.
func blank(fields []string) bool {
	for _, f := range fields {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

func isOneOf(s string, names []string) bool {
	for _, n := range names {
		if strings.EqualFold(s, n) {
			return true
		}
	}
	return false
}
