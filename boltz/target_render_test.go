package boltz

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seedInput is the input package boltz wrote for one-chain jobs before it
// rendered through package target (the writer it replaced, kept here as
// the golden form): a one-chain job's bytes must not change.
func seedInput(protein, smiles, msa string) string {
	return strings.Join([]string{
		"# Written by OMTX-Hub (package boltz) for `boltz predict`.",
		"version: 1",
		"sequences:",
		"  - protein:",
		"      id: A",
		`      sequence: "` + protein + `"`,
		"      msa: " + msa,
		"  - ligand:",
		"      id: B",
		"      smiles: " + smiles,
		"properties:",
		"  - affinity:",
		"      binder: B",
		"",
	}, "\n")
}

// TestOneChainInputIsTheSeedInput: a one-chain job renders, through
// target.RenderJob, the bytes the runner has always written.
func TestOneChainInputIsTheSeedInput(t *testing.T) {
	t.Parallel()
	const protein = "MKTAYIAKQRQISFVKSHFSRQ"
	for _, tc := range []struct{ smiles, quoted string }{
		{"CCO", `"CCO"`}, {`F/C=C\F`, `"F/C=C\\F"`}, {"C#N", `"C#N"`},
		{"[C@@H](O)(N)C", `"[C@@H](O)(N)C"`}, {`a"b`, `"a\"b"`},
	} {
		for _, msa := range []struct{ path, yaml string }{
			{"", "empty"}, {"/tmp/msa dir/A.a3m", `"/tmp/msa dir/A.a3m"`},
		} {
			got, err := oneChainJob(protein, msa.path).render(tc.smiles)
			require.NoError(t, err)
			assert.Equal(t, seedInput(protein, tc.quoted, msa.yaml), string(got), "smiles %q msa %q", tc.smiles, msa.path)
		}
	}
}

// TestInputQuoting: SMILES with characters YAML treats specially arrive
// unchanged, read back by a reader independent of the writer.
func TestInputQuoting(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"C#N", `F/C=C\F`, `a"b`, "µM", "[C@@H]{}&*!|>%:,'", "🙂",
	} {
		doc, err := oneChainJob(protein, "").render(s)
		require.NoError(t, err, s)
		assert.Equal(t, s, parseInputYAML(t, string(doc))["sequences.ligand.smiles"], "quoted as %s", doc)
	}
	_, err := oneChainJob(protein, "").render("bad \xff utf8")
	require.ErrorContains(t, err, "not valid UTF-8")
}
