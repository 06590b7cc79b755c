package validate

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestParametersWithin_Bounds checks each run setting against the
// deployment's bounds: over the bound is a 422 naming the field.
func TestParametersWithin_Bounds(t *testing.T) {
	t.Parallel()
	b := Bounds{MaxRecyclingSteps: 6, MaxSamplingSteps: 300, MaxDiffusionSamples: 5,
		MaxSamplingStepsAffinity: 250, MaxDiffusionSamplesAffinity: 8}
	for _, tc := range []struct {
		name, field string
		set         func(*omtx.Parameters, int)
		max         int
	}{
		{"recycling", "parameters.recycling_steps", func(p *omtx.Parameters, v int) { p.RecyclingSteps = v }, 6},
		{"sampling", "parameters.sampling_steps", func(p *omtx.Parameters, v int) { p.SamplingSteps = v }, 300},
		{"diffusion samples", "parameters.diffusion_samples", func(p *omtx.Parameters, v int) { p.DiffusionSamples = v }, 5},
		{"num samples", "parameters.num_samples", func(p *omtx.Parameters, v int) { p.NumSamples = v }, 5},
		{"sampling affinity", "parameters.sampling_steps_affinity", func(p *omtx.Parameters, v int) { p.SamplingStepsAffinity = v }, 250},
		{"diffusion affinity", "parameters.diffusion_samples_affinity", func(p *omtx.Parameters, v int) { p.DiffusionSamplesAffinity = v }, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ok omtx.Parameters
			tc.set(&ok, tc.max)
			require.NoError(t, ParametersWithin("parameters", &ok, b))

			for _, bad := range []int{tc.max + 1, -1} {
				var p omtx.Parameters
				tc.set(&p, bad)
				err := ParametersWithin("parameters", &p, b)
				var e *omtx.Error
				require.True(t, errors.As(err, &e), "%d: %v", bad, err)
				require.Equal(t, omtx.EInvalid, e.Code)
				require.Equal(t, tc.field, e.Field)
			}
		})
	}
	t.Run("zero bounds take the defaults", func(t *testing.T) {
		t.Parallel()
		p := omtx.Parameters{RecyclingSteps: 10, SamplingSteps: 500}
		require.NoError(t, ParametersWithin("parameters", &p, Bounds{}))
		p.RecyclingSteps = 11
		require.Equal(t, "parameters.recycling_steps", errField(ParametersWithin("parameters", &p, Bounds{})))
	})
	t.Run("potentials refused where the deployment says so", func(t *testing.T) {
		t.Parallel()
		on, off := true, false
		p := omtx.Parameters{UsePotentials: &on}
		require.NoError(t, ParametersWithin("parameters", &p, Bounds{}))
		require.Equal(t, "parameters.use_potentials", errField(ParametersWithin("parameters", &p, Bounds{NoPotentials: true})))
		p.UsePotentials = &off
		require.NoError(t, ParametersWithin("parameters", &p, Bounds{NoPotentials: true}))
	})
	t.Run("num_samples and diffusion_samples are one setting", func(t *testing.T) {
		t.Parallel()
		p := omtx.Parameters{DiffusionSamples: 3}
		require.NoError(t, Parameters("parameters", &p))
		require.Equal(t, 3, p.NumSamples)
		p = omtx.Parameters{DiffusionSamples: 3, NumSamples: 2}
		require.Equal(t, "parameters.diffusion_samples", errField(Parameters("parameters", &p)))
		p = omtx.Parameters{}
		require.NoError(t, Parameters("parameters", &p))
		require.Equal(t, DefaultNumSamples, p.NumSamples)
		require.Zero(t, p.DiffusionSamples)
	})
	t.Run("msa_mode spelled as Boltz does", func(t *testing.T) {
		t.Parallel()
		p := omtx.Parameters{MSAMode: "single_sequence"}
		require.Equal(t, "parameters.msa_mode", errField(Parameters("parameters", &p)))
	})
}

// TestMSAMode is the tri-state MSA default: server where configured, empty
// only when asked (and then with a warning), never silently.
func TestMSAMode(t *testing.T) {
	t.Parallel()
	// decode reads parameters as the API does: use_msa's absence is told
	// apart from false.
	decode := func(t *testing.T, js string) (omtx.Parameters, bool) {
		t.Helper()
		var req struct {
			omtx.Parameters
			UseMSA *bool `json:"use_msa"`
		}
		require.NoError(t, json.Unmarshal([]byte(js), &req))
		p := req.Parameters
		if req.UseMSA != nil {
			p.UseMSA = *req.UseMSA
		}
		return p, req.UseMSA != nil
	}
	for _, tc := range []struct {
		name       string
		js         string
		uploaded   bool
		configured bool
		mode       string
		warning    string
		errField   string
	}{
		{"absent, server configured", `{}`, false, true, omtx.MSAModeServer, "", ""},
		{"absent, no server", `{}`, false, false, omtx.MSAModeEmpty, NoMSAServerWarning, ""},
		{"absent, uploaded", `{}`, true, false, omtx.MSAModeServer, "", ""},
		{"use_msa true", `{"use_msa":true}`, false, true, omtx.MSAModeServer, "", ""},
		{"use_msa false given", `{"use_msa":false}`, false, true, omtx.MSAModeEmpty, EmptyMSAWarning, ""},
		{"msa_mode empty", `{"msa_mode":"empty"}`, false, true, omtx.MSAModeEmpty, EmptyMSAWarning, ""},
		{"msa_mode server", `{"msa_mode":"server"}`, false, true, omtx.MSAModeServer, "", ""},
		{"empty contradicts use_msa", `{"msa_mode":"empty","use_msa":true}`, false, true, "", "", "parameters.msa_mode"},
		{"server contradicts use_msa", `{"msa_mode":"server","use_msa":false}`, false, true, "", "", "parameters.msa_mode"},
		{"empty contradicts an upload", `{"msa_mode":"empty"}`, true, true, "", "", "msa"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, given := decode(t, tc.js)
			w, err := MSAMode(omtx.ModelBoltz2, "parameters", &p, given, tc.uploaded, tc.configured)
			if tc.errField != "" {
				require.Equal(t, tc.errField, errField(err), "%v", err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.mode, p.MSAMode)
			require.Equal(t, tc.mode == omtx.MSAModeServer, p.UseMSA)
			require.Equal(t, tc.warning, w)
		})
	}
	t.Run("the baseline reads no MSA", func(t *testing.T) {
		t.Parallel()
		p, given := decode(t, `{}`)
		w, err := MSAMode(omtx.BaselineModel, "parameters", &p, given, false, true)
		require.NoError(t, err)
		require.Empty(t, w)
		require.Empty(t, p.MSAMode)
		require.False(t, p.UseMSA)
	})
}

// errField is the field of err's domain error, or "" when there is none.
func errField(err error) string {
	var e *omtx.Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// TestParametersJSONLeavesTheMSAToTheDeployment: a client that marshals
// omtx.Parameters without setting UseMSA (the Go client, the CLI with
// --samples) does not say "single-sequence" by accident.
func TestParametersJSONLeavesTheMSAToTheDeployment(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(omtx.Parameters{NumSamples: 3})
	require.NoError(t, err)
	require.NotContains(t, string(b), "use_msa")
	b, err = json.Marshal(omtx.Parameters{UseMSA: true})
	require.NoError(t, err)
	require.Contains(t, string(b), `"use_msa":true`)
}
