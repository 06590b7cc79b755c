package library

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// names returns the entries' names in order.
func names(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out
}

// requireOmtx asserts err is an *omtx.Error with code and field.
// entriesOf makes a library's entries, for assertions on them.
func entriesOf(l *Library, err error) ([]Entry, error) {
	if err != nil {
		return nil, err
	}
	return l.Entries(), nil
}

func requireOmtx(t *testing.T, err error, code, field string) *omtx.Error {
	t.Helper()
	var de *omtx.Error
	require.True(t, errors.As(err, &de), "want *omtx.Error, got %T: %v", err, err)
	assert.Equal(t, code, de.Code)
	assert.Equal(t, field, de.Field)
	return de
}

// requireInvalid asserts err is an *InvalidError.
func requireInvalid(t *testing.T, err error) *InvalidError {
	t.Helper()
	var ie *InvalidError
	require.True(t, errors.As(err, &ie), "want *InvalidError, got %T: %v", err, err)
	return ie
}

// repeatReader yields line over and over.
type repeatReader struct {
	line string
	off  int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.line[r.off:])
		n += c
		r.off = (r.off + c) % len(r.line)
	}
	return n, nil
}

func TestParseCSV(t *testing.T) {
	t.Parallel()

	t.Run("BOM, CRLF, quotes, metadata and trailing newline", func(t *testing.T) {
		t.Parallel()
		in := "\uFEFFSMILES,Name,MW,Note\r\n" +
			"CCO,ethanol,46.07,\"a, b\"\r\n" +
			"\"c1ccccc1\",\"benzene \"\"pure\"\"\",78.11,\"two\r\nlines\"\r\n" +
			"CC(=O)O, acetic acid ,60.05,x\r\n"
		es, err := entriesOf(ParseCSV(strings.NewReader(in), Options{}))
		require.NoError(t, err)
		require.Len(t, es, 3)

		assert.Equal(t, Entry{Index: 0, Row: 2, Name: "ethanol", SMILES: "CCO", HeavyAtoms: 3,
			Metadata: map[string]string{"MW": "46.07", "Note": "a, b"}}, es[0])
		assert.Equal(t, 1, es[1].Index)
		assert.Equal(t, 3, es[1].Row)
		assert.Equal(t, `benzene "pure"`, es[1].Name)
		assert.Equal(t, "c1ccccc1", es[1].SMILES)
		assert.Equal(t, "two\nlines", es[1].Metadata["Note"])
		assert.Equal(t, 5, es[2].Row, "a quoted line break makes the next row start two lines on")
		assert.Equal(t, "acetic acid", es[2].Name)
		assert.Equal(t, "CC(=O)O", es[2].SMILES)
	})

	t.Run("alternate header names", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct{ smiles, name string }{
			{"smiles", "name"}, {"SMILES", "ID"}, {" canonical_smiles ", "ligand_name"},
			{"Smi", "Title"}, {"smiles", "compound_id"},
		} {
			in := fmt.Sprintf("%s,%s\nCCO,eth\n", tc.smiles, tc.name)
			es, err := entriesOf(ParseCSV(strings.NewReader(in), Options{}))
			require.NoError(t, err, "%+v", tc)
			require.Len(t, es, 1)
			assert.Equal(t, "eth", es[0].Name, "%+v", tc)
			assert.Equal(t, "CCO", es[0].SMILES, "%+v", tc)
			assert.Nil(t, es[0].Metadata, "%+v", tc)
		}
	})

	t.Run("preferred column wins, the other is metadata", func(t *testing.T) {
		t.Parallel()
		in := "id,canonical_smiles,smiles,name\n7,OCC,CCO,eth\n"
		es, err := entriesOf(ParseCSV(strings.NewReader(in), Options{}))
		require.NoError(t, err)
		require.Len(t, es, 1)
		assert.Equal(t, "CCO", es[0].SMILES)
		assert.Equal(t, "eth", es[0].Name)
		assert.Equal(t, map[string]string{"id": "7", "canonical_smiles": "OCC"}, es[0].Metadata)
	})

	t.Run("column order does not matter and name is optional", func(t *testing.T) {
		t.Parallel()
		in := "mw,smiles\n46,CCO\n78,c1ccccc1\n"
		es, err := entriesOf(ParseCSV(strings.NewReader(in), Options{}))
		require.NoError(t, err)
		assert.Equal(t, []string{"Ligand_1", "Ligand_2"}, names(es))
		assert.Equal(t, "78", es[1].Metadata["mw"])
	})

	t.Run("missing smiles column names the header", func(t *testing.T) {
		t.Parallel()
		_, err := ParseCSV(strings.NewReader("name,molecule\nx,CCO\n"), Options{})
		de := requireOmtx(t, err, omtx.EInvalid, "file")
		assert.Contains(t, de.Message, "SMILES column")
		assert.Contains(t, de.Message, "name, molecule")
		assert.Contains(t, de.Message, "SMILES")
	})

	t.Run("duplicate header column", func(t *testing.T) {
		t.Parallel()
		_, err := ParseCSV(strings.NewReader("smiles,SMILES\nCCO,CCC\n"), Options{})
		de := requireOmtx(t, err, omtx.EInvalid, "file")
		assert.Contains(t, de.Message, "more than one column")
	})

	t.Run("ragged rows are problems", func(t *testing.T) {
		t.Parallel()
		in := "smiles,name\nCCO,eth\nCCC\nCCCC,butane,extra\nC,methane,,\n"
		_, err := ParseCSV(strings.NewReader(in), Options{})
		ie := requireInvalid(t, err)
		assert.Equal(t, []Problem{
			{Row: 3, Field: "row", Reason: "has 1 fields but the header has 2"},
			{Row: 4, Field: "row", Reason: "has 3 fields but the header has 2"},
		}, ie.Problems, "trailing blank fields (row 5) are tolerated")

		es, err := entriesOf(ParseCSV(strings.NewReader(in), Options{SkipInvalid: true}))
		require.NoError(t, err)
		require.Len(t, es, 4)
		assert.Equal(t, "CCC", es[1].SMILES)
		assert.Equal(t, "Ligand_2", es[1].Name)
		assert.Equal(t, "row: has 1 fields but the header has 2", es[1].Error)
		assert.Equal(t, "butane", es[2].Name)
		assert.NotEmpty(t, es[2].Error)
		assert.Empty(t, es[3].Error)
	})

	t.Run("blank lines are skipped and rows keep line numbers", func(t *testing.T) {
		t.Parallel()
		in := "\nsmiles,name\n\nCCO,a\n,\n  ,  \nC1CC1,b\n\n"
		es, err := entriesOf(ParseCSV(strings.NewReader(in), Options{}))
		require.NoError(t, err)
		require.Len(t, es, 2)
		assert.Equal(t, []int{0, 1}, []int{es[0].Index, es[1].Index})
		assert.Equal(t, []int{4, 7}, []int{es[0].Row, es[1].Row})
		assert.Equal(t, []string{"a", "b"}, names(es))
	})

	t.Run("malformed quoting refuses the file naming the line", func(t *testing.T) {
		t.Parallel()
		_, err := ParseCSV(strings.NewReader("smiles,name\nCCO,eth\nCCC,\"prop\"ane\n"), Options{SkipInvalid: true})
		de := requireOmtx(t, err, omtx.EInvalid, "file")
		assert.Contains(t, de.Message, "line 3")
	})

	t.Run("header without rows is empty", func(t *testing.T) {
		t.Parallel()
		_, err := ParseCSV(strings.NewReader("smiles,name\r\n\r\n"), Options{})
		de := requireOmtx(t, err, omtx.EInvalid, "ligands")
		assert.True(t, strings.HasPrefix(de.Message, "is empty"), de.Message)
	})

	t.Run("empty file", func(t *testing.T) {
		t.Parallel()
		for _, in := range []string{"", "\uFEFF", "\n\n"} {
			_, err := ParseCSV(strings.NewReader(in), Options{})
			de := requireOmtx(t, err, omtx.EInvalid, "ligands")
			assert.True(t, strings.HasPrefix(de.Message, "is empty"), de.Message)
		}
	})

	t.Run("metadata is valid UTF-8", func(t *testing.T) {
		t.Parallel()
		es, err := entriesOf(ParseCSV(strings.NewReader("smiles,note\nCCO,a\xffb\n"), Options{}))
		require.NoError(t, err)
		assert.Equal(t, "a\uFFFDb", es[0].Metadata["note"])
	})

	t.Run("unnamed column", func(t *testing.T) {
		t.Parallel()
		es, err := entriesOf(ParseCSV(strings.NewReader("smiles,,name\nCCO,x,eth\n"), Options{}))
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"column_2": "x"}, es[0].Metadata)
	})
}

func TestParseSMI(t *testing.T) {
	t.Parallel()

	t.Run("names, comments, tabs and blank lines", func(t *testing.T) {
		t.Parallel()
		in := "\uFEFF# a library\r\n" +
			"CCO ethanol\r\n" +
			"\r\n" +
			"c1ccccc1\tbenzene ring  \r\n" +
			"CC(=O)O\n" +
			"  # indented comment\n" +
			"C1CC1   cyclo propane\n"
		es, err := entriesOf(ParseSMI(strings.NewReader(in), Options{}))
		require.NoError(t, err)
		require.Len(t, es, 4)
		assert.Equal(t, []string{"ethanol", "benzene ring", "Ligand_3", "cyclo propane"}, names(es))
		assert.Equal(t, []string{"CCO", "c1ccccc1", "CC(=O)O", "C1CC1"},
			[]string{es[0].SMILES, es[1].SMILES, es[2].SMILES, es[3].SMILES})
		assert.Equal(t, []int{2, 4, 5, 7}, []int{es[0].Row, es[1].Row, es[2].Row, es[3].Row})
		assert.Equal(t, []int{0, 1, 2, 3}, []int{es[0].Index, es[1].Index, es[2].Index, es[3].Index})
		for _, e := range es {
			assert.Nil(t, e.Metadata)
			assert.Empty(t, e.Error)
		}
	})

	t.Run("without names", func(t *testing.T) {
		t.Parallel()
		es, err := entriesOf(ParseSMI(strings.NewReader("CCO\nCCC\nCCCC"), Options{}))
		require.NoError(t, err)
		assert.Equal(t, []string{"Ligand_1", "Ligand_2", "Ligand_3"}, names(es))
	})

	t.Run("header line is skipped", func(t *testing.T) {
		t.Parallel()
		es, err := entriesOf(ParseSMI(strings.NewReader("SMILES\tName\nCCO eth\n"), Options{}))
		require.NoError(t, err)
		require.Len(t, es, 1)
		assert.Equal(t, 2, es[0].Row)
		assert.Equal(t, "eth", es[0].Name)
	})

	t.Run("invalid lines report line numbers", func(t *testing.T) {
		t.Parallel()
		in := "# header\nCCO a\nC1CC b\n\nC(C c\n"
		_, err := ParseSMI(strings.NewReader(in), Options{})
		ie := requireInvalid(t, err)
		require.Len(t, ie.Problems, 2)
		assert.Equal(t, 3, ie.Problems[0].Row)
		assert.Equal(t, 5, ie.Problems[1].Row)
		for _, p := range ie.Problems {
			assert.Equal(t, "smiles", p.Field)
			assert.Contains(t, p.Reason, "invalid SMILES: at position")
		}
	})

	t.Run("empty file", func(t *testing.T) {
		t.Parallel()
		for _, in := range []string{"", "\n\r\n", "# only a comment\n"} {
			_, err := ParseSMI(strings.NewReader(in), Options{})
			requireOmtx(t, err, omtx.EInvalid, "ligands")
		}
	})
}

func TestValidation(t *testing.T) {
	t.Parallel()

	const bad = "smiles,name\n" +
		"CCO,ok\n" + // row 2
		",nosmiles\n" + // row 3
		"C1CC,ring\n" + // row 4
		"CCC,\"bad\x01name\"\n" + // row 5
		"C(,\"x\x02\"\n" // row 6: two problems

	t.Run("invalid rows are listed with row, field and reason", func(t *testing.T) {
		t.Parallel()
		es, err := entriesOf(ParseCSV(strings.NewReader(bad), Options{}))
		require.Nil(t, es)
		ie := requireInvalid(t, err)
		require.Len(t, ie.Problems, 5)
		assert.Zero(t, ie.More)
		assert.Equal(t, Problem{Row: 3, Field: "smiles", Reason: "is required"}, ie.Problems[0])
		assert.Equal(t, 4, ie.Problems[1].Row)
		assert.Equal(t, "smiles", ie.Problems[1].Field)
		assert.Equal(t, "invalid SMILES: at position 2: unclosed ring bond 1", ie.Problems[1].Reason)
		assert.Equal(t, Problem{Row: 5, Field: "name", Reason: "contains a control character (U+0001)"}, ie.Problems[2])
		assert.Equal(t, 6, ie.Problems[3].Row)
		assert.Equal(t, "smiles", ie.Problems[3].Field)
		assert.Equal(t, Problem{Row: 6, Field: "name", Reason: "contains a control character (U+0002)"}, ie.Problems[4])

		// It reads as an omtx input error.
		assert.Equal(t, omtx.EInvalid, omtx.ErrorCode(err))
		de := requireOmtx(t, err, omtx.EInvalid, "ligands")
		assert.Contains(t, de.Message, "5 invalid entries")
		assert.Contains(t, err.Error(), "row 3: smiles: is required")
		assert.Contains(t, err.Error(), "and 2 more")
	})

	t.Run("SkipInvalid keeps invalid rows with Error", func(t *testing.T) {
		t.Parallel()
		es, err := entriesOf(ParseCSV(strings.NewReader(bad), Options{SkipInvalid: true}))
		require.NoError(t, err)
		require.Len(t, es, 5)
		assert.Empty(t, es[0].Error)
		assert.Equal(t, "smiles: is required", es[1].Error)
		assert.Equal(t, "nosmiles", es[1].Name)
		assert.Equal(t, "", es[1].SMILES)
		assert.Equal(t, "C1CC", es[2].SMILES)
		assert.Contains(t, es[2].Error, "smiles: invalid SMILES")
		assert.Equal(t, "Ligand_4", es[3].Name, "a name that is itself invalid is not kept: it would be stored and shown")
		assert.Equal(t, "CCC", es[3].SMILES)
		assert.Equal(t, "name: contains a control character (U+0001)", es[3].Error)
		assert.Contains(t, es[4].Error, "smiles: ")
		assert.Contains(t, es[4].Error, "; name: contains a control character")

	})

	t.Run("invalid rows still get unique names", func(t *testing.T) {
		t.Parallel()
		es, err := entriesOf(FromLigands([]omtx.Ligand{
			{Name: "x", SMILES: "CCO"}, {Name: "x", SMILES: "C1"}, {SMILES: "C("}, {SMILES: "CC"},
		}, Options{SkipInvalid: true}))
		require.NoError(t, err)
		assert.Equal(t, []string{"x", "x (2)", "Ligand_3", "Ligand_4"}, names(es))
		assert.NotEmpty(t, es[1].Error)
		assert.NotEmpty(t, es[2].Error)
	})

	t.Run("all invalid with SkipInvalid still errors", func(t *testing.T) {
		t.Parallel()
		_, err := ParseSMI(strings.NewReader("C1\nC(\n"), Options{SkipInvalid: true})
		ie := requireInvalid(t, err)
		assert.Len(t, ie.Problems, 2)
	})

	t.Run("problems are capped and the rest counted", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		for range MaxProblems + 5 {
			b.WriteString("C1\n")
		}
		_, err := ParseSMI(strings.NewReader(b.String()), Options{})
		ie := requireInvalid(t, err)
		assert.Len(t, ie.Problems, MaxProblems)
		assert.Equal(t, 5, ie.More)
		assert.Equal(t, MaxProblems+5, ie.Total())
		assert.Contains(t, ie.Error(), fmt.Sprintf("%d invalid entries", MaxProblems+5))
	})

	t.Run("name too long", func(t *testing.T) {
		t.Parallel()
		_, err := FromLigands([]omtx.Ligand{{Name: strings.Repeat("n", 201), SMILES: "CCO"}}, Options{})
		ie := requireInvalid(t, err)
		require.Len(t, ie.Problems, 1)
		assert.Equal(t, Problem{Row: 1, Field: "name", Reason: "is longer than 200 bytes"}, ie.Problems[0])
	})
}

func TestFromLigands(t *testing.T) {
	t.Parallel()

	t.Run("validates, trims and names", func(t *testing.T) {
		t.Parallel()
		es, err := entriesOf(FromLigands([]omtx.Ligand{
			{Name: " aspirin ", SMILES: " CC(=O)Oc1ccccc1C(=O)O "}, {SMILES: "CCO"},
		}, Options{}))
		require.NoError(t, err)
		assert.Equal(t, []Entry{
			{Index: 0, Row: 1, Name: "aspirin", SMILES: "CC(=O)Oc1ccccc1C(=O)O", HeavyAtoms: 13},
			{Index: 1, Row: 2, Name: "Ligand_2", SMILES: "CCO", HeavyAtoms: 3},
		}, es)
	})

	t.Run("row is index+1", func(t *testing.T) {
		t.Parallel()
		_, err := FromLigands([]omtx.Ligand{{SMILES: "CCO"}, {SMILES: "CCO"}, {SMILES: ""}}, Options{})
		ie := requireInvalid(t, err)
		assert.Equal(t, []Problem{{Row: 3, Field: "smiles", Reason: "is required"}}, ie.Problems)
	})

	t.Run("empty", func(t *testing.T) {
		t.Parallel()
		_, err := FromLigands(nil, Options{})
		requireOmtx(t, err, omtx.EInvalid, "ligands")
	})

	t.Run("too many", func(t *testing.T) {
		t.Parallel()
		ls := make([]omtx.Ligand, MaxLigands+1)
		_, err := FromLigands(ls, Options{})
		de := requireOmtx(t, err, omtx.ETooLarge, "ligands")
		assert.Contains(t, de.Message, fmt.Sprint(MaxLigands))
	})
}

func TestDedupe(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		name    string
		in      []string
		want    []string
		renamed int
	}{
		{"unique names are kept", []string{"a", "b", "c"}, []string{"a", "b", "c"}, 0},
		{"later duplicates are numbered", []string{"X", "X", "X"}, []string{"X", "X (2)", "X (3)"}, 2},
		{"case-sensitive", []string{"x", "X"}, []string{"x", "X"}, 0},
		{"skips an existing earlier suffix", []string{"X", "X (2)", "X"}, []string{"X", "X (2)", "X (3)"}, 1},
		{"skips an existing later suffix", []string{"X", "X", "X (2)"}, []string{"X", "X (3)", "X (2)"}, 1},
		{"duplicated suffix name", []string{"X (2)", "X", "X", "X (2)"}, []string{"X (2)", "X", "X (3)", "X (2) (2)"}, 2},
		{"defaults collide with given names", []string{"Ligand_2", "Ligand_2"}, []string{"Ligand_2", "Ligand_2 (2)"}, 1},
		{"interleaved", []string{"a", "b", "a", "b", "a"}, []string{"a", "b", "a (2)", "b (2)", "a (3)"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := slices.Clone(tc.in)
			renamed, n := Dedupe(ns)
			assert.Equal(t, tc.renamed, n)
			assert.Equal(t, tc.want, ns)
			for i := range ns {
				assert.Equal(t, ns[i] != tc.in[i], renamed[i], "renamed[%d]", i)
			}
		})
	}

	t.Run("a long name stays within the name limit", func(t *testing.T) {
		t.Parallel()
		long := strings.Repeat("é", 100) // 200 bytes
		ns := []string{long, long}
		_, n := Dedupe(ns)
		assert.Equal(t, 1, n)
		assert.Equal(t, long, ns[0])
		assert.LessOrEqual(t, len(ns[1]), 200)
		assert.True(t, strings.HasSuffix(ns[1], "é (2)"), ns[1])
	})

	t.Run("parsers dedupe defaulted names", func(t *testing.T) {
		t.Parallel()
		es, err := entriesOf(ParseSMI(strings.NewReader("CCO Ligand_2\nCCC\nCCCC dup\nC dup\n"), Options{}))
		require.NoError(t, err)
		assert.Equal(t, []string{"Ligand_2", "Ligand_2 (2)", "dup", "dup (2)"}, names(es))
	})
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	// What activities.PrepareBatch reads, byte for byte what json.Marshal
	// makes of the entries: metadata, errors and warnings included.
	lib, err := ParseCSV(strings.NewReader("smiles,name,note\nCCO,eth,a<b\nC(,bad,\nCCO,eth,x\n"), Options{SkipInvalid: true})
	require.NoError(t, err)
	var want []omtx.LibraryEntry
	for _, e := range lib.Entries() {
		want = append(want, omtx.LibraryEntry{Index: e.Index, Row: e.Row, Name: e.Name, SMILES: e.SMILES, Metadata: e.Metadata, Error: e.Error, Warnings: e.Warnings})
	}
	wantJSON, err := json.Marshal(want)
	require.NoError(t, err)
	var got bytes.Buffer
	require.NoError(t, lib.WriteJSON(&got))
	assert.Equal(t, string(wantJSON), got.String())
	assert.Equal(t, 3, lib.Len())
	assert.Equal(t, 1, lib.Invalid())
	assert.Equal(t, 1, lib.Renamed())
	assert.Equal(t, 3, lib.MaxHeavyAtoms())
}

func TestLimits(t *testing.T) {
	t.Parallel()

	t.Run("over the ligand count", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		b.WriteString("smiles,name\n")
		for i := range MaxLigands + 1 {
			fmt.Fprintf(&b, "CCO,l%d\n", i)
		}
		_, err := ParseCSV(strings.NewReader(b.String()), Options{SkipInvalid: true})
		de := requireOmtx(t, err, omtx.ETooLarge, "ligands")
		assert.Contains(t, de.Message, fmt.Sprint(MaxLigands))

		_, err = Parse("lib.smi", strings.NewReader(strings.Repeat("C\n", MaxLigands+1)), Options{})
		requireOmtx(t, err, omtx.ETooLarge, "ligands")
	})

	t.Run("exactly the ligand count", func(t *testing.T) {
		t.Parallel()
		es, err := entriesOf(ParseSMI(strings.NewReader(strings.Repeat("C\n", MaxLigands)), Options{}))
		require.NoError(t, err)
		assert.Len(t, es, MaxLigands)
	})

	t.Run("over the file size", func(t *testing.T) {
		t.Parallel()
		r := io.MultiReader(strings.NewReader("smiles,name\n"), &repeatReader{line: "CCO,x\n"})
		_, err := ParseCSV(r, Options{})
		de := requireOmtx(t, err, omtx.ETooLarge, "file")
		assert.Contains(t, de.Message, "32 MiB")

		_, err = ParseSMI(&repeatReader{line: "\n"}, Options{})
		requireOmtx(t, err, omtx.ETooLarge, "file")
	})

	t.Run("read errors are returned", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		_, err := ParseCSV(io.MultiReader(strings.NewReader("smiles\n"), errReader{boom}), Options{})
		require.ErrorIs(t, err, boom)
		assert.Equal(t, omtx.EInternal, omtx.ErrorCode(err))
	})

	t.Run("a 10,000-row library parses", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		b.WriteString("compound_id,smiles,mw\n")
		for i := range 10000 {
			fmt.Fprintf(&b, "CPD-%05d,CC(=O)Oc1ccccc1C(=O)O,%d\n", i%9000, i)
		}
		es, err := entriesOf(ParseCSV(strings.NewReader(b.String()), Options{}))
		require.NoError(t, err)
		require.Len(t, es, 10000)
		assert.Equal(t, "CPD-00000", es[0].Name)
		assert.Equal(t, "CPD-00000 (2)", es[9000].Name)
		assert.Equal(t, 10001, es[9999].Row)
		assert.Equal(t, "9999", es[9999].Metadata["mw"])
		assert.Len(t, es, 10000)
	})
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestParse(t *testing.T) {
	t.Parallel()

	for _, tc := range []struct {
		file, in string
		want     []string
	}{
		{"lib.csv", "smiles,name\nCCO,a\n", []string{"a"}},
		{"LIB.CSV", "smiles,name\nCCO,a\n", []string{"a"}},
		{"lib.tsv", "SMILES\tName\tnote\nCCO\ta, b\tx\n", []string{"a, b"}},
		{"lib.smi", "CCO a\n", []string{"a"}},
		{"dir/lib.smiles", "CCO\ta\n", []string{"a"}},
		{`C:\uploads\lib.TXT`, "CCO a b\n", []string{"a b"}},
		{"my.lib.v2.smi", "CCO\n", []string{"Ligand_1"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			es, err := entriesOf(Parse(tc.file, strings.NewReader(tc.in), Options{}))
			require.NoError(t, err)
			assert.Equal(t, tc.want, names(es))
		})
	}

	t.Run("tsv metadata", func(t *testing.T) {
		t.Parallel()
		es, err := entriesOf(Parse("lib.tsv", strings.NewReader("smiles\tname\tnote\nCCO\ta\tx, y\n"), Options{}))
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"note": "x, y"}, es[0].Metadata)
	})

	for _, file := range []string{"lib", "lib.csv.gz", "lib.xls", ""} {
		t.Run("unsupported "+file, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(file, strings.NewReader("smiles\nCCO\n"), Options{})
			requireOmtx(t, err, omtx.EInvalid, "file")
		})
	}
}
