package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/validate"
)

// TestRunSettingsAndMSADefault: the MSA mode defaults to the server where
// one is configured and is single-sequence only when asked; run settings
// over the deployment's bounds are a 422 naming the field; the job records
// the modelled SMILES of a salt.
func TestRunSettingsAndMSADefault(t *testing.T) {
	t.Parallel()
	const protein = `"protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ"`
	submit := func(t *testing.T, f *fixture, params string) (SubmitResponse, *omtx.Job) {
		t.Helper()
		body := `{"model":"boltz2",` + protein + `,"ligand_smiles":"CC(=O)Oc1ccccc1C(=O)O.[Na+].[Cl-]"` + params + `}`
		w := f.do("POST", "/api/v1/predict", key1, body)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		var got SubmitResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		doc, err := f.jobs.Get(t.Context(), got.JobID)
		require.NoError(t, err)
		return got, doc
	}
	withServer := func(t *testing.T) *fixture {
		f := boltzFixture(t)
		f.srv.msaServer = true
		return f
	}

	for _, tc := range []struct {
		name    string
		server  bool
		params  string
		mode    string
		warning string
	}{
		{"absent, server configured: server", true, ``, omtx.MSAModeServer, ""},
		{"absent, no server: empty, said why", false, ``, omtx.MSAModeEmpty, validate.NoMSAServerWarning},
		{"use_msa false explicitly: empty", true, `,"parameters":{"use_msa":false}`, omtx.MSAModeEmpty, validate.EmptyMSAWarning},
		{"msa_mode empty: empty", true, `,"parameters":{"msa_mode":"empty"}`, omtx.MSAModeEmpty, validate.EmptyMSAWarning},
		{"use_msa true: server", false, `,"parameters":{"use_msa":true}`, omtx.MSAModeServer, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := boltzFixture(t)
			f.srv.msaServer = tc.server
			got, doc := submit(t, f, tc.params)
			assert.Equal(t, tc.mode, doc.InputData.Parameters.MSAMode)
			assert.Equal(t, tc.mode == omtx.MSAModeServer, doc.InputData.Parameters.UseMSA)
			if tc.warning == "" {
				for _, w := range got.Warnings {
					assert.NotContains(t, w, "single-sequence")
				}
			} else {
				assert.Contains(t, got.Warnings, tc.warning)
				assert.Contains(t, doc.Warnings, tc.warning)
			}
		})
	}

	t.Run("a salt records its parent as modelled_smiles", func(t *testing.T) {
		t.Parallel()
		got, doc := submit(t, withServer(t), ``)
		assert.Equal(t, "CC(=O)Oc1ccccc1C(=O)O.[Na+].[Cl-]", doc.InputData.LigandSMILES, "Boltz is still sent what was submitted")
		assert.Equal(t, "CC(=O)Oc1ccccc1C(=O)O", doc.InputData.ModelledSMILES)
		found := false
		for _, w := range got.Warnings {
			found = found || containsAll(w, "[Na+]", "[Cl-]")
		}
		assert.True(t, found, "a warning names what was dropped: %q", got.Warnings)
	})

	t.Run("a library row records its parent", func(t *testing.T) {
		t.Parallel()
		f := withServer(t)
		w := f.do("POST", "/api/v1/predict/batch", key1, `{"model":"boltz2",`+protein+`,"ligands":[{"name":"salt","smiles":"CCN.Cl"},{"name":"plain","smiles":"CCO"}]}`)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		var lib []omtx.LibraryEntry
		require.NoError(t, json.Unmarshal(mustRead(t, f.blobs, "batches/"+f.sched.batches()[0].Parent.JobID+"/ligands.json"), &lib))
		require.Len(t, lib, 2)
		assert.Equal(t, "CCN", lib[0].ModelledSMILES)
		assert.Empty(t, lib[1].ModelledSMILES, "as written")
		assert.Equal(t, omtx.MSAModeServer, f.sched.batches()[0].Parent.InputData.Parameters.MSAMode)
	})

	t.Run("bounds", func(t *testing.T) {
		t.Parallel()
		f := withServer(t)
		f.srv.bounds = validate.Bounds{MaxRecyclingSteps: 4}
		for _, tc := range []struct{ params, field string }{
			{`{"recycling_steps":5}`, "parameters.recycling_steps"},
			{`{"sampling_steps":501}`, "parameters.sampling_steps"},
			{`{"diffusion_samples":26}`, "parameters.diffusion_samples"},
			{`{"sampling_steps_affinity":-1}`, "parameters.sampling_steps_affinity"},
			{`{"diffusion_samples_affinity":11}`, "parameters.diffusion_samples_affinity"},
			{`{"msa_mode":"empty","use_msa":true}`, "parameters.msa_mode"},
			{`{"recycle":3}`, "parameters.recycle"},
		} {
			f.refused(t, "/api/v1/predict", `{"model":"boltz2",`+protein+`,"ligand_smiles":"CCO","parameters":`+tc.params+`}`,
				http.StatusUnprocessableEntity, tc.field)
			f.refused(t, "/api/v1/predict/batch", `{"model":"boltz2",`+protein+`,"ligands":[{"smiles":"CCO"}],"parameters":`+tc.params+`}`,
				http.StatusUnprocessableEntity, tc.field)
		}
		_, doc := submit(t, f, `,"parameters":{"recycling_steps":4,"sampling_steps":150,"affinity_mw_correction":true}`)
		p := doc.InputData.Parameters
		assert.Equal(t, 4, p.RecyclingSteps)
		assert.Equal(t, 150, p.SamplingSteps)
		require.NotNil(t, p.AffinityMWCorrection)
		assert.True(t, *p.AffinityMWCorrection)
	})
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
