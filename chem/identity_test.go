package chem

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/internal/rdkittest"
)

// identityTablePath is RDKit's canonical SMILES for every row of the
// identity corpus (made by scripts/rdkit/identity.mjs): the corpus rows,
// RDKit's random-order aromatic and Kekulé spellings of each, and their
// enantiomers, diastereomers and double-bond isomers.
const identityTablePath = "testdata/rdkit_identity.tsv"

type identityRow struct {
	line      int
	smiles    string
	canonical string
	note      string
}

func readIdentityTable(t *testing.T) []identityRow {
	t.Helper()
	data, err := os.ReadFile(identityTablePath)
	require.NoError(t, err)
	var rows []identityRow
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		require.Len(t, f, 3, "%s:%d: want 3 tab-separated columns", identityTablePath, n)
		if f[0] == "smiles" {
			require.Equal(t, []string{"smiles", "rdkit_canonical", "note"}, f)
			continue
		}
		rows = append(rows, identityRow{line: n, smiles: f[0], canonical: f[1], note: f[2]})
	}
	require.NoError(t, sc.Err())
	return rows
}

// TestIdentity_AgreesWithRDKit holds Identity to RDKit's verdicts: over the
// whole table, two rows have one identity exactly where RDKit's canonical
// SMILES are equal (the two partitions of the rows are the same).
func TestIdentity_AgreesWithRDKit(t *testing.T) {
	t.Parallel()
	rows := readIdentityTable(t)
	require.GreaterOrEqual(t, len(rows), 2000, "the identity table shrank")
	ids := make([]string, len(rows))
	byRDKit := map[string]int{} // canonical SMILES -> first row
	byOurs := map[string]int{}  // identity -> first row
	bad := 0
	for i, r := range rows {
		id, err := Identity(r.smiles)
		require.NoError(t, err, "%s:%d: %s", identityTablePath, r.line, r.smiles)
		ids[i] = id
		if j, ok := byRDKit[r.canonical]; ok && ids[j] != id && bad < 20 {
			bad++
			t.Errorf("%s:%d and %d: RDKit says one molecule (%s), ours says two:\n  %s -> %s\n  %s -> %s",
				identityTablePath, rows[j].line, r.line, r.canonical, rows[j].smiles, ids[j], r.smiles, id)
		}
		if j, ok := byOurs[id]; ok && rows[j].canonical != r.canonical && bad < 20 {
			bad++
			t.Errorf("%s:%d and %d: ours says one molecule (%s), RDKit says two:\n  %s -> %s\n  %s -> %s",
				identityTablePath, rows[j].line, r.line, id, rows[j].smiles, rows[j].canonical, r.smiles, r.canonical)
		}
		if _, ok := byRDKit[r.canonical]; !ok {
			byRDKit[r.canonical] = i
		}
		if _, ok := byOurs[id]; !ok {
			byOurs[id] = i
		}
	}
	require.Equal(t, len(byRDKit), len(byOurs), "number of distinct molecules")
	t.Logf("%d rows, %d molecules", len(rows), len(byRDKit))
}

// TestIdentityTable_IsCurrent re-runs RDKit on the table's SMILES, as
// TestRDKitTable_IsCurrent does for the valence table.
func TestIdentityTable_IsCurrent(t *testing.T) {
	t.Parallel()
	rerunRDKitTable(t, "identity.mjs", identityTablePath, identityTablePath)
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	same := [][]string{
		{"CC(=O)OC1=CC=CC=C1C(=O)O", "CC(=O)Oc1ccccc1C(=O)O", "OC(=O)c1ccccc1OC(C)=O"},
		{"F/C=C/F", "F\\C=C\\F", "C(\\F)=C/F"},
		{"N[C@@H](C)C(=O)O", "C[C@H](N)C(=O)O", "OC(=O)[C@H](C)N"},
		{"C[C@H]1CCCC1", "CC1CCCC1"},
		{"[Na+].[Cl-]", "[Cl-].[Na+]"},
	}
	for _, group := range same {
		t.Run(group[0], func(t *testing.T) {
			t.Parallel()
			want, err := Identity(group[0])
			require.NoError(t, err)
			for _, s := range group[1:] {
				got, err := Identity(s)
				require.NoError(t, err)
				require.Equal(t, want, got, s)
			}
		})
	}
	differ := [][2]string{
		{"F/C=C/F", "F/C=C\\F"},
		{"N[C@@H](C)C(=O)O", "N[C@H](C)C(=O)O"},
		{"C[C@H]1CC[C@@H](C)CC1", "C[C@H]1CC[C@H](C)CC1"},
		{"COc1ccccc1", "[13CH3]Oc1ccccc1"},
		{"CC(=O)O", "CC(=O)[O-]"},
	}
	for _, p := range differ {
		t.Run(p[0]+" vs "+p[1], func(t *testing.T) {
			t.Parallel()
			a, err := Identity(p[0])
			require.NoError(t, err)
			b, err := Identity(p[1])
			require.NoError(t, err)
			require.NotEqual(t, a, b)
		})
	}
	t.Run("aspirin reads as SMILES", func(t *testing.T) {
		t.Parallel()
		id, err := Identity("CC(=O)OC1=CC=CC=C1C(=O)O")
		require.NoError(t, err)
		require.Equal(t, "CC(=O)Oc1ccccc1C(=O)O", id)
	})
	t.Run("a perceived structure has the same identity, stereo included", func(t *testing.T) {
		t.Parallel()
		for _, s := range []string{"N[C@@H](C)C(=O)O", "C[C@H]1CC[C@@H](C)CC1", "F/C=C/F"} {
			want, err := Identity(s)
			require.NoError(t, err)
			st, err := Perceive(s)
			require.NoError(t, err)
			require.Equal(t, want, st.Identity(), s)
		}
	})

	t.Run("refuses what ParseSMILES refuses", func(t *testing.T) {
		t.Parallel()
		_, err := Identity("C1CC")
		var se *SMILESError
		require.ErrorAs(t, err, &se)
	})
}

// TestIdentity_ReadsBackInRDKit has RDKit read every identity string and
// canonicalize it: it must give the row's own RDKit canonical SMILES, so an
// identity is a SMILES of the very molecule it names, stereo included. Like
// the other RDKit checks it skips without node and @rdkit/rdkit unless
// OMTX_RDKIT=1.
func TestIdentity_ReadsBackInRDKit(t *testing.T) {
	t.Parallel()
	rows := readIdentityTable(t)
	var in bytes.Buffer
	for _, r := range rows {
		id, err := Identity(r.smiles)
		require.NoError(t, err)
		in.WriteString(id + "\t" + r.note + "\n")
	}
	out := rdkittest.Run(t, "identity.mjs", &in)
	var got []string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if strings.HasPrefix(line, "#") || f[0] == "smiles" {
			continue
		}
		require.Len(t, f, 3, line)
		got = append(got, f[1])
	}
	require.Len(t, got, len(rows))
	bad := 0
	for i, r := range rows {
		if got[i] != r.canonical && bad < 20 {
			bad++
			id, _ := Identity(r.smiles)
			t.Errorf("%s:%d: %s: identity %s reads in RDKit as %s, not %s", identityTablePath, r.line, r.smiles, id, got[i], r.canonical)
		}
	}
}
