package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/workflows/wfinput"
)

// Batch defaults.
const (
	// DefaultChunksPerRun bounds the chunks one run of BatchWorkflow starts
	// before it continues as new, keeping each run's history far below
	// Temporal's limits (about 7 events per chunk).
	DefaultChunksPerRun = 400
	// DefaultProgressEvery is how often the parent document's progress is
	// written while it changes.
	DefaultProgressEvery = 5 * time.Second
)

// BatchInput is BatchWorkflow's input and BatchState what a run hands to
// the next one (see package wfinput).
type (
	BatchInput = wfinput.Batch
	BatchState = wfinput.BatchState
)

// BatchResult is BatchWorkflow's result.
type BatchResult struct {
	BatchID  string
	Status   omtx.JobStatus
	Progress omtx.Progress
}

// ChunkInput is BatchChunkWorkflow's input.
type ChunkInput struct {
	BatchID    string
	Chunk      int
	JobIDs     []string
	Model      string
	Protein    string
	Parameters omtx.Parameters
	GPUClass   string
	MSA        omtx.MSARef
	Fleet      omtx.Fleet
}

// BatchWorkflow runs a virtual screen: one protein against a ligand
// library. It creates the child documents, then runs the ligands in chunks
// of batch_config.chunk_size, each chunk a BatchChunkWorkflow child whose
// GPU activity runs the whole chunk. At most max_concurrent ligands are in
// flight (a sliding window of chunks). It continues as new every
// ChunksPerRun chunks, so a batch of tens of thousands of ligands keeps each
// run's history small. A ligand that fails is recorded as failed and the
// batch goes on. Cancelling the workflow stops new chunks, cancels running
// ones and marks the rest cancelled. The final activity aggregates.
func BatchWorkflow(ctx workflow.Context, in BatchInput) (BatchResult, error) {
	p := in.Parent
	var orch *activities.Orchestration
	// failBatch records a batch that cannot run at all, so that its
	// document does not stay pending or running.
	failBatch := func(reason string) (BatchResult, error) {
		dctx, _ := workflow.NewDisconnectedContext(orchestrationCtx(ctx))
		if err := workflow.ExecuteActivity(dctx, orch.FailJob, activities.FailInput{
			JobID: p.JobID, Status: omtx.StatusFailed, Error: reason,
		}).Get(dctx, nil); err != nil {
			return BatchResult{}, fmt.Errorf("record failed batch: %w", err)
		}
		return BatchResult{BatchID: p.JobID, Status: omtx.StatusFailed}, temporal.NewNonRetryableApplicationError(reason, ErrTypeJobFailed, nil)
	}
	if p.BatchConfig == nil || p.BatchConfig.ChunkSize <= 0 || p.BatchConfig.MaxConcurrent <= 0 {
		return failBatch("batch_config with chunk_size and max_concurrent is required")
	}
	cfg := *p.BatchConfig
	class := in.GPUClass
	if class == "" {
		class = omtx.DefaultGPUClass
	}
	perRun := in.ChunksPerRun
	if perRun <= 0 {
		perRun = DefaultChunksPerRun
	}
	every := in.ProgressEvery
	if every <= 0 {
		every = DefaultProgressEvery
	}
	st := BatchState{Total: cfg.TotalLigands}
	if in.State != nil {
		st = *in.State
	}
	st.Runs++
	running := 0 // ligands in chunks now in flight
	progress := func() omtx.Progress {
		pr := omtx.Progress{Total: st.Total, Completed: st.Completed, Failed: st.Failed, Cancelled: st.Cancelled, Running: running}
		pr.Pending = pr.Total - pr.Completed - pr.Failed - pr.Cancelled - pr.Running
		return pr
	}
	if err := workflow.SetQueryHandler(ctx, omtx.QueryProgress, func() (omtx.Progress, error) {
		return progress(), nil
	}); err != nil {
		return BatchResult{}, fmt.Errorf("set query handler: %w", err)
	}
	octx := orchestrationCtx(ctx)
	longCtx := workflow.WithActivityOptions(octx, workflow.ActivityOptions{
		TaskQueue:           omtx.TaskQueueOrchestration,
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypeInvalidInput},
		},
	})

	// finishCancelled records a cancelled batch, even though ctx is done.
	finishCancelled := func() (BatchResult, error) {
		dctx, _ := workflow.NewDisconnectedContext(longCtx)
		if err := workflow.ExecuteActivity(dctx, orch.CancelBatchRemainder, activities.CancelBatchRemainderInput{BatchID: p.JobID}).Get(dctx, nil); err != nil {
			return BatchResult{}, fmt.Errorf("cancel remainder: %w", err)
		}
		var out activities.AggregateBatchOutput
		if err := workflow.ExecuteActivity(dctx, orch.AggregateBatch, activities.AggregateBatchInput{BatchID: p.JobID, Cancelled: true}).Get(dctx, &out); err != nil {
			return BatchResult{}, fmt.Errorf("aggregate cancelled batch: %w", err)
		}
		return BatchResult{BatchID: p.JobID, Status: out.Status, Progress: out.Progress}, temporal.NewCanceledError("batch cancelled")
	}

	if !st.Prepared {
		var prep activities.PrepareBatchOutput
		if err := workflow.ExecuteActivity(longCtx, orch.PrepareBatch, activities.PrepareBatchInput{Parent: p}).Get(ctx, &prep); err != nil {
			if temporal.IsCanceledError(err) {
				return finishCancelled()
			}
			return failBatch("prepare batch: " + failureReason(err))
		}
		if prep.Status.Terminal() {
			return BatchResult{BatchID: p.JobID, Status: prep.Status}, nil
		}
		st.Prepared, st.Total = true, prep.Total
	}
	if st.MSA == nil {
		// Work that depends only on the protein is done once per batch.
		ref, err := ensureMSA(ctx, p.Model, p.InputData.ProteinSequence, p.InputData)
		if err != nil {
			if temporal.IsCanceledError(err) {
				return finishCancelled()
			}
			// Without the MSA no ligand can run: fail them all (a paged
			// activity, however large the batch), then aggregate so the
			// batch ends with a clear record.
			if ferr := workflow.ExecuteActivity(longCtx, orch.CancelBatchRemainder, activities.CancelBatchRemainderInput{
				BatchID: p.JobID, Status: omtx.StatusFailed, Error: "msa: " + failureReason(err),
			}).Get(ctx, nil); ferr != nil {
				if temporal.IsCanceledError(ferr) {
					return finishCancelled()
				}
				return BatchResult{}, fmt.Errorf("fail children without msa: %w", ferr)
			}
			st.Failed, st.NextChunk = st.Total, (st.Total+cfg.ChunkSize-1)/cfg.ChunkSize
			ref = omtx.MSARef{}
		}
		st.MSA = &ref
	}

	k := cfg.ChunkSize
	chunks := (st.Total + k - 1) / k
	window := max(1, cfg.MaxConcurrent/k)
	childIDs := ids(p.JobID, st.Total)

	sel := workflow.NewSelector(ctx)
	inflight, started := 0, 0
	timerPending, dirty := false, false
	var lastSent omtx.Progress

	sendProgress := func() {
		pr := progress()
		if pr == lastSent {
			return
		}
		if err := workflow.ExecuteActivity(octx, orch.UpdateBatchProgress, activities.BatchProgressInput{BatchID: p.JobID, Progress: pr}).Get(ctx, nil); err != nil {
			// Progress is advisory; the final aggregate is authoritative.
			workflow.GetLogger(ctx).Warn("update batch progress", "batch_id", p.JobID, "error", err)
			return
		}
		lastSent = pr
	}

	for {
		for ctx.Err() == nil && inflight < window && st.NextChunk < chunks && started < perRun &&
			!workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			n := st.NextChunk
			lo, hi := n*k, min((n+1)*k, st.Total)
			size := hi - lo
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
				WorkflowID:          omtx.BatchChunkWorkflowID(p.JobID, n),
				TaskQueue:           omtx.TaskQueueOrchestration,
				WaitForCancellation: true,
				TypedSearchAttributes: temporal.NewSearchAttributes(
					temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrBatchID).ValueSet(p.JobID),
					temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrUserID).ValueSet(p.UserID),
					temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrJobType).ValueSet(string(omtx.JobTypeBatchChild)),
					temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrModel).ValueSet(p.Model),
					temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrGPUClass).ValueSet(class),
				),
			})
			jobIDs := childIDs[lo:hi]
			f := workflow.ExecuteChildWorkflow(cctx, BatchChunkWorkflow, ChunkInput{
				BatchID: p.JobID, Chunk: n, JobIDs: jobIDs, Model: p.Model,
				Protein: p.InputData.ProteinSequence, Parameters: p.InputData.Parameters, GPUClass: class,
				MSA: *st.MSA, Fleet: in.Fleet,
			})
			sel.AddFuture(f, func(f workflow.Future) {
				var c activities.ChunkCounts
				if err := f.Get(ctx, &c); err != nil {
					// The chunk workflow records its own failures; this is
					// a chunk that could not run at all. Fail its ligands
					// so that none is lost.
					c = failChunk(ctx, orch, jobIDs, err)
				}
				st.Completed += c.Completed
				st.Failed += c.Failed
				st.Cancelled += c.Cancelled
				running -= size
				inflight--
				dirty = true
			})
			st.NextChunk++
			started++
			inflight++
			running += size
			dirty = true
		}
		if inflight == 0 {
			break
		}
		if dirty && !timerPending && ctx.Err() == nil {
			timerPending, dirty = true, false
			sel.AddFuture(workflow.NewTimer(ctx, every), func(f workflow.Future) {
				timerPending = false
				if f.Get(ctx, nil) == nil {
					sendProgress()
				}
			})
		}
		sel.Select(ctx)
	}

	if ctx.Err() != nil {
		return finishCancelled()
	}
	if st.NextChunk < chunks {
		next := in
		next.State = &st
		return BatchResult{}, workflow.NewContinueAsNewError(ctx, BatchWorkflow, next)
	}
	// Every ligand is done: a cancel arriving now changes nothing, so the
	// final aggregate runs to the end regardless.
	var out activities.AggregateBatchOutput
	dctx, _ := workflow.NewDisconnectedContext(longCtx)
	if err := workflow.ExecuteActivity(dctx, orch.AggregateBatch, activities.AggregateBatchInput{BatchID: p.JobID}).Get(dctx, &out); err != nil {
		return BatchResult{}, fmt.Errorf("aggregate batch: %w", err)
	}
	return BatchResult{BatchID: p.JobID, Status: out.Status, Progress: out.Progress}, nil
}

// ids lists a batch's child job ids (deterministic).
func ids(batchID string, total int) []string { return activities.ChildJobIDs(batchID, total) }

// failChunk marks the ligands of a chunk whose workflow failed outright.
func failChunk(ctx workflow.Context, orch *activities.Orchestration, jobIDs []string, cause error) activities.ChunkCounts {
	status, reason := omtx.StatusFailed, "chunk failed: "+failureReason(cause)
	if temporal.IsCanceledError(cause) {
		status, reason = omtx.StatusCancelled, "batch cancelled"
	}
	dctx, _ := workflow.NewDisconnectedContext(orchestrationCtx(ctx))
	var c activities.ChunkCounts
	if err := workflow.ExecuteActivity(dctx, orch.FinishChildren, activities.FinishChildrenInput{
		JobIDs: jobIDs, Status: status, Error: reason,
	}).Get(dctx, &c); err != nil {
		workflow.GetLogger(ctx).Error("finish children of a failed chunk", "error", err)
	}
	return c
}

// BatchChunkWorkflow runs one chunk of a batch: one GPU activity for all its
// ligands, retried with backoff; heartbeats let a retried attempt resume
// after the last finished ligand. If the GPU work fails for good (or is
// cancelled), the chunk's unfinished ligands are recorded as failed (or
// cancelled). It returns the chunk's ligands counted by final status.
func BatchChunkWorkflow(ctx workflow.Context, in ChunkInput) (activities.ChunkCounts, error) {
	var gpu *activities.GPU
	var orch *activities.Orchestration
	var counts activities.ChunkCounts
	class := in.GPUClass
	var err error
	for {
		err = workflow.ExecuteActivity(gpuCtx(ctx, class), gpu.PredictChunk, activities.PredictChunkInput{
			BatchID: in.BatchID, Chunk: in.Chunk, JobIDs: in.JobIDs, Model: in.Model,
			Protein: in.Protein, Parameters: in.Parameters, MSA: in.MSA,
		}).Get(ctx, &counts)
		if err == nil {
			return counts, nil
		}
		if !activities.IsOutOfMemory(err) {
			break
		}
		next, ok, rerr := rerouteOnOOM(ctx, in.Fleet, class, in.JobIDs)
		if rerr != nil {
			return counts, rerr
		}
		if !ok {
			break
		}
		class = next
	}
	status, reason := omtx.StatusFailed, failureReason(err)
	if ctx.Err() != nil || temporal.IsCanceledError(err) || activities.IsCancelled(err) {
		status, reason = omtx.StatusCancelled, "batch cancelled"
	}
	dctx, _ := workflow.NewDisconnectedContext(orchestrationCtx(ctx))
	if err := workflow.ExecuteActivity(dctx, orch.FinishChildren, activities.FinishChildrenInput{
		JobIDs: in.JobIDs, Status: status, Error: reason,
	}).Get(dctx, &counts); err != nil {
		return counts, fmt.Errorf("finish chunk: %w", err)
	}
	return counts, nil
}
