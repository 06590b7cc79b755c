package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestResultCacheDocuments: entries round-trip by key hash (a missing one
// is nil, in order); a model's runs are recorded one by one without
// losing the others, and recording one again refreshes it; a model no
// worker recorded reads as nil.
func TestResultCacheDocuments(t *testing.T) {
	needStack(t)
	t.Parallel()
	ctx := t.Context()
	key := unique("key")
	e := &omtx.CacheEntry{Key: key, Scope: "user:u", SourceJobID: "job_src", ResultsFile: "gs://b/jobs/job_src/results.json",
		Results: omtx.Results{Model: omtx.BaselineModel, AffinityPredValue: -1.5, GPUSeconds: 12, CostUSD: 0.01}, CreatedAt: t0}
	require.NoError(t, resultCache.PutEntry(ctx, e))
	got, err := resultCache.GetEntries(ctx, []string{unique("missing"), key})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Nil(t, got[0])
	require.NotNil(t, got[1])
	assert.Equal(t, e.SourceJobID, got[1].SourceJobID)
	assert.Equal(t, e.Results.AffinityPredValue, got[1].Results.AffinityPredValue)
	assert.Equal(t, e.Scope, got[1].Scope)

	model := unique("model")
	none, err := resultCache.ModelRuns(ctx, model)
	require.NoError(t, err)
	assert.Nil(t, none)
	a := omtx.ModelRun{Version: "1", Checkpoint: "ck-a", LastSeen: t0}
	b := omtx.ModelRun{Version: "1", Checkpoint: "ck-b", LastSeen: t0.Add(time.Minute)}
	require.NoError(t, resultCache.RecordModelRun(ctx, model, "a", a))
	require.NoError(t, resultCache.RecordModelRun(ctx, model, "b", b))
	a.LastSeen = t0.Add(time.Hour)
	require.NoError(t, resultCache.RecordModelRun(ctx, model, "a", a))
	runs, err := resultCache.ModelRuns(ctx, model)
	require.NoError(t, err)
	require.NotNil(t, runs)
	assert.Equal(t, model, runs.Model)
	require.Len(t, runs.Runs, 2, "recording one run keeps the other")
	assert.Equal(t, "ck-b", runs.Runs["b"].Checkpoint)
	assert.True(t, runs.Runs["a"].LastSeen.Equal(a.LastSeen), "recorded again: refreshed")
}
