package library

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/validate"
)

// fuzzExtensions are the file names FuzzParse picks from.
var fuzzExtensions = []string{"lib.csv", "lib.tsv", "lib.smi", "LIB.SMILES", "lib.txt", "lib", "lib.sdf", "lib.xlsx"}

// FuzzParse feeds arbitrary files to Parse and checks what it promises:
// an error is an *omtx.Error with a field (or an *InvalidError listing
// positioned problems); a library is within every limit, its entries are
// in order, their names are unique and pass validate.LigandName, and every
// runnable entry's SMILES parses with the heavy-atom count recorded.
func FuzzParse(f *testing.F) {
	seeds := []struct {
		ext  uint8
		data string
		skip bool
	}{
		{0, "name,smiles\naspirin,CC(=O)Oc1ccccc1C(=O)O\nethanol,CCO\n", false},
		{0, "\ufeffSMILES,ID,score\r\nCCO,e1,0.5\r\nCN(C)(C)C,bad,1\r\n", true},
		{0, "smiles,__name__\nCCO,x\n", false},
		{0, "smiles,name\n\"C\nC\",\"a,b\"\nCCO,a\nCCO,a\n", false},
		{0, "smiles,name,extra\nCCO,x,1,,\nCC,y\n", true},
		{0, "smiles\n\"unterminated\n", false},
		{1, "smiles\tname\tnote\nc1ccccc1\tbenzene\tok\n[NH4]\tnh4\t\n", true},
		{2, "# comment\nSMILES Name\nCCO ethanol one\nc1ccnc1 pyrrole\n\nC\n", true},
		{2, "smiles\n", false},
		{3, "CCO\tEthanol\n", false},
		{4, "CCO \u202eevil\n", true},
		{5, "CCO\n", false},
		{6, "CCO\n", false},
		{0, "smiles,name\nCCO," + strings.Repeat("n", 300) + "\n", true},
		// Rows kept only to be reported failed must be as bounded as the
		// others: found by this target (invalid UTF-8 name), and by its
		// properties on large rows (a 9 KB SMILES, a 600-byte cell).
		{0, "smi,nAme\n,\xf4\nB,", true},
		{2, "CCO ok\n\xff\xfe bad\n", true},
		{0, "smiles,name\nCCO,ok\n" + strings.Repeat("C", MaxRowBytes+1) + ",big\n", true},
		{0, "smiles,name,note\nCCO,ok,x\nCC,big," + strings.Repeat("x", MaxCellBytes+100) + "\n", true},
	}
	for _, s := range seeds {
		f.Add(s.ext, []byte(s.data), s.skip)
	}
	f.Fuzz(func(t *testing.T, ext uint8, data []byte, skip bool) {
		name := fuzzExtensions[int(ext)%len(fuzzExtensions)]
		opt := Options{SkipInvalid: skip, Model: omtx.ModelBoltz2}
		entries, err := entriesOf(Parse(name, strings.NewReader(string(data)), opt))
		checkLibrary(t, entries, err, opt)
	})
}

// FuzzFromLigands feeds arbitrary ligand lists, one "name<TAB>smiles" per
// line, to FromLigands and checks the same promises as FuzzParse, and that
// every ligand keeps its place.
func FuzzFromLigands(f *testing.F) {
	f.Add([]byte("aspirin\tCC(=O)Oc1ccccc1C(=O)O\n\tCCO\nx\tCN(C)(C)C"), false)
	f.Add([]byte("a\tC\na\tCC\na (2)\tCCC\n"), true)
	f.Add([]byte("\x00bad\tC\n\u200bhidden\tCC\n"), true)
	f.Add([]byte("big\t"+strings.Repeat("C", 600)+"\n"), true)
	f.Add([]byte(""), false)
	f.Fuzz(func(t *testing.T, data []byte, skip bool) {
		var ls []omtx.Ligand
		if len(data) > 0 {
			for _, line := range strings.Split(string(data), "\n") {
				n, s, _ := strings.Cut(line, "\t")
				ls = append(ls, omtx.Ligand{Name: n, SMILES: s})
			}
		}
		opt := Options{SkipInvalid: skip}
		entries, err := entriesOf(FromLigands(ls, opt))
		checkLibrary(t, entries, err, opt)
		if err != nil {
			return
		}
		if len(entries) != len(ls) {
			t.Fatalf("%d ligands became %d entries", len(ls), len(entries))
		}
		for i, e := range entries {
			if e.Row != i+1 {
				t.Fatalf("entry %d has row %d", i, e.Row)
			}
			if e.Error == "" && e.SMILES != strings.TrimSpace(ls[i].SMILES) {
				t.Fatalf("entry %d: SMILES %q, given %q", i, e.SMILES, ls[i].SMILES)
			}
		}
	})
}

// checkLibrary asserts the properties every parsed library and every
// refusal must have.
func checkLibrary(t *testing.T, entries []Entry, err error, opt Options) {
	t.Helper()
	if err != nil {
		if entries != nil {
			t.Fatalf("entries returned with error %v", err)
		}
		var de *omtx.Error
		if !errors.As(err, &de) {
			t.Fatalf("error %T (%v) is not an *omtx.Error", err, err)
		}
		if de.Field == "" || de.Message == "" {
			t.Fatalf("error %v has no field or message", err)
		}
		var ie *InvalidError
		if errors.As(err, &ie) {
			if ie.Total() < 1 || len(ie.Problems) > MaxProblems || ie.More < 0 {
				t.Fatalf("InvalidError with %d problems and %d more", len(ie.Problems), ie.More)
			}
			for _, p := range ie.Problems {
				if p.Row < 1 || p.Reason == "" || (p.Field != "smiles" && p.Field != "name" && p.Field != "row") {
					t.Fatalf("problem %+v", p)
				}
			}
		}
		return
	}
	if len(entries) == 0 || len(entries) > MaxLigands {
		t.Fatalf("%d entries", len(entries))
	}
	names := make(map[string]bool, len(entries))
	runnable := 0
	for i, e := range entries {
		if e.Index != i {
			t.Fatalf("entry %d has index %d", i, e.Index)
		}
		if e.Row < 1 || (i > 0 && e.Row <= entries[i-1].Row) {
			t.Fatalf("entry %d has row %d after row %d", i, e.Row, entries[max(i-1, 0)].Row)
		}
		if names[e.Name] {
			t.Fatalf("name %q is not unique", e.Name)
		}
		names[e.Name] = true
		// Every name, a failed row's too, is shown to people and written
		// to batch_results.csv.
		if got, err := validate.LigandName("name", e.Name, ""); err != nil || got != e.Name {
			t.Fatalf("entry %d: name %q does not pass validate.LigandName: %q, %v", i, e.Name, got, err)
		}
		if len(e.Metadata) > MaxMetadataColumns {
			t.Fatalf("entry %d has %d metadata columns", i, len(e.Metadata))
		}
		for k, v := range e.Metadata {
			if k == "" || len(k) > MaxColumnNameBytes || !utf8.ValidString(k) ||
				(strings.HasPrefix(k, "__") && strings.HasSuffix(k, "__")) {
				t.Fatalf("entry %d: metadata column %q", i, k)
			}
			if len(v) > MaxCellBytes || !utf8.ValidString(v) {
				t.Fatalf("entry %d: metadata cell %q is %d bytes or not UTF-8", i, k, len(v))
			}
		}
		if len(e.SMILES) > MaxRowBytes || !utf8.ValidString(e.SMILES) || !utf8.ValidString(e.Error) {
			t.Fatalf("entry %d: SMILES of %d bytes, or SMILES or error not UTF-8: %q", i, len(e.SMILES), e.Error)
		}
		if e.Error != "" {
			if !opt.SkipInvalid {
				t.Fatalf("entry %d is invalid (%s) without SkipInvalid", i, e.Error)
			}
			if e.HeavyAtoms != 0 || e.Warnings != nil {
				t.Fatalf("invalid entry %d has heavy atoms or warnings", i)
			}
			continue
		}
		runnable++
		m, err := chem.ParseSMILES(e.SMILES)
		if err != nil {
			t.Fatalf("entry %d: runnable SMILES %q does not parse: %v", i, e.SMILES, err)
		}
		if opt.Model != omtx.ModelBoltz2 {
			if m.HeavyAtomCount() != e.HeavyAtoms {
				t.Fatalf("entry %d: %d heavy atoms recorded, %d parsed", i, e.HeavyAtoms, m.HeavyAtomCount())
			}
			continue
		}
		// For Boltz-2 the count is that of the molecule Boltz models (the
		// standardized parent), and the warnings are validate's.
		lig, err := validate.LigandFor(opt.Model, "smiles", e.SMILES)
		if err != nil {
			t.Fatalf("entry %d: runnable SMILES %q refused: %v", i, e.SMILES, err)
		}
		if e.HeavyAtoms != lig.HeavyAtoms || len(e.Warnings) != len(lig.Warnings) {
			t.Fatalf("entry %d: %d atoms and warnings %q recorded, validate says %d and %q", i, e.HeavyAtoms, e.Warnings, lig.HeavyAtoms, lig.Warnings)
		}
		if e.HeavyAtoms > validate.Boltz2MaxAffinityHeavyAtoms {
			t.Fatalf("entry %d: %d heavy atoms accepted for Boltz-2", i, e.HeavyAtoms)
		}
	}
	if runnable == 0 {
		t.Fatalf("a library with no runnable entry was accepted")
	}
}
