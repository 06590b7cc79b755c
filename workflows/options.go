package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Activity timeouts and retries.
const (
	// PredictHeartbeatTimeout bounds how long a dead GPU worker holds a job
	// before Temporal retries it elsewhere.
	PredictHeartbeatTimeout = 20 * time.Second
	// PredictStartToClose bounds one attempt of one prediction.
	PredictStartToClose = 2 * time.Hour
	// PredictMaxAttempts bounds retries of a failing prediction.
	PredictMaxAttempts = 4
)

// orchestrationCtx sets the options of the activities that write job
// documents: short attempts, retried until the store is back, since a
// finished prediction must never be lost to a Firestore outage.
func orchestrationCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           omtx.TaskQueueOrchestration,
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    time.Minute,
		},
	})
}

// gpuCtx sets the options of GPU activities on one GPU class's queue.
func gpuCtx(ctx workflow.Context, class string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           omtx.GPUTaskQueue(class),
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
				activities.ErrTypeInvalidInput,
				activities.ErrTypeCancelled,
				activities.ErrTypeNoModel,
				activities.ErrTypeOutOfMemory,
			},
		},
	})
}

// msaCtx sets the options of the MSA activity: its own rate-limited queue,
// and patient retries with backoff, since MSA servers rate-limit and time
// out.
func msaCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           omtx.TaskQueueMSA,
		StartToCloseTimeout: time.Hour,
		HeartbeatTimeout:    2 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        10 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			MaximumAttempts:        20,
			NonRetryableErrorTypes: []string{activities.ErrTypeInvalidInput},
		},
	})
}

// ensureMSA gets the protein's MSA when the model reads one and the request
// asks for it; otherwise single-sequence mode.
func ensureMSA(ctx workflow.Context, model, protein string, in omtx.InputData) (omtx.MSARef, error) {
	ref := omtx.MSARef{Mode: omtx.MSASingleSequence}
	if !in.Parameters.UseMSA || !omtx.ModelUsesMSA(model) {
		return ref, nil
	}
	var m *activities.MSA
	err := workflow.ExecuteActivity(msaCtx(ctx), m.EnsureMSA, activities.EnsureMSAInput{
		Protein: protein, Uploaded: omtx.ObjectOf(in.MSAFile),
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
	var orch *activities.Orchestration
	if err := workflow.ExecuteActivity(orchestrationCtx(ctx), orch.RecordRouting, activities.RoutingInput{JobIDs: jobIDs, Step: step}).Get(ctx, nil); err != nil {
		return "", false, fmt.Errorf("record routing: %w", err)
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrGPUClass).ValueSet(n.Name)); err != nil {
		return "", false, fmt.Errorf("upsert gpu class: %w", err)
	}
	return n.Name, true, nil
}
