package boltz

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// dimer is a two-chain target with a Mg²⁺ cofactor, an uploaded A3M for
// chain A, single-sequence mode for chain B, a pocket for the screened
// ligand (chain D) and a template for chain A.
func dimer() *target.Target {
	return &target.Target{
		Chains: []target.Chain{
			{Type: target.Protein, IDs: target.ChainIDs{"A"}, Sequence: protein,
				MSA: &target.MSA{Mode: target.MSAFile, File: "kinase.a3m"}},
			{Type: target.Protein, IDs: target.ChainIDs{"B"}, Sequence: "MKTAYIAKQRQISFVKSHFSRQ",
				MSA: &target.MSA{Mode: target.MSAEmpty}},
		},
		Ligands: []target.FixedLigand{{IDs: target.ChainIDs{"C"}, CCD: "MG"}},
		Constraints: []target.Constraint{{Pocket: &target.Pocket{
			Binder: "D", Contacts: []target.TokenRef{{Chain: "A", Residue: 12}, {Chain: "B", Residue: 3}},
		}}},
		Templates:   []target.Template{{CIF: "kinase.cif", ChainIDs: target.ChainIDs{"A"}}},
		LigandChain: "D",
	}
}

// TestPredictComplex: a request with a target runs the whole complex, one
// input per ligand, and reads Boltz's outputs for its four chains.
func TestPredictComplex(t *testing.T) {
	t.Parallel()
	a3m := filepath.Join(t.TempDir(), "kinase.a3m")
	require.NoError(t, os.WriteFile(a3m, []byte(">query\n"+protein+"\n"), 0o644))
	cif := filepath.Join(t.TempDir(), "kinase.cif")
	require.NoError(t, os.WriteFile(cif, []byte("data_kinase\n"), 0o644))
	raw, err := json.Marshal(dimer())
	require.NoError(t, err)
	files := target.JobFiles{MSA: map[string]string{"A": a3m}, Templates: map[string]string{"kinase.cif": cif}}

	t.Run("inputs and outputs", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		r := f.runner(t, Config{})
		req := request(t, ligands("CCO", "c1ccccc1O"))
		req.Protein = "" // unused with a target
		req.Target = &omtx.TargetJob{JSON: raw, MSA: files.MSA, Templates: files.Templates}
		preds, err := r.Predict(context.Background(), req)
		require.NoError(t, err)
		runs := f.runs(t)
		require.Len(t, runs, 1)
		for i, p := range preds {
			require.Empty(t, p.Error)
			doc := runs[0].Inputs[recordName(i)+".yaml"]
			want, err := target.RenderJob(dimer(), p.LigandSMILES, files)
			require.NoError(t, err)
			assert.Equal(t, inputHeader+string(want), doc)
			for _, part := range []string{"id: A", "id: B", `ccd: "MG"`, "binder: D", `msa: "` + a3m + `"`, "msa: empty", `cif: "` + cif + `"`} {
				assert.Contains(t, doc, part)
			}
			// Boltz's chain indices: A 0, B 1, MG 2, the screened ligand 3.
			for c := range 4 {
				assert.Contains(t, p.Metrics, "chains_ptm."+string(rune('0'+c)))
			}
			assert.NotContains(t, p.Metrics, "chains_ptm.4")
			assert.Equal(t, p.Metrics["chains_ptm.3"], p.Metrics[keyBinderPTM])
			assert.Equal(t, 0.87, p.Metrics[keyBinderPTM])
		}
	})

	t.Run("a missing MSA file is the input's error", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		r := f.runner(t, Config{})
		req := request(t, ligands("CCO"))
		req.Target = &omtx.TargetJob{JSON: raw, Templates: files.Templates}
		_, err := r.Predict(context.Background(), req)
		require.Error(t, err)
		assert.Equal(t, omtx.EInvalid, omtx.ErrorCode(err))
		assert.True(t, strings.Contains(err.Error(), "no MSA path for protein chain A"), err.Error())
		assert.Empty(t, f.runs(t))
	})
}
