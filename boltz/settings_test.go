package boltz

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestPredict_RunSettings: a request's run settings override the
// deployment's defaults, reach boltz predict as its flags (the stand-in
// echoes them), and every prediction records what ran.
func TestPredict_RunSettings(t *testing.T) {
	t.Parallel()

	t.Run("request overrides the deployment; flags reach boltz; recorded", func(t *testing.T) {
		t.Parallel()
		cache := t.TempDir()
		f := newFake(t)
		r := f.runner(t, Config{
			CacheDir: cache, Accelerator: "cpu",
			RecyclingSteps: 4, UsePotentials: true, GPUName: "NVIDIA L4",
		})
		seed, on, off := int64(9), true, false
		req := request(t, ligands("CCO", "CCN"))
		log := &lockedBuffer{}
		req.Log = log
		req.Parameters = omtx.Parameters{
			NumSamples: 2, DiffusionSamples: 2, RecyclingSteps: 6, SamplingSteps: 120,
			SamplingStepsAffinity: 150, DiffusionSamplesAffinity: 7,
			AffinityMWCorrection: &on, UsePotentials: &off, Seed: &seed,
		}
		preds, err := r.Predict(context.Background(), req)
		require.NoError(t, err)

		runs := f.runs(t)
		require.Len(t, runs, 1)
		argv := runs[0].Argv
		for flag, want := range map[string]string{
			"--recycling_steps": "6", "--sampling_steps": "120", "--diffusion_samples": "2",
			"--sampling_steps_affinity": "150", "--diffusion_samples_affinity": "7", "--seed": "9",
		} {
			got, ok := flagValue(argv, flag)
			require.True(t, ok, flag)
			assert.Equal(t, want, got, flag)
		}
		assert.Contains(t, argv, "--affinity_mw_correction")
		assert.NotContains(t, argv, "--use_potentials", "the request turned the deployment's potentials off")
		assert.Contains(t, log.String(), "fakeboltz: flags: "+strings.Join(argv[2:], " "), "the stand-in echoes what it was given")

		require.Len(t, preds, 2)
		for _, p := range preds {
			s := p.Settings
			require.NotNil(t, s)
			assert.True(t, s.BoltzFlags)
			assert.Equal(t, 6, s.RecyclingSteps)
			assert.Equal(t, 120, s.SamplingSteps)
			assert.Equal(t, 2, s.DiffusionSamples)
			assert.Equal(t, 150, s.SamplingStepsAffinity)
			assert.Equal(t, 7, s.DiffusionSamplesAffinity)
			assert.True(t, s.AffinityMWCorrection)
			assert.False(t, s.UsePotentials)
			require.NotNil(t, s.Seed)
			assert.Equal(t, int64(9), *s.Seed)
			require.NotNil(t, s.Kernels)
			assert.True(t, *s.Kernels)
			assert.Equal(t, "NVIDIA L4", s.GPU)
			assert.Equal(t, []string{"affinity_pred_value"}, s.MWCorrected)
			assert.Equal(t, []string{"affinity_pred_value1", "affinity_pred_value2"}, s.MWNotCorrected)
			assert.Equal(t, argv[2:4], []string{"--out_dir", filepath.Join(req.WorkDir, "out")})
			assert.Equal(t, argv[4:], s.Args, "the recorded flags are those given, less the scratch paths")
		}
		assert.NotSame(t, preds[0].Settings, preds[1].Settings)
	})

	t.Run("defaults are Boltz's; no_kernels and cpu recorded", func(t *testing.T) {
		t.Parallel()
		f := newFake(t)
		r := f.runner(t, Config{Accelerator: "cpu", ExtraArgs: []string{"--no_kernels"}})
		preds, err := r.Predict(context.Background(), request(t, ligands("CCO")))
		require.NoError(t, err)
		s := preds[0].Settings
		require.NotNil(t, s)
		assert.Equal(t, 3, s.RecyclingSteps)
		assert.Equal(t, 200, s.SamplingSteps)
		assert.Equal(t, 1, s.DiffusionSamples)
		assert.Equal(t, 200, s.SamplingStepsAffinity)
		assert.Equal(t, 5, s.DiffusionSamplesAffinity)
		assert.False(t, s.AffinityMWCorrection)
		assert.Empty(t, s.MWCorrected)
		require.NotNil(t, s.Kernels)
		assert.False(t, *s.Kernels)
		assert.Equal(t, "cpu", s.GPU)
		assert.Nil(t, s.Seed)
	})

	t.Run("cold cache: the weights Boltz downloads during the run are recorded", func(t *testing.T) {
		t.Parallel()
		cache := filepath.Join(t.TempDir(), "cold")
		f := newFake(t, "FAKE_BOLTZ_DOWNLOAD=1")
		r := f.runner(t, Config{CacheDir: cache, Accelerator: "cpu"})
		assert.Empty(t, r.Info().Checkpoint, "nothing downloaded yet")
		preds, err := r.Predict(context.Background(), request(t, ligands("CCO")))
		require.NoError(t, err)
		want := "boltz2_conf.ckpt sha256:" + sha("fakeboltz boltz2_conf weights\n") + " (30 bytes); " +
			"boltz2_aff.ckpt sha256:" + sha("fakeboltz boltz2_aff weights\n") + " (29 bytes)"
		require.NotNil(t, preds[0].Settings)
		assert.Equal(t, want, preds[0].Settings.Checkpoints)
		assert.Equal(t, want, r.Info().Checkpoint)
		_, err = os.Stat(filepath.Join(cache, "boltz2_aff.ckpt"))
		require.NoError(t, err)
	})
}
