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

// Timeouts and retry budgets. Every activity has a bounded retry budget:
// a number of attempts or a schedule-to-close time.
const (
	// PredictHeartbeatTimeout bounds how long a dead GPU worker holds a job
	// before Temporal retries it elsewhere.
	PredictHeartbeatTimeout = 20 * time.Second
	// PredictStartToClose bounds one attempt of one prediction or chunk.
	PredictStartToClose = 2 * time.Hour
	// PredictMaxAttempts bounds the attempts of a GPU activity that fails
	// for a reason a retry may fix (a lost device, a crashed worker).
	PredictMaxAttempts = 4
	// MaxInterruptions bounds how often one GPU activity is run again
	// because its worker stopped (scale-in, spot preemption, upgrades,
	// deploys): a budget of its own, apart from PredictMaxAttempts.
	MaxInterruptions = 50
	// StoreBudget bounds the retries of an activity that writes job
	// documents or files: long enough to ride out a dependency's outage,
	// so that finished work is not lost to it.
	StoreBudget = 6 * time.Hour
	// NotifyBudget bounds the retries of a completion webhook.
	NotifyBudget = 24 * time.Hour
)

// storeRetry is the retry policy of activities that write documents and
// files: attempts until StoreBudget, except for errors no retry can fix.
func storeRetry() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		BackoffCoefficient:     2,
		MaximumInterval:        time.Minute,
		NonRetryableErrorTypes: []string{contract.ErrTypeInvalidInput, contract.ErrTypePermanent},
	}
}

// orchestrationCtx sets the options of the short activities that write job
// documents.
func orchestrationCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              contract.TaskQueueOrchestration,
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: StoreBudget,
		RetryPolicy:            storeRetry(),
	})
}

// jobWrite runs a short activity that writes a job document and returns
// its result into out: as a local activity (in this workflow's worker,
// with the same timeouts and retries) when local, else as an activity task
// on the orchestration queue.
func jobWrite(ctx workflow.Context, local bool, name string, in, out any) error {
	if !local {
		return workflow.ExecuteActivity(orchestrationCtx(ctx), name, in).Get(ctx, out)
	}
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: StoreBudget,
		RetryPolicy:            storeRetry(),
	})
	return workflow.ExecuteLocalActivity(lctx, name, in).Get(ctx, out)
}

// longCtx sets the options of the activities that page through a whole
// batch (prepare, aggregate, cancel the remainder): long attempts that
// heartbeat.
func longCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              contract.TaskQueueOrchestration,
		StartToCloseTimeout:    30 * time.Minute,
		ScheduleToCloseTimeout: StoreBudget,
		HeartbeatTimeout:       time.Minute,
		WaitForCancellation:    true,
		RetryPolicy:            storeRetry(),
	})
}

// gpuCtx sets the options of GPU activities on one GPU class's queue.
func gpuCtx(ctx workflow.Context, class string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           contract.GPUTaskQueue(class),
		StartToCloseTimeout: PredictStartToClose,
		HeartbeatTimeout:    PredictHeartbeatTimeout,
		// On cancel, wait until the running attempt has stopped, so that the
		// cancelled statuses written next are not overwritten by it.
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    2 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    2 * time.Minute,
			MaximumAttempts:    PredictMaxAttempts,
			NonRetryableErrorTypes: []string{
				contract.ErrTypeInvalidInput,
				contract.ErrTypeCancelled,
				contract.ErrTypeNoModel,
				contract.ErrTypeOutOfMemory,
				contract.ErrTypeInterrupted,
				contract.ErrTypePermanent,
			},
		},
	})
}

// msaCtx sets the options of the MSA activity: its own rate-limited queue,
// and patient retries with backoff, since MSA servers rate-limit and time
// out.
func msaCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           contract.TaskQueueMSA,
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        10 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			MaximumAttempts:        20,
			NonRetryableErrorTypes: []string{contract.ErrTypeInvalidInput, contract.ErrTypePermanent},
		},
	})
}

// runGPU runs a GPU activity on class's queue. A run that ends because its
// worker stopped (contract.ErrTypeInterrupted) runs again, as a new
// activity with a fresh attempt count, up to MaxInterruptions times: worker
// stops are operations, not failures, and must not spend the attempts kept
// for real failures.
func runGPU(ctx workflow.Context, class, activity string, in, out any) error {
	for n := 0; ; n++ {
		err := workflow.ExecuteActivity(gpuCtx(ctx, class), activity, in).Get(ctx, out)
		if err == nil || !contract.IsType(err, contract.ErrTypeInterrupted) || n >= MaxInterruptions {
			return err
		}
		if workflow.GetVersion(ctx, versionInterruptionBudget, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
			return err
		}
		workflow.GetLogger(ctx).Info("gpu activity interrupted by a worker stop; running it again", "activity", activity, "interruptions", n+1)
	}
}

// ensureMSA gets the protein's MSA when the model reads one and the request
// asks for it; otherwise single-sequence mode.
func ensureMSA(ctx workflow.Context, model string, in omtx.InputData) (omtx.MSARef, error) {
	ref := omtx.MSARef{Mode: omtx.MSASingleSequence}
	// A target's chains say their own MSA modes. No history before
	// targets has a TargetID, so the added branch needs no GetVersion.
	if (!in.Parameters.UseMSA && in.TargetID == "") || !omtx.ModelUsesMSA(model) {
		return ref, nil
	}
	err := workflow.ExecuteActivity(msaCtx(ctx), contract.ActivityEnsureMSA, contract.EnsureMSAInput{
		Protein: in.ProteinSequence, Uploaded: omtx.ObjectOf(in.MSAFile),
		TargetID: in.TargetID, // data only, same commands: no GetVersion
	}).Get(ctx, &ref)
	return ref, err
}

// rerouteOnOOM picks the next GPU class after an out-of-memory failure on
// class, records the decision on the jobs' documents and in the GpuClass
// search attribute, and returns it. ok is false when class is the largest.
func rerouteOnOOM(ctx workflow.Context, fleet omtx.Fleet, class string, jobIDs []string) (next string, ok bool, err error) {
	n, ok := fleet.Next(class)
	if !ok {
		return "", false, nil
	}
	step := omtx.RoutingStep{
		GPUClass: n.Name,
		Reason:   fmt.Sprintf("out of GPU memory on %s; rerouted to %s", class, n.Name),
		At:       workflow.Now(ctx).UTC().Format(time.RFC3339),
	}
	if err := workflow.ExecuteActivity(orchestrationCtx(ctx), contract.ActivityRecordRouting,
		contract.RecordRoutingInput{JobIDs: jobIDs, Step: step}).Get(ctx, nil); err != nil {
		return "", false, fmt.Errorf("record routing: %w", err)
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, contract.SearchAttrGPUClass.ValueSet(n.Name)); err != nil {
		return "", false, fmt.Errorf("upsert gpu class: %w", err)
	}
	return n.Name, true, nil
}

// failureReason turns an activity error into the message stored on the
// job: the innermost application error's message, without Temporal's
// wrapping.
func failureReason(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Error()
	}
	var te *temporal.TimeoutError
	if errors.As(err, &te) {
		return "timed out: " + te.Error()
	}
	return err.Error()
}

// causeOf says whose failure an activity error is: the user's input, or
// the system's.
func causeOf(err error) string {
	if contract.IsType(err, contract.ErrTypeInvalidInput) {
		return omtx.CauseUserInput
	}
	return omtx.CauseSystem
}
