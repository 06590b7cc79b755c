package gpu

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/omtx"
)

const (
	shippedBundle = "../models/descriptor-baseline-v1"
	// testProtein is a valid protein sequence (kinase-domain-like, used as
	// a stand-in target); omtx-desc-v1 does not use it.
	testProtein = "GAMDPSSPNYDKWEMERTDITMKHKLGGGQYGEVYEGVWKKYSLTVAVKTLKEDTMEVEEFLKEAAVMKEIKHPNLVQLLGVCTREPPFYIITEFMTYGNLLDYLRECN"

	aspirin   = "CC(=O)Oc1ccccc1C(=O)O"
	ibuprofen = "CC(C)Cc1ccc(cc1)C(C)C(=O)O"
	imatinib  = "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1"
)

// expectedRow is omtx-desc-v1 written out again from the documented
// definitions in models/descriptor-baseline-v1/README.md.
func expectedRow(d chem.Descriptors) []float64 {
	ha := float64(d.HeavyAtoms)
	outside := 0.0
	if ha < 20 {
		outside = 20 - ha
	} else if ha > 35 {
		outside = ha - 35
	}
	rot := float64(d.RotatableBonds - 5)
	if rot < 0 {
		rot = 0
	}
	arom := float64(d.AromaticRings)
	if arom > 4 {
		arom = 4
	}
	return []float64{
		35 * (1 - math.Exp(-ha/35)),
		rot,
		arom,
		math.Abs(float64(d.FormalCharge)),
		outside,
		float64(d.Components - 1),
	}
}

// descriptors are the perceived molecule's descriptors, which the
// featurizer uses.
func descriptors(t *testing.T, smiles string) chem.Descriptors {
	t.Helper()
	st, err := chem.Perceive(smiles)
	require.NoError(t, err)
	return chem.PerceivedDescriptors(st)
}

func TestFeaturize(t *testing.T) {
	t.Run("matches the documented definitions", func(t *testing.T) {
		for _, s := range []string{aspirin, ibuprofen, imatinib, "C", "[NH4+].[Cl-]", "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"} {
			got, err := Featurize(DescV1, testProtein, s)
			require.NoError(t, err, s)
			want := expectedRow(descriptors(t, s))
			require.Len(t, got, len(want))
			for i := range want {
				require.InDelta(t, want[i], float64(got[i]), 1e-5, "%s feature %d", s, i)
			}
		}
	})

	t.Run("known descriptor values", func(t *testing.T) {
		// Guards the test expectations below against silent chem changes.
		require.Equal(t, 13, descriptors(t, aspirin).HeavyAtoms)
		require.Equal(t, 15, descriptors(t, ibuprofen).HeavyAtoms)
		require.Equal(t, 37, descriptors(t, imatinib).HeavyAtoms)
		require.Equal(t, 4, descriptors(t, imatinib).AromaticRings)
	})

	t.Run("one molecule, one row, however it is spelled", func(t *testing.T) {
		// Each group is one molecule in Kekulé and aromatic spellings and
		// other atom orders (RDKit 2026.09.1 gives each group one canonical
		// SMILES, and so does chem.Identity, checked here).
		groups := [][]string{
			{aspirin, "CC(=O)OC1=CC=CC=C1C(=O)O", "OC(=O)C1=CC=CC=C1OC(C)=O"},
			{ibuprofen, "CC(C)CC1=CC=C(C=C1)C(C)C(=O)O"},
			{imatinib, "CC1=CC=C(NC(=O)C2=CC=C(CN3CCN(C)CC3)C=C2)C=C1NC1=NC=CC(=N1)C1=CN=CC=C1"},
			{"c1ccc2ccccc2c1", "C1=CC=C2C=CC=CC2=C1"},
			{"c1cc[nH]c1", "C1=CNC=C1"},
		}
		for _, g := range groups {
			want, err := Featurize(DescV1, testProtein, g[0])
			require.NoError(t, err, g[0])
			wantID, err := chem.Identity(g[0])
			require.NoError(t, err)
			for _, s := range g[1:] {
				id, err := chem.Identity(s)
				require.NoError(t, err)
				require.Equal(t, wantID, id, "one molecule: %s and %s", g[0], s)
				got, err := Featurize(DescV1, testProtein, s)
				require.NoError(t, err, s)
				require.Equal(t, want, got, "%s and %s", g[0], s)
			}
		}
		kekule, err := Featurize(DescV1, testProtein, "CC(=O)OC1=CC=CC=C1C(=O)O")
		require.NoError(t, err)
		require.Equal(t, float32(1), kekule[2], "aromatic_rings_capped of Kekulé aspirin")
	})

	t.Run("salt counts an extra component and charge", func(t *testing.T) {
		row, err := Featurize(DescV1, testProtein, "CC(=O)[O-].[Na+]")
		require.NoError(t, err)
		require.Equal(t, float32(1), row[5], "extra_components")
		require.Equal(t, float32(0), row[3], "net charge of the salt is 0")
	})

	t.Run("invalid SMILES names the field and position", func(t *testing.T) {
		_, err := Featurize(DescV1, testProtein, "C1CCCC")
		require.Error(t, err)
		require.Regexp(t, `^ligand_smiles: at position \d+: `, err.Error())
		var se *chem.SMILESError
		require.ErrorAs(t, err, &se)
	})

	t.Run("no heavy atoms", func(t *testing.T) {
		_, err := Featurize(DescV1, testProtein, "[H][H]")
		require.EqualError(t, err, "ligand_smiles: ligand has no heavy atoms")
	})

	t.Run("invalid protein", func(t *testing.T) {
		_, err := Featurize(DescV1, "MK1LV", aspirin)
		require.ErrorContains(t, err, "protein_sequence: ")
	})

	t.Run("unknown version", func(t *testing.T) {
		_, err := Featurize("omtx-desc-v9", testProtein, aspirin)
		require.EqualError(t, err, `unknown featurization version "omtx-desc-v9" (this build implements omtx-desc-v1)`)
		_, err = FeatureNames("nope")
		require.Error(t, err)
	})

	t.Run("versions and names", func(t *testing.T) {
		require.Equal(t, []string{DescV1}, FeaturizationVersions())
		names, err := FeatureNames(DescV1)
		require.NoError(t, err)
		require.Equal(t, []string{"ha_eff", "rotatable_excess", "aromatic_rings_capped", "abs_formal_charge", "ha_outside_druglike", "extra_components"}, names)
	})
}

// copyBundle copies the shipped bundle to a temporary folder, applying
// edit to the decoded manifest.
func copyBundle(t *testing.T, edit func(m map[string]any)) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"model.onnx", ManifestFile} {
		b, err := os.ReadFile(filepath.Join(shippedBundle, name))
		require.NoError(t, err)
		if name == ManifestFile && edit != nil {
			var m map[string]any
			require.NoError(t, json.Unmarshal(b, &m))
			edit(m)
			b, err = json.Marshal(m)
			require.NoError(t, err)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	return dir
}

func TestLoadBundle(t *testing.T) {
	t.Run("shipped bundle", func(t *testing.T) {
		b, err := LoadBundle(shippedBundle)
		require.NoError(t, err)
		require.Equal(t, 6, b.NumFeatures())
		require.False(t, *b.Manifest.IsBoltz2)
		require.Equal(t, 256, b.Manifest.Limits.MaxBatch)
		info := b.Info()
		weights, err := os.ReadFile(filepath.Join(shippedBundle, "model.onnx"))
		require.NoError(t, err)
		sum := sha256.Sum256(weights)
		require.Equal(t, omtx.ModelInfo{
			Name: omtx.BaselineModel, Version: "1.0.0", Kind: "onnx",
			Checkpoint:        fmt.Sprintf("model.onnx sha256:%x (%d bytes)", sum, len(weights)),
			Description:       b.Manifest.Description,
			Structures:        false,
			NoStructureReason: "descriptor baseline predicts affinity from 2D ligand descriptors only; it produces no 3D coordinates",
		}, info)
		require.NotContains(t, info.Name, "boltz")
	})

	feature := func(m map[string]any, i int) map[string]any {
		return m["featurization"].(map[string]any)["features"].([]any)[i].(map[string]any)
	}
	output := func(m map[string]any, i int) map[string]any {
		return m["outputs"].([]any)[i].(map[string]any)
	}
	cases := []struct {
		name string
		edit func(m map[string]any)
		want string
	}{
		{"unknown featurization", func(m map[string]any) { m["featurization"].(map[string]any)["version"] = "omtx-desc-v2" },
			`featurization.version: unknown featurization version "omtx-desc-v2" (this build implements omtx-desc-v1)`},
		{"renamed feature", func(m map[string]any) { feature(m, 0)["name"] = "heavy_atoms" },
			"featurization.features are [heavy_atoms, rotatable_excess"},
		{"parameter differs", func(m map[string]any) {
			m["featurization"].(map[string]any)["parameters"].([]any)[0].(map[string]any)["value"] = 40
		}, "featurization.parameters: ha_sat is 40, but omtx-desc-v1 implements 35"},
		{"input width", func(m map[string]any) { m["inputs"].([]any)[0].(map[string]any)["shape"] = []any{"batch", 5} },
			`input "features": width 5, but featurization omtx-desc-v1 has 6 features`},
		{"missing output", func(m map[string]any) { m["outputs"] = m["outputs"].([]any)[:2] },
			`outputs: "confidence_score" is required`},
		{"wrong units", func(m map[string]any) { output(m, 0)["units"] = "kcal/mol" },
			`output "affinity_pred_value": units "kcal/mol", want "log10(IC50 / µM)"`},
		{"missing is_boltz2", func(m map[string]any) { delete(m, "is_boltz2") }, "is_boltz2 is required"},
		{"not boltz2 but named so", func(m map[string]any) { m["name"] = "boltz2" }, `must not be named "boltz2"`},
		{"structure claimed", func(m map[string]any) { m["structure"] = map[string]any{"available": true} }, "structure.available is true"},
		{"no max batch", func(m map[string]any) { delete(m, "limits") }, "limits.max_batch must be a positive integer"},
		{"no provenance", func(m map[string]any) { delete(m, "provenance") }, "provenance is required"},
		{"model file outside", func(m map[string]any) { m["model_file"] = "../model.onnx" }, "must be a file name inside the bundle folder"},
		{"model file missing", func(m map[string]any) { m["model_file"] = "other.onnx" }, "model_file: stat"},
		{"wrong kind", func(m map[string]any) { m["kind"] = "boltz" }, `kind is "boltz", want "onnx"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadBundle(copyBundle(t, c.edit))
			require.ErrorContains(t, err, c.want)
		})
	}

	t.Run("every problem is reported", func(t *testing.T) {
		_, err := LoadBundle(copyBundle(t, func(m map[string]any) {
			delete(m, "name")
			delete(m, "version")
		}))
		require.ErrorContains(t, err, "name is required; version is required")
	})

	t.Run("missing folder", func(t *testing.T) {
		_, err := LoadBundle(filepath.Join(t.TempDir(), "nope"))
		require.ErrorContains(t, err, "manifest.json: no such file or directory")
	})
}

// TestONNXPredictor_OneScorePerMolecule runs the shipped baseline on
// aspirin spelled three ways: one molecule, one score.
func TestONNXPredictor_OneScorePerMolecule(t *testing.T) {
	p := newCPU(t, Config{})
	ligs := []omtx.Ligand{
		{Name: "aromatic", SMILES: aspirin},
		{Name: "kekule", SMILES: "CC(=O)OC1=CC=CC=C1C(=O)O"},
		{Name: "reordered", SMILES: "OC(=O)C1=CC=CC=C1OC(C)=O"},
	}
	preds, err := p.Predict(t.Context(), omtx.PredictRequest{Protein: testProtein, Ligands: ligs, Parameters: omtx.Parameters{NumSamples: 1}})
	require.NoError(t, err)
	require.Len(t, preds, 3)
	for _, pr := range preds[1:] {
		require.Empty(t, pr.Error)
		require.Equal(t, preds[0].AffinityPredValue, pr.AffinityPredValue, pr.LigandName)
		require.Equal(t, preds[0].AffinityProbabilityBinary, pr.AffinityProbabilityBinary, pr.LigandName)
		require.Equal(t, preds[0].ConfidenceScore, pr.ConfidenceScore, pr.LigandName)
	}
}
