package workflows

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// sideTest runs a workflow on one side of a change id (newSide false: as a
// history that predates the change replays it) and checks the behaviour of
// that side.
type sideTest func(t *testing.T, e *testsuite.TestWorkflowEnvironment, newSide bool)

// bothSides has one sideTest per change id of versions.go.
var bothSides = map[string]sideTest{
	versionInterruptionBudget: interruptionBudgetSides,
	versionFailBatchChildren:  failBatchChildrenSides,
	versionChunkFailureFatal:  chunkFailureFatalSides,
	versionNotify:             notifySides,
	versionLocalJobWrites:     localJobWritesSides,
	versionAdvisoryProgress:   advisoryProgressSides,
	versionResultCache:        resultCacheSides,
}

// ChangesTestedBothSides lists the change ids that TestEveryChangeBothSides
// runs on both sides (for the replay gate in package workflows_test).
func ChangesTestedBothSides() []string {
	ids := make([]string, 0, len(bothSides))
	for id := range bothSides {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// ChangeIDs parses the change ids declared in versions.go.
func ChangeIDs(t *testing.T) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "versions.go", nil, 0)
	require.NoError(t, err)
	var ids []string
	ast.Inspect(f, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok {
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				require.True(t, ok && lit.Kind == token.STRING, "versions.go: %s is not a string literal", vs.Names[0].Name)
				id, err := strconv.Unquote(lit.Value)
				require.NoError(t, err)
				ids = append(ids, id)
			}
		}
		return true
	})
	require.NotEmpty(t, ids)
	slices.Sort(ids)
	return ids
}

// TestEveryChangeBothSides runs each change id of versions.go with its old
// side forced (GetVersion returns DefaultVersion, as in a history recorded
// before the change) and with its new side, and checks that they differ as
// the change says.
func TestEveryChangeBothSides(t *testing.T) {
	t.Parallel()
	require.Equal(t, ChangeIDs(t), ChangesTestedBothSides(), "every change id in versions.go needs a sideTest in bothSides")
	for id, run := range bothSides {
		for _, newSide := range []bool{false, true} {
			name := id + "/old"
			if newSide {
				name = id + "/new"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := env(t)
				if !newSide {
					e.OnGetVersion(id, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
				}
				run(t, e, newSide)
			})
		}
	}
}

// count counts a mocked activity's calls.
func count(n *int) func(mock.Arguments) {
	return func(mock.Arguments) { *n++ }
}

// interruptionBudgetSides: a GPU activity interrupted by a worker stop
// runs again (new), or fails the job (old).
func interruptionBudgetSides(t *testing.T, e *testsuite.TestWorkflowEnvironment, newSide bool) {
	e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil)
	e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).Return(contract.PredictResult{},
		contract.NonRetryable(contract.ErrTypeInterrupted, "worker stopped", nil)).Once()
	e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).Return(contract.PredictResult{}, nil).Maybe()
	e.OnActivity(contract.ActivityFinalizeJob, mock.Anything, mock.Anything).Return(contract.FinalizeJobResult{}, nil).Maybe()
	failed := 0
	e.OnActivity(contract.ActivityFailJob, mock.Anything, mock.Anything).Run(count(&failed)).Return(contract.FailJobResult{}, nil).Maybe()
	e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: testJob()})
	if newSide {
		require.NoError(t, e.GetWorkflowError(), "the interrupted prediction ran again")
		assert.Zero(t, failed)
		return
	}
	require.Error(t, e.GetWorkflowError(), "before the change an interruption failed the job")
	assert.Equal(t, 1, failed)
}

// failBatchChildrenSides: a batch that cannot run fails the children
// created so far (new), or leaves them (old).
func failBatchChildrenSides(t *testing.T, e *testsuite.TestWorkflowEnvironment, newSide bool) {
	e.OnActivity(contract.ActivityPrepareBatch, mock.Anything, mock.Anything).Return(contract.PrepareBatchResult{},
		contract.NonRetryable(contract.ErrTypePermanent, "create children: refused", nil)).Once()
	marked := 0
	e.OnActivity(contract.ActivityCancelBatchRemainder, mock.Anything, mock.MatchedBy(func(in contract.CancelBatchRemainderInput) bool {
		return in.Status == omtx.StatusFailed
	})).Run(count(&marked)).Return(contract.CancelBatchRemainderResult{}, nil).Maybe()
	e.OnActivity(contract.ActivityFailJob, mock.Anything, mock.Anything).Return(contract.FailJobResult{}, nil).Once()
	e.ExecuteWorkflow(BatchWorkflow, batchInput(10, 4, 2))
	require.True(t, contract.IsType(e.GetWorkflowError(), contract.ErrTypeJobFailed), "%v", e.GetWorkflowError())
	assert.Equal(t, map[bool]int{false: 0, true: 1}[newSide], marked, "CancelBatchRemainder(failed) runs on the new side only")
}

// chunkFailureFatalSides: a chunk whose ligands cannot be recorded fails
// the batch (new), or is left uncounted and the batch aggregates (old).
func chunkFailureFatalSides(t *testing.T, e *testsuite.TestWorkflowEnvironment, newSide bool) {
	e.OnActivity(contract.ActivityUpdateBatchProgress, mock.Anything, mock.Anything).Return(contract.BatchProgressResult{}, nil).Maybe()
	prepared(e, 2)
	e.OnActivity(contract.ActivityPredictChunk, mock.Anything, mock.Anything).Return(contract.ChunkCounts{},
		contract.NonRetryable(contract.ErrTypePermanent, "boom", nil))
	e.OnActivity(contract.ActivityFinishChildren, mock.Anything, mock.Anything).Return(contract.ChunkCounts{},
		contract.NonRetryable(contract.ErrTypePermanent, "firestore refused", nil))
	aggregated := 0
	e.OnActivity(contract.ActivityAggregateBatch, mock.Anything, mock.Anything).Run(count(&aggregated)).Return(contract.AggregateBatchResult{Status: omtx.StatusCompleted}, nil).Maybe()
	e.ExecuteWorkflow(BatchWorkflow, batchInput(2, 2, 2))
	if newSide {
		require.ErrorContains(t, e.GetWorkflowError(), "record the ligands of a failed chunk")
		assert.Zero(t, aggregated)
		return
	}
	require.NoError(t, e.GetWorkflowError())
	assert.Equal(t, 1, aggregated)
}

// notifySides: a job with a notify_url starts a webhook (new), or none
// (old).
func notifySides(t *testing.T, e *testsuite.TestWorkflowEnvironment, newSide bool) {
	job := testJob()
	job.NotifyURL, job.KeyID = "https://hooks.example.org/x", "abcd"
	e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil)
	e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).Return(contract.PredictResult{}, nil)
	e.OnActivity(contract.ActivityFinalizeJob, mock.Anything, mock.Anything).Return(contract.FinalizeJobResult{}, nil)
	sent := 0
	e.OnActivity(contract.ActivityNotify, mock.Anything, mock.Anything).Run(count(&sent)).Return(contract.NotifyResult{Delivered: true}, nil).Maybe()
	e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: job})
	require.NoError(t, e.GetWorkflowError())
	assert.Equal(t, map[bool]int{false: 0, true: 1}[newSide], sent, "the webhook is sent on the new side only")
}

// localJobWritesSides: AcceptJob and FinalizeJob run as local activities
// (new), or as activity tasks (old).
func localJobWritesSides(t *testing.T, e *testsuite.TestWorkflowEnvironment, newSide bool) {
	// Before the result cache, as the histories this change covers were.
	e.OnGetVersion(versionResultCache, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	var local, tasks []string
	e.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		local = append(local, info.ActivityType.Name)
	})
	e.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		tasks = append(tasks, info.ActivityType.Name)
	})
	e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil).Once()
	e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).Return(contract.PredictResult{}, nil).Once()
	e.OnActivity(contract.ActivityFinalizeJob, mock.Anything, mock.Anything).Return(contract.FinalizeJobResult{}, nil).Once()
	e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: testJob()})
	require.NoError(t, e.GetWorkflowError())
	writes := []string{contract.ActivityAcceptJob, contract.ActivityFinalizeJob}
	if newSide {
		assert.Equal(t, writes, local)
		assert.Equal(t, []string{contract.ActivityPredict}, tasks)
		return
	}
	assert.Empty(t, local)
	assert.Equal(t, []string{contract.ActivityAcceptJob, contract.ActivityPredict, contract.ActivityFinalizeJob}, tasks)
}

// advisoryProgressSides: a slow progress write holds up the next chunk
// (old: the write runs inside the timer's callback), or runs beside the
// chunks (new). Chunks of one ligand run one at a time for chunkRun; the
// first progress write starts at the first tick and lasts writeRun, past
// the first chunk's end.
func advisoryProgressSides(t *testing.T, e *testsuite.TestWorkflowEnvironment, newSide bool) {
	const chunkRun, writeRun = 10 * time.Second, 8 * time.Second
	prepared(e, 2)
	var chunkEnds, writeEnds []time.Time
	e.OnActivity(contract.ActivityPredictChunk, mock.Anything, mock.Anything).After(chunkRun).Return(
		func(_ context.Context, in contract.PredictChunkInput) (contract.ChunkCounts, error) {
			chunkEnds = append(chunkEnds, e.Now())
			return contract.ChunkCounts{Completed: len(in.JobIDs)}, nil
		})
	e.OnActivity(contract.ActivityUpdateBatchProgress, mock.Anything, mock.Anything).After(writeRun).Return(
		func(context.Context, contract.BatchProgressInput) (contract.BatchProgressResult, error) {
			writeEnds = append(writeEnds, e.Now())
			return contract.BatchProgressResult{}, nil
		})
	e.OnActivity(contract.ActivityAggregateBatch, mock.Anything, mock.Anything).Return(contract.AggregateBatchResult{Status: omtx.StatusCompleted}, nil).Once()
	in := batchInput(2, 1, 1)
	in.ProgressEvery = 5 * time.Second
	e.ExecuteWorkflow(BatchWorkflow, in)
	require.NoError(t, e.GetWorkflowError())
	require.Len(t, chunkEnds, 2)
	require.NotEmpty(t, writeEnds)
	secondStarted := chunkEnds[1].Add(-chunkRun)
	if newSide {
		assert.True(t, secondStarted.Before(writeEnds[0]), "the second chunk started while the first write was in flight")
		return
	}
	assert.False(t, secondStarted.Before(writeEnds[0]), "before the change the second chunk waited for the write")
}

// TestProgressWritesOneAtATimeLatestWins: with writes slower than the
// progress ticks, at most one write is in flight, the state a tick found
// meanwhile is written as soon as it ends, no write carries an older state
// than the one before it, and the chunks run back to back.
func TestProgressWritesOneAtATimeLatestWins(t *testing.T) {
	t.Parallel()
	const chunkRun, writeRun = 3 * time.Second, 8 * time.Second
	e := env(t)
	prepared(e, 8)
	var chunkEnds []time.Time
	e.OnActivity(contract.ActivityPredictChunk, mock.Anything, mock.Anything).After(chunkRun).Return(
		func(_ context.Context, in contract.PredictChunkInput) (contract.ChunkCounts, error) {
			chunkEnds = append(chunkEnds, e.Now())
			return contract.ChunkCounts{Completed: len(in.JobIDs)}, nil
		})
	type write struct {
		start, end time.Time
		completed  int
	}
	var writes []write
	e.OnActivity(contract.ActivityUpdateBatchProgress, mock.Anything, mock.Anything).After(writeRun).Return(
		func(_ context.Context, in contract.BatchProgressInput) (contract.BatchProgressResult, error) {
			writes = append(writes, write{e.Now().Add(-writeRun), e.Now(), in.Progress.Completed})
			return contract.BatchProgressResult{}, nil
		})
	e.OnActivity(contract.ActivityAggregateBatch, mock.Anything, mock.Anything).Return(contract.AggregateBatchResult{Status: omtx.StatusCompleted}, nil).Once()
	in := batchInput(8, 1, 1)
	in.ProgressEvery = time.Second
	e.ExecuteWorkflow(BatchWorkflow, in)
	require.NoError(t, e.GetWorkflowError())
	require.Greater(t, len(writes), 1)
	for i := 1; i < len(writes); i++ {
		assert.Equal(t, writes[i-1].end, writes[i].start, "write %d, of the state a tick found while write %d was in flight, started as it ended", i, i-1)
		assert.Greater(t, writes[i].completed, writes[i-1].completed, "write %d carries a newer state than write %d", i, i-1)
	}
	require.Len(t, chunkEnds, 8)
	for i := 1; i < len(chunkEnds); i++ {
		assert.Equal(t, chunkRun, chunkEnds[i].Sub(chunkEnds[i-1]), "chunk %d started as chunk %d ended", i, i-1)
	}
}

// resultCacheSides: a prediction the cache holds completes with no MSA
// and no GPU activity, and a batch starts no chunk whose children were all
// terminal when prepared (new); or the cache is not asked, and every chunk
// runs (old).
func resultCacheSides(t *testing.T, e *testsuite.TestWorkflowEnvironment, newSide bool) {
	cached := omtx.Results{Model: omtx.BaselineModel, AffinityPredValue: -2, CacheHit: true, CacheSourceJobID: "job_src"}
	e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil).Once()
	looked, predicted := 0, 0
	e.OnActivity(contract.ActivityLookupResult, mock.Anything, mock.Anything).Run(count(&looked)).
		Return(contract.LookupResultResult{Hit: true, Results: cached}, nil).Maybe()
	e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).Run(count(&predicted)).
		Return(contract.PredictResult{Results: omtx.Results{Model: omtx.BaselineModel, AffinityPredValue: 1}}, nil).Maybe()
	var final contract.FinalizeJobInput
	e.OnActivity(contract.ActivityFinalizeJob, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.FinalizeJobInput) (contract.FinalizeJobResult, error) {
			final = in
			return contract.FinalizeJobResult{}, nil
		}).Once()
	e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: testJob()})
	require.NoError(t, e.GetWorkflowError())
	if newSide {
		assert.Equal(t, 1, looked)
		assert.Zero(t, predicted, "a hit runs no GPU activity")
		assert.Equal(t, cached, final.Results)
	} else {
		assert.Zero(t, looked, "before the change the cache is not asked")
		assert.Equal(t, 1, predicted)
		assert.False(t, final.Results.CacheHit)
	}

	// A batch of 5 chunks of 2 whose chunks 0, 1 and 3 were all terminal
	// when prepared (cache hits; chunk 3 holds an invalid row).
	b := batchEnv(t)
	if !newSide {
		b.OnGetVersion(versionResultCache, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	}
	b.OnActivity(contract.ActivityPrepareBatch, mock.Anything, mock.Anything).Return(contract.PrepareBatchResult{
		Status: omtx.StatusRunning, Total: 10, CacheHits: 5, Invalid: 1,
		TerminalChunks:    []contract.ChunkRange{{From: 0, To: 2}, {From: 3, To: 4}},
		TerminalCompleted: 5, TerminalFailed: 1,
	}, nil).Once()
	var starts []time.Time
	var seen []string
	chunkOK(b, time.Second, &starts, &seen)
	b.OnActivity(contract.ActivityAggregateBatch, mock.Anything, mock.Anything).Return(contract.AggregateBatchResult{Status: omtx.StatusCompleted}, nil).Once()
	b.ExecuteWorkflow(BatchWorkflow, batchInput(10, 4, 2))
	require.NoError(t, b.GetWorkflowError())
	var res contract.BatchResult
	require.NoError(t, b.GetWorkflowResult(&res))
	if newSide {
		want := append(omtx.BatchChildJobIDs("batch_t", 4, 6, 10), omtx.BatchChildJobIDs("batch_t", 8, 10, 10)...)
		assert.ElementsMatch(t, want, seen, "chunks 2 and 4 run; chunks 0, 1 and 3 never reach the GPU")
		return
	}
	assert.ElementsMatch(t, omtx.BatchChildJobIDs("batch_t", 0, 10, 10), seen, "before the change every chunk runs")
}
