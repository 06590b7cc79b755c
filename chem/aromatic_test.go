package chem

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/internal/rdkittest"
)

// Aromaticity is checked against real RDKit as the valence rules are:
// testdata/aromatic_corpus.tsv lists drug-like SMILES (aromatic and Kekulé
// spellings); testdata/rdkit_aromatic.tsv is RDKit's perception of each,
// made by scripts/rdkit/aromatic.mjs (go generate ./chem/).

const (
	aromaticCorpusPath = "testdata/aromatic_corpus.tsv"
	aromaticTablePath  = "testdata/rdkit_aromatic.tsv"
)

type aromaticRow struct {
	line                int
	smiles              string
	atoms, bonds, rings string
	note                string
}

func readTSV(t *testing.T, path string, columns []string) (rows [][]string, lines []int) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	header := false
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		f := strings.Split(line, "\t")
		require.Len(t, f, len(columns), "%s:%d: want %d tab-separated columns", path, n, len(columns))
		if !header {
			require.Equal(t, columns, f, "%s:%d: column header", path, n)
			header = true
			continue
		}
		rows = append(rows, f)
		lines = append(lines, n)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, rows)
	return rows, lines
}

func readAromaticTable(t *testing.T) []aromaticRow {
	t.Helper()
	rows, lines := readTSV(t, aromaticTablePath, []string{"smiles", "aromatic_atoms", "aromatic_bonds", "rings", "note"})
	out := make([]aromaticRow, len(rows))
	for i, f := range rows {
		out[i] = aromaticRow{line: lines[i], smiles: f[0], atoms: f[1], bonds: f[2], rings: f[3], note: f[4]}
	}
	return out
}

// perceptionColumns renders a Structure as the table's columns.
func perceptionColumns(st *Structure) (atoms, bonds, rings string) {
	var as []string
	for _, i := range st.AromaticAtoms() {
		as = append(as, fmt.Sprint(i))
	}
	type pair struct{ a, b int }
	var ps []pair
	for _, b := range st.Bonds {
		if b.Aromatic {
			ps = append(ps, pair{min(b.A, b.B), max(b.A, b.B)})
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].a < ps[j].a || (ps[i].a == ps[j].a && ps[i].b < ps[j].b) })
	var bs []string
	for _, p := range ps {
		bs = append(bs, fmt.Sprintf("%d-%d", p.a, p.b))
	}
	var rs []string
	for _, r := range st.Rings {
		var parts []string
		for _, a := range r {
			parts = append(parts, fmt.Sprint(a))
		}
		rs = append(rs, strings.Join(parts, ","))
	}
	sort.Strings(rs)
	dash := func(s []string, sep string) string {
		if len(s) == 0 {
			return "-"
		}
		return strings.Join(s, sep)
	}
	return dash(as, ","), dash(bs, ","), dash(rs, ";")
}

// TestPerceive_AgreesWithRDKit holds Perceive to RDKit's aromatic atoms,
// aromatic bonds and rings on every row of the table.
func TestPerceive_AgreesWithRDKit(t *testing.T) {
	t.Parallel()
	rows := readAromaticTable(t)
	for _, r := range rows {
		st, err := Perceive(r.smiles)
		if !assertNoErr(t, err, "line %d %s", r.line, r.smiles) {
			continue
		}
		atoms, bonds, rings := perceptionColumns(st)
		if atoms != r.atoms || bonds != r.bonds {
			t.Errorf("line %d %s (%s): aromatic atoms %s bonds %s, RDKit %s bonds %s", r.line, r.smiles, r.note, atoms, bonds, r.atoms, r.bonds)
		}
		if rings != r.rings {
			t.Errorf("line %d %s (%s): rings %s, RDKit %s", r.line, r.smiles, r.note, rings, r.rings)
		}
	}
	require.GreaterOrEqual(t, len(rows), 1600, "the aromaticity table shrank")
}

// TestPerceive_KekuleAndAromaticSpellingsAgree checks the point of
// perception: the same molecule written in Kekulé and aromatic form has
// the same aromatic atoms.
func TestPerceive_KekuleAndAromaticSpellingsAgree(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, kekule, aromatic string }{
		{"aspirin", "CC(=O)OC1=CC=CC=C1C(=O)O", "CC(=O)Oc1ccccc1C(=O)O"},
		{"caffeine", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "Cn1cnc2c1c(=O)n(C)c(=O)n2C"},
		{"naphthalene", "C1=CC=C2C=CC=CC2=C1", "c1ccc2ccccc2c1"},
		{"pyrrole", "C1=CNC=C1", "c1cc[nH]c1"},
		{"pyridone", "O=C1C=CC=CN1", "O=c1cccc[nH]1"},
		{"azulene", "C1=CC2=CC=CC=CC2=C1", "c1cc2cccccc2c1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := Perceive(tc.kekule)
			require.NoError(t, err)
			a, err := Perceive(tc.aromatic)
			require.NoError(t, err)
			require.NotEmpty(t, a.AromaticAtoms())
			require.Equal(t, len(a.AromaticAtoms()), len(k.AromaticAtoms()))
			ka, kb, _ := perceptionColumns(k)
			aa, ab, _ := perceptionColumns(a)
			if tc.name == "aspirin" || tc.name == "naphthalene" {
				// Same atom order in both spellings: the same indices.
				require.Equal(t, aa, ka)
				require.Equal(t, ab, kb)
			}
		})
	}
}

// TestAromaticTable_MatchesCorpus checks, without RDKit, that the table was
// regenerated after the corpus last changed.
func TestAromaticTable_MatchesCorpus(t *testing.T) {
	t.Parallel()
	rows := readAromaticTable(t)
	var want, got []string
	data, err := os.ReadFile(aromaticCorpusPath)
	require.NoError(t, err)
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		smiles, _, _ := strings.Cut(line, "\t")
		want = append(want, smiles)
	}
	for _, r := range rows {
		got = append(got, r.smiles)
	}
	require.Equal(t, want, got, "%s is out of date with %s: run go generate ./chem/", aromaticTablePath, aromaticCorpusPath)
}

// TestRDKitAromaticTable_IsCurrent re-runs RDKit on the corpus, as
// TestRDKitTable_IsCurrent does for the valence table.
func TestRDKitAromaticTable_IsCurrent(t *testing.T) {
	t.Parallel()
	rerunRDKitTable(t, "aromatic.mjs", aromaticCorpusPath, aromaticTablePath)
}

// rerunRDKitTable runs scripts/rdkit/<script> on corpus and fails if its
// output differs from the committed table. It skips without node and
// @rdkit/rdkit, unless OMTX_RDKIT=1 (CI) says they must be there.
func rerunRDKitTable(t *testing.T, script, corpus, table string) {
	t.Helper()
	in, err := os.Open(corpus)
	require.NoError(t, err)
	defer in.Close()
	rdkittest.Compare(t, table, rdkittest.Run(t, script, in),
		"if the corpus or RDKit changed on purpose, run go generate ./chem/ and review the diff")
}
