package boltz

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

func TestOutputSink(t *testing.T) {
	t.Parallel()

	t.Run("oom message split across writes", func(t *testing.T) {
		t.Parallel()
		s := newOutputSink(nil)
		msg := "| WARNING: " + oomMessage + "\n"
		for i := 0; i < len(msg); i += 3 {
			assert.False(t, s.OOM())
			_, _ = s.Write([]byte(msg[i:min(i+3, len(msg))]))
		}
		assert.True(t, s.OOM())
	})

	t.Run("oom message after a progress bar", func(t *testing.T) {
		t.Parallel()
		s := newOutputSink(nil)
		_, _ = s.Write([]byte("Predicting: 0%|          | 0/3 [00:00<?, ?it/s]\r| WARNING: ran out of memory, skipping batch\n"))
		assert.True(t, s.OOM())
	})

	t.Run("no oom", func(t *testing.T) {
		t.Parallel()
		s := newOutputSink(nil)
		_, _ = s.Write([]byte("ran out of time\nskipping batch\n"))
		assert.False(t, s.OOM())
	})

	t.Run("failed to process", func(t *testing.T) {
		t.Parallel()
		s := newOutputSink(nil)
		_, _ = s.Write([]byte("Checking input data.\nFailed to process /w/inputs/l0003.yaml. Skip"))
		_, _ = s.Write([]byte("ping. Error: Invalid SMILES: C1CC.\nnext\n"))
		r, ok := s.Failure("l0003")
		require.True(t, ok)
		assert.Equal(t, "Invalid SMILES: C1CC", r)
		_, ok = s.Failure("l0001")
		assert.False(t, ok)
	})

	t.Run("last line without newline", func(t *testing.T) {
		t.Parallel()
		s := newOutputSink(nil)
		_, _ = s.Write([]byte("Failed to process /w/inputs/l0000.yaml. Skipping. Error: bad."))
		s.flush()
		_, ok := s.Failure("l0000")
		assert.True(t, ok)
	})

	t.Run("tail keeps the end", func(t *testing.T) {
		t.Parallel()
		s := newOutputSink(nil)
		chunk := strings.Repeat("x", 1000) + "\n"
		for range 200 {
			_, _ = s.Write([]byte(chunk))
		}
		_, _ = s.Write([]byte("THE END\n"))
		tail := s.Tail()
		assert.Len(t, tail, tailLimit)
		assert.True(t, strings.HasSuffix(tail, "THE END\n"))
	})

	t.Run("broken log", func(t *testing.T) {
		t.Parallel()
		s := newOutputSink(failingWriter{})
		n, err := s.Write([]byte("hello\n"))
		require.NoError(t, err)
		assert.Equal(t, 6, n)
		_, _ = s.Write([]byte("world\n"))
		assert.ErrorContains(t, s.LogError(), "log is broken")
		assert.Equal(t, "hello\nworld\n", s.Tail())
	})
}

func TestReadRecord(t *testing.T) {
	t.Parallel()

	// write lays out one record with the fixture files, replacing the
	// confidence or affinity JSON when given.
	write := func(t *testing.T, confidence, affinity string) outputPaths {
		t.Helper()
		p := recordOutputs(t.TempDir(), "l0000")
		require.NoError(t, os.MkdirAll(p.dir, 0o755))
		copyFile := func(src, dst, override string) {
			b := []byte(override)
			if override == "" {
				var err error
				b, err = os.ReadFile(filepath.Join("testdata", "fixture", src))
				require.NoError(t, err)
			}
			require.NoError(t, os.WriteFile(dst, b, 0o644))
		}
		copyFile("model_0.cif", p.structure, "")
		copyFile("confidence_model_0.json", p.confidence, confidence)
		copyFile("affinity.json", p.affinity, affinity)
		return p
	}

	t.Run("fixture", func(t *testing.T) {
		t.Parallel()
		res, err := readRecord(write(t, "", ""), 2)
		require.NoError(t, err)
		assert.Equal(t, 0.85564, res.confidence)
		assert.Equal(t, -0.7421, res.affinityValue)
		assert.Equal(t, 0.7163, res.affinityProb)
		assert.Empty(t, res.nonFinite)
	})

	t.Run("chains other than the input's", func(t *testing.T) {
		t.Parallel()
		p := write(t, "", "")
		_, err := readRecord(p, 3)
		require.ErrorContains(t, err, p.confidence+": chains_ptm has chains [0 1], want the input's 3 chains 0 to 2")
		conf := `{"confidence_score": 0.5, "ptm": 0.5, "iptm": 0.4, "ligand_iptm": 0.4,
			"protein_iptm": 0.5, "complex_plddt": 0.5, "complex_iplddt": 0.5,
			"complex_pde": 1.0, "complex_ipde": 1.0, "chains_ptm": {"0": 0.8, "1": 0.9},
			"pair_chains_iptm": {"0": {"0": 0.8, "1": 0.7}, "1": {"0": 0.6, "2": 0.9}}}`
		_, err = readRecord(write(t, conf, ""), 2)
		require.ErrorContains(t, err, "pair_chains_iptm.1 has chains [0 2]")
	})

	t.Run("python NaN and Infinity", func(t *testing.T) {
		t.Parallel()
		conf := `{"confidence_score": 0.5, "ptm": NaN, "iptm": 0.4, "ligand_iptm": 0.4,
			"protein_iptm": -Infinity, "complex_plddt": 0.5, "complex_iplddt": 0.5,
			"complex_pde": Infinity, "complex_ipde": 1.0, "chains_ptm": {"0": NaN, "1": 0.9},
			"pair_chains_iptm": {"0": {"0": 0.8, "1": 0.7}, "1": {"0": 0.6, "1": 0.9}}}`
		res, err := readRecord(write(t, conf, ""), 2)
		require.NoError(t, err)
		assert.Equal(t, []string{"chains_ptm.0", "complex_pde", "protein_iptm", "ptm"}, res.nonFinite)
		assert.NotContains(t, res.metrics, "ptm")
		assert.Equal(t, 0.9, res.metrics["chains_ptm.1"])
		assert.Equal(t, 0.5, res.confidence)
	})

	t.Run("NaN inside a string stays", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, `{"a": "NaN \" Infinity", "b": null}`,
			string(pythonNonFiniteToNull([]byte(`{"a": "NaN \" Infinity", "b": NaN}`))))
	})

	t.Run("non-finite affinity fails the ligand", func(t *testing.T) {
		t.Parallel()
		res, err := readRecord(write(t, "", `{"affinity_pred_value": NaN, "affinity_probability_binary": 0.5}`), 2)
		require.NoError(t, err)
		var pred omtx.Prediction
		fill(&pred, res)
		assert.Equal(t, "boltz returned a non-finite affinity_pred_value", pred.Error)
		assert.Zero(t, pred.AffinityPredValue)
		assert.Equal(t, 0.5, pred.AffinityProbabilityBinary)
	})

	t.Run("ensemble members are optional", func(t *testing.T) {
		t.Parallel()
		res, err := readRecord(write(t, "", `{"affinity_pred_value": 1.5, "affinity_probability_binary": 0.25}`), 2)
		require.NoError(t, err)
		assert.Equal(t, 1.5, res.affinityValue)
		for _, k := range affinityMembers {
			assert.NotContains(t, res.metrics, k)
		}
	})

	t.Run("missing key names file and key", func(t *testing.T) {
		t.Parallel()
		p := write(t, "", `{"affinity_probability_binary": 0.25}`)
		_, err := readRecord(p, 2)
		require.Error(t, err)
		assert.Contains(t, err.Error(), p.affinity)
		assert.Contains(t, err.Error(), `"affinity_pred_value"`)
	})

	t.Run("wrong type names file", func(t *testing.T) {
		t.Parallel()
		p := write(t, `{"confidence_score": "high"}`, "")
		_, err := readRecord(p, 2)
		require.Error(t, err)
		assert.Contains(t, err.Error(), p.confidence)
	})

	t.Run("not an object", func(t *testing.T) {
		t.Parallel()
		p := write(t, "", "null")
		_, err := readRecord(p, 2)
		require.ErrorContains(t, err, "malformed JSON in "+p.affinity)
	})
}
