package library

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Limits on an .xlsx workbook, besides MaxFileBytes for the file itself.
// A workbook is a zip archive of XML parts; these bound what reading it
// can cost, whatever the archive claims about itself.
const (
	// MaxXLSXEntries bounds the entries of the zip archive.
	MaxXLSXEntries = 10_000
	// MaxXLSXPartBytes bounds the uncompressed size of each part read
	// (the workbook, its relationships, the shared strings, the sheet),
	// and MaxXLSXBytes their sum: the zip-bomb guard. Each is counted as
	// it is inflated, not taken from the archive's headers.
	MaxXLSXPartBytes = 128 << 20
	MaxXLSXBytes     = 192 << 20
	// MaxXLSXColumns bounds the column of any cell (Excel allows 16,384).
	MaxXLSXColumns = 256
	// MaxXLSXCells bounds the cells of the sheet, empty ones written out
	// included, and MaxXLSXSharedStrings the shared-string table.
	MaxXLSXCells         = 4_000_000
	MaxXLSXSharedStrings = 2_000_000
)

// ParseXLSX reads an Excel workbook (.xlsx, Office Open XML): its first
// sheet, or the sheet named by Options.Sheet. The sheet is read as a CSV
// file is (see ParseCSV): the first row that is not blank is the header,
// the others are data rows, and row numbers are Excel's. Cells may be shared
// strings, inline strings, formula results (their cached value), booleans
// (TRUE, FALSE) or numbers; a number is written as Excel shows it in the
// General format, up to 15 significant digits (a date is its serial number:
// formats are not applied). Cell references place the cells of sparse rows.
//
// It uses only archive/zip and encoding/xml; the limits above bound the
// archive, and MaxLigands the data rows. A file that is not a workbook is
// refused with omtx.EInvalid, field "file".
func ParseXLSX(r io.Reader, opt Options) (*Library, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, err
	}
	x, err := openXLSX(data)
	if err != nil {
		return nil, err
	}
	sheet, err := x.sheetPath(opt.Sheet)
	if err != nil {
		return nil, err
	}
	if err := x.readSharedStrings(); err != nil {
		return nil, err
	}
	rows, err := x.readSheet(sheet)
	if err != nil {
		return nil, err
	}
	return fromSheet(rows, opt)
}

// sheetRow is one row of a sheet: its Excel row number and its cells.
type sheetRow struct {
	num   int
	cells []string
}

// fromSheet validates the rows of a sheet.
func fromSheet(rows []sheetRow, opt Options) (*Library, error) {
	for len(rows) > 0 && blank(rows[0].cells) {
		rows = rows[1:]
	}
	if len(rows) == 0 {
		return nil, errEmpty("the sheet has no header and no rows")
	}
	cols, err := readHeader(trimBlankTail(rows[0].cells), 0)
	if err != nil {
		return nil, err
	}
	var out []rawRow
	for _, r := range rows[1:] {
		if blank(r.cells) {
			continue
		}
		if len(out) == MaxLigands {
			return nil, TooMany()
		}
		cells := r.cells
		for len(cells) < cols.n {
			cells = append(cells, "")
		}
		out = append(out, cols.row(r.num, cells))
	}
	if len(out) == 0 {
		return nil, errEmpty("the sheet has a header but no rows")
	}
	return finish(len(out), func(i int) rawRow { return out[i] }, opt)
}

// trimBlankTail drops the empty cells at the end of a header row.
func trimBlankTail(cells []string) []string {
	for len(cells) > 0 && strings.TrimSpace(cells[len(cells)-1]) == "" {
		cells = cells[:len(cells)-1]
	}
	return cells
}

func notXLSX(format string, args ...any) error {
	return omtx.Errorf(omtx.EInvalid, "file", "is not a readable .xlsx workbook: "+format, args...)
}

type xlsx struct {
	files   map[string]*zip.File
	read    int64 // uncompressed bytes read so far
	strings []string
}

func openXLSX(data []byte) (*xlsx, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, notXLSX("%v", err)
	}
	if len(zr.File) > MaxXLSXEntries {
		return nil, notXLSX("the archive has %d entries, more than %d", len(zr.File), MaxXLSXEntries)
	}
	x := &xlsx{files: make(map[string]*zip.File, len(zr.File))}
	for _, f := range zr.File {
		x.files[strings.TrimPrefix(f.Name, "/")] = f
	}
	return x, nil
}

// open opens a part, refusing one that would inflate past the limits.
func (x *xlsx) open(name string) (io.ReadCloser, error) {
	f, ok := x.files[name]
	if !ok {
		return nil, notXLSX("it has no %s", name)
	}
	if f.UncompressedSize64 > MaxXLSXPartBytes {
		return nil, omtx.Errorf(omtx.ETooLarge, "file", "%s inflates to %d bytes, more than %d", name, f.UncompressedSize64, MaxXLSXPartBytes)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, notXLSX("%s: %v", name, err)
	}
	return &limitedPart{rc: rc, x: x, name: name, left: MaxXLSXPartBytes}, nil
}

// limitedPart counts the bytes inflated from one part against the part's
// and the workbook's limits.
type limitedPart struct {
	rc   io.ReadCloser
	x    *xlsx
	name string
	left int64
}

var errXLSXTooBig = errors.New("xlsx: over the size limit")

func (p *limitedPart) Read(b []byte) (int, error) {
	n, err := p.rc.Read(b)
	p.left -= int64(n)
	p.x.read += int64(n)
	if p.left < 0 || p.x.read > MaxXLSXBytes {
		return n, errXLSXTooBig
	}
	return n, err
}

func (p *limitedPart) Close() error { return p.rc.Close() }

// xmlErr turns a decoding error of a part into the file's error.
func xmlErr(part string, err error) error {
	if errors.Is(err, errXLSXTooBig) {
		return omtx.Errorf(omtx.ETooLarge, "file", "inflates to more than %d bytes (%d per part), the limit for a workbook", MaxXLSXBytes, MaxXLSXPartBytes)
	}
	var de *omtx.Error
	if errors.As(err, &de) {
		return err
	}
	return notXLSX("%s: %v", part, err)
}

// sheetPath finds the part of the named sheet, or of the first sheet.
func (x *xlsx) sheetPath(name string) (string, error) {
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := x.decode("xl/workbook.xml", &wb); err != nil {
		return "", err
	}
	if len(wb.Sheets) == 0 {
		return "", notXLSX("the workbook lists no sheets")
	}
	i := 0
	if name != "" {
		i = -1
		var names []string
		for j, s := range wb.Sheets {
			names = append(names, strconv.Quote(s.Name))
			if strings.EqualFold(strings.TrimSpace(s.Name), strings.TrimSpace(name)) {
				i = j
				break
			}
		}
		if i < 0 {
			return "", omtx.Errorf(omtx.EInvalid, "sheet", "the workbook has no sheet %q; its sheets are %s", name, clip(strings.Join(names, ", "), 300))
		}
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := x.decode("xl/_rels/workbook.xml.rels", &rels); err != nil {
		return "", err
	}
	for _, r := range rels.Rels {
		if r.ID == wb.Sheets[i].RID {
			if strings.HasPrefix(r.Target, "/") {
				return strings.TrimPrefix(r.Target, "/"), nil
			}
			return path.Join("xl", r.Target), nil
		}
	}
	return "", notXLSX("sheet %q has no part (relationship %q)", wb.Sheets[i].Name, wb.Sheets[i].RID)
}

func (x *xlsx) decode(part string, v any) error {
	rc, err := x.open(part)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := xml.NewDecoder(rc).Decode(v); err != nil {
		return xmlErr(part, err)
	}
	return nil
}

// readSharedStrings reads xl/sharedStrings.xml, when there is one: each
// <si> is its <t> text, or the <t> of its rich-text runs <r> joined
// (phonetic runs <rPh> are left out).
func (x *xlsx) readSharedStrings() error {
	const part = "xl/sharedStrings.xml"
	if _, ok := x.files[part]; !ok {
		return nil
	}
	rc, err := x.open(part)
	if err != nil {
		return err
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	var cur strings.Builder
	inSI, inT, phonetic := false, false, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return xmlErr(part, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "si":
				inSI = true
				cur.Reset()
			case "rPh":
				phonetic++
			case "t":
				inT = inSI && phonetic == 0
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "si":
				if len(x.strings) == MaxXLSXSharedStrings {
					return omtx.Errorf(omtx.ETooLarge, "file", "has more than %d shared strings", MaxXLSXSharedStrings)
				}
				x.strings = append(x.strings, cur.String())
				inSI = false
			case "rPh":
				phonetic--
			case "t":
				inT = false
			}
		case xml.CharData:
			if inT && cur.Len() < MaxRowBytes+1 {
				cur.Write(t[:min(len(t), MaxRowBytes+1-cur.Len())])
			}
		}
	}
}

// readSheet reads the rows of a worksheet part.
func (x *xlsx) readSheet(part string) ([]sheetRow, error) {
	rc, err := x.open(part)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	d := xml.NewDecoder(rc)
	var (
		rows   []sheetRow
		row    *sheetRow
		cells  int
		col    int    // 0-based column of the current cell
		typ    string // the current cell's t attribute
		val    strings.Builder
		inV    bool // in <v>, or in <t> of an inline string
		inCell bool
	)
	lastRow := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, xmlErr(part, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "row":
				n := lastRow + 1
				if s := attr(t, "r"); s != "" {
					if n, err = strconv.Atoi(s); err != nil || n <= lastRow {
						return nil, notXLSX("%s: row number %q after row %d", part, s, lastRow)
					}
				}
				if len(rows) > MaxLigands {
					return nil, TooMany()
				}
				lastRow = n
				rows = append(rows, sheetRow{num: n})
				row = &rows[len(rows)-1]
			case "c":
				if row == nil {
					return nil, notXLSX("%s: a cell outside a row", part)
				}
				col = len(row.cells)
				if ref := attr(t, "r"); ref != "" {
					c, ok := columnOf(ref)
					if !ok || c < len(row.cells) {
						return nil, notXLSX("%s: row %d: cell reference %q out of order", part, row.num, clip(ref, 20))
					}
					col = c
				}
				if col >= MaxXLSXColumns {
					return nil, omtx.Errorf(omtx.EInvalid, "file", "row %d has a cell in column %d; at most %d columns are read", row.num, col+1, MaxXLSXColumns)
				}
				cells += col + 1 - len(row.cells)
				if cells > MaxXLSXCells {
					return nil, omtx.Errorf(omtx.ETooLarge, "file", "has more than %d cells", MaxXLSXCells)
				}
				typ, inCell = attr(t, "t"), true
				val.Reset()
			case "v", "t":
				inV = inCell
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "v", "t":
				inV = false
			case "c":
				if !inCell {
					continue
				}
				inCell = false
				v, err := x.cellValue(typ, val.String())
				if err != nil {
					return nil, notXLSX("%s: row %d, column %d: %v", part, row.num, col+1, err)
				}
				for len(row.cells) < col {
					row.cells = append(row.cells, "")
				}
				row.cells = append(row.cells, v)
			case "row":
				row = nil
			case "sheetData":
				return rows, nil
			}
		case xml.CharData:
			if inV && val.Len() < MaxRowBytes+1 {
				val.Write(t[:min(len(t), MaxRowBytes+1-val.Len())])
			}
		}
	}
}

// cellValue is the text of a cell of type typ whose <v> (or inline <t>)
// holds raw.
func (x *xlsx) cellValue(typ, raw string) (string, error) {
	switch typ {
	case "s":
		i, err := strconv.Atoi(strings.TrimSpace(raw))
		if err != nil || i < 0 || i >= len(x.strings) {
			return "", fmt.Errorf("shared string %q does not exist", clip(raw, 20))
		}
		return x.strings[i], nil
	case "b":
		if strings.TrimSpace(raw) == "1" {
			return "TRUE", nil
		}
		return "FALSE", nil
	case "", "n":
		return excelNumber(raw), nil
	default: // str (formula result), inlineStr, e (error such as #N/A), d (ISO date)
		return raw, nil
	}
}

// excelNumber writes a stored number as Excel's General format shows it:
// at most 15 significant digits, no exponent for ordinary magnitudes.
func excelNumber(raw string) string {
	raw = strings.TrimSpace(raw)
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return raw
	}
	f, _ = strconv.ParseFloat(strconv.FormatFloat(f, 'g', 15, 64), 64)
	if f == 0 {
		return "0" // also -0
	}
	if a := math.Abs(f); a != 0 && (a < 1e-9 || a >= 1e15) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// columnOf reads the column of a cell reference ("B12" is 1).
func columnOf(ref string) (int, bool) {
	c, i := 0, 0
	for ; i < len(ref) && ref[i] >= 'A' && ref[i] <= 'Z'; i++ {
		c = c*26 + int(ref[i]-'A'+1)
		if c > 16384 {
			return 0, false
		}
	}
	if i == 0 || i == len(ref) {
		return 0, false
	}
	for _, d := range ref[i:] {
		if d < '0' || d > '9' {
			return 0, false
		}
	}
	return c - 1, true
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
