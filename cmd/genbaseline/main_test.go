package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const committed = "../../models/descriptor-baseline-v1"

func TestCommittedBundleIsReproducible(t *testing.T) {
	files, err := generate()
	require.NoError(t, err)
	for _, f := range files {
		t.Run(f.Name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(committed, f.Name))
			require.NoError(t, err, "run: %s", generatorCmd)
			require.True(t, string(want) == string(f.Data),
				"%s differs from the generator's output; regenerate with: %s", f.Name, generatorCmd)
		})
	}
}

func TestWriteTwiceIsIdentical(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	require.NoError(t, write(a))
	require.NoError(t, write(b))
	for _, name := range []string{"model.onnx", "manifest.json", "README.md"} {
		x, err := os.ReadFile(filepath.Join(a, name))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, name))
		require.NoError(t, err)
		require.Equal(t, x, y, name)
	}
}

func TestPrior(t *testing.T) {
	t.Run("heads follow from the prior", func(t *testing.T) {
		hs := heads()
		require.Len(t, hs, 3)
		for i, f := range features {
			require.InDelta(t, f.DeltaG/1.364, hs[0].Weights[i], 1e-12, f.Name)
			require.InDelta(t, -f.DeltaG/(1.364*0.75), hs[1].Weights[i], 1e-12, f.Name)
		}
		require.Equal(t, 6.0, hs[0].Bias)
		require.Equal(t, -8.0, hs[1].Bias)
	})

	t.Run("probability is the logistic of pIC50", func(t *testing.T) {
		for _, e := range examples {
			y := evalHeads(featureRow(e))
			pIC50 := 6 - y[0]
			require.InDelta(t, 1/(1+math.Exp(-(pIC50-6)/0.75)), y[1], 1e-12, e.What)
		}
	})

	t.Run("confidence is low and highest in the drug-like window", func(t *testing.T) {
		best := evalHeads(featureRow(example{HA: 28, Rot: 3, Arom: 2, Fragment: 1}))[2]
		require.InDelta(t, 0.40, best, 0.01)
		for _, e := range []example{
			{HA: 7, Fragment: 1}, {HA: 61, Fragment: 1}, {HA: 28, Charge: 2, Fragment: 1}, {HA: 28, Fragment: 2},
		} {
			require.Less(t, evalHeads(featureRow(e))[2], best-0.1)
		}
	})

	t.Run("bigger ligands bind more strongly", func(t *testing.T) {
		frag := evalHeads(featureRow(example{HA: 10, Rot: 1, Arom: 1, Fragment: 1}))[0]
		drug := evalHeads(featureRow(example{HA: 30, Rot: 4, Arom: 2, Fragment: 1}))[0]
		require.Less(t, drug, frag)
	})

	t.Run("manifest contract fields", func(t *testing.T) {
		b, err := marshalJSON(buildManifest())
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		require.Equal(t, false, m["is_boltz2"])
		require.Equal(t, "onnx", m["kind"])
		require.Equal(t, "descriptor-baseline-v1", m["name"])
		in := m["inputs"].([]any)[0].(map[string]any)
		require.Equal(t, []any{"batch", float64(len(features))}, in["shape"])
		require.Equal(t, float64(256), m["limits"].(map[string]any)["max_batch"])
		require.Equal(t, false, m["structure"].(map[string]any)["available"])
	})
}
