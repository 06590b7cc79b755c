package filters

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/internal/rdkittest"
	"github.com/stretchr/testify/require"
)

// The matcher is checked against real RDKit: testdata/rdkit_matches.tsv
// lists, for every molecule of chem/testdata/aromatic_corpus.tsv (drug-like
// ZINC and NCI molecules in aromatic and Kekulé spellings, and the valid
// rows of the valence corpus), which of the
// shipped catalog entries and of testdata/smarts_patterns.tsv RDKit
// matches; made by scripts/rdkit/smarts.mjs (go generate ./filters/).
//
// RDKit's WebAssembly build cannot merge query hydrogens, so smarts.mjs
// matches a pattern with [#1] atoms on the molecule with explicit
// hydrogens. That gives FilterCatalog's verdict when no other atom of the
// pattern can stand on a hydrogen and no D primitive counts them: of the
// shipped patterns with [#1], three also have a '*', each either the root
// of a recursive SMARTS, inside a chain, or beside an alternative !H0
// (hzone_enamin(30), het_pyridiniums_B(2), hzone_acyl_misc_A(1)), and none
// has a D. chem's TestHydrogenPatterns_MatchLikeMerged checks this for
// every pattern, so one added later is reviewed.

//go:generate sh -c "cd .. && node scripts/rdkit/smarts.mjs filters/catalogs/pains_a.tsv filters/catalogs/pains_b.tsv filters/catalogs/pains_c.tsv filters/catalogs/reactive.tsv filters/testdata/smarts_patterns.tsv < chem/testdata/aromatic_corpus.tsv > filters/testdata/rdkit_matches.tsv.new && mv filters/testdata/rdkit_matches.tsv.new filters/testdata/rdkit_matches.tsv"

const (
	matchesTable    = "testdata/rdkit_matches.tsv"
	patternsPath    = "testdata/smarts_patterns.tsv"
	moleculesCorpus = "../chem/testdata/aromatic_corpus.tsv"
)

type patternID struct {
	id string
	q  Entry
}

// allPatterns lists the patterns of the table, in its column order.
func allPatterns(t *testing.T) []patternID {
	t.Helper()
	var out []patternID
	for _, name := range CatalogNames {
		es, err := Catalog(name)
		require.NoError(t, err)
		for _, e := range es {
			out = append(out, patternID{id: name + ":" + e.Name, q: e})
		}
	}
	f, err := os.Open(patternsPath)
	require.NoError(t, err)
	defer f.Close()
	es, err := parsePatterns(bufio.NewScanner(f), patternsPath, "smarts_patterns")
	require.NoError(t, err)
	for _, e := range es {
		out = append(out, patternID{id: "smarts_patterns:" + e.Name, q: e})
	}
	return out
}

type matchRow struct {
	line   int
	smiles string
	hits   map[string]bool
	note   string
}

func readMatches(t *testing.T) []matchRow {
	t.Helper()
	data, err := os.ReadFile(matchesTable)
	require.NoError(t, err)
	var rows []matchRow
	header := false
	for n, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		require.Len(t, f, 3, "%s:%d", matchesTable, n+1)
		if !header {
			require.Equal(t, []string{"smiles", "matches", "note"}, f)
			header = true
			continue
		}
		r := matchRow{line: n + 1, smiles: f[0], hits: map[string]bool{}, note: f[2]}
		if f[1] != "-" {
			for _, h := range strings.Split(f[1], ",") {
				r.hits[h] = true
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// TestMatcher_AgreesWithRDKit holds chem's SMARTS matcher to RDKit on the
// whole grid: every molecule against every PAINS and reactive entry and
// every pattern of smarts_patterns.tsv.
func TestMatcher_AgreesWithRDKit(t *testing.T) {
	t.Parallel()
	pats := allPatterns(t)
	rows := readMatches(t)
	known := map[string]bool{}
	for _, p := range pats {
		known[p.id] = true
	}
	painsHits, cells := 0, 0
	for _, r := range rows {
		for h := range r.hits {
			require.True(t, known[h], "%s:%d: %s is not a pattern here; regenerate the table", matchesTable, r.line, h)
		}
		st, err := chem.Perceive(r.smiles)
		require.NoError(t, err, "%s:%d %s", matchesTable, r.line, r.smiles)
		m := chem.NewMatcher(st, 0)
		for _, p := range pats {
			got, err := m.Matches(p.q.query)
			require.NoError(t, err, "%s:%d %s %s", matchesTable, r.line, r.smiles, p.id)
			cells++
			if got != r.hits[p.id] {
				t.Errorf("%s:%d %s (%s): %s %s matches=%v, RDKit %v", matchesTable, r.line, r.smiles, r.note, p.id, p.q.SMARTS, got, r.hits[p.id])
			}
			if got && strings.HasPrefix(p.id, "pains") {
				painsHits++
			}
		}
	}
	t.Logf("%d molecules x %d patterns = %d verdicts; %d PAINS hits", len(rows), len(pats), cells, painsHits)
	require.GreaterOrEqual(t, len(rows), 1600, "the table shrank")
	require.Greater(t, painsHits, 200, "the table should exercise PAINS hits, not only misses")
}

// TestMatchesTable_MatchesCorpus checks, without RDKit, that the table
// covers the molecule corpus in order.
func TestMatchesTable_MatchesCorpus(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(moleculesCorpus)
	require.NoError(t, err)
	var want, got []string
	for _, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, _, _ := strings.Cut(line, "\t")
		want = append(want, s)
	}
	for _, r := range readMatches(t) {
		got = append(got, r.smiles)
	}
	require.Equal(t, want, got, "%s is out of date: run go generate ./filters/", matchesTable)
}

// TestRDKitMatchesTable_IsCurrent re-runs RDKit on the grid and fails if
// its verdicts (or its version) differ from the committed table. It needs
// node and @rdkit/rdkit under .tools/rdkit (or $RDKIT_DIR); it skips
// without them, unless OMTX_RDKIT=1 says they must be there (CI).
func TestRDKitMatchesTable_IsCurrent(t *testing.T) {
	t.Parallel()
	in, err := os.Open(moleculesCorpus)
	require.NoError(t, err)
	defer in.Close()
	var args []string
	for _, name := range CatalogNames {
		args = append(args, filepath.Join("filters", "catalogs", name+".tsv"))
	}
	args = append(args, filepath.Join("filters", patternsPath))
	rdkittest.Compare(t, matchesTable, rdkittest.Run(t, "smarts.mjs", in, args...),
		"if the corpus, the catalogs or RDKit changed on purpose, run go generate ./filters/ and review the diff")
}
