package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Progress writes are advisory: the final aggregate is authoritative, so
// a late write is worth nothing and a newer state soon replaces it.
const (
	// ProgressStartToClose bounds one attempt of a progress write.
	ProgressStartToClose = 10 * time.Second
	// ProgressBudget bounds a progress write's retries.
	ProgressBudget = 30 * time.Second
)

// progressWriter is the state of a batch's progress writes: when the
// progress changes, a timer of every starts; when it fires, the progress
// of that moment is written.
type progressWriter struct {
	every time.Duration
	// async: the write runs beside the chunks (versionAdvisoryProgress),
	// not inside the timer's callback.
	async bool
	// dirty: the progress changed since the last timer started.
	dirty, timerPending bool
	// busy: a write is in flight; again: a timer fired meanwhile, so the
	// state then is written when this one ends.
	busy, again bool
	sent        omtx.Progress
}

// progressCtx sets the options of an advisory progress write: short
// attempts and a short budget.
func progressCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              contract.TaskQueueOrchestration,
		StartToCloseTimeout:    ProgressStartToClose,
		ScheduleToCloseTimeout: ProgressBudget,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Second,
			NonRetryableErrorTypes: []string{contract.ErrTypeInvalidInput, contract.ErrTypePermanent},
		},
	})
}

// tickProgress starts the progress timer when the progress changed and no
// timer is pending; when it fires, the progress is written.
func (b *batch) tickProgress() {
	w := &b.writer
	if !w.dirty || w.timerPending || b.ctx.Err() != nil {
		return
	}
	w.timerPending, w.dirty = true, false
	b.sel.AddFuture(workflow.NewTimer(b.ctx, w.every), func(f workflow.Future) {
		w.timerPending = false
		if f.Get(b.ctx, nil) == nil {
			b.writeProgress()
		}
	})
}

// writeProgress writes the progress now, if it changed since the last
// write that succeeded. Since versionAdvisoryProgress the write is a
// future on the selector: at most one is in flight, and a tick that finds
// one in flight has the state then written when it ends.
func (b *batch) writeProgress() {
	w := &b.writer
	if !w.async {
		b.writeProgressInline()
		return
	}
	if w.busy {
		w.again = true
		return
	}
	pr := b.progress()
	if pr == w.sent || b.ctx.Err() != nil {
		return
	}
	w.busy = true
	f := workflow.ExecuteActivity(progressCtx(b.ctx), contract.ActivityUpdateBatchProgress,
		contract.BatchProgressInput{BatchID: b.spec.JobID, Progress: pr})
	b.sel.AddFuture(f, func(f workflow.Future) {
		w.busy = false
		if err := f.Get(b.ctx, nil); err != nil {
			workflow.GetLogger(b.ctx).Warn("update batch progress", "batch_id", b.spec.JobID, "error", err)
			w.dirty = true // the next tick tries again
		} else {
			w.sent = pr
		}
		if w.again {
			w.again = false
			b.writeProgress()
		}
	})
}

// writeProgressInline is the write before versionAdvisoryProgress: it
// blocks the timer's callback, and so the selector, until the write ends,
// retried for the store's budget.
func (b *batch) writeProgressInline() {
	pr := b.progress()
	if pr == b.writer.sent {
		return
	}
	if err := workflow.ExecuteActivity(orchestrationCtx(b.ctx), contract.ActivityUpdateBatchProgress,
		contract.BatchProgressInput{BatchID: b.spec.JobID, Progress: pr}).Get(b.ctx, nil); err != nil {
		workflow.GetLogger(b.ctx).Warn("update batch progress", "batch_id", b.spec.JobID, "error", err)
		return
	}
	b.writer.sent = pr
}
