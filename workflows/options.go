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
	localCtx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: StoreBudget,
		RetryPolicy:            storeRetry(),
	})
	return workflow.ExecuteLocalActivity(localCtx, name, in).Get(ctx, out)
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
func ensureMSA(ctx workflow.Context, spec *contract.JobSpec) (omtx.MSARef, error) {
	ref := omtx.MSARef{Mode: omtx.MSASingleSequence}
	// A target's chains say their own MSA modes. No history before
	// targets has a TargetID, so the added condition needs no GetVersion.
	if (!spec.InputData.Parameters.UseMSA && spec.InputData.TargetID == "") || !usesMSA(spec) {
		return ref, nil
	}
	err := workflow.ExecuteActivity(msaCtx(ctx), contract.ActivityEnsureMSA, contract.EnsureMSAInput{
		Protein: spec.InputData.ProteinSequence, Uploaded: omtx.ObjectOf(spec.InputData.MSAFile),
		TargetID: spec.InputData.TargetID, // data only, same commands: no GetVersion
	}).Get(ctx, &ref)
	return ref, err
}

// msaModelBeforeSpecs is the one model that read an MSA in the releases
// before JobSpec.UsesMSA existed (omtx.ModelUsesMSA up to v3), frozen here:
// a spec recorded then replays the same commands whatever the rule
// becomes.
const msaModelBeforeSpecs = "boltz2"

// usesMSA is whether spec's model reads an MSA: decided at submission and
// carried in the spec, or for a spec that predates that, the rule of its
// release.
func usesMSA(spec *contract.JobSpec) bool {
	if spec.UsesMSA != nil {
		return *spec.UsesMSA
	}
	return spec.Model == msaModelBeforeSpecs
}

// runRerouting runs a GPU activity on *class's queue (runGPU), and while it
// runs out of memory, reroutes it to the next larger class of fleet and
// runs it there, setting *class. It returns the activity's error (an
// out-of-memory one when no larger class is left), or a *rerouteError when
// the reroute could not be recorded.
func runRerouting(ctx workflow.Context, fleet omtx.Fleet, class *string, jobIDs []string, activity string, in, out any) error {
	for {
		err := runGPU(ctx, *class, activity, in, out)
		if err == nil || !contract.IsType(err, contract.ErrTypeOutOfMemory) {
			return err
		}
		next, ok, rerr := rerouteOnOOM(ctx, fleet, *class, jobIDs)
		if rerr != nil {
			return &rerouteError{err: rerr}
		}
		if !ok {
			return err
		}
		*class = next
	}
}

// rerouteError is a reroute after an out-of-memory failure that could not
// be recorded.
type rerouteError struct{ err error }

func (e *rerouteError) Error() string { return "reroute after out of memory: " + e.err.Error() }
func (e *rerouteError) Unwrap() error { return e.err }

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

// recordEnd runs name, an activity that records how a job, batch or chunk
// ended, with opts's activity options in a context disconnected from ctx's
// cancellation, so that a cancelled workflow still writes its final
// statuses. It returns that context, for the work that follows (the
// webhook).
func recordEnd(ctx workflow.Context, opts func(workflow.Context) workflow.Context, name string, in, out any) (workflow.Context, error) {
	dctx, _ := workflow.NewDisconnectedContext(opts(ctx))
	return dctx, workflow.ExecuteActivity(dctx, name, in).Get(dctx, out)
}

// finishChildren records the final status of a chunk's ligands that are
// not yet terminal (recordEnd), and returns the chunk's ligands counted by
// final status.
func finishChildren(ctx workflow.Context, jobIDs []string, status omtx.JobStatus, reason string) (contract.ChunkCounts, error) {
	var c contract.ChunkCounts
	_, err := recordEnd(ctx, orchestrationCtx, contract.ActivityFinishChildren, contract.FinishChildrenInput{
		JobIDs: jobIDs, Status: status, Error: reason,
	}, &c)
	return c, err
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

// failureCause says whose failure an activity error is: the user's input,
// or the system's.
func failureCause(err error) string {
	if contract.IsType(err, contract.ErrTypeInvalidInput) {
		return omtx.CauseUserInput
	}
	return omtx.CauseSystem
}
