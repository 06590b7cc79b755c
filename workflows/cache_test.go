package workflows

import (
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestTerminalChunksAcrossContinueAsNew: the chunks PrepareBatch reported
// all terminal are carried from run to run (only those not yet passed),
// never started in any run, and counted once: the last run's progress is
// the whole batch's.
func TestTerminalChunksAcrossContinueAsNew(t *testing.T) {
	t.Parallel()
	e := batchEnv(t)
	// 6 chunks of 2; chunks 1, 2 and 4 were cache hits.
	e.OnActivity(contract.ActivityPrepareBatch, mock.Anything, mock.Anything).Return(contract.PrepareBatchResult{
		Status: omtx.StatusRunning, Total: 12, CacheHits: 6,
		TerminalChunks:    []contract.ChunkRange{{From: 1, To: 3}, {From: 4, To: 5}},
		TerminalCompleted: 6,
	}, nil).Once()
	var starts []time.Time
	var seen []string
	chunkOK(e, time.Minute, &starts, &seen)
	in := batchInput(12, 2, 2)
	in.ChunksPerRun = 1
	e.ExecuteWorkflow(BatchWorkflow, in)

	next, ok := continuedAsNew(t, e.GetWorkflowError())
	require.True(t, ok, "%v", e.GetWorkflowError())
	require.NotNil(t, next.State)
	assert.Equal(t, 8, next.State.Completed, "the hits, counted at once, and chunk 0")
	assert.Equal(t, []contract.ChunkRange{{From: 1, To: 3}, {From: 4, To: 5}}, next.State.Skip)

	assert.Equal(t, omtx.Progress{Total: 12, Completed: 12}, followChain(t, next, &starts, &seen))
	sort.Strings(seen)
	want := append(omtx.BatchChildJobIDs("batch_t", 0, 2, 12), omtx.BatchChildJobIDs("batch_t", 6, 8, 12)...)
	want = append(want, omtx.BatchChildJobIDs("batch_t", 10, 12, 12)...)
	assert.Equal(t, want, seen, "chunks 0, 3 and 5 ran; 1, 2 and 4 never did")
}
