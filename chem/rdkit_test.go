package chem

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/internal/rdkittest"
)

// The valence rules are checked against real RDKit. testdata/rdkit_corpus.tsv
// lists SMILES with a note each; testdata/rdkit_valence.tsv is RDKit's
// verdict on every one of them, made by scripts/rdkit/check.mjs (go generate
// ./chem/). TestParseSMILES_AgreesWithRDKit holds ParseSMILES to that
// table; TestRDKitTable_IsCurrent re-runs RDKit, where it is installed, so
// that the table cannot drift from the tool.

const (
	corpusPath = "testdata/rdkit_corpus.tsv"
	tablePath  = "testdata/rdkit_valence.tsv"
	// differsPrefix starts the note of a row where ParseSMILES deliberately
	// disagrees with RDKit; the rest of the note says why.
	differsPrefix = "differs:"
)

type rdkitRow struct {
	line   int
	smiles string
	valid  bool
	heavy  int
	error  string
	note   string
}

// readRDKitTable parses testdata/rdkit_valence.tsv.
func readRDKitTable(t *testing.T) (header []string, rows []rdkitRow) {
	t.Helper()
	data, err := os.ReadFile(tablePath)
	require.NoError(t, err)
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			header = append(header, line)
			continue
		}
		f := strings.Split(line, "\t")
		require.Len(t, f, 5, "%s:%d: want 5 tab-separated columns", tablePath, n)
		if f[0] == "smiles" {
			require.Equal(t, []string{"smiles", "rdkit_valid", "heavy_atoms", "rdkit_error", "note"}, f,
				"%s:%d: column header", tablePath, n)
			continue
		}
		r := rdkitRow{line: n, smiles: f[0], error: f[3], note: f[4]}
		switch f[1] {
		case "1":
			r.valid = true
			r.heavy, err = strconv.Atoi(f[2])
			require.NoError(t, err, "%s:%d: heavy_atoms", tablePath, n)
		case "0":
			require.Equal(t, "-", f[2], "%s:%d: heavy_atoms of an invalid row", tablePath, n)
		default:
			t.Fatalf("%s:%d: rdkit_valid %q is neither 0 nor 1", tablePath, n, f[1])
		}
		rows = append(rows, r)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, rows)
	return header, rows
}

// TestRDKitTable_MatchesCorpus checks, without RDKit, that the table was
// regenerated after the corpus last changed: same SMILES, same notes, same
// order.
func TestRDKitTable_MatchesCorpus(t *testing.T) {
	t.Parallel()
	_, rows := readRDKitTable(t)
	data, err := os.ReadFile(corpusPath)
	require.NoError(t, err)
	var want [][2]string
	seen := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		smiles, note, _ := strings.Cut(line, "\t")
		require.False(t, seen[smiles], "%s: %q listed twice", corpusPath, smiles)
		seen[smiles] = true
		if note = strings.Join(strings.Fields(note), " "); note == "" {
			note = "-"
		}
		want = append(want, [2]string{smiles, note})
	}
	got := make([][2]string, len(rows))
	for i, r := range rows {
		got[i] = [2]string{r.smiles, r.note}
	}
	require.Equal(t, want, got, "%s is out of date with %s: run go generate ./chem/", tablePath, corpusPath)
}

// TestParseSMILES_AgreesWithRDKit is the agreement test: on every row not
// marked "differs:", ParseSMILES accepts exactly what RDKit accepts and
// counts the same heavy atoms; on the marked rows it still disagrees (so a
// stale mark is noticed).
func TestParseSMILES_AgreesWithRDKit(t *testing.T) {
	t.Parallel()
	header, rows := readRDKitTable(t)
	agree, differ, valid := 0, 0, 0
	for _, r := range rows {
		name := fmt.Sprintf("line %d %s", r.line, r.smiles)
		m, err := ParseSMILES(r.smiles)
		if err != nil {
			var se *SMILESError
			require.True(t, errors.As(err, &se), "%s: error %T is not *SMILESError", name, err)
		}
		chemValid := err == nil
		if why, ok := strings.CutPrefix(r.note, differsPrefix); ok {
			differ++
			if chemValid == r.valid {
				t.Errorf("%s: marked %q, but ParseSMILES now agrees with RDKit (valid=%v): remove the mark",
					name, strings.TrimSpace(why), r.valid)
			}
			continue
		}
		agree++
		if r.valid {
			valid++
		}
		switch {
		case r.valid && !chemValid:
			t.Errorf("%s (%s): RDKit accepts it, ParseSMILES refuses: %v", name, r.note, err)
		case !r.valid && chemValid:
			t.Errorf("%s (%s): RDKit refuses it (%s), ParseSMILES accepts it", name, r.note, r.error)
		case r.valid && m.HeavyAtomCount() != r.heavy:
			t.Errorf("%s (%s): %d heavy atoms, RDKit counts %d", name, r.note, m.HeavyAtomCount(), r.heavy)
		}
	}
	t.Logf("%s", strings.Join(header, "\n"))
	t.Logf("agreement set: %d SMILES (%d valid, %d invalid in RDKit); %d marked %q", agree, valid, agree-valid, differ, differsPrefix)
	require.GreaterOrEqual(t, agree, 500, "the agreement set shrank")
}

// TestRDKitTable_IsCurrent re-runs RDKit on the corpus and fails if its
// answers (or its version) differ from the committed table. It needs node
// and @rdkit/rdkit under .tools/rdkit (or $RDKIT_DIR); it skips without
// them, unless OMTX_RDKIT=1 says they must be there (CI).
func TestRDKitTable_IsCurrent(t *testing.T) {
	t.Parallel()
	corpus, err := os.Open(corpusPath)
	require.NoError(t, err)
	defer corpus.Close()
	rdkittest.Compare(t, tablePath, rdkittest.Run(t, "check.mjs", corpus),
		"if the corpus or RDKit changed on purpose, run go generate ./chem/ and review the diff")
}
