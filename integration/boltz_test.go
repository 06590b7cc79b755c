package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/app/apiapp"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/msa/msatest"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// boltzAPI is an API that serves boltz2 for real (no substitution), as a
// deployment with Boltz-2 installed does.
func boltzAPI(t *testing.T) string {
	t.Helper()
	cfg := env.cfg
	cfg.Models = omtx.ModelCatalog{Available: map[string]string{omtx.BaselineModel: omtx.GPUClassL4, omtx.ModelBoltz2: omtx.GPUClassL4}}
	srv, err := apiapp.New(cfg, env.deps, env.log)
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts.URL
}

// boltzWorker starts a GPU worker serving boltz2 through the test-only
// stand-in executable, which writes the fixture tree of
// boltz/testdata/fixture in Boltz's documented layout.
func boltzWorker(t *testing.T, record string, extra ...string) *process {
	t.Helper()
	env := append([]string{
		"OMTX_BOLTZ_BIN=" + env.boltzBin,
		"BOLTZ_CACHE=" + t.TempDir(),
		"FAKE_BOLTZ_FIXTURE=" + filepath.Join(env.root, "boltz", "testdata", "fixture"),
		"FAKE_BOLTZ_RECORD=" + record,
	}, extra...)
	return startGPUWorker(t, env...)
}

func fixtureJSON(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(env.root, "boltz", "testdata", "fixture", name))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func TestBoltzPredictionEndToEnd(t *testing.T) {
	base := boltzAPI(t)
	boltzWorker(t, filepath.Join(t.TempDir(), "record.jsonl"))
	body := strings.Replace(seedBody, `"user_id"`, `"parameters": {"use_msa": false, "num_samples": 2, "seed": 7}, "user_id"`, 1)
	code, resp := callAt(t, base, "POST", "/api/v1/predict", body)
	require.Equal(t, http.StatusAccepted, code, string(resp))
	sub := decode[api.SubmitResponse](t, resp)
	require.Equal(t, omtx.ModelBoltz2, sub.Model)
	require.Empty(t, sub.RequestedModel, "no substitution when Boltz-2 is served")

	job := waitJob(t, sub.JobID, omtx.StatusCompleted, 90*time.Second)
	r := job.Results
	require.NotNil(t, r)
	aff, conf := fixtureJSON(t, "affinity.json"), fixtureJSON(t, "confidence_model_0.json")

	t.Run("affinity and confidence reach Firestore as the fixture holds them", func(t *testing.T) {
		assert.Equal(t, "boltz2", r.Model)
		assert.Equal(t, "boltz", r.ModelKind)
		assert.Equal(t, aff["affinity_pred_value"], r.AffinityPredValue)
		assert.Equal(t, aff["affinity_probability_binary"], r.AffinityProbabilityBinary)
		assert.Equal(t, conf["confidence_score"], r.Confidence)
		assert.InDelta(t, 6-aff["affinity_pred_value"].(float64), r.PIC50, 1e-12)
		assert.Equal(t, omtx.UnitsLog10IC50uM, r.AffinityPredValueUnits)
		for _, k := range []string{"ptm", "iptm", "ligand_iptm", "protein_iptm", "complex_plddt", "complex_iplddt", "complex_pde", "complex_ipde"} {
			assert.Equal(t, conf[k], r.Metrics[k], k)
		}
		for _, k := range []string{"affinity_pred_value1", "affinity_probability_binary1", "affinity_pred_value2", "affinity_probability_binary2"} {
			assert.Equal(t, aff[k], r.Metrics[k], k)
		}
		assert.Equal(t, omtx.MSASingleSequence, r.MSAMode)
		assert.Equal(t, omtx.GPUClassL4, r.GPUClass)
		assert.Greater(t, r.GPUSeconds, 0.0)
		assert.InDelta(t, r.GPUSeconds/3600*0.65, r.CostUSD, 1e-12)
	})

	t.Run("the CIF and the PDB converted from it are stored and served", func(t *testing.T) {
		assert.True(t, r.StructureAvailable)
		assert.Equal(t, "gs://hub-job-files/jobs/"+job.JobID+"/structure.cif", r.StructureFile)
		assert.Equal(t, "gs://hub-job-files/jobs/"+job.JobID+"/structure.pdb", r.StructurePDBFile)
		code, cif := call(t, "GET", "/api/v1/jobs/"+job.JobID+"/files/structure.cif", testKey, "")
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, string(cif), "_atom_site.Cartn_x")
		code, pdb := call(t, "GET", "/api/v1/jobs/"+job.JobID+"/files/structure.pdb", testKey, "")
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, string(pdb), "HETATM")
		assert.True(t, strings.HasSuffix(strings.TrimSpace(string(pdb)), "END"))
		code, logs := call(t, "GET", "/api/v1/jobs/"+job.JobID+"/files/logs.txt", testKey, "")
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, string(logs), "msa: none (single-sequence mode)")
	})
}

func callAt(t *testing.T, base, method, path, body string) (int, []byte) {
	t.Helper()
	saved := env.api.URL
	env.api.URL = base
	defer func() { env.api.URL = saved }()
	return call(t, method, path, testKey, body)
}

// restartOrchestration replaces the orchestration worker process, with
// extra environment.
func restartOrchestration(t *testing.T, extra ...string) {
	t.Helper()
	env.orch.stop()
	var err error
	env.orch, err = startProcess(env.orchBin, "omtx-worker.log", extra...)
	require.NoError(t, err)
}

func TestMSAComputedOncePerProtein(t *testing.T) {
	server := msatest.New(t, msatest.Options{RequireAuth: "X-Api-Key: msa-secret", PendingPolls: 1})
	restartOrchestration(t, "OMTX_MSA_URL="+server.URL, "OMTX_MSA_AUTH_HEADER=X-Api-Key: msa-secret")
	t.Cleanup(func() { restartOrchestration(t) })
	base := boltzAPI(t)
	record := filepath.Join(t.TempDir(), "record.jsonl")
	boltzWorker(t, record)

	protein := "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQ"
	batch := func() omtx.Job {
		var ligs []string
		for i := 0; i < 50; i++ {
			ligs = append(ligs, fmt.Sprintf(`{"name":"m%02d","smiles":"%sC(=O)O"}`, i, strings.Repeat("C", i%9+1)))
		}
		body := fmt.Sprintf(`{"model":"boltz2","protein_sequence":%q,"ligands":[%s],"max_concurrent":20,"chunk_size":10,"parameters":{"use_msa":true}}`,
			protein, strings.Join(ligs, ","))
		code, resp := callAt(t, base, "POST", "/api/v1/predict/batch", body)
		require.Equal(t, http.StatusAccepted, code, string(resp))
		b := waitBatch(t, decode[api.BatchSubmitResponse](t, resp).BatchID, 3*time.Minute)
		require.Equal(t, omtx.StatusCompleted, b.Status, b.Error)
		return b
	}

	first := batch()
	require.NoError(t, env.deps.Temporal.GetWorkflow(ctxT(t), contract.BatchWorkflowID(first.JobID), "").Get(ctxT(t), nil))
	captureHistory(t, contract.BatchWorkflowID(first.JobID), "")
	assert.Equal(t, 1, server.Submissions(), "the MSA server is asked once for a 50-ligand batch")
	names, err := env.deps.Blobs.List(ctxT(t), omtx.BatchPrefix(first.JobID)+"analysis/")
	require.NoError(t, err)
	assert.Contains(t, names, omtx.BatchPrefix(first.JobID)+omtx.FileTopStructures, "Boltz-2 structures fill the top-10 zip")
	require.NotNil(t, first.BatchResults)
	assert.NotEmpty(t, first.BatchResults.StructuresZipFile)
	// The worker's spec: the server, mode env, unpaired, and the default
	// database version (OMTX_MSA_DB_VERSION unset).
	spec := msa.KeySpec{ServerURL: server.URL, UseEnv: true, DBVersion: "unversioned"}
	cache := "gs://hub-job-files/" + spec.CacheObject(protein)
	for _, k := range children(t, first.JobID) {
		require.NotNil(t, k.Results)
		assert.Equal(t, omtx.MSAServer, k.Results.MSAMode)
		assert.Equal(t, cache, k.Results.MSAFile)
	}

	// Every YAML Boltz saw points at the cached MSA (fetched into the
	// worker's scratch folder), never at "empty".
	f, err := os.Open(record)
	require.NoError(t, err)
	defer f.Close()
	yamls := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var rec struct{ Inputs map[string]string }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
		for name, y := range rec.Inputs {
			yamls++
			assert.Regexp(t, `msa: ".*/msa\.a3m"`, y, name)
			assert.Contains(t, y, protein)
		}
	}
	assert.Equal(t, 50, yamls)

	batch()
	assert.Equal(t, 1, server.Submissions(), "a second batch on the same protein asks the server zero times")
}

func TestOutOfMemoryReroutesToLargerGPU(t *testing.T) {
	base := boltzAPI(t)
	boltzWorker(t, filepath.Join(t.TempDir(), "l4.jsonl"), "FAKE_BOLTZ_OOM=1")
	boltzWorker(t, filepath.Join(t.TempDir(), "a100.jsonl"), "OMTX_GPU_CLASS=a100-80g")

	code, resp := callAt(t, base, "POST", "/api/v1/predict", seedBody)
	require.Equal(t, http.StatusAccepted, code, string(resp))
	job := waitJob(t, decode[api.SubmitResponse](t, resp).JobID, omtx.StatusCompleted, 2*time.Minute)

	require.Len(t, job.GPURouting, 2, "%+v", job.GPURouting)
	assert.Equal(t, omtx.GPUClassL4, job.GPURouting[0].GPUClass)
	assert.Equal(t, omtx.GPUClassA100x80, job.GPURouting[1].GPUClass)
	assert.Contains(t, job.GPURouting[1].Reason, "out of GPU memory on l4")
	assert.Equal(t, omtx.GPUClassA100x80, job.Results.GPUClass)
	assert.InDelta(t, job.Results.GPUSeconds/3600*3.67, job.Results.CostUSD, 1e-12)

	// The Web UI's GpuClass search attribute shows the reroute.
	wantWorkflows(t, 1, `WorkflowId = %q AND GpuClass = "a100-80g"`, job.Temporal.WorkflowID)
	require.NoError(t, env.deps.Temporal.GetWorkflow(ctxT(t), job.Temporal.WorkflowID, "").Get(ctxT(t), nil))
	captureHistory(t, job.Temporal.WorkflowID, "")
}

func TestEstimateAndBatchCosts(t *testing.T) {
	code, resp := call(t, "POST", "/api/v1/estimate", testKey,
		`{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK","num_ligands":1000,"max_concurrent":64}`)
	require.Equal(t, http.StatusOK, code, string(resp))
	est := decode[api.EstimateResponse](t, resp)
	assert.Equal(t, omtx.GPUClassL4, est.GPUClass)
	assert.Equal(t, 1000, est.Ligands)
	assert.Greater(t, est.CostUSD, 0.0)
	assert.NotEmpty(t, est.Basis)

	startGPUWorker(t)
	code, resp = call(t, "POST", "/api/v1/predict/batch", testKey, seedBatchBody)
	require.Equal(t, http.StatusAccepted, code, string(resp))
	b := waitBatch(t, decode[api.BatchSubmitResponse](t, resp).BatchID, 2*time.Minute)
	var gpu, cost float64
	for _, k := range children(t, b.JobID) {
		gpu += k.Results.GPUSeconds
		cost += k.Results.CostUSD
	}
	require.NotNil(t, b.BatchResults)
	assert.InDelta(t, gpu, b.BatchResults.GPUSeconds, 1e-9)
	assert.InDelta(t, cost, b.BatchResults.CostUSD, 1e-12)
	code, sum := call(t, "GET", "/api/v1/batches/"+b.JobID+"/files/summary.json", testKey, "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, string(sum), `"cost_usd"`)
}
