package workflows

import (
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/contract"
)

// notify starts the completion webhook of a job or batch that has a
// notify_url, as a NotifyWorkflow that outlives it (the job's own workflow
// ends now; the webhook may be retried for a day). It waits only for the
// child to start, and never fails the job: a webhook that cannot start is
// logged.
func notify(ctx workflow.Context, spec *contract.JobSpec, in contract.NotifyInput) {
	if spec.NotifyURL == "" {
		return
	}
	if workflow.GetVersion(ctx, versionNotify, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return
	}
	in.JobID, in.JobType, in.UserID, in.URL, in.KeyID = spec.JobID, spec.JobType, spec.UserID, spec.NotifyURL, spec.KeyID
	in.EndedAt = workflow.Now(ctx).UTC()
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            contract.NotifyWorkflowID(spec.JobID),
		TaskQueue:             contract.TaskQueueOrchestration,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	})
	f := workflow.ExecuteChildWorkflow(cctx, contract.WorkflowNotify, in)
	if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("completion webhook not started", "job_id", spec.JobID, "error", err)
	}
}

// NotifyWorkflow delivers one completion webhook: the Notify activity,
// retried with backoff for up to NotifyBudget. It always completes; its
// result says whether the webhook was delivered.
func NotifyWorkflow(ctx workflow.Context, in contract.NotifyInput) (contract.NotifyResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:              contract.TaskQueueOrchestration,
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: NotifyBudget,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        10 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Minute,
			NonRetryableErrorTypes: []string{contract.ErrTypePermanent},
		},
	})
	var out contract.NotifyResult
	if err := workflow.ExecuteActivity(actx, contract.ActivityNotify, in).Get(ctx, &out); err != nil {
		out.Delivered, out.Error = false, failureReason(err)
		workflow.GetLogger(ctx).Warn("completion webhook not delivered", "job_id", in.JobID, "error", out.Error)
	}
	return out, nil
}
