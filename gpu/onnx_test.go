package gpu

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// ortLibrary returns the ONNX Runtime library for the tests, or skips the
// test when it is absent, unless OMTX_REQUIRE_ORT=1 (as in CI) makes that a
// failure.
func ortLibrary(t *testing.T) string {
	t.Helper()
	p := os.Getenv(LibraryEnv)
	if p == "" {
		p = filepath.Join("..", ".tools", "lib", "libonnxruntime.so")
	}
	if _, err := os.Stat(p); err != nil {
		msg := fmt.Sprintf("ONNX Runtime library not found (%v); run scripts/install-tools.sh or set %s", err, LibraryEnv)
		if os.Getenv("OMTX_REQUIRE_ORT") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

func newCPU(t *testing.T, cfg Config) *ONNXPredictor {
	t.Helper()
	cfg.LibraryPath = ortLibrary(t)
	if cfg.BundleDir == "" {
		cfg.BundleDir = shippedBundle
	}
	if cfg.Provider == "" {
		cfg.Provider = ProviderCPU
	}
	p, err := NewONNXPredictor(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, p.Close()) })
	return p
}

// expectedOutputs is the documented formula, written out independently of
// cmd/genbaseline: ΔG = −0.30·ha_eff + 0.25·rot_excess − 0.15·arom + 0.20·|q|;
// value = 6 + ΔG/1.364; p = sigmoid(−value/0.75);
// confidence = sigmoid(−0.4 − 0.1·outside − 0.5·|q| − 0.5·extra).
func expectedOutputs(x []float64) (value, prob, conf float64) {
	sig := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
	dg := -0.30*x[0] + 0.25*x[1] - 0.15*x[2] + 0.20*x[3]
	value = 6 + dg/1.364
	pIC50 := 6 - value
	prob = sig((pIC50 - 6) / 0.75)
	conf = sig(-0.4 - 0.1*x[4] - 0.5*x[3] - 0.5*x[5])
	return value, prob, conf
}

func TestONNXPredictor(t *testing.T) {
	ctx := context.Background()

	t.Run("shipped bundle runs on CPU", func(t *testing.T) {
		p := newCPU(t, Config{})
		require.Equal(t, ProviderCPU, p.Provider())
		require.Equal(t, 256, p.MaxBatch())
		info := p.Info()
		require.Equal(t, omtx.BaselineModel, info.Name)
		require.Equal(t, "onnx", info.Kind)
		require.False(t, info.Structures)
		require.NotEmpty(t, info.NoStructureReason)
	})

	t.Run("outputs follow the documented formula", func(t *testing.T) {
		p := newCPU(t, Config{})
		ligs := []omtx.Ligand{{Name: "aspirin", SMILES: aspirin}, {Name: "ibuprofen", SMILES: ibuprofen}, {Name: "imatinib", SMILES: imatinib}}
		preds, err := p.Predict(ctx, omtx.PredictRequest{Protein: testProtein, Ligands: ligs, Parameters: omtx.Parameters{NumSamples: 1}})
		require.NoError(t, err)
		require.Len(t, preds, 3)
		for i, pr := range preds {
			require.Empty(t, pr.Error)
			require.Equal(t, ligs[i].Name, pr.LigandName)
			require.Equal(t, ligs[i].SMILES, pr.LigandSMILES)
			d := descriptors(t, ligs[i].SMILES)
			v, pb, c := expectedOutputs(expectedRow(d))
			require.InDelta(t, v, pr.AffinityPredValue, 1e-4, ligs[i].Name)
			require.InDelta(t, pb, pr.AffinityProbabilityBinary, 1e-4, ligs[i].Name)
			require.InDelta(t, c, pr.ConfidenceScore, 1e-4, ligs[i].Name)
			require.Equal(t, float64(d.HeavyAtoms), pr.Metrics["heavy_atoms"])
			require.Greater(t, pr.ModelSeconds, 0.0)
			t.Logf("%-9s HA=%d value=%.4f pIC50=%.3f p=%.4f conf=%.4f", pr.LigandName, d.HeavyAtoms,
				pr.AffinityPredValue, omtx.PIC50FromPredValue(pr.AffinityPredValue), pr.AffinityProbabilityBinary, pr.ConfidenceScore)
		}
		// Imatinib (37 heavy atoms) is predicted stronger than aspirin (13).
		require.Less(t, preds[2].AffinityPredValue, preds[0].AffinityPredValue)
	})

	t.Run("drug-like ligands bind more strongly than fragments", func(t *testing.T) {
		p := newCPU(t, Config{})
		frags := []string{"c1ccccc1", "CCO", "c1ccncc1O", "CC(=O)N"}
		drugs := []string{imatinib, "CN1CCN(CC1)c1ccc(cc1)C(=O)Nc1ccc(C)c(Nc2nccc(n2)-c2cccnc2)c1", "COc1cc2ncnc(Nc3ccc(F)c(Cl)c3)c2cc1OCCCN1CCOCC1"}
		var ligs []omtx.Ligand
		for _, s := range append(append([]string{}, frags...), drugs...) {
			ligs = append(ligs, omtx.Ligand{SMILES: s})
		}
		preds, err := p.Predict(ctx, omtx.PredictRequest{Protein: testProtein, Ligands: ligs, Parameters: omtx.Parameters{}})
		require.NoError(t, err)
		weakestDrug, strongestFrag := math.Inf(-1), math.Inf(1)
		for i, pr := range preds {
			require.Empty(t, pr.Error, ligs[i].SMILES)
			if i < len(frags) {
				strongestFrag = math.Min(strongestFrag, pr.AffinityPredValue)
			} else {
				weakestDrug = math.Max(weakestDrug, pr.AffinityPredValue)
				require.Greater(t, pr.ConfidenceScore, preds[0].ConfidenceScore, "drug-like size is inside the applicability window")
			}
		}
		require.Less(t, weakestDrug, strongestFrag)
	})

	t.Run("probability and confidence in [0,1]", func(t *testing.T) {
		p := newCPU(t, Config{})
		smiles := []string{"C", "[Na+].[Cl-]", "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC",
			"OC(=O)CC(O)(CC(O)=O)C(O)=O", "[O-]S(=O)(=O)[O-]", imatinib, "c1ccc2ccccc2c1"}
		var ligs []omtx.Ligand
		for _, s := range smiles {
			ligs = append(ligs, omtx.Ligand{SMILES: s})
		}
		preds, err := p.Predict(ctx, omtx.PredictRequest{Protein: testProtein, Ligands: ligs, Parameters: omtx.Parameters{}})
		require.NoError(t, err)
		for _, pr := range preds {
			require.Empty(t, pr.Error, pr.LigandSMILES)
			require.GreaterOrEqual(t, pr.AffinityProbabilityBinary, 0.0)
			require.LessOrEqual(t, pr.AffinityProbabilityBinary, 1.0)
			require.GreaterOrEqual(t, pr.ConfidenceScore, 0.0)
			require.LessOrEqual(t, pr.ConfidenceScore, 0.45, "the baseline's confidence is deliberately low")
			require.False(t, math.IsNaN(pr.AffinityPredValue))
		}
	})

	t.Run("invalid SMILES fails only that ligand", func(t *testing.T) {
		p := newCPU(t, Config{})
		ligs := []omtx.Ligand{{Name: "a", SMILES: aspirin}, {Name: "bad", SMILES: "C1CC(C"}, {Name: "h2", SMILES: "[H][H]"}, {Name: "b", SMILES: ibuprofen}}
		preds, err := p.Predict(ctx, omtx.PredictRequest{Protein: testProtein, Ligands: ligs, Parameters: omtx.Parameters{}})
		require.NoError(t, err)
		require.Len(t, preds, 4)
		require.Empty(t, preds[0].Error)
		require.Regexp(t, `^invalid SMILES: at position \d+: `, preds[1].Error)
		require.Equal(t, "bad", preds[1].LigandName)
		require.Zero(t, preds[1].AffinityPredValue)
		require.Equal(t, "ligand has no heavy atoms", preds[2].Error)
		require.Empty(t, preds[3].Error)
		require.NotZero(t, preds[3].AffinityPredValue)
	})

	t.Run("invalid protein fails the call as invalid input", func(t *testing.T) {
		p := newCPU(t, Config{})
		_, err := p.Predict(ctx, omtx.PredictRequest{Protein: "not a protein!", Ligands: []omtx.Ligand{{SMILES: aspirin}}, Parameters: omtx.Parameters{}})
		require.Error(t, err)
		require.Equal(t, omtx.EInvalid, omtx.ErrorCode(err))
		require.ErrorContains(t, err, "protein_sequence: ")
	})

	t.Run("300 ligands run in batches", func(t *testing.T) {
		base := []string{aspirin, ibuprofen, imatinib, "c1ccccc1", "CCN(CC)CC"}
		var ligs []omtx.Ligand
		for i := range 300 {
			s := base[i%len(base)]
			if i%100 == 99 {
				s = "bad(("
			}
			ligs = append(ligs, omtx.Ligand{Name: fmt.Sprint(i), SMILES: s})
		}
		big := newCPU(t, Config{})
		small := newCPU(t, Config{MaxBatch: 7})
		require.Equal(t, 7, small.MaxBatch())
		a, err := big.Predict(ctx, omtx.PredictRequest{Protein: testProtein, Ligands: ligs, Parameters: omtx.Parameters{}})
		require.NoError(t, err)
		b, err := small.Predict(ctx, omtx.PredictRequest{Protein: testProtein, Ligands: ligs, Parameters: omtx.Parameters{}})
		require.NoError(t, err)
		require.Equal(t, int64(2), big.runs.Load(), "297 valid ligands: 256 + 41")
		require.Equal(t, int64(43), small.runs.Load(), "297 valid ligands in batches of 7")
		require.Len(t, a, 300)
		require.Len(t, b, 300)
		for i := range ligs {
			require.Equal(t, fmt.Sprint(i), a[i].LigandName)
			require.Equal(t, a[i].Error, b[i].Error)
			require.Equal(t, a[i].AffinityPredValue, b[i].AffinityPredValue, i)
			require.Equal(t, a[i].ConfidenceScore, b[i].ConfidenceScore, i)
			if i%100 == 99 {
				require.NotEmpty(t, a[i].Error)
				continue
			}
			require.Empty(t, a[i].Error)
			ref := a[i%len(base)]
			require.Equal(t, ref.AffinityPredValue, a[i].AffinityPredValue, "same ligand, same prediction in any batch")
			require.Equal(t, ref.AffinityProbabilityBinary, a[i].AffinityProbabilityBinary)
		}
	})

	t.Run("concurrent predictions", func(t *testing.T) {
		p := newCPU(t, Config{})
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				preds, err := p.Predict(ctx, omtx.PredictRequest{Protein: testProtein, Ligands: []omtx.Ligand{{SMILES: imatinib}, {SMILES: aspirin}}})
				if err == nil && (len(preds) != 2 || preds[0].Error != "") {
					err = fmt.Errorf("bad predictions: %+v", preds)
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		p := newCPU(t, Config{})
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := p.Predict(cctx, omtx.PredictRequest{Protein: testProtein, Ligands: []omtx.Ligand{{SMILES: aspirin}}, Parameters: omtx.Parameters{}})
		require.ErrorIs(t, err, context.Canceled)
	})

	t.Run("closed predictor", func(t *testing.T) {
		p, err := NewONNXPredictor(Config{BundleDir: shippedBundle, LibraryPath: ortLibrary(t), Provider: ProviderCPU})
		require.NoError(t, err)
		require.NoError(t, p.Close())
		require.NoError(t, p.Close(), "Close is idempotent")
		_, err = p.Predict(ctx, omtx.PredictRequest{Protein: testProtein, Ligands: []omtx.Ligand{{SMILES: aspirin}}, Parameters: omtx.Parameters{}})
		require.ErrorContains(t, err, "predictor is closed")
	})

	t.Run("cuda with RequireGPU", func(t *testing.T) {
		p, err := NewONNXPredictor(Config{BundleDir: shippedBundle, LibraryPath: ortLibrary(t), Provider: ProviderCUDA, RequireGPU: true})
		if err == nil { // a machine with a usable CUDA execution provider
			defer p.Close()
			require.Equal(t, ProviderCUDA, p.Provider())
			return
		}
		require.ErrorIs(t, err, ErrCUDAUnavailable)
		require.ErrorContains(t, err, "onnx predictor: CUDA unavailable: ")
		require.ErrorContains(t, err, "refuses to run on CPU")
		t.Log(err)
	})

	t.Run("auto falls back to CPU", func(t *testing.T) {
		var logs bytes.Buffer
		p := newCPU(t, Config{Provider: ProviderAuto, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if p.Provider() == ProviderCUDA {
			return
		}
		require.Equal(t, ProviderCPU, p.Provider())
		require.Contains(t, logs.String(), "CUDA unavailable; running the model on CPU")
		preds, err := p.Predict(ctx, omtx.PredictRequest{Protein: testProtein, Ligands: []omtx.Ligand{{SMILES: aspirin}}, Parameters: omtx.Parameters{}})
		require.NoError(t, err)
		require.Empty(t, preds[0].Error)
	})

	t.Run("auto with RequireGPU refuses CPU", func(t *testing.T) {
		p, err := NewONNXPredictor(Config{BundleDir: shippedBundle, LibraryPath: ortLibrary(t), Provider: ProviderAuto, RequireGPU: true})
		if err == nil {
			defer p.Close()
			require.Equal(t, ProviderCUDA, p.Provider())
			return
		}
		require.ErrorIs(t, err, ErrCUDAUnavailable)
	})

	t.Run("configuration errors", func(t *testing.T) {
		lib := ortLibrary(t)
		_, err := NewONNXPredictor(Config{BundleDir: shippedBundle, LibraryPath: lib, Provider: "tpu"})
		require.ErrorContains(t, err, `unknown provider "tpu"`)
		_, err = NewONNXPredictor(Config{BundleDir: shippedBundle, LibraryPath: lib, Provider: ProviderCPU, RequireGPU: true})
		require.ErrorContains(t, err, "contradicts RequireGPU")
		_, err = NewONNXPredictor(Config{LibraryPath: lib})
		require.ErrorContains(t, err, "BundleDir is required")
		_, err = NewONNXPredictor(Config{BundleDir: t.TempDir(), LibraryPath: lib})
		require.ErrorContains(t, err, "manifest.json")
	})

	t.Run("MaxBatch is capped by the manifest", func(t *testing.T) {
		p := newCPU(t, Config{MaxBatch: 1000})
		require.Equal(t, 256, p.MaxBatch())
	})

	t.Run("manifest that disagrees with the graph", func(t *testing.T) {
		dir := copyBundle(t, func(m map[string]any) {
			m["outputs"].([]any)[2].(map[string]any)["name"] = "confidence"
			m["outputs"] = append(m["outputs"].([]any), map[string]any{
				"name": "confidence_score", "dtype": "float32", "shape": []any{"batch", 1}, "units": UnitsScore,
			})
		})
		_, err := NewONNXPredictor(Config{BundleDir: dir, LibraryPath: ortLibrary(t), Provider: ProviderCPU})
		require.ErrorContains(t, err, `manifest output "confidence" is not a graph output of model.onnx (graph outputs: affinity_pred_value, affinity_probability_binary, confidence_score)`)
	})
}
