package library

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// FuzzParseSDF feeds arbitrary SD files to Parse and checks, besides what
// every library promises (checkLibrary), that a record's refusal names its
// record, and that each runnable entry's SMILES, as written from the
// molfile, reads back as the molfile's molecule: same formula, charge and
// heavy atoms.
func FuzzParseSDF(f *testing.F) {
	for _, name := range []string{"vendor_v2000.sdf", "chembl_v3000.sdf", "edge_cases.sdf"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, true)
	}
	f.Add([]byte(ethanolMol("x")+"> <a>\n1\n\n$$$$\n"+ethanolMol("")+"$$$$\n"), false)
	f.Add([]byte("t\n\n\n  0  0  0     0  0            999 V3000\nM  V30 BEGIN CTAB\nM  V30 COUNTS 1 0 0 0 0\nM  V30 BEGIN ATOM\nM  V30 1 N 0 0 0 0 CHG=1\nM  V30 END ATOM\nM  V30 END CTAB\nM  END\n"), true)
	f.Add([]byte("\n$$$$\n$$$$"), false)
	f.Fuzz(func(t *testing.T, data []byte, skip bool) {
		opt := Options{SkipInvalid: skip, Model: omtx.ModelBoltz2}
		entries, err := entriesOf(Parse("lib.sdf", bytes.NewReader(data), opt))
		checkLibrary(t, entries, err, opt)
		var ie *InvalidError
		if errors.As(err, &ie) {
			for _, p := range ie.Problems {
				if p.Field == "row" && !strings.HasPrefix(p.Reason, "record ") {
					t.Fatalf("problem %+v does not name its record", p)
				}
			}
		}
		if err != nil {
			return
		}
		var molfiles []string
		text := strings.ReplaceAll(string(data), "\r\n", "\n")
		for len(text) > 0 {
			var rec string
			rec, text = cutRecord(text)
			if strings.TrimSpace(rec) != "" {
				if i := strings.Index(rec, "M  END"); i >= 0 {
					rec = rec[:i+len("M  END")]
				}
				molfiles = append(molfiles, rec)
			}
		}
		if len(molfiles) != len(entries) {
			t.Fatalf("%d records, %d entries", len(molfiles), len(entries))
		}
		for i, e := range entries {
			if e.Row != i+1 || e.Error != "" {
				continue
			}
			mf, err := chem.ParseMolfile(molfiles[i])
			if err != nil {
				t.Fatalf("entry %d runs, but its molfile is refused: %v", i, err)
			}
			back, err := chem.ParseSMILES(e.SMILES)
			if err != nil {
				t.Fatalf("entry %d: %q: %v", i, e.SMILES, err)
			}
			f1, c1 := formula(mf.Molecule)
			f2, c2 := formula(back)
			if f1 != f2 || c1 != c2 || mf.Molecule.HeavyAtomCount() != back.HeavyAtomCount() {
				t.Fatalf("entry %d: molfile %s (charge %d) written as %q, read back as %s (charge %d)", i, f1, c1, e.SMILES, f2, c2)
			}
		}
	})
}

// FuzzParseXLSX builds workbooks around an arbitrary sheet and shared
// string table; every answer must be a library within the limits or an
// *omtx.Error. (Arbitrary bytes as a whole archive are mostly refused by
// archive/zip before any of our code runs; FuzzParse's lib.xlsx seed
// covers them.)
func FuzzParseXLSX(f *testing.F) {
	f.Add(`<row r="1">`+inline("A1", "smiles")+inline("B1", "ID")+`</row><row r="3">`+inline("A3", "CCO")+`<c r="B3"><v>12</v></c></row>`, "", false)
	f.Add(`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row><row r="2"><c t="s"><v>2</v></c><c r="C2"><v>1.5E3</v></c></row>`,
		`<sst><si><t>SMILES</t></si><si><r><t>Na</t></r><r><t>me</t></r></si><si><t>c1ccccc1</t></si></sst>`, true)
	f.Add(`<row r="2"><c r="XFD2"><v>1</v></c></row>`, `<sst><si>`, false)
	f.Add(`<row><c t="b"><v>1</v></c><c t="e"><v>#N/A</v></c><c t="str"><f>A1</f><v>smiles</v></c></row><row><c/><c/><c t="inlineStr"><is><t>O</t></is></c></row>`, ``, true)
	f.Fuzz(func(t *testing.T, sheet, sst string, skip bool) {
		opt := Options{SkipInvalid: skip, Model: omtx.ModelBoltz2}
		parts := oneSheet(sheet)
		if sst != "" {
			parts["xl/sharedStrings.xml"] = sst
		}
		var buf bytes.Buffer
		w := zip.NewWriter(&buf)
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range parts {
				if !yield(k) {
					return
				}
			}
		}) {
			fw, err := w.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = fw.Write([]byte(parts[name]))
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		entries, err := entriesOf(Parse("lib.xlsx", bytes.NewReader(buf.Bytes()), opt))
		checkLibrary(t, entries, err, opt)
	})
}

// FuzzDetectDelimiter checks that the delimiter chosen is a candidate the
// header holds outside quotes (or the default), and that a delimited file
// with any delimiter parses to a valid library or a refusal; a refusal for
// want of a SMILES column names the delimiter it split at.
func FuzzDetectDelimiter(f *testing.F) {
	for _, name := range []string{"european_semicolon.csv", "excel_tab.txt"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, uint8(0))
	}
	f.Add([]byte("id|smiles|note\n1|CCO|\"a|b\"\n"), uint8(1))
	f.Add([]byte("Name;Mol\nx;CCO\n"), uint8(2))
	f.Add([]byte("\"a,b\";smiles\nx;CCO\n"), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, ext uint8) {
		file := []string{"lib.csv", "lib.tsv", "lib.txt"}[int(ext)%3]
		def := map[string]rune{"lib.csv": ',', "lib.tsv": '\t', "lib.txt": '\t'}[file]
		d := DetectDelimiter(data, def)
		if d != def {
			if !slices.Contains(delimiters, d) {
				t.Fatalf("delimiter %q is no candidate", d)
			}
			if countOutsideQuotes(firstLine(data), d) == 0 {
				t.Fatalf("delimiter %q is not in the header %q", d, firstLine(data))
			}
		}
		opt := Options{SkipInvalid: true}
		entries, err := entriesOf(Parse(file, bytes.NewReader(data), opt))
		checkLibrary(t, entries, err, opt)
		var de *omtx.Error
		if errors.As(err, &de) && strings.Contains(de.Message, "has no SMILES column") && strings.Contains(de.Message, ", split at ") {
			if !strings.Contains(de.Message, delimiterNames[d]) {
				t.Fatalf("refusal %q does not name the delimiter %q", de.Message, d)
			}
		}
	})
}
