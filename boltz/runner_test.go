package boltz

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Runner has activities.Predictor's method set (spelled out here so these
// tests do not depend on package activities building).
var _ interface {
	Info() omtx.ModelInfo
	Predict(context.Context, omtx.PredictRequest) ([]omtx.Prediction, error)
} = (*Runner)(nil)

// protein is a short valid sequence for requests.
const protein = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQ"

func ligands(smiles ...string) []omtx.Ligand {
	out := make([]omtx.Ligand, len(smiles))
	for i, s := range smiles {
		out[i] = omtx.Ligand{Name: fmt.Sprintf("ligand-%d", i), SMILES: s}
	}
	return out
}

func request(t *testing.T, ls []omtx.Ligand) omtx.PredictRequest {
	return omtx.PredictRequest{Protein: protein, Ligands: ls, WorkDir: t.TempDir()}
}

// lockedBuffer is a log the test can read while the runner writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestNew(t *testing.T) {
	t.Parallel()

	t.Run("missing binary", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "no-such-boltz")
		_, err := New(Config{Binary: path})
		require.Error(t, err)
		assert.Contains(t, err.Error(), path)
		assert.Contains(t, err.Error(), "does not exist")
		assert.Contains(t, err.Error(), "OMTX_BOLTZ_BIN")
	})
	t.Run("no binary configured", func(t *testing.T) {
		t.Parallel()
		_, err := New(Config{})
		require.ErrorContains(t, err, "no binary configured")
	})
	t.Run("name not in PATH", func(t *testing.T) {
		t.Parallel()
		_, err := New(Config{Binary: "omtx-no-such-boltz-binary"})
		require.ErrorContains(t, err, "not found in $PATH")
	})
	t.Run("directory", func(t *testing.T) {
		t.Parallel()
		_, err := New(Config{Binary: t.TempDir()})
		require.ErrorContains(t, err, "is a directory")
	})
	t.Run("not executable", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "boltz")
		require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\n"), 0o644))
		_, err := New(Config{Binary: path})
		require.ErrorContains(t, err, "is not executable")
	})
	t.Run("bad accelerator", func(t *testing.T) {
		t.Parallel()
		_, err := New(Config{Binary: fakeBin, Accelerator: "quantum"})
		require.ErrorContains(t, err, `accelerator "quantum"`)
	})
	t.Run("extra args may not repeat managed flags", func(t *testing.T) {
		t.Parallel()
		for _, a := range []string{"--use_msa_server", "--out_dir=/tmp", "--seed", "--diffusion_samples"} {
			_, err := New(Config{Binary: fakeBin, ExtraArgs: []string{a}})
			require.ErrorContains(t, err, "sets a flag the runner sets itself", a)
		}
	})
	t.Run("does not run the binary", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		f.runner(t, Config{})
		assert.Empty(t, f.runs(t))
	})
	t.Run("defaults and info", func(t *testing.T) {
		t.Parallel()
		r, err := New(Config{Binary: fakeBin})
		require.NoError(t, err)
		assert.Equal(t, "gpu", r.cfg.Accelerator)
		assert.Equal(t, 1, r.cfg.Devices)
		assert.Equal(t, 3, r.cfg.RecyclingSteps)
		assert.Equal(t, 200, r.cfg.SamplingSteps)
		info := r.Info()
		assert.Equal(t, omtx.ModelBoltz2, info.Name)
		assert.Equal(t, "boltz2", info.Name)
		assert.Equal(t, "boltz", info.Kind)
		assert.True(t, info.Structures)
		assert.Equal(t, DefaultModelVersion, info.Version)

		r, err = New(Config{Binary: fakeBin, ModelVersion: "boltz-2 (boltz 2.2.1)"})
		require.NoError(t, err)
		assert.Equal(t, "boltz-2 (boltz 2.2.1)", r.Info().Version)
	})
}

func TestPredict(t *testing.T) {
	t.Parallel()
	fixtureCIF, err := os.ReadFile(filepath.Join("testdata", "fixture", "model_0.cif"))
	require.NoError(t, err)

	t.Run("one boltz call per chunk", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		r := f.runner(t, Config{})
		req := request(t, ligands("CCO", "c1ccccc1O", "CC(=O)O"))
		preds, err := r.Predict(context.Background(), req)
		require.NoError(t, err)

		runs := f.runs(t)
		require.Len(t, runs, 1, "the stand-in must run once for the whole chunk")
		assert.Equal(t, []string{"predict", filepath.Join(req.WorkDir, "inputs")}, runs[0].Argv[:2])
		names := make([]string, 0, len(runs[0].Inputs))
		for n := range runs[0].Inputs {
			names = append(names, n)
		}
		sort.Strings(names)
		assert.Equal(t, []string{"l0000.yaml", "l0001.yaml", "l0002.yaml"}, names)

		require.Len(t, preds, 3)
		for i, p := range preds {
			assert.Equal(t, req.Ligands[i].Name, p.LigandName)
			assert.Equal(t, req.Ligands[i].SMILES, p.LigandSMILES)
			assert.Empty(t, p.Error)
			assert.Positive(t, p.ModelSeconds)
			assert.Equal(t, preds[0].ModelSeconds, p.ModelSeconds, "wall time is split evenly")
			assert.Contains(t, p.StructureCIF, "data_"+recordName(i)+"\n")
		}
	})

	t.Run("flags", func(t *testing.T) {
		t.Parallel()
		cache := t.TempDir()
		f := newFake(t)
		r := f.runner(t, Config{
			CacheDir: cache, Accelerator: "cpu", Devices: 2,
			RecyclingSteps: 5, SamplingSteps: 50,
			UsePotentials: true, AffinityMWCorrection: true,
			ExtraArgs: []string{"--no_kernels"},
		})
		seed := int64(42)
		req := request(t, ligands("CCO"))
		req.Parameters = omtx.Parameters{UseMSA: false, NumSamples: 3, Seed: &seed}
		_, err := r.Predict(context.Background(), req)
		require.NoError(t, err)
		runs := f.runs(t)
		require.Len(t, runs, 1)
		assert.Equal(t, []string{
			"predict", filepath.Join(req.WorkDir, "inputs"),
			"--out_dir", filepath.Join(req.WorkDir, "out"),
			"--accelerator", "cpu",
			"--devices", "2",
			"--recycling_steps", "5",
			"--sampling_steps", "50",
			"--diffusion_samples", "3",
			"--sampling_steps_affinity", "200",
			"--diffusion_samples_affinity", "5",
			"--output_format", "mmcif",
			"--cache", cache,
			"--use_potentials",
			"--affinity_mw_correction",
			"--seed", "42",
			"--no_kernels",
		}, runs[0].Argv)
	})

	t.Run("flags default", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		r := f.runner(t, Config{})
		req := request(t, ligands("CCO"))
		req.Parameters = omtx.Parameters{UseMSA: true}
		_, err := r.Predict(context.Background(), req)
		require.NoError(t, err)
		runs := f.runs(t)
		require.Len(t, runs, 1)
		argv := runs[0].Argv
		for flag, want := range map[string]string{
			"--diffusion_samples": "1", "--recycling_steps": "3", "--sampling_steps": "200",
			"--accelerator": "gpu", "--devices": "1", "--output_format": "mmcif",
		} {
			got, ok := flagValue(argv, flag)
			assert.True(t, ok, flag)
			assert.Equal(t, want, got, flag)
		}
		for _, absent := range []string{"--use_msa_server", "--seed", "--override", "--cache",
			"--use_potentials", "--affinity_mw_correction"} {
			assert.NotContains(t, argv, absent)
		}
	})

	t.Run("input yaml", func(t *testing.T) {
		t.Parallel()
		tricky := []string{
			"C#N",
			`F/C=C\F`,
			`Br\C=C\Br`,
			"C[C@@H](N)C(=O)O",
			"[2H]C#C[C@]12CC[C@H]1OCCO2",
			"O=C(O)c1ccccc1[N+](=O)[O-]",
			`C'C"C:{}&*!|>%,?`,
			"[Cu+2].[O-]S(=O)(=O)[O-]",
		}
		msa := filepath.Join(t.TempDir(), "protein.a3m")
		require.NoError(t, os.WriteFile(msa, []byte(">query\n"+protein+"\n"), 0o644))

		for _, withMSA := range []bool{true, false} {
			f := newFake(t)
			r := f.runner(t, Config{})
			req := request(t, ligands(tricky...))
			if withMSA {
				req.MSAPath = msa
			}
			preds, err := r.Predict(context.Background(), req)
			require.NoError(t, err)
			for _, p := range preds {
				require.Empty(t, p.Error)
			}
			runs := f.runs(t)
			require.Len(t, runs, 1)
			require.Len(t, runs[0].Inputs, len(tricky))
			for i, smi := range tricky {
				doc, ok := runs[0].Inputs[recordName(i)+".yaml"]
				require.True(t, ok)
				got := parseInputYAML(t, doc)
				wantMSA := "empty"
				if withMSA {
					wantMSA = msa
				}
				assert.Equal(t, map[string]string{
					"version":                    "1",
					"sequences.protein.id":       "A",
					"sequences.protein.sequence": protein,
					"sequences.protein.msa":      wantMSA,
					"sequences.ligand.id":        "B",
					"sequences.ligand.smiles":    smi,
					"properties.affinity.binder": "B",
				}, got, "input %d:\n%s", i, doc)
				if !withMSA {
					assert.Contains(t, doc, "      msa: empty\n", "single-sequence mode is the plain word empty")
				}
			}
		}
	})

	t.Run("outputs parsed key for key", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		r := f.runner(t, Config{})
		preds, err := r.Predict(context.Background(), request(t, ligands("CCO", "CCN")))
		require.NoError(t, err)

		var conf map[string]any
		var aff map[string]float64
		readJSON(t, "confidence_model_0.json", &conf)
		readJSON(t, "affinity.json", &aff)
		want := map[string]float64{}
		for k, v := range conf {
			switch v := v.(type) {
			case float64:
				want[k] = v
			case map[string]any:
				for c, x := range v {
					switch x := x.(type) {
					case float64:
						want[k+"."+c] = x
					case map[string]any:
						for c2, y := range x {
							want[k+"."+c+"."+c2] = y.(float64)
						}
					}
				}
			}
		}
		for _, k := range affinityMembers {
			want[k] = aff[k]
		}
		// The screened ligand is the last of the input's two chains.
		want[keyBinderPTM] = want["chains_ptm.1"]
		// 9 scalars, 2 chains_ptm, 4 pair_chains_iptm, 4 ensemble members,
		// the binder's chain pTM.
		require.Len(t, want, 20)

		for i, p := range preds {
			assert.Empty(t, p.Error)
			assert.Equal(t, want, p.Metrics)
			assert.Equal(t, conf["confidence_score"], p.ConfidenceScore)
			assert.Equal(t, aff["affinity_pred_value"], p.AffinityPredValue)
			assert.Equal(t, aff["affinity_probability_binary"], p.AffinityProbabilityBinary)
			assert.Equal(t, strings.ReplaceAll(string(fixtureCIF), "@RECORD@", recordName(i)), p.StructureCIF)
		}
		assert.Equal(t, 0.7934, preds[0].Metrics["ligand_iptm"])
		assert.Equal(t, 0.7812, preds[0].Metrics["pair_chains_iptm.0.1"])
		assert.Equal(t, 0.9411, preds[0].Metrics["chains_ptm.1"])
	})

	t.Run("out of memory on every ligand", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, "FAKE_BOLTZ_OOM=1")
		r := f.runner(t, Config{})
		_, err := r.Predict(context.Background(), request(t, ligands("CCO", "CCN")))
		require.Error(t, err)
		assert.ErrorIs(t, err, omtx.ErrOutOfMemory)
		assert.Contains(t, err.Error(), "2 of 2 ligands")
	})

	t.Run("out of memory on one ligand fails the chunk", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, "FAKE_BOLTZ_OOM=l0001")
		r := f.runner(t, Config{})
		_, err := r.Predict(context.Background(), request(t, ligands("CCO", "CCN", "CCC")))
		require.Error(t, err)
		assert.ErrorIs(t, err, omtx.ErrOutOfMemory)
		assert.Contains(t, err.Error(), "1 of 3 ligands")
	})

	t.Run("out of memory wins over a malformed file", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, "FAKE_BOLTZ_OOM=l0001", "FAKE_BOLTZ_CORRUPT=l0000")
		r := f.runner(t, Config{})
		_, err := r.Predict(context.Background(), request(t, ligands("CCO", "CCN")))
		require.ErrorIs(t, err, omtx.ErrOutOfMemory)
	})

	t.Run("missing output fails that ligand", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, "FAKE_BOLTZ_SKIP=l0001")
		r := f.runner(t, Config{})
		preds, err := r.Predict(context.Background(), request(t, ligands("CCO", "CCN", "CCC")))
		require.NoError(t, err)
		require.Len(t, preds, 3)
		assert.Empty(t, preds[0].Error)
		assert.Empty(t, preds[2].Error)
		assert.Contains(t, preds[1].Error, NoPredictionReason)
		assert.Contains(t, preds[1].Error, "l0001_model_0.cif")
		assert.Empty(t, preds[1].StructureCIF)
		assert.Equal(t, "ligand-1", preds[1].LigandName)
	})

	t.Run("boltz's own reason for a skipped input", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, "FAKE_BOLTZ_FAIL=l0000")
		r := f.runner(t, Config{})
		preds, err := r.Predict(context.Background(), request(t, ligands("C1CC", "CCN")))
		require.NoError(t, err)
		assert.Equal(t, NoPredictionReason+": boltz could not process the input: fakeboltz: simulated invalid SMILES", preds[0].Error)
		assert.Empty(t, preds[1].Error)
	})

	t.Run("non-zero exit without outputs", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, "FAKE_BOLTZ_EXIT=3")
		r := f.runner(t, Config{})
		_, err := r.Predict(context.Background(), request(t, ligands("CCO", "CCN")))
		require.Error(t, err)
		assert.NotErrorIs(t, err, omtx.ErrOutOfMemory)
		assert.Equal(t, omtx.EInternal, omtx.ErrorCode(err), "retryable, not invalid input")
		assert.Contains(t, err.Error(), "exit status 3")
		assert.Contains(t, err.Error(), "RuntimeError: fakeboltz: simulated failure", "the log tail")
	})

	t.Run("malformed json names the file", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, "FAKE_BOLTZ_CORRUPT=l0001")
		r := f.runner(t, Config{})
		_, err := r.Predict(context.Background(), request(t, ligands("CCO", "CCN")))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "confidence_l0001_model_0.json")
		assert.Contains(t, err.Error(), "malformed JSON")
	})

	t.Run("cancel kills the process group promptly", func(t *testing.T) {
		t.Parallel()
		pidfile := filepath.Join(t.TempDir(), "pids")
		f := newFake(t, "FAKE_BOLTZ_SLEEP=120s", "FAKE_BOLTZ_PIDFILE="+pidfile)
		r := f.runner(t, Config{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := r.Predict(ctx, request(t, ligands("CCO")))
			done <- err
		}()
		var pids []int
		require.Eventually(t, func() bool {
			b, err := os.ReadFile(pidfile)
			if err != nil {
				return false
			}
			pids = nil
			for _, s := range strings.Fields(string(b)) {
				n, err := strconv.Atoi(s)
				if err != nil {
					return false
				}
				pids = append(pids, n)
			}
			return true
		}, 30*time.Second, 10*time.Millisecond, "the stand-in did not start")
		require.Len(t, pids, 2)

		cancel()
		select {
		case err := <-done:
			require.Error(t, err)
			assert.ErrorIs(t, err, context.Canceled)
		case <-time.After(waitDelay + 5*time.Second):
			t.Fatal("Predict did not return after cancel")
		}
		for _, pid := range pids {
			assert.Eventually(t, func() bool { return processGone(pid) }, 5*time.Second, 10*time.Millisecond,
				"process %d still runs", pid)
		}
	})

	t.Run("output streamed into the log", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		r := f.runner(t, Config{})
		var log lockedBuffer
		req := request(t, ligands("CCO"))
		req.Log = &log
		_, err := r.Predict(context.Background(), req)
		require.NoError(t, err)
		got := log.String()
		assert.Contains(t, got, "$ "+fakeBin+" predict ")
		assert.Contains(t, got, "fakeboltz: TEST STAND-IN for boltz predict", "stdout")
		assert.Contains(t, got, "fakeboltz: stderr line from the stand-in", "stderr")
		assert.Contains(t, got, "Running structure prediction for 1 inputs.")
	})

	t.Run("a failing log does not stop the run", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		r := f.runner(t, Config{})
		req := request(t, ligands("CCO"))
		req.Log = failingWriter{}
		preds, err := r.Predict(context.Background(), req)
		require.NoError(t, err)
		assert.Empty(t, preds[0].Error)
	})

	t.Run("empty smiles is not sent", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		r := f.runner(t, Config{})
		preds, err := r.Predict(context.Background(), request(t, ligands("  ", "CCO")))
		require.NoError(t, err)
		assert.Equal(t, "invalid SMILES: empty", preds[0].Error)
		assert.Empty(t, preds[1].Error)
		runs := f.runs(t)
		require.Len(t, runs, 1)
		assert.Len(t, runs[0].Inputs, 1)
		assert.Contains(t, runs[0].Inputs, "l0001.yaml")
	})

	t.Run("no ligand to send runs nothing", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		r := f.runner(t, Config{})
		preds, err := r.Predict(context.Background(), request(t, ligands("")))
		require.NoError(t, err)
		require.Len(t, preds, 1)
		assert.NotEmpty(t, preds[0].Error)
		assert.Empty(t, f.runs(t))
	})

	t.Run("stale inputs are cleared", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		r := f.runner(t, Config{})
		req := request(t, ligands("CCO"))
		require.NoError(t, os.MkdirAll(filepath.Join(req.WorkDir, "inputs"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(req.WorkDir, "inputs", "l0007.yaml"), []byte("version: 1\n"), 0o644))
		_, err := r.Predict(context.Background(), req)
		require.NoError(t, err)
		runs := f.runs(t)
		require.Len(t, runs, 1)
		assert.Len(t, runs[0].Inputs, 1)
	})

	t.Run("missing msa file", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		r := f.runner(t, Config{})
		req := request(t, ligands("CCO"))
		req.MSAPath = filepath.Join(t.TempDir(), "missing.a3m")
		_, err := r.Predict(context.Background(), req)
		require.ErrorContains(t, err, "missing.a3m")
		assert.Empty(t, f.runs(t))
	})

	t.Run("invalid protein", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		r := f.runner(t, Config{})
		req := request(t, ligands("CCO"))
		req.Protein = "MKT1234"
		_, err := r.Predict(context.Background(), req)
		require.Error(t, err)
		assert.Equal(t, omtx.EInvalid, omtx.ErrorCode(err))
		assert.Empty(t, f.runs(t))
	})

	t.Run("more samples still reads model_0", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		r := f.runner(t, Config{})
		req := request(t, ligands("CCO"))
		req.Parameters.NumSamples = 2
		preds, err := r.Predict(context.Background(), req)
		require.NoError(t, err)
		assert.Empty(t, preds[0].Error)
		_, err = os.Stat(filepath.Join(req.WorkDir, "out", "boltz_results_inputs", "predictions", "l0000", "l0000_model_1.cif"))
		require.NoError(t, err, "the stand-in wrote a second sample")
	})
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("log is broken") }

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "fixture", name))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v))
}

// TestInfoNamesWhatRan: the installed version comes from the executable's
// own Python, and the checkpoint from the digests of the cache's weights.
func TestInfoNamesWhatRan(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	python := filepath.Join(dir, "python3")
	require.NoError(t, os.WriteFile(python, []byte("#!/bin/sh\necho 2.2.1\n"), 0o755))
	bin := filepath.Join(dir, "boltz")
	require.NoError(t, os.WriteFile(bin, []byte("#!"+python+"\n# a console script\n"), 0o755))
	cache := filepath.Join(dir, "cache")
	require.NoError(t, os.MkdirAll(cache, 0o755))
	r, err := New(Config{Binary: bin, CacheDir: cache})
	require.NoError(t, err)
	info := r.Info()
	assert.Equal(t, "boltz-2 (boltz 2.2.1)", info.Version)
	assert.Empty(t, info.Checkpoint, "no weights yet: nothing claimed")
	require.NoError(t, os.WriteFile(filepath.Join(cache, "boltz2_conf.ckpt"), []byte("conf"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(cache, "boltz2_aff.ckpt"), []byte("aff"), 0o644))
	info = r.Info()
	assert.Equal(t, "boltz2_conf.ckpt sha256:"+sha("conf")+" (4 bytes); boltz2_aff.ckpt sha256:"+sha("aff")+" (3 bytes)", info.Checkpoint)

	// The deployment's defaults are named too: a changed default is
	// another model run for the result cache.
	assert.NotEmpty(t, info.Defaults)
	other, err := New(Config{Binary: bin, CacheDir: cache, SamplingSteps: 100})
	require.NoError(t, err)
	assert.NotEqual(t, info.Defaults, other.Info().Defaults)
	same, err := New(Config{Binary: bin, CacheDir: cache})
	require.NoError(t, err)
	assert.Equal(t, info.Defaults, same.Info().Defaults)
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
