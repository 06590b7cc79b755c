package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// cacheProtein is a protein no other test screens, so that the result
// cache this test fills is its own.
const cacheProtein = "MSTNPKPQRKTKRNTNRRPQDVKFPGGGQIVGGVYLLPRRGPRLGVRATRKTSERSQPRGRRQPIPKARRPEGRTWAQPGYPWPLYGNEG"

// cacheLibrary is a screen of n ligands of its own (two chunks of four).
func cacheLibrary(user string, extra string) string {
	return fmt.Sprintf(`{"model":"boltz2","protein_sequence":%q,"ligands":[%s],"max_concurrent":4,"chunk_size":4,"user_id":%q%s}`,
		cacheProtein, cacheLigands(), user, extra)
}

// cacheLigands is the test's library as a JSON list of 8 ligands.
func cacheLigands() string {
	var ligands []string
	for i := range 8 {
		ligands = append(ligands, fmt.Sprintf(`{"name":"cache_%02d","smiles":"OC(=O)%sc1ccc(Br)cc1"}`, i, strings.Repeat("C", i)))
	}
	return strings.Join(ligands, ",")
}

// expectedHits is what POST /api/v1/estimate says the cache would serve
// of the test's library.
func expectedHits(t *testing.T) *int {
	t.Helper()
	code, resp := call(t, "POST", "/api/v1/estimate", testKey,
		fmt.Sprintf(`{"model":"boltz2","protein_sequence":%q,"ligands":[%s],"max_concurrent":4,"chunk_size":4}`, cacheProtein, cacheLigands()))
	require.Equal(t, http.StatusOK, code, string(resp))
	return decode[api.EstimateResponse](t, resp).CacheHitsExpected
}

// screen submits a library with key and waits for the batch to complete.
func screen(t *testing.T, key, body string) (omtx.Job, []*omtx.Job) {
	t.Helper()
	// A cold emulator on a loaded machine can miss the API's 10 s
	// deadline: the API answers 503 and the submission is retried, as a
	// client does, under one idempotency key.
	idem := fmt.Sprintf("cache-test-%d", time.Now().UnixNano())
	code, resp := call(t, "POST", "/api/v1/predict/batch", key, body, api.IdempotencyHeader, idem)
	for try := 0; code == http.StatusServiceUnavailable && try < 5; try++ {
		time.Sleep(2 * time.Second)
		code, resp = call(t, "POST", "/api/v1/predict/batch", key, body, api.IdempotencyHeader, idem)
	}
	// 200: an attempt that answered 503 had created the batch.
	require.Contains(t, []int{http.StatusAccepted, http.StatusOK}, code, string(resp))
	sub := decode[api.BatchSubmitResponse](t, resp)
	b := waitBatchAs(t, key, sub.BatchID, 2*time.Minute)
	require.Equal(t, omtx.StatusCompleted, b.Status, b.Error)
	kids := children(t, sub.BatchID)
	require.Len(t, kids, 8)
	return b, kids
}

// chunksRun counts the batch's chunk workflows (each runs one GPU
// activity, PredictChunk).
func chunksRun(t *testing.T, batchID string) int {
	t.Helper()
	n := 0
	for i := range 2 {
		if _, err := env.deps.Temporal.DescribeWorkflow(ctxT(t), contract.BatchChunkWorkflowID(batchID, i), ""); err == nil {
			n++
		}
	}
	return n
}

// TestResultCacheRescreen screens a library, then screens it again: every
// ligand is served from the result cache, no chunk reaches the GPU queue,
// and the batch reports the hits and what they saved. The same screen by
// another user, or with cache false, runs on the GPU. A single prediction
// of a screened ligand is served from the cache too.
func TestResultCacheRescreen(t *testing.T) {
	startGPUWorker(t)
	first, firstKids := screen(t, testKey, cacheLibrary(testUser, ""))
	require.Equal(t, 2, chunksRun(t, first.JobID))
	for _, k := range firstKids {
		require.NotNil(t, k.Results)
		require.False(t, k.Results.CacheHit, "an empty cache misses")
	}

	// The estimate says beforehand what the cache would serve.
	hits := expectedHits(t)
	require.NotNil(t, hits)
	assert.Equal(t, 8, *hits, "the estimate expects every ligand from the cache")

	again, kids := screen(t, testKey, cacheLibrary(testUser, ""))
	t.Run("every ligand is a hit, with the source's results and no GPU time", func(t *testing.T) {
		for i, k := range kids {
			require.NotNil(t, k.Results, k.JobID)
			assert.True(t, k.Results.CacheHit, k.JobID)
			assert.Equal(t, firstKids[i].JobID, k.Results.CacheSourceJobID)
			assert.Equal(t, firstKids[i].Results.AffinityPredValue, k.Results.AffinityPredValue)
			assert.Zero(t, k.Results.GPUSeconds)
			assert.Zero(t, k.Results.CostUSD)
			assert.Equal(t, firstKids[i].Results.GPUSeconds, k.Results.SavedGPUSeconds)
			assert.Nil(t, k.Temporal, "no GPU activity touched %s", k.JobID)
		}
	})
	t.Run("no chunk was scheduled", func(t *testing.T) {
		assert.Zero(t, chunksRun(t, again.JobID))
	})
	t.Run("the batch reports hits and savings", func(t *testing.T) {
		require.NotNil(t, again.BatchResults)
		assert.Equal(t, 8, again.BatchResults.CacheHits)
		assert.Zero(t, again.BatchResults.GPUSeconds)
		var saved float64
		for _, k := range firstKids {
			saved += k.Results.GPUSeconds
		}
		assert.InDelta(t, saved, again.BatchResults.GPUSecondsSaved, 1e-9)
		code, body := call(t, "GET", "/api/v1/batches/"+again.JobID+"/files/summary.json", testKey, "")
		require.Equal(t, http.StatusOK, code, string(body))
		var sum map[string]any
		require.NoError(t, json.Unmarshal(body, &sum))
		assert.EqualValues(t, 8, sum["cache_hits"])
		assert.InDelta(t, saved, sum["gpu_seconds_saved"], 1e-9)
		assert.Contains(t, sum, "cost_usd_saved")

		// The results page says so too.
		ctx := browser(t)
		require.NoError(t, do(t, ctx,
			chromedp.Navigate(env.api.URL+"/ui/#/batches/"+again.JobID+"?key="+testKey),
			chromedp.WaitVisible(css(`#cache-hits`)),
		))
		text := get(t, ctx, chromedp.Evaluate[string](`document.querySelector('#cache-hits').textContent`))
		assert.Contains(t, text, "8 ligands from earlier runs, no GPU")
	})

	t.Run("another user's identical screen misses", func(t *testing.T) {
		b, other := screen(t, otherKey, cacheLibrary("someone_else", ""))
		for _, k := range other {
			require.NotNil(t, k.Results)
			assert.False(t, k.Results.CacheHit, k.JobID)
		}
		assert.Equal(t, 2, chunksRun(t, b.JobID))
		assert.Zero(t, b.BatchResults.CacheHits)
	})

	var fresh []*omtx.Job
	t.Run("cache false misses", func(t *testing.T) {
		var b omtx.Job
		b, fresh = screen(t, testKey, cacheLibrary(testUser, `,"cache":false`))
		for _, k := range fresh {
			require.NotNil(t, k.Results)
			assert.False(t, k.Results.CacheHit, k.JobID)
		}
		assert.Equal(t, 2, chunksRun(t, b.JobID))
	})

	t.Run("a single prediction of a screened ligand hits", func(t *testing.T) {
		body := fmt.Sprintf(`{"model":"boltz2","protein_sequence":%q,"ligand_smiles":"OC(=O)CCc1ccc(Br)cc1","ligand_name":"again","user_id":%q}`, cacheProtein, testUser)
		code, resp := call(t, "POST", "/api/v1/predict", testKey, body)
		require.Equal(t, http.StatusAccepted, code, string(resp))
		sub := decode[api.SubmitResponse](t, resp)
		job := waitJob(t, sub.JobID, omtx.StatusCompleted, 2*time.Minute)
		require.NotNil(t, job.Results)
		assert.True(t, job.Results.CacheHit)
		// The newest result of the key: the cache-false screen stored its
		// own (it skipped only the lookup).
		require.Len(t, fresh, 8)
		assert.Equal(t, fresh[2].JobID, job.Results.CacheSourceJobID)
		assert.Zero(t, job.Results.GPUSeconds)
	})
}
