package workflows

import (
	"errors"
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
	b := newBatch(ctx, in)
	cfg := in.Parent.BatchConfig
	if cfg == nil || cfg.ChunkSize <= 0 || cfg.MaxConcurrent <= 0 {
		return b.fail("batch_config with chunk_size and max_concurrent is required", omtx.CauseSystem)
	}
	b.cfg = *cfg
	if err := workflow.SetQueryHandler(ctx, contract.QueryProgress, func() (omtx.Progress, error) {
		return b.progress(), nil
	}); err != nil {
		return contract.BatchResult{}, fmt.Errorf("set query handler: %w", err)
	}
	return b.end(b.run())
}

// batch is one run of BatchWorkflow. st is what the next run carries on;
// the rest lives for this run only.
type batch struct {
	ctx   workflow.Context
	in    contract.BatchInput
	spec  contract.JobSpec
	cfg   omtx.BatchConfig
	class string // the GPU class its chunks start on
	st    contract.BatchState
	// running counts the ligands in chunks now in flight; inflight the
	// chunks, and started the chunks this run has started.
	running, inflight, started int
	sel                        workflow.Selector
	// fatal is a chunk whose ligands could not be recorded: the batch
	// stops (versionChunkFailureFatal).
	fatal  error
	writer progressWriter
}

func newBatch(ctx workflow.Context, in contract.BatchInput) *batch {
	b := &batch{ctx: ctx, in: in, spec: in.Parent, class: in.GPUClass}
	if b.class == "" {
		b.class = b.spec.GPUClass()
	}
	if in.Parent.BatchConfig != nil {
		b.st.Total = in.Parent.BatchConfig.TotalLigands
	}
	if in.State != nil {
		b.st = *in.State
	}
	b.st.Runs++
	b.writer.every = in.ProgressEvery
	if b.writer.every <= 0 {
		b.writer.every = DefaultProgressEvery
	}
	return b
}

// progress is the batch's progress now.
func (b *batch) progress() omtx.Progress {
	pr := omtx.Progress{Total: b.st.Total, Completed: b.st.Completed, Failed: b.st.Failed, Cancelled: b.st.Cancelled, Filtered: b.st.Filtered, Running: b.running}
	pr.Pending = pr.Total - pr.Completed - pr.Failed - pr.Cancelled - pr.Filtered - pr.Running
	return pr
}

// Ends of a batch run other than aggregating a finished batch; end turns
// each into the workflow's outcome.
var (
	// errBatchCancelled: the workflow was cancelled.
	errBatchCancelled = errors.New("batch cancelled")
)

// batchFailed is a batch that cannot run at all.
type batchFailed struct{ reason, cause string }

func (e *batchFailed) Error() string { return e.reason }

// batchEnded is a batch whose document was already terminal when it was
// prepared (cancelled before it started).
type batchEnded struct{ status omtx.JobStatus }

func (e *batchEnded) Error() string { return "batch already " + string(e.status) }

// run is the batch's phases in order: prepare the children, get the MSA,
// run the chunks. nil means every ligand is done.
func (b *batch) run() error {
	if err := b.prepare(); err != nil {
		return err
	}
	if err := b.ensureMSA(); err != nil {
		return err
	}
	return b.runChunks()
}

// end turns run's outcome into the workflow's: aggregate a finished
// batch, record a cancelled or failed one; a continue-as-new or any other
// error is returned as it is.
func (b *batch) end(err error) (contract.BatchResult, error) {
	var failed *batchFailed
	var ended *batchEnded
	switch {
	case err == nil:
		// Every ligand is done: a cancel arriving now changes nothing, so
		// the final aggregate runs to the end regardless.
		return b.aggregate(false)
	case errors.Is(err, errBatchCancelled):
		return b.finishCancelled()
	case errors.As(err, &failed):
		return b.fail(failed.reason, failed.cause)
	case errors.As(err, &ended):
		return contract.BatchResult{BatchID: b.spec.JobID, Status: ended.status}, nil
	}
	return contract.BatchResult{}, err
}

// prepare creates the child documents, once per batch.
func (b *batch) prepare() error {
	if b.st.Prepared {
		return nil
	}
	var prep contract.PrepareBatchResult
	if err := workflow.ExecuteActivity(longCtx(b.ctx), contract.ActivityPrepareBatch, contract.PrepareBatchInput{Parent: b.spec}).Get(b.ctx, &prep); err != nil {
		if temporal.IsCanceledError(err) {
			return errBatchCancelled
		}
		return &batchFailed{reason: "prepare batch: " + failureReason(err), cause: failureCause(err)}
	}
	if prep.Status.Terminal() {
		return &batchEnded{status: prep.Status}
	}
	b.st.Prepared, b.st.Total = true, prep.Total
	if len(prep.TerminalChunks) > 0 && workflow.GetVersion(b.ctx, versionResultCache, workflow.DefaultVersion, 1) == 1 {
		// Counted now; runChunks never starts them.
		b.st.Skip = prep.TerminalChunks
		b.st.Completed += prep.TerminalCompleted
		b.st.Failed += prep.TerminalFailed
	}
	return nil
}

// skip reports whether chunk n is one whose children were all terminal
// when created (versionResultCache), and drops the ranges before it.
func (b *batch) skip(n int) bool {
	for len(b.st.Skip) > 0 && b.st.Skip[0].To <= n {
		b.st.Skip = b.st.Skip[1:]
	}
	return len(b.st.Skip) > 0 && b.st.Skip[0].From <= n
}

// ensureMSA gets the protein's MSA, once per batch: work that depends only
// on the protein. Without it no ligand can run: it fails them all (a paged
// activity, however large the batch), so that the batch aggregates to a
// clear record.
func (b *batch) ensureMSA() error {
	if b.st.MSA != nil {
		return nil
	}
	ref, err := ensureMSA(b.ctx, &b.spec)
	if err != nil {
		if temporal.IsCanceledError(err) {
			return errBatchCancelled
		}
		if ferr := workflow.ExecuteActivity(longCtx(b.ctx), contract.ActivityCancelBatchRemainder, contract.CancelBatchRemainderInput{
			BatchID: b.spec.JobID, Status: omtx.StatusFailed, Error: "msa: " + failureReason(err),
		}).Get(b.ctx, nil); ferr != nil {
			if temporal.IsCanceledError(ferr) {
				return errBatchCancelled
			}
			return fmt.Errorf("fail children without msa: %w", ferr)
		}
		b.st.Failed, b.st.NextChunk = b.st.Total-b.st.Completed, b.chunks()
		ref = omtx.MSARef{}
	}
	b.st.MSA = &ref
	return nil
}

// chunks is the number of chunks of the whole batch.
func (b *batch) chunks() int { return (b.st.Total + b.cfg.ChunkSize - 1) / b.cfg.ChunkSize }

// runChunks runs this run's chunks in a sliding window of max_concurrent
// ligands, writing progress as it changes, until every chunk is done, the
// batch is cancelled, or the run has started its share (then it continues
// as new).
func (b *batch) runChunks() error {
	b.sel = workflow.NewSelector(b.ctx)
	b.writer.async = workflow.GetVersion(b.ctx, versionAdvisoryProgress, workflow.DefaultVersion, 1) == 1
	window := max(1, b.cfg.MaxConcurrent/b.cfg.ChunkSize)
	perRun := b.in.ChunksPerRun
	if perRun <= 0 {
		perRun = DefaultChunksPerRun
	}
	for {
		for b.fatal == nil && b.ctx.Err() == nil && b.inflight < window && b.st.NextChunk < b.chunks() && b.started < perRun &&
			!workflow.GetInfo(b.ctx).GetContinueAsNewSuggested() {
			b.startChunk()
		}
		if b.inflight == 0 && !b.writer.busy {
			break
		}
		if b.inflight > 0 {
			b.tickProgress()
		}
		b.sel.Select(b.ctx)
	}
	switch {
	case b.fatal != nil:
		// Firestore refused the chunk's record for the whole retry budget:
		// end visibly, so that operators see it (reconcile repairs the
		// record once Firestore is back).
		return b.fatal
	case b.ctx.Err() != nil:
		return errBatchCancelled
	case b.st.NextChunk < b.chunks():
		next := b.in
		next.State = &b.st
		return workflow.NewContinueAsNewError(b.ctx, contract.WorkflowBatch, next)
	}
	return nil
}

// startChunk starts the next chunk as a child workflow, and counts it in
// when it ends.
func (b *batch) startChunk() {
	n, k := b.st.NextChunk, b.cfg.ChunkSize
	if b.skip(n) {
		b.st.NextChunk++
		return
	}
	lo, hi := n*k, min((n+1)*k, b.st.Total)
	cctx := workflow.WithChildOptions(b.ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            contract.BatchChunkWorkflowID(b.spec.JobID, n),
		TaskQueue:             contract.TaskQueueOrchestration,
		WaitForCancellation:   true,
		TypedSearchAttributes: contract.SearchAttributes(&b.spec, omtx.JobTypeBatchChild, b.class),
	})
	jobIDs := omtx.BatchChildJobIDs(b.spec.JobID, lo, hi, b.st.Total)
	f := workflow.ExecuteChildWorkflow(cctx, contract.WorkflowBatchChunk, contract.ChunkInput{
		BatchID: b.spec.JobID, Chunk: n, JobIDs: jobIDs, Model: b.spec.Model,
		Protein: b.spec.InputData.ProteinSequence, Parameters: b.spec.InputData.Parameters, GPUClass: b.class,
		MSA: *b.st.MSA, Fleet: b.in.Fleet,
		TargetID: b.spec.InputData.TargetID, // data only, same commands: no GetVersion
	})
	b.sel.AddFuture(f, func(f workflow.Future) { b.chunkEnded(f, jobIDs) })
	b.st.NextChunk++
	b.started++
	b.inflight++
	b.running += len(jobIDs)
	b.writer.dirty = true
}

// chunkEnded counts a chunk's ligands by final status. The chunk workflow
// records its own failures; a chunk that could not run at all has its
// ligands failed here, so that none is lost.
func (b *batch) chunkEnded(f workflow.Future, jobIDs []string) {
	var c contract.ChunkCounts
	if err := f.Get(b.ctx, &c); err != nil {
		var ferr error
		c, ferr = failChunk(b.ctx, jobIDs, err)
		if ferr != nil && b.fatal == nil {
			b.fatal = ferr
		}
	}
	b.st.Completed += c.Completed
	b.st.Failed += c.Failed
	b.st.Cancelled += c.Cancelled
	// Counting filtered children changes no command: histories replay as
	// before, and a chunk result without the field counts none.
	b.st.Filtered += c.Filtered
	b.running -= len(jobIDs)
	b.inflight--
	b.writer.dirty = true
}

// aggregate runs the final activity, even when the workflow is cancelled,
// and sends the webhook.
func (b *batch) aggregate(cancelled bool) (contract.BatchResult, error) {
	var out contract.AggregateBatchResult
	dctx, err := recordEnd(b.ctx, longCtx, contract.ActivityAggregateBatch, contract.AggregateBatchInput{
		BatchID: b.spec.JobID, Cancelled: cancelled,
	}, &out)
	if err != nil {
		return contract.BatchResult{}, fmt.Errorf("aggregate batch: %w", err)
	}
	notify(dctx, &b.spec, contract.NotifyInput{Status: out.Status, Progress: &out.Progress, Best: out.Best})
	res := contract.BatchResult{BatchID: b.spec.JobID, Status: out.Status, Progress: out.Progress}
	if cancelled {
		return res, temporal.NewCanceledError("batch cancelled")
	}
	return res, nil
}

// finishCancelled records a cancelled batch: the children not yet
// terminal are marked cancelled, then the batch aggregates.
func (b *batch) finishCancelled() (contract.BatchResult, error) {
	if _, err := recordEnd(b.ctx, longCtx, contract.ActivityCancelBatchRemainder,
		contract.CancelBatchRemainderInput{BatchID: b.spec.JobID}, nil); err != nil {
		return contract.BatchResult{}, fmt.Errorf("cancel remainder: %w", err)
	}
	return b.aggregate(true)
}

// fail records a batch that cannot run at all, with the children created
// so far (versionFailBatchChildren), so that no document stays pending or
// running.
func (b *batch) fail(reason, cause string) (contract.BatchResult, error) {
	dctx, _ := workflow.NewDisconnectedContext(longCtx(b.ctx))
	if workflow.GetVersion(dctx, versionFailBatchChildren, workflow.DefaultVersion, 1) == 1 {
		if _, err := recordEnd(b.ctx, longCtx, contract.ActivityCancelBatchRemainder, contract.CancelBatchRemainderInput{
			BatchID: b.spec.JobID, Status: omtx.StatusFailed, Error: "batch failed: " + reason,
		}, nil); err != nil {
			return contract.BatchResult{}, fmt.Errorf("fail children of a failed batch: %w", err)
		}
	}
	if _, err := recordEnd(b.ctx, orchestrationCtx, contract.ActivityFailJob, contract.FailJobInput{
		JobID: b.spec.JobID, Status: omtx.StatusFailed, Error: reason, Cause: cause,
	}, nil); err != nil {
		return contract.BatchResult{}, fmt.Errorf("record failed batch: %w", err)
	}
	notify(dctx, &b.spec, contract.NotifyInput{Status: omtx.StatusFailed, Error: reason})
	return contract.BatchResult{BatchID: b.spec.JobID, Status: omtx.StatusFailed},
		temporal.NewNonRetryableApplicationError(reason, contract.ErrTypeJobFailed, nil)
}

// failChunk marks the ligands of a chunk whose workflow failed outright,
// and counts them. Its error means the ligands could not be recorded.
func failChunk(ctx workflow.Context, jobIDs []string, cause error) (contract.ChunkCounts, error) {
	status, reason := omtx.StatusFailed, "chunk failed: "+failureReason(cause)
	if temporal.IsCanceledError(cause) {
		status, reason = omtx.StatusCancelled, "batch cancelled"
	}
	c, err := finishChildren(ctx, jobIDs, status, reason)
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
	err := runRerouting(ctx, in.Fleet, &class, in.JobIDs, contract.ActivityPredictChunk, contract.PredictChunkInput{
		BatchID: in.BatchID, Chunk: in.Chunk, JobIDs: in.JobIDs, Model: in.Model,
		Protein: in.Protein, Parameters: in.Parameters, MSA: in.MSA,
		TargetID: in.TargetID, // data only, same commands: no GetVersion
	}, &counts)
	var rerr *rerouteError
	switch {
	case err == nil:
		return counts, nil
	case errors.As(err, &rerr):
		return counts, rerr.err
	}
	status, reason := omtx.StatusFailed, failureReason(err)
	if ctx.Err() != nil || temporal.IsCanceledError(err) || contract.IsType(err, contract.ErrTypeCancelled) {
		status, reason = omtx.StatusCancelled, "batch cancelled"
	}
	counts, err = finishChildren(ctx, in.JobIDs, status, reason)
	if err != nil {
		return counts, fmt.Errorf("finish chunk: %w", err)
	}
	return counts, nil
}
