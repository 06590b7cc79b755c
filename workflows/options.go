package workflows

import (
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
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    2 * time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    2 * time.Minute,
			MaximumAttempts:    PredictMaxAttempts,
			NonRetryableErrorTypes: []string{
				activities.ErrTypeInvalidInput,
				activities.ErrTypeCancelled,
				activities.ErrTypeNoModel,
			},
		},
	})
}
