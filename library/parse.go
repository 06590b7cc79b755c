package library

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Header names recognised for the SMILES and name columns. A header cell
// matches when it equals one of these after normalizeHeader (case, spaces
// and punctuation ignored: "Compound ID", "compound_id" and "COMPOUND-ID"
// are one name). When several columns match, the earliest name in the list
// wins and the others are kept as metadata.
var (
	smilesHeaders = []string{
		"smiles", "canonicalsmiles", "isomericsmiles", "smi", "smilesstring",
		"structure", "structuresmiles", "molsmiles", "ligandsmiles", "compoundsmiles",
	}
	nameHeaders = []string{
		"name", "ligandname", "compoundid", "id", "title", "moleculename", "compoundname",
		"molname", "moleculeid", "molid", "compound", "ligand", "ligandid", "identifier",
		"catalogid", "idnumber", "chemblid", "cmpdid", "regid", "registrationid",
	}
)

// normalizeHeader lower-cases a header cell and drops everything but
// letters and digits.
func normalizeHeader(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Parse reads an uploaded library file, choosing the format from the file
// name's extension (case-insensitive):
//   - .csv, .tsv and .txt are delimited text (ParseDelimited): the delimiter,
//     comma, semicolon, tab or pipe, is detected from the header and the
//     first lines. A .txt file is read as a SMILES file (ParseSMI) instead
//     when its first line is not a header naming a SMILES or name column,
//     so that Excel's tab-delimited text and plain "SMILES name" lists both
//     work.
//   - .smi and .smiles are SMILES files (ParseSMI).
//   - .sdf, .sd and .mol are SD files (ParseSDF).
//   - .xlsx is an Excel workbook (ParseXLSX), its first sheet or
//     Options.Sheet.
//
// Other extensions are refused with omtx.EInvalid, field "file".
func Parse(filename string, r io.Reader, opt Options) (*Library, error) {
	base := filename[strings.LastIndexByte(filename, '\\')+1:]
	switch ext := strings.ToLower(path.Ext(base)); ext {
	case ".csv":
		return parseText(r, ',', false, opt)
	case ".tsv":
		return parseText(r, '\t', false, opt)
	case ".txt":
		return parseText(r, '\t', true, opt)
	case ".smi", ".smiles":
		return ParseSMI(r, opt)
	case ".sdf", ".sd", ".mol":
		return ParseSDF(r, opt)
	case ".xlsx":
		return ParseXLSX(r, opt)
	case "":
		return nil, omtx.Errorf(omtx.EInvalid, "file", "%q has no extension; use %s", filename, extensions)
	default:
		return nil, omtx.Errorf(omtx.EInvalid, "file", "has unsupported extension %q; use %s", ext, extensions)
	}
}

const extensions = ".csv, .tsv, .txt, .smi, .smiles, .sdf or .xlsx"

// parseText reads a delimited file whose extension suggests def as the
// delimiter; with smiFallback (.txt), a file without a header row is a
// SMILES file.
func parseText(r io.Reader, def rune, smiFallback bool, opt Options) (*Library, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	comma := DetectDelimiter(data, def)
	if smiFallback && !hasHeader(data, comma) {
		return parseSMI(data, opt)
	}
	return parseDelimited(data, comma, opt)
}

// hasHeader reports whether the first non-blank line of data, split at
// comma, names a SMILES or a name column.
func hasHeader(data []byte, comma rune) bool {
	line := firstLine(data)
	if line == "" {
		return false
	}
	for _, f := range strings.Split(line, string(comma)) {
		h := normalizeHeader(strings.Trim(strings.TrimSpace(f), `"`))
		if slices.Contains(smilesHeaders, h) || slices.Contains(nameHeaders, h) {
			return true
		}
	}
	return false
}

// firstLine returns the first line of data that is not blank, without its
// line end.
func firstLine(data []byte) string {
	for len(data) > 0 {
		line, rest, _ := bytes.Cut(data, []byte("\n"))
		data = rest
		if l := strings.TrimRight(string(line), "\r"); strings.TrimSpace(l) != "" {
			return l
		}
	}
	return ""
}

// delimiters are the field separators DetectDelimiter chooses from, in
// the order that breaks ties.
var delimiters = []rune{',', ';', '\t', '|'}

// delimiterNames name them in messages.
var delimiterNames = map[rune]string{',': "comma (,)", ';': "semicolon (;)", '\t': "tab", '|': "pipe (|)"}

// detectLines is how many lines DetectDelimiter looks at, the header
// included.
const detectLines = 6

// DetectDelimiter chooses the field separator of a delimited text file:
// the candidate (comma, semicolon, tab, pipe) that occurs outside quotes in
// the header and the same number of times in each of the next lines that
// have it at all, the most often in the header; def when none occurs in the
// header (a one-column file). European Excel writes semicolons, its "Text
// (Tab delimited)" tabs.
func DetectDelimiter(data []byte, def rune) rune {
	var lines []string
	for rest := data; len(rest) > 0 && len(lines) < detectLines; {
		var line []byte
		line, rest, _ = bytes.Cut(rest, []byte("\n"))
		if l := strings.TrimRight(string(line), "\r"); strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return def
	}
	best, bestN, bestConsistent := def, 0, false
	for _, d := range delimiters {
		n := countOutsideQuotes(lines[0], d)
		if n == 0 {
			continue
		}
		consistent := true
		for _, l := range lines[1:] {
			if c := countOutsideQuotes(l, d); c != n {
				consistent = false
			}
		}
		// A delimiter every line agrees on beats one they do not; then
		// the one the header has most; then the extension's own.
		better := consistent && !bestConsistent ||
			consistent == bestConsistent && (n > bestN || n == bestN && d == def)
		if better {
			best, bestN, bestConsistent = d, n, consistent
		}
	}
	return best
}

// countOutsideQuotes counts d in line outside double-quoted fields.
func countOutsideQuotes(line string, d rune) int {
	n, quoted := 0, false
	for _, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
		case r == d && !quoted:
			n++
		}
	}
	return n
}

// ParseCSV reads a CSV library with a header row (RFC 4180: quoted fields
// may hold commas, quotes and line breaks). The SMILES column is required
// and may be called SMILES, Canonical_SMILES, Isomeric SMILES, smi,
// structure, ... (see smilesHeaders); the name column is optional and may be
// called Name, Compound ID, ID, Title, Molecule Name, ... (see nameHeaders),
// matched ignoring case, spaces and punctuation. Every other column is kept
// in Entry.Metadata under its header name, trimmed; a column without a
// header is called "column_N" (1-based).
//
// A UTF-8 byte order mark, CRLF line ends and a trailing newline are
// accepted; blank rows (also rows whose fields are all blank) are skipped.
// A row with another number of fields than the header is an invalid row
// (Problem field "row"), except that extra blank fields at its end are
// ignored. A file that is not CSV at all (an unterminated quote, say) is
// refused with omtx.EInvalid, field "file", naming the line.
func ParseCSV(r io.Reader, opt Options) (*Library, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	return parseDelimited(data, ',', opt)
}

// ParseDelimited is ParseCSV with the delimiter detected (DetectDelimiter,
// comma when the header has none).
func ParseDelimited(r io.Reader, opt Options) (*Library, error) {
	return parseText(r, ',', false, opt)
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
	return parseSMI(data, opt)
}

func parseSMI(data []byte, opt Options) (*Library, error) {
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
			if slices.Contains(smilesHeaders, normalizeHeader(smiles)) {
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

// parseDelimited reads delimited text with the field separator comma.
func parseDelimited(data []byte, comma rune, opt Options) (*Library, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comma = comma
	cr.FieldsPerRecord = -1

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errEmpty("the file has no header and no rows")
	}
	if err != nil {
		return nil, notCSV(err, comma)
	}
	cols, err := readHeader(header, comma)
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
			return nil, notCSV(err, comma)
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

// readHeader reads a header row; comma is the delimiter it was split at,
// for the message when no column holds SMILES (0 for a spreadsheet).
func readHeader(header []string, comma rune) (*columns, error) {
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
		c.keys[i], lower[i] = key, normalizeHeader(key)
	}
	c.smiles = findColumn(lower, smilesHeaders)
	if c.smiles < 0 {
		split := ""
		if comma != 0 {
			split = ", split at " + delimiterNames[comma] + ","
		}
		return nil, omtx.Errorf(omtx.EInvalid, "file", "has no SMILES column: the header%s has %d column(s) (%s) and none is called SMILES, Canonical_SMILES, Isomeric SMILES, smi or structure (case, spaces and punctuation are ignored)",
			split, len(c.keys), clip(strings.Join(c.keys, ", "), 300))
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

func notCSV(err error, comma rune) error {
	return omtx.Errorf(omtx.EInvalid, "file", "is not valid delimited text (delimiter %s): %v", delimiterNames[comma], err)
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
