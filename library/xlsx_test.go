package library

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// workbook zips parts into an .xlsx in memory.
func workbook(t *testing.T, parts map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, body := range parts {
		f, err := w.Create(name)
		require.NoError(t, err)
		_, err = f.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// oneSheet is a minimal workbook whose only sheet holds sheetData.
func oneSheet(sheetData string) map[string]string {
	return map[string]string{
		"xl/workbook.xml":            `<workbook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships><Relationship Id="rId1" Target="/xl/worksheets/s.xml"/></Relationships>`,
		"xl/worksheets/s.xml":        `<worksheet><sheetData>` + sheetData + `</sheetData></worksheet>`,
	}
}

func inline(ref, s string) string {
	return `<c r="` + ref + `" t="inlineStr"><is><t>` + s + `</t></is></c>`
}

func TestParseXLSX(t *testing.T) {
	t.Parallel()

	t.Run("fixture, first sheet", func(t *testing.T) {
		t.Parallel()
		lib, err := parseFile(t, "compounds.xlsx", Options{})
		require.NoError(t, err)
		es := lib.Entries()
		require.Len(t, es, 4)
		assert.Equal(t, []string{"CA-001", "Ligand_2", "CA-003", "CA-005"}, names(es))
		assert.Equal(t, []int{2, 3, 4, 6}, []int{es[0].Row, es[1].Row, es[2].Row, es[3].Row})
		assert.Equal(t, "CC(=O)Nc1nnc(s1)S(N)(=O)=O", es[0].SMILES)
		assert.Equal(t, map[string]string{"MW": "222.25", "IC50 (µM)": "0.012", "Series": "sulfonamide"}, es[0].Metadata)
		// The sparse row: no ID, no IC50; the rich text joined without
		// its phonetic run.
		assert.Equal(t, map[string]string{"MW": "94.11", "IC50 (µM)": "", "Series": "benzoic acid"}, es[1].Metadata)
		assert.Equal(t, "0.3", es[2].Metadata["IC50 (µM)"], "15 significant digits, as Excel shows it")
		assert.Equal(t, map[string]string{"MW": "201.2", "IC50 (µM)": "FALSE", "Series": "#N/A"}, es[3].Metadata)
		assert.Equal(t, 1, lib.GeneratedNames())
	})

	t.Run("fixture, named sheet", func(t *testing.T) {
		t.Parallel()
		es, err := entriesOf(parseFile(t, "compounds.xlsx", Options{Sheet: "controls"}))
		require.NoError(t, err)
		require.Len(t, es, 1)
		assert.Equal(t, "ethanol", es[0].Name)
		assert.Equal(t, 3, es[0].Row)
	})

	t.Run("unknown sheet lists the sheets", func(t *testing.T) {
		t.Parallel()
		_, err := parseFile(t, "compounds.xlsx", Options{Sheet: "Sheet1"})
		de := requireOmtx(t, err, omtx.EInvalid, "sheet")
		assert.Contains(t, de.Message, `"Compounds", "Controls"`)
	})

	t.Run("not a zip", func(t *testing.T) {
		t.Parallel()
		_, err := Parse("lib.xlsx", strings.NewReader("smiles\nCCO\n"), Options{})
		requireOmtx(t, err, omtx.EInvalid, "file")
	})

	t.Run("no workbook part", func(t *testing.T) {
		t.Parallel()
		_, err := Parse("lib.xlsx", bytes.NewReader(workbook(t, map[string]string{"a.txt": "x"})), Options{})
		de := requireOmtx(t, err, omtx.EInvalid, "file")
		assert.Contains(t, de.Message, "xl/workbook.xml")
	})

	t.Run("cell beyond the column limit", func(t *testing.T) {
		t.Parallel()
		data := workbook(t, oneSheet(`<row r="1">`+inline("A1", "smiles")+inline("JZ1", "x")+`</row>`))
		_, err := Parse("lib.xlsx", bytes.NewReader(data), Options{})
		de := requireOmtx(t, err, omtx.EInvalid, "file")
		assert.Contains(t, de.Message, "column 286")
	})

	t.Run("cells out of order", func(t *testing.T) {
		t.Parallel()
		data := workbook(t, oneSheet(`<row r="1">`+inline("B1", "smiles")+inline("A1", "x")+`</row>`))
		_, err := Parse("lib.xlsx", bytes.NewReader(data), Options{})
		requireOmtx(t, err, omtx.EInvalid, "file")
	})

	t.Run("a missing shared string", func(t *testing.T) {
		t.Parallel()
		data := workbook(t, oneSheet(`<row r="1"><c r="A1" t="s"><v>7</v></c></row>`))
		_, err := Parse("lib.xlsx", bytes.NewReader(data), Options{})
		de := requireOmtx(t, err, omtx.EInvalid, "file")
		assert.Contains(t, de.Message, "row 1, column 1")
	})

	t.Run("a part that claims to inflate past the limit", func(t *testing.T) {
		t.Parallel()
		parts := oneSheet(`<row r="1">` + inline("A1", "smiles") + `</row><row r="2">` + inline("A2", "CCO") + `</row>`)
		var buf bytes.Buffer
		w := zip.NewWriter(&buf)
		for name, body := range parts {
			var raw bytes.Buffer
			fw, err := flate.NewWriter(&raw, flate.BestSpeed)
			require.NoError(t, err)
			_, _ = fw.Write([]byte(body))
			require.NoError(t, fw.Close())
			size := uint64(len(body))
			if strings.HasSuffix(name, "s.xml") {
				size = MaxXLSXPartBytes + 1 // the bomb's header
			}
			f, err := w.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate, CompressedSize64: uint64(raw.Len()), UncompressedSize64: size})
			require.NoError(t, err)
			_, err = f.Write(raw.Bytes())
			require.NoError(t, err)
		}
		require.NoError(t, w.Close())
		_, err := Parse("lib.xlsx", bytes.NewReader(buf.Bytes()), Options{})
		requireOmtx(t, err, omtx.ETooLarge, "file")
	})

	t.Run("too many entries", func(t *testing.T) {
		t.Parallel()
		parts := oneSheet(`<row r="1">` + inline("A1", "smiles") + `</row>`)
		for i := range MaxXLSXEntries {
			parts["pad/"+fmt.Sprint(i)] = ""
		}
		_, err := Parse("lib.xlsx", bytes.NewReader(workbook(t, parts)), Options{})
		de := requireOmtx(t, err, omtx.EInvalid, "file")
		assert.Contains(t, de.Message, "entries")
	})
}

func TestExcelNumber(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"222.25": "222.25", "1.2E-2": "0.012", "0.30000000000000004": "0.3", "42": "42",
		"1E+20": "1e+20", "-0": "0", "abc": "abc", "1e-12": "1e-12",
	} {
		assert.Equal(t, want, excelNumber(raw), raw)
	}
}
