package boltz

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/target"
)

// TestInputYAMLMatchesTargetRender: for the seed's one-chain input,
// package target's RenderJob (the renderer for complexes) writes the bytes
// inputYAML writes, after inputYAML's comment line, so switching the
// runner to it changes nothing for one-chain jobs.
func TestInputYAMLMatchesTargetRender(t *testing.T) {
	t.Parallel()
	const protein = "MKTAYIAKQRQISFVKSHFSRQ"
	for _, smiles := range []string{"CCO", `F/C=C\F`, "C#N", "[C@@H](O)(N)C", "a\"b"} {
		for _, msaPath := range []string{"", "/tmp/msa dir/A.a3m"} {
			want, err := inputYAML(protein, smiles, msaPath)
			require.NoError(t, err)
			mode, files := target.MSAEmpty, target.JobFiles{}
			if msaPath != "" {
				mode, files.MSA = target.MSAFile, map[string]string{"A": msaPath}
			}
			tg := target.OneChain(protein, mode)
			if mode == target.MSAFile {
				tg.Chains[0].MSA.File = "A.a3m"
			}
			got, err := target.RenderJob(tg, smiles, files)
			require.NoError(t, err)
			header, body, ok := strings.Cut(want, "\n")
			require.True(t, ok)
			require.True(t, strings.HasPrefix(header, "# "), header)
			require.Equal(t, body, string(got), "smiles %q msa %q", smiles, msaPath)
		}
	}
}
