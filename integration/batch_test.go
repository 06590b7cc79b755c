package integration

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/png"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/devstack"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// seedBatchBody is the seed plan's 3.2 request, with its ten ligands.
const seedBatchBody = `{
    "model": "boltz2",
    "batch_name": "Aspirin derivatives screening",
    "protein_sequence": "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK",
    "ligands": [
      {"name": "Aspirin", "smiles": "CC(=O)OC1=CC=CC=C1C(=O)O"},
      {"name": "Ibuprofen", "smiles": "CC(C)CC1=CC=C(C=C1)C(C)C(=O)O"},
      {"name": "Salicylic acid", "smiles": "OC(=O)c1ccccc1O"},
      {"name": "Methyl salicylate", "smiles": "COC(=O)c1ccccc1O"},
      {"name": "Naproxen", "smiles": "COc1ccc2cc(ccc2c1)C(C)C(=O)O"},
      {"name": "Diflunisal", "smiles": "OC(=O)c1cc(ccc1O)-c1ccc(F)cc1F"},
      {"name": "Caffeine", "smiles": "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"},
      {"name": "Paracetamol", "smiles": "CC(=O)Nc1ccc(O)cc1"},
      {"name": "Imatinib", "smiles": "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1"},
      {"name": "Benzene", "smiles": "c1ccccc1"}
    ],
    "max_concurrent": 5,
    "user_id": "test_user_001",
    "cache": false
  }`

// waitBatch polls the test user's batch until it is terminal.
func waitBatch(t *testing.T, batchID string, limit time.Duration) omtx.Job {
	t.Helper()
	return waitBatchAs(t, testKey, batchID, limit)
}

// waitBatchAs polls a batch with its owner's key until it is terminal.
func waitBatchAs(t *testing.T, key, batchID string, limit time.Duration) omtx.Job {
	t.Helper()
	deadline := time.Now().Add(limit)
	var b omtx.Job
	for time.Now().Before(deadline) {
		code, body := call(t, "GET", "/api/v1/batches/"+batchID, key, "")
		if code == http.StatusOK {
			b = decode[omtx.Job](t, body)
			if b.Status.Terminal() {
				return b
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("batch %s is %q after %s", batchID, b.Status, limit)
	return b
}

func children(t *testing.T, batchID string) []*omtx.Job {
	t.Helper()
	kids, err := env.deps.Jobs.ListChildren(ctxT(t), omtx.ChildFilter{BatchID: batchID, AfterIndex: -1})
	require.NoError(t, err)
	return kids
}

func readCSV(t *testing.T, batchID string) [][]string {
	t.Helper()
	code, body := call(t, "GET", "/api/v1/batches/"+batchID+"/files/batch_results.csv", testKey, "")
	require.Equal(t, http.StatusOK, code, string(body))
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	require.NoError(t, err)
	return rows
}

func TestSeedBatchEndToEnd(t *testing.T) {
	startGPUWorker(t)
	code, body := call(t, "POST", "/api/v1/predict/batch", testKey, seedBatchBody)
	require.Equal(t, http.StatusAccepted, code, string(body))
	sub := decode[api.BatchSubmitResponse](t, body)
	require.Equal(t, 10, sub.TotalLigands)
	require.Equal(t, 5, sub.ChunkSize)

	b := waitBatch(t, sub.BatchID, 2*time.Minute)
	require.Equal(t, omtx.StatusCompleted, b.Status, b.Error)
	kids := children(t, sub.BatchID)
	captureHistory(t, contract.BatchWorkflowID(sub.BatchID), "")
	captureHistory(t, contract.BatchChunkWorkflowID(sub.BatchID, 0), "")

	t.Run("seed 3.3: parent and children are linked", func(t *testing.T) {
		assert.Equal(t, omtx.JobTypeBatchParent, b.JobType)
		assert.Equal(t, "Aspirin derivatives screening", b.BatchName)
		assert.Equal(t, omtx.Progress{Total: 10, Completed: 10}, *b.Progress)
		require.Len(t, b.ChildJobIDs, 10)
		require.Len(t, kids, 10)
		for i, k := range kids {
			assert.Equal(t, omtx.JobTypeBatchChild, k.JobType)
			assert.Equal(t, sub.BatchID, k.BatchParentID)
			require.NotNil(t, k.BatchIndex)
			assert.Equal(t, i, *k.BatchIndex)
			assert.Equal(t, b.ChildJobIDs[i], k.JobID)
			assert.Equal(t, omtx.StatusCompleted, k.Status)
			require.NotNil(t, k.Results)
			assert.Equal(t, "gs://hub-job-files/batches/"+sub.BatchID+"/jobs/"+k.JobID+"/results.json", k.Results.ResultsFile)
		}
	})

	t.Run("never more than max_concurrent ligands in flight", func(t *testing.T) {
		// Each child records when its GPU work started and ended.
		var most int
		for _, a := range kids {
			n := 0
			for _, o := range kids {
				if !o.StartedAt.After(*a.StartedAt) && o.CompletedAt.After(*a.StartedAt) {
					n++
				}
			}
			most = max(most, n)
		}
		assert.LessOrEqual(t, most, 5)
	})

	t.Run("aggregation wrote every file, and the CSV matches the children", func(t *testing.T) {
		names, err := env.deps.Blobs.List(ctxT(t), omtx.BatchPrefix(sub.BatchID))
		require.NoError(t, err)
		for _, f := range []string{"batch_config.json", "ligands.json", "batch_results.csv", "batch_results.json", "summary.json", "analysis/affinity_distribution.png"} {
			assert.Contains(t, names, omtx.BatchPrefix(sub.BatchID)+f)
		}
		assert.NotContains(t, names, omtx.BatchPrefix(sub.BatchID)+"analysis/top_10_structures.zip", "the baseline has no structures")
		rows := readCSV(t, sub.BatchID)
		require.Len(t, rows, 11)
		head := rows[0]
		col := func(name string) int {
			for i, h := range head {
				if h == name {
					return i
				}
			}
			t.Fatalf("no column %s in %v", name, head)
			return -1
		}
		// Rows are in rank order (batch_results.csv is ranked): match them
		// to the children by job id.
		byID := map[string][]string{}
		for _, r := range rows[1:] {
			byID[r[col("job_id")]] = r
		}
		for _, k := range kids {
			r, ok := byID[k.JobID]
			require.True(t, ok, "no CSV row for %s", k.JobID)
			assert.Equal(t, k.InputData.LigandName, r[col("ligand_name")])
			assert.Equal(t, string(k.Status), r[col("status")])
			v, err := strconv.ParseFloat(r[col("affinity_pred_value_log10_ic50_um")], 64)
			require.NoError(t, err)
			assert.InDelta(t, k.Results.AffinityPredValue, v, 1e-4)
		}
		require.NotNil(t, b.BatchResults)
		assert.Equal(t, "gs://hub-job-files/batches/"+sub.BatchID+"/batch_results.csv", b.BatchResults.ResultsFile)
		assert.Len(t, b.BatchResults.Top10, 10)
		assert.Equal(t, b.BatchResults.Top10[0].LigandName, b.BatchResults.BestLigand)
		assert.Equal(t, "kcal/mol", b.BatchResults.AffinityUnits)

		code, body := call(t, "GET", "/api/v1/batches/"+sub.BatchID+"/files/analysis/affinity_distribution.png", testKey, "")
		require.Equal(t, http.StatusOK, code)
		_, err = png.Decode(bytes.NewReader(body))
		require.NoError(t, err)
	})

	t.Run("children are listed by page and status", func(t *testing.T) {
		code, body := call(t, "GET", "/api/v1/batches/"+sub.BatchID+"/jobs?page_size=4", testKey, "")
		require.Equal(t, http.StatusOK, code)
		first := decode[api.JobList](t, body)
		require.Len(t, first.Jobs, 4)
		require.NotEmpty(t, first.NextPageToken)
		code, body = call(t, "GET", "/api/v1/batches/"+sub.BatchID+"/jobs?page_size=4&page_token="+first.NextPageToken, testKey, "")
		require.Equal(t, http.StatusOK, code)
		page := decode[api.JobList](t, body)
		require.Len(t, page.Jobs, 4)
		assert.Equal(t, 4, *page.Jobs[0].BatchIndex, "the cursor continues after the last index of the page before")
		code, body = call(t, "GET", "/api/v1/batches/"+sub.BatchID+"/jobs?status=failed", testKey, "")
		require.Equal(t, http.StatusOK, code)
		assert.Empty(t, decode[api.JobList](t, body).Jobs)
		code, _ = call(t, "GET", "/api/v1/batches/"+sub.BatchID, otherKey, "")
		assert.Equal(t, http.StatusNotFound, code)
		code, _ = call(t, "GET", "/api/v1/jobs/"+kids[0].JobID+"/files/results.json", testKey, "")
		assert.Equal(t, http.StatusOK, code)
	})
}

func TestBatchSkipInvalidAndCancel(t *testing.T) {
	slow := startGPUWorker(t, "OMTX_FAULT_PREDICT_DELAY=1h")
	var ligs []string
	for i := 0; i < 30; i++ {
		ligs = append(ligs, fmt.Sprintf(`{"name":"L%d","smiles":"%s"}`, i, strings.Repeat("C", i%8+1)+"O"))
	}
	ligs[3] = `{"name":"bad","smiles":"C1CC"}`
	body := fmt.Sprintf(`{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligands":[%s],"max_concurrent":4,"chunk_size":2,"skip_invalid":true}`, strings.Join(ligs, ","))
	code, resp := call(t, "POST", "/api/v1/predict/batch", testKey, body)
	require.Equal(t, http.StatusAccepted, code, string(resp))
	sub := decode[api.BatchSubmitResponse](t, resp)
	assert.Equal(t, 1, sub.InvalidLigands)

	// Children go from pending straight to their result, so a started
	// chunk shows in Temporal: its GPU activity is running (the worker has
	// one GPU slot; the other chunks wait).
	deadline := time.Now().Add(time.Minute)
	for !chunkStarted(t, sub.BatchID, 2) {
		require.True(t, time.Now().Before(deadline), "no chunk started")
		time.Sleep(200 * time.Millisecond)
	}
	code, resp = call(t, "POST", "/api/v1/batches/"+sub.BatchID+"/cancel", testKey, "")
	require.Equal(t, http.StatusAccepted, code, string(resp))
	b := waitBatch(t, sub.BatchID, time.Minute)
	slow.kill()
	assert.Equal(t, omtx.StatusCancelled, b.Status)
	_ = env.deps.Temporal.GetWorkflow(ctxT(t), contract.BatchWorkflowID(sub.BatchID), "").Get(ctxT(t), nil) // closed, then captured
	captureHistory(t, contract.BatchWorkflowID(sub.BatchID), "")
	captureHistory(t, contract.BatchChunkWorkflowID(sub.BatchID, 0), "")
	counts := map[omtx.JobStatus]int{}
	for _, k := range children(t, sub.BatchID) {
		counts[k.Status]++
		if k.InputData.LigandName == "bad" {
			assert.Equal(t, omtx.StatusFailed, k.Status)
			assert.Contains(t, k.Error, "invalid input")
		}
	}
	assert.Equal(t, map[omtx.JobStatus]int{omtx.StatusFailed: 1, omtx.StatusCancelled: 29}, counts)
	assert.Equal(t, 29, b.Progress.Cancelled)
	code, _ = call(t, "POST", "/api/v1/batches/"+sub.BatchID+"/cancel", testKey, "")
	assert.Equal(t, http.StatusConflict, code, "a finished batch cannot be cancelled")
}

// TestBatchSurvivesCrashes kills the GPU worker and the orchestration
// worker mid-batch, and restarts the Temporal dev server from its SQLite
// file. Every ligand must finish exactly once.
func TestBatchSurvivesCrashes(t *testing.T) {
	gpu := startGPUWorker(t, "OMTX_FAULT_PREDICT_DELAY=700ms")
	var ligs []string
	for i := 0; i < 60; i++ {
		ligs = append(ligs, fmt.Sprintf(`{"name":"L%02d","smiles":"%sO"}`, i, strings.Repeat("C", i%12+1)))
	}
	body := fmt.Sprintf(`{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligands":[%s],"max_concurrent":10,"chunk_size":5}`, strings.Join(ligs, ","))
	code, resp := call(t, "POST", "/api/v1/predict/batch", testKey, body)
	require.Equal(t, http.StatusAccepted, code, string(resp))
	batchID := decode[api.BatchSubmitResponse](t, resp).BatchID

	completed := func() int {
		n := 0
		for _, k := range children(t, batchID) {
			if k.Status == omtx.StatusCompleted {
				n++
			}
		}
		return n
	}
	waitFor := func(n int) {
		deadline := time.Now().Add(2 * time.Minute)
		for completed() < n {
			require.True(t, time.Now().Before(deadline), "stuck below %d completed", n)
			time.Sleep(100 * time.Millisecond)
		}
	}

	waitFor(5)
	gpu.kill()
	env.orch.kill()
	var err error
	env.orch, err = startProcess(env.orchBin, "omtx-worker.log")
	require.NoError(t, err)
	startGPUWorker(t, "OMTX_FAULT_PREDICT_DELAY=700ms")

	waitFor(25)
	env.stack.KillService(devstack.Temporal)
	require.NoError(t, env.stack.StartTemporal(ctxT(t)))

	b := waitBatch(t, batchID, 4*time.Minute)
	require.Equal(t, omtx.StatusCompleted, b.Status, b.Error)
	assert.Equal(t, omtx.Progress{Total: 60, Completed: 60}, *b.Progress)

	rows := readCSV(t, batchID)
	require.Len(t, rows, 61, "one CSV row per ligand")
	var ids []string
	for _, r := range rows[1:] {
		ids = append(ids, r[2])
		assert.Equal(t, "completed", r[5])
	}
	sort.Strings(ids)
	for i := 1; i < len(ids); i++ {
		assert.NotEqual(t, ids[i-1], ids[i], "duplicate row")
	}
	names, err := env.deps.Blobs.List(ctxT(t), omtx.BatchPrefix(batchID)+"jobs/")
	require.NoError(t, err)
	results := 0
	for _, n := range names {
		if strings.HasSuffix(n, "/results.json") {
			results++
		}
	}
	assert.Equal(t, 60, results, "one results.json per ligand")
}

func TestBatchIdempotencyKey(t *testing.T) {
	startGPUWorker(t)
	key := fmt.Sprintf("batch-key-%d", time.Now().UnixNano())
	code, resp := call(t, "POST", "/api/v1/predict/batch", testKey, seedBatchBody, api.IdempotencyHeader, key)
	require.Equal(t, http.StatusAccepted, code, string(resp))
	first := decode[api.BatchSubmitResponse](t, resp)

	code, resp = call(t, "POST", "/api/v1/predict/batch", testKey, seedBatchBody, api.IdempotencyHeader, key)
	require.Equal(t, http.StatusOK, code, string(resp))
	again := decode[api.BatchSubmitResponse](t, resp)
	assert.Equal(t, first.BatchID, again.BatchID)
	assert.True(t, again.Duplicate)

	// Same size, one ligand changed: a different request.
	other := strings.Replace(seedBatchBody, `"c1ccccc1"`, `"c1ccncc1"`, 1)
	code, resp = call(t, "POST", "/api/v1/predict/batch", testKey, other, api.IdempotencyHeader, key)
	assert.Equal(t, http.StatusConflict, code, string(resp))

	b := waitBatch(t, first.BatchID, 2*time.Minute)
	assert.Equal(t, omtx.StatusCompleted, b.Status)
	assert.Len(t, children(t, first.BatchID), 10, "one batch, ten children")
}

// chunkStarted says whether one of the first n chunk workflows of a batch
// has a GPU activity that a worker has started.
func chunkStarted(t *testing.T, batchID string, n int) bool {
	t.Helper()
	for i := range n {
		d, err := env.deps.Temporal.DescribeWorkflow(ctxT(t), contract.BatchChunkWorkflowID(batchID, i), "")
		if err != nil {
			continue // not started yet
		}
		for _, a := range d.RawResponse.GetPendingActivities() {
			if a.State == enumspb.PENDING_ACTIVITY_STATE_STARTED {
				return true
			}
		}
	}
	return false
}
