package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
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

// BatchWorkflow runs a virtual screen: one protein against a ligand
// library. It creates the child documents, then runs the ligands in chunks
// of batch_config.chunk_size, each chunk a BatchChunkWorkflow child whose
// GPU activity runs the whole chunk. At most max_concurrent ligands are in
// flight (a sliding window of chunks). It continues as new every
// ChunksPerRun chunks (or when Temporal suggests it), so a batch of a
// hundred thousand ligands keeps each run's history small. A ligand that
// fails is recorded as failed and the batch goes on. Cancelling the
// workflow stops new chunks, cancels running ones and marks the rest
// cancelled. The final activity aggregates.
func BatchWorkflow(ctx workflow.Context, in contract.BatchInput) (contract.BatchResult, error) {
	spec := in.Parent
	// failBatch records a batch that cannot run at all, with the children
	// created so far, so that no document stays pending or running.
	failBatch := func(reason, cause string) (contract.BatchResult, error) {
		dctx, _ := workflow.NewDisconnectedContext(longCtx(ctx))
		if workflow.GetVersion(dctx, versionFailBatchChildren, workflow.DefaultVersion, 1) == 1 {
			if err := workflow.ExecuteActivity(dctx, contract.ActivityCancelBatchRemainder, contract.CancelBatchRemainderInput{
				BatchID: spec.JobID, Status: omtx.StatusFailed, Error: "batch failed: " + reason,
			}).Get(dctx, nil); err != nil {
				return contract.BatchResult{}, fmt.Errorf("fail children of a failed batch: %w", err)
			}
		}
		if err := workflow.ExecuteActivity(orchestrationCtx(dctx), contract.ActivityFailJob, contract.FailJobInput{
			JobID: spec.JobID, Status: omtx.StatusFailed, Error: reason, Cause: cause,
		}).Get(dctx, nil); err != nil {
			return contract.BatchResult{}, fmt.Errorf("record failed batch: %w", err)
		}
		notify(dctx, &spec, contract.NotifyInput{Status: omtx.StatusFailed, Error: reason})
		return contract.BatchResult{BatchID: spec.JobID, Status: omtx.StatusFailed},
			temporal.NewNonRetryableApplicationError(reason, contract.ErrTypeJobFailed, nil)
	}
	if spec.BatchConfig == nil || spec.BatchConfig.ChunkSize <= 0 || spec.BatchConfig.MaxConcurrent <= 0 {
		return failBatch("batch_config with chunk_size and max_concurrent is required", omtx.CauseSystem)
	}
	cfg := *spec.BatchConfig
	class := in.GPUClass
	if class == "" {
		class = spec.GPUClass()
	}
	perRun := in.ChunksPerRun
	if perRun <= 0 {
		perRun = DefaultChunksPerRun
	}
	every := in.ProgressEvery
	if every <= 0 {
		every = DefaultProgressEvery
	}
	st := contract.BatchState{Total: cfg.TotalLigands}
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
	if err := workflow.SetQueryHandler(ctx, contract.QueryProgress, func() (omtx.Progress, error) {
		return progress(), nil
	}); err != nil {
		return contract.BatchResult{}, fmt.Errorf("set query handler: %w", err)
	}
	octx, lctx := orchestrationCtx(ctx), longCtx(ctx)

	// aggregate runs the final activity, even when ctx is cancelled, and
	// sends the webhook.
	aggregate := func(cancelled bool) (contract.BatchResult, error) {
		dctx, _ := workflow.NewDisconnectedContext(lctx)
		var out contract.AggregateBatchResult
		if err := workflow.ExecuteActivity(dctx, contract.ActivityAggregateBatch, contract.AggregateBatchInput{
			BatchID: spec.JobID, Cancelled: cancelled,
		}).Get(dctx, &out); err != nil {
			return contract.BatchResult{}, fmt.Errorf("aggregate batch: %w", err)
		}
		notify(dctx, &spec, contract.NotifyInput{Status: out.Status, Progress: &out.Progress, Best: out.Best})
		res := contract.BatchResult{BatchID: spec.JobID, Status: out.Status, Progress: out.Progress}
		if cancelled {
			return res, temporal.NewCanceledError("batch cancelled")
		}
		return res, nil
	}
	// finishCancelled records a cancelled batch, even though ctx is done.
	finishCancelled := func() (contract.BatchResult, error) {
		dctx, _ := workflow.NewDisconnectedContext(lctx)
		if err := workflow.ExecuteActivity(dctx, contract.ActivityCancelBatchRemainder,
			contract.CancelBatchRemainderInput{BatchID: spec.JobID}).Get(dctx, nil); err != nil {
			return contract.BatchResult{}, fmt.Errorf("cancel remainder: %w", err)
		}
		return aggregate(true)
	}

	if !st.Prepared {
		var prep contract.PrepareBatchResult
		if err := workflow.ExecuteActivity(lctx, contract.ActivityPrepareBatch, contract.PrepareBatchInput{Parent: spec}).Get(ctx, &prep); err != nil {
			if temporal.IsCanceledError(err) {
				return finishCancelled()
			}
			return failBatch("prepare batch: "+failureReason(err), causeOf(err))
		}
		if prep.Status.Terminal() {
			return contract.BatchResult{BatchID: spec.JobID, Status: prep.Status}, nil
		}
		st.Prepared, st.Total = true, prep.Total
	}
	if st.MSA == nil {
		// Work that depends only on the protein is done once per batch.
		ref, err := ensureMSA(ctx, spec.Model, spec.InputData)
		if err != nil {
			if temporal.IsCanceledError(err) {
				return finishCancelled()
			}
			// Without the MSA no ligand can run: fail them all (a paged
			// activity, however large the batch), then aggregate so the
			// batch ends with a clear record.
			if ferr := workflow.ExecuteActivity(lctx, contract.ActivityCancelBatchRemainder, contract.CancelBatchRemainderInput{
				BatchID: spec.JobID, Status: omtx.StatusFailed, Error: "msa: " + failureReason(err),
			}).Get(ctx, nil); ferr != nil {
				if temporal.IsCanceledError(ferr) {
					return finishCancelled()
				}
				return contract.BatchResult{}, fmt.Errorf("fail children without msa: %w", ferr)
			}
			st.Failed, st.NextChunk = st.Total, (st.Total+cfg.ChunkSize-1)/cfg.ChunkSize
			ref = omtx.MSARef{}
		}
		st.MSA = &ref
	}

	k := cfg.ChunkSize
	chunks := (st.Total + k - 1) / k
	window := max(1, cfg.MaxConcurrent/k)

	sel := workflow.NewSelector(ctx)
	inflight, started := 0, 0
	timerPending, dirty := false, false
	var lastSent omtx.Progress
	var fatal error

	sendProgress := func() {
		pr := progress()
		if pr == lastSent {
			return
		}
		if err := workflow.ExecuteActivity(octx, contract.ActivityUpdateBatchProgress,
			contract.BatchProgressInput{BatchID: spec.JobID, Progress: pr}).Get(ctx, nil); err != nil {
			// Progress is advisory; the final aggregate is authoritative.
			workflow.GetLogger(ctx).Warn("update batch progress", "batch_id", spec.JobID, "error", err)
			return
		}
		lastSent = pr
	}

	for {
		for fatal == nil && ctx.Err() == nil && inflight < window && st.NextChunk < chunks && started < perRun &&
			!workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			n := st.NextChunk
			lo, hi := n*k, min((n+1)*k, st.Total)
			size := hi - lo
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
				WorkflowID:            contract.BatchChunkWorkflowID(spec.JobID, n),
				TaskQueue:             contract.TaskQueueOrchestration,
				WaitForCancellation:   true,
				TypedSearchAttributes: contract.SearchAttributes(&spec, omtx.JobTypeBatchChild, class),
			})
			jobIDs := omtx.BatchChildJobIDs(spec.JobID, lo, hi, st.Total)
			f := workflow.ExecuteChildWorkflow(cctx, contract.WorkflowBatchChunk, contract.ChunkInput{
				BatchID: spec.JobID, Chunk: n, JobIDs: jobIDs, Model: spec.Model,
				Protein: spec.InputData.ProteinSequence, Parameters: spec.InputData.Parameters, GPUClass: class,
				MSA: *st.MSA, Fleet: in.Fleet,
				TargetID: spec.InputData.TargetID, // data only, same commands: no GetVersion
			})
			sel.AddFuture(f, func(f workflow.Future) {
				var c contract.ChunkCounts
				if err := f.Get(ctx, &c); err != nil {
					// The chunk workflow records its own failures; this is
					// a chunk that could not run at all. Fail its ligands
					// so that none is lost.
					var ferr error
					c, ferr = failChunk(ctx, jobIDs, err)
					if ferr != nil && fatal == nil {
						fatal = ferr
					}
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

	if fatal != nil {
		// Firestore refused the chunk's record for the whole retry budget:
		// end visibly, so that operators see it (reconcile repairs the
		// record once Firestore is back).
		return contract.BatchResult{}, fatal
	}
	if ctx.Err() != nil {
		return finishCancelled()
	}
	if st.NextChunk < chunks {
		next := in
		next.State = &st
		return contract.BatchResult{}, workflow.NewContinueAsNewError(ctx, contract.WorkflowBatch, next)
	}
	// Every ligand is done: a cancel arriving now changes nothing, so the
	// final aggregate runs to the end regardless.
	return aggregate(false)
}

// failChunk marks the ligands of a chunk whose workflow failed outright,
// and counts them. Its error means the ligands could not be recorded.
func failChunk(ctx workflow.Context, jobIDs []string, cause error) (contract.ChunkCounts, error) {
	status, reason := omtx.StatusFailed, "chunk failed: "+failureReason(cause)
	if temporal.IsCanceledError(cause) {
		status, reason = omtx.StatusCancelled, "batch cancelled"
	}
	dctx, _ := workflow.NewDisconnectedContext(orchestrationCtx(ctx))
	var c contract.ChunkCounts
	err := workflow.ExecuteActivity(dctx, contract.ActivityFinishChildren, contract.FinishChildrenInput{
		JobIDs: jobIDs, Status: status, Error: reason,
	}).Get(dctx, &c)
	if err == nil {
		return c, nil
	}
	workflow.GetLogger(ctx).Error("finish children of a failed chunk", "error", err)
	if workflow.GetVersion(ctx, versionChunkFailureFatal, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return c, nil
	}
	return c, fmt.Errorf("record the ligands of a failed chunk: %w", err)
}

// BatchChunkWorkflow runs one chunk of a batch: one GPU activity for all its
// ligands, retried with backoff, run again elsewhere when its worker stops,
// and rerouted to a larger GPU class when it runs out of memory. A retried
// attempt runs only the ligands whose documents are not yet terminal. If
// the GPU work fails for good (or is cancelled), the chunk's unfinished
// ligands are recorded as failed (or cancelled). It returns the chunk's
// ligands counted by final status.
func BatchChunkWorkflow(ctx workflow.Context, in contract.ChunkInput) (contract.ChunkCounts, error) {
	var counts contract.ChunkCounts
	class := in.GPUClass
	var err error
	for {
		err = runGPU(ctx, class, contract.ActivityPredictChunk, contract.PredictChunkInput{
			BatchID: in.BatchID, Chunk: in.Chunk, JobIDs: in.JobIDs, Model: in.Model,
			Protein: in.Protein, Parameters: in.Parameters, MSA: in.MSA,
			TargetID: in.TargetID, // data only, same commands: no GetVersion
		}, &counts)
		if err == nil {
			return counts, nil
		}
		if !contract.IsType(err, contract.ErrTypeOutOfMemory) {
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
	if ctx.Err() != nil || temporal.IsCanceledError(err) || contract.IsType(err, contract.ErrTypeCancelled) {
		status, reason = omtx.StatusCancelled, "batch cancelled"
	}
	dctx, _ := workflow.NewDisconnectedContext(orchestrationCtx(ctx))
	if err := workflow.ExecuteActivity(dctx, contract.ActivityFinishChildren, contract.FinishChildrenInput{
		JobIDs: in.JobIDs, Status: status, Error: reason,
	}).Get(dctx, &counts); err != nil {
		return counts, fmt.Errorf("finish chunk: %w", err)
	}
	return counts, nil
}
