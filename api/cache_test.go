package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCacheFalseBypassesTheLookup: cache false on a prediction or a batch
// is carried in the spec (InputData.NoCache), which tells the lookup to
// miss; absent or true leaves the cache on. A batch asked both ways is
// two requests under one idempotency key.
func TestCacheFalseBypassesTheLookup(t *testing.T) {
	t.Parallel()
	t.Run("predict", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		for _, c := range []struct {
			body    string
			noCache bool
		}{
			{good, false},
			{strings.Replace(good, `"ligand_name"`, `"cache":true,"ligand_name"`, 1), false},
			{strings.Replace(good, `"ligand_name"`, `"cache":false,"ligand_name"`, 1), true},
		} {
			w := f.do("POST", "/api/v1/predict", key1, c.body)
			require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
			var got SubmitResponse
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
			job, err := f.jobs.Get(t.Context(), got.JobID)
			require.NoError(t, err)
			assert.Equal(t, c.noCache, job.InputData.NoCache, c.body)
		}
		preds := f.sched.predictions()
		require.Len(t, preds, 3)
		assert.True(t, preds[2].Job.InputData.NoCache)
	})
	t.Run("batch", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		w := f.do("POST", "/api/v1/predict/batch", key1, seedBatch)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		body := strings.Replace(seedBatch, `"max_concurrent": 5`, `"max_concurrent": 5, "cache": false`, 1)
		w = f.do("POST", "/api/v1/predict/batch", key1, body)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		b := f.sched.batches()
		require.Len(t, b, 2)
		assert.False(t, b[0].Parent.InputData.NoCache)
		assert.True(t, b[1].Parent.InputData.NoCache)
		assert.NotEqual(t, b[0].Parent.RequestHash, b[1].Parent.RequestHash)
	})
}
