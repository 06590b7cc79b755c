package aggregate

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestSummaryCountsCacheHits: summary.json and the parent's block count
// the children completed from the result cache, and total the GPU time
// and cost their source jobs spent (saved), beside what the batch spent.
func TestSummaryCountsCacheHits(t *testing.T) {
	t.Parallel()
	ran := completed(0, -1, 0.9)
	ran.Results.GPUSeconds, ran.Results.CostUSD = 30, 0.01
	hit := func(idx int, sec, usd float64) *omtx.Job {
		c := completed(idx, -2, 0.8)
		c.Results.CacheHit, c.Results.CacheSourceJobID = true, "job_src"
		c.Results.SavedGPUSeconds, c.Results.SavedCostUSD = sec, usd
		return c
	}
	out, err := Build(Input{BatchID: "batch_c", Children: []*omtx.Job{ran, hit(1, 20, 0.005), hit(2, 40, 0.015), child(3, omtx.StatusFailed)}})
	require.NoError(t, err)
	var sum map[string]any
	require.NoError(t, json.Unmarshal(out.SummaryJSON, &sum))
	assert.EqualValues(t, 2, sum["cache_hits"])
	assert.InDelta(t, 60, sum["gpu_seconds_saved"], 1e-9)
	assert.InDelta(t, 0.02, sum["cost_usd_saved"], 1e-12)
	assert.InDelta(t, 30, sum["gpu_seconds"], 1e-9, "what the batch itself spent")
	assert.Equal(t, 2, out.Results.CacheHits)
	assert.InDelta(t, 60, out.Results.GPUSecondsSaved, 1e-9)
	assert.InDelta(t, 0.02, out.Results.CostUSDSaved, 1e-12)
}
