package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/app/apiapp"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/msa/msatest"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestRunSettingsRecordedEndToEnd: on a deployment with an MSA server, a
// Boltz-2 job that says nothing about MSAs runs with the server's MSA; a
// salt records its parent as modelled_smiles; the run settings asked for
// reach Boltz (the stand-in echoes its flags into the log) and
// results.json records them, with the checkpoints Boltz downloaded during
// the run on a cold cache.
func TestRunSettingsRecordedEndToEnd(t *testing.T) {
	server := msatest.New(t, msatest.Options{})
	restartOrchestration(t, "OMTX_MSA_URL="+server.URL)
	t.Cleanup(func() { restartOrchestration(t) })
	cfg := env.cfg
	cfg.Models = omtx.ModelCatalog{Available: map[string]string{omtx.BaselineModel: omtx.GPUClassL4, omtx.ModelBoltz2: omtx.GPUClassL4}}
	cfg.MSAURL = server.URL
	srv, err := apiapp.New(cfg, env.deps, env.log)
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	boltzWorker(t, filepath.Join(t.TempDir(), "record.jsonl"), "FAKE_BOLTZ_DOWNLOAD=1")

	const protein = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQ"
	const salt, parent = "CC(=O)Oc1ccccc1C(=O)O.[Na+].[Cl-]", "CC(=O)Oc1ccccc1C(=O)O"
	body := fmt.Sprintf(`{"model":"boltz2","protein_sequence":%q,"ligand_smiles":%q,"ligand_name":"aspirin salt",`+
		`"parameters":{"recycling_steps":4,"sampling_steps_affinity":150,"affinity_mw_correction":true,"seed":3}}`, protein, salt)
	code, resp := callAt(t, ts.URL, "POST", "/api/v1/predict", body)
	require.Equal(t, http.StatusAccepted, code, string(resp))
	sub := decode[api.SubmitResponse](t, resp)
	for _, w := range sub.Warnings {
		assert.NotContains(t, w, "single-sequence", "the MSA server is the default")
	}

	job := waitJob(t, sub.JobID, omtx.StatusCompleted, 2*time.Minute)
	r := job.Results
	require.NotNil(t, r)
	assert.Equal(t, salt, job.InputData.LigandSMILES)
	assert.Equal(t, parent, job.InputData.ModelledSMILES)
	assert.Equal(t, parent, r.ModelledSMILES)
	assert.Equal(t, omtx.MSAModeServer, job.InputData.Parameters.MSAMode)
	assert.Equal(t, omtx.MSAServer, r.MSAMode)

	spec := msa.KeySpec{ServerURL: server.URL, UseEnv: true, DBVersion: "unversioned"}
	a3m, err := env.deps.Blobs.Read(ctxT(t), spec.CacheObject(protein))
	require.NoError(t, err)
	sum := sha256.Sum256(a3m)
	assert.Equal(t, []omtx.ChainMSA{{ChainID: "A", Mode: omtx.MSAServer, Digest: hex.EncodeToString(sum[:])}}, r.MSAs)

	code, raw := call(t, "GET", "/api/v1/jobs/"+job.JobID+"/files/results.json", testKey, "")
	require.Equal(t, http.StatusOK, code, string(raw))
	var rf struct {
		Ligand      omtx.Ligand      `json:"ligand"`
		RunSettings omtx.RunSettings `json:"run_settings"`
		MSAs        []omtx.ChainMSA  `json:"msas"`
	}
	require.NoError(t, json.Unmarshal(raw, &rf))
	s := rf.RunSettings
	assert.Equal(t, parent, rf.Ligand.ModelledSMILES)
	assert.Equal(t, r.MSAs, rf.MSAs)
	assert.True(t, s.BoltzFlags)
	assert.Equal(t, 4, s.RecyclingSteps)
	assert.Equal(t, 200, s.SamplingSteps)
	assert.Equal(t, 1, s.DiffusionSamples)
	assert.Equal(t, 150, s.SamplingStepsAffinity)
	assert.Equal(t, 5, s.DiffusionSamplesAffinity)
	assert.True(t, s.AffinityMWCorrection)
	assert.Equal(t, []string{"affinity_pred_value"}, s.MWCorrected)
	require.NotNil(t, s.Seed)
	assert.Equal(t, int64(3), *s.Seed)
	assert.Contains(t, s.Checkpoints, "boltz2_conf.ckpt sha256:", "the weights downloaded during the run are named")
	assert.Equal(t, s.Checkpoints, r.ModelCheckpoint)

	code, logs := call(t, "GET", "/api/v1/jobs/"+job.JobID+"/files/logs.txt", testKey, "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(logs), "fakeboltz: flags:")
	assert.Contains(t, string(logs), "--recycling_steps 4 ")
	assert.Contains(t, string(logs), "--sampling_steps_affinity 150 ")
	assert.Contains(t, string(logs), "--affinity_mw_correction")
}
