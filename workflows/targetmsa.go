package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// TargetMSAWorkflow computes a target's server MSAs once, when the target
// is created (the API starts it, with the id
// contract.TargetMSAWorkflowID), and records the outcome on the target's
// document. It runs the jobs' own MSA activity, EnsureMSA with the
// target's id, so what it computes lands in the cache that every job on
// the target reads; a job that starts while it still computes waits for
// its result in that activity rather than asking the MSA server again.
//
// A failure to compute is recorded (omtx.TargetMSAFailed, with the
// reason), not returned: the workflow completes, and a later job on the
// target tries again through the cache path as it always has.
func TargetMSAWorkflow(ctx workflow.Context, in contract.TargetMSAInput) (contract.TargetMSAResult, error) {
	var ref omtx.MSARef
	rec := contract.RecordTargetMSAInput{TargetID: in.TargetID}
	err := workflow.ExecuteActivity(msaCtx(ctx), contract.ActivityEnsureMSA, contract.EnsureMSAInput{TargetID: in.TargetID}).Get(ctx, &ref)
	status := omtx.TargetMSAReady
	if err != nil {
		rec.Failure, status = failureReason(err), omtx.TargetMSAFailed
		workflow.GetLogger(ctx).Warn("target msa failed", "target_id", in.TargetID, "error", rec.Failure)
	}
	rec.MSA = ref
	if err := workflow.ExecuteActivity(orchestrationCtx(ctx), contract.ActivityRecordTargetMSA, rec).Get(ctx, nil); err != nil {
		return contract.TargetMSAResult{}, err
	}
	return contract.TargetMSAResult{Status: status}, nil
}
