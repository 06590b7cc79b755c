package workflows

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

func batchInput(total, maxConc, chunk int) contract.BatchInput {
	return contract.BatchInput{
		Parent: contract.JobSpec{
			JobID: "batch_t", JobType: omtx.JobTypeBatchParent, UserID: "u1", Model: omtx.BaselineModel,
			InputData:   omtx.InputData{ProteinSequence: testProtein},
			BatchConfig: &omtx.BatchConfig{TotalLigands: total, MaxConcurrent: maxConc, ChunkSize: chunk, Priority: "normal"},
		},
		GPUClass: omtx.GPUClassL4,
	}
}

func batchEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	e := env(t)
	e.OnActivity(contract.ActivityUpdateBatchProgress, mock.Anything, mock.Anything).Return(contract.BatchProgressResult{}, nil).Maybe()
	return e
}

// prepared mocks PrepareBatch creating total children.
func prepared(e *testsuite.TestWorkflowEnvironment, total int) {
	e.OnActivity(contract.ActivityPrepareBatch, mock.Anything, mock.Anything).
		Return(contract.PrepareBatchResult{Status: omtx.StatusRunning, Total: total}, nil).Once()
}

// followChain runs the continued runs of a batch from next until the
// last one ends, each chunk a chunkOK run, and returns the last run's
// progress.
func followChain(t *testing.T, next contract.BatchInput, starts *[]time.Time, seen *[]string) omtx.Progress {
	t.Helper()
	for runs := 1; ; runs++ {
		require.Less(t, runs, 10)
		e := batchEnv(t)
		chunkOK(e, time.Minute, starts, seen)
		e.OnActivity(contract.ActivityAggregateBatch, mock.Anything, mock.Anything).Return(contract.AggregateBatchResult{Status: omtx.StatusCompleted}, nil).Maybe()
		e.ExecuteWorkflow(BatchWorkflow, next)
		if in, ok := continuedAsNew(t, e.GetWorkflowError()); ok {
			next = in
			continue
		}
		require.NoError(t, e.GetWorkflowError())
		v, err := e.QueryWorkflow(contract.QueryProgress)
		require.NoError(t, err)
		var p omtx.Progress
		require.NoError(t, v.Get(&p))
		return p
	}
}

// chunkOK mocks PredictChunk as a GPU run of d that completes every ligand,
// and records when each run ends (all runs last d, so overlaps are the same).
func chunkOK(e *testsuite.TestWorkflowEnvironment, d time.Duration, starts *[]time.Time, seen *[]string) {
	e.OnActivity(contract.ActivityPredictChunk, mock.Anything, mock.Anything).After(d).Return(
		func(_ context.Context, in contract.PredictChunkInput) (contract.ChunkCounts, error) {
			*starts = append(*starts, e.Now())
			*seen = append(*seen, in.JobIDs...)
			return contract.ChunkCounts{Completed: len(in.JobIDs)}, nil
		})
}

// maxOverlap is the most runs of length d in flight at once.
func maxOverlap(starts []time.Time, d time.Duration) int {
	best := 0
	for _, s := range starts {
		n := 0
		for _, o := range starts {
			if !o.After(s) && o.Add(d).After(s) {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

func TestBatchWorkflow(t *testing.T) {
	t.Parallel()

	t.Run("seed 3.2: 10 ligands, never more than max_concurrent in flight", func(t *testing.T) {
		t.Parallel()
		for _, c := range []struct{ maxConc, chunk, wantChunksInFlight int }{{5, 2, 2}, {5, 5, 1}, {10, 1, 10}} {
			e := batchEnv(t)
			prepared(e, 10)
			var starts []time.Time
			var seen []string
			chunkOK(e, 10*time.Minute, &starts, &seen)
			e.OnActivity(contract.ActivityAggregateBatch, mock.Anything, contract.AggregateBatchInput{BatchID: "batch_t"}).
				Return(contract.AggregateBatchResult{Status: omtx.StatusCompleted, Progress: omtx.Progress{Total: 10, Completed: 10}}, nil).Once()

			e.ExecuteWorkflow(BatchWorkflow, batchInput(10, c.maxConc, c.chunk))
			require.NoError(t, e.GetWorkflowError())
			got := maxOverlap(starts, 10*time.Minute)
			assert.Equal(t, c.wantChunksInFlight, got)
			assert.LessOrEqual(t, got*c.chunk, c.maxConc)
			sort.Strings(seen)
			assert.Equal(t, omtx.BatchChildJobIDs("batch_t", 0, 10, 10), seen, "every ligand ran exactly once")
		}
	})

	t.Run("continues as new in pages and carries its counts", func(t *testing.T) {
		t.Parallel()
		e := batchEnv(t)
		prepared(e, 10)
		var starts []time.Time
		var seen []string
		chunkOK(e, time.Minute, &starts, &seen)
		in := batchInput(10, 4, 2)
		in.ChunksPerRun = 2
		e.ExecuteWorkflow(BatchWorkflow, in)

		next, ok := continuedAsNew(t, e.GetWorkflowError())
		require.True(t, ok, "%v", e.GetWorkflowError())
		require.NotNil(t, next.State)
		assert.Equal(t, 2, next.State.NextChunk)
		assert.Equal(t, 4, next.State.Completed)
		assert.True(t, next.State.Prepared)

		// Follow the chain to the end: each run starts where the last stopped.
		assert.Equal(t, omtx.Progress{Total: 10, Completed: 10}, followChain(t, next, &starts, &seen))
		sort.Strings(seen)
		assert.Equal(t, omtx.BatchChildJobIDs("batch_t", 0, 10, 10), seen)
	})

	t.Run("a failing chunk fails its ligands and the batch completes", func(t *testing.T) {
		t.Parallel()
		e := batchEnv(t)
		prepared(e, 6)
		e.OnActivity(contract.ActivityPredictChunk, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in contract.PredictChunkInput) (contract.ChunkCounts, error) {
				if in.Chunk == 1 {
					return contract.ChunkCounts{}, errors.New("cuda: device lost")
				}
				return contract.ChunkCounts{Completed: len(in.JobIDs)}, nil
			})
		var finished contract.FinishChildrenInput
		e.OnActivity(contract.ActivityFinishChildren, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in contract.FinishChildrenInput) (contract.ChunkCounts, error) {
				finished = in
				return contract.ChunkCounts{Failed: len(in.JobIDs)}, nil
			}).Once()
		e.OnActivity(contract.ActivityAggregateBatch, mock.Anything, mock.Anything).Return(contract.AggregateBatchResult{Status: omtx.StatusCompleted}, nil).Once()

		e.ExecuteWorkflow(BatchWorkflow, batchInput(6, 2, 2))
		require.NoError(t, e.GetWorkflowError())
		assert.Equal(t, omtx.StatusFailed, finished.Status)
		assert.Equal(t, omtx.BatchChildJobIDs("batch_t", 2, 4, 6), finished.JobIDs)
		assert.Contains(t, finished.Error, "device lost")
		v, err := e.QueryWorkflow(contract.QueryProgress)
		require.NoError(t, err)
		var p omtx.Progress
		require.NoError(t, v.Get(&p))
		assert.Equal(t, omtx.Progress{Total: 6, Completed: 4, Failed: 2}, p)
	})

	t.Run("filtered ligands count apart from pending", func(t *testing.T) {
		t.Parallel()
		e := batchEnv(t)
		prepared(e, 4)
		e.OnActivity(contract.ActivityPredictChunk, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in contract.PredictChunkInput) (contract.ChunkCounts, error) {
				return contract.ChunkCounts{Completed: len(in.JobIDs) - 1, Filtered: 1}, nil
			})
		e.OnActivity(contract.ActivityAggregateBatch, mock.Anything, mock.Anything).Return(contract.AggregateBatchResult{Status: omtx.StatusCompleted}, nil).Once()
		e.ExecuteWorkflow(BatchWorkflow, batchInput(4, 2, 2))
		require.NoError(t, e.GetWorkflowError())
		v, err := e.QueryWorkflow(contract.QueryProgress)
		require.NoError(t, err)
		var p omtx.Progress
		require.NoError(t, v.Get(&p))
		assert.Equal(t, omtx.Progress{Total: 4, Completed: 2, Filtered: 2}, p)
	})

	t.Run("cancel stops new work, cancels running chunks and marks the rest", func(t *testing.T) {
		t.Parallel()
		e := batchEnv(t)
		prepared(e, 20)
		var starts []time.Time
		var seen []string
		chunkOK(e, 10*time.Minute, &starts, &seen)
		e.OnActivity(contract.ActivityFinishChildren, mock.Anything, mock.MatchedBy(func(in contract.FinishChildrenInput) bool {
			return in.Status == omtx.StatusCancelled
		})).Return(func(_ context.Context, in contract.FinishChildrenInput) (contract.ChunkCounts, error) {
			return contract.ChunkCounts{Cancelled: len(in.JobIDs)}, nil
		}).Times(2)
		e.OnActivity(contract.ActivityCancelBatchRemainder, mock.Anything, contract.CancelBatchRemainderInput{BatchID: "batch_t"}).Return(contract.CancelBatchRemainderResult{Marked: 16}, nil).Once()
		e.OnActivity(contract.ActivityAggregateBatch, mock.Anything, contract.AggregateBatchInput{BatchID: "batch_t", Cancelled: true}).
			Return(contract.AggregateBatchResult{Status: omtx.StatusCancelled}, nil).Once()
		e.RegisterDelayedCallback(e.CancelWorkflow, 5*time.Minute)

		e.ExecuteWorkflow(BatchWorkflow, batchInput(20, 4, 2))
		err := e.GetWorkflowError()
		require.Error(t, err)
		assert.True(t, temporal.IsCanceledError(err), "%v", err)
		// Two chunks (the window) were running and were cancelled (FinishChildren
		// twice); none finished, and none started after the cancel.
		assert.Empty(t, starts)
	})

	t.Run("a batch cancelled before it started does nothing", func(t *testing.T) {
		t.Parallel()
		e := batchEnv(t)
		e.OnActivity(contract.ActivityPrepareBatch, mock.Anything, mock.Anything).Return(contract.PrepareBatchResult{Status: omtx.StatusCancelled}, nil).Once()
		e.ExecuteWorkflow(BatchWorkflow, batchInput(20, 4, 2))
		require.NoError(t, e.GetWorkflowError())
	})

	t.Run("progress query answers while chunks run", func(t *testing.T) {
		t.Parallel()
		e := batchEnv(t)
		prepared(e, 10)
		var starts []time.Time
		var seen []string
		chunkOK(e, 10*time.Minute, &starts, &seen)
		e.OnActivity(contract.ActivityAggregateBatch, mock.Anything, mock.Anything).Return(contract.AggregateBatchResult{}, nil).Once()
		var mid omtx.Progress
		e.RegisterDelayedCallback(func() {
			v, err := e.QueryWorkflow(contract.QueryProgress)
			require.NoError(t, err)
			require.NoError(t, v.Get(&mid))
		}, 15*time.Minute)
		e.ExecuteWorkflow(BatchWorkflow, batchInput(10, 4, 2))
		require.NoError(t, e.GetWorkflowError())
		assert.Equal(t, omtx.Progress{Total: 10, Completed: 4, Running: 4, Pending: 2}, mid)
	})
}

// continuedAsNew reports whether a batch run ended by continuing as new,
// and the input of its next run.
func continuedAsNew(t *testing.T, err error) (contract.BatchInput, bool) {
	t.Helper()
	var can *workflow.ContinueAsNewError
	if !errors.As(err, &can) {
		return contract.BatchInput{}, false
	}
	var next contract.BatchInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	return next, true
}
