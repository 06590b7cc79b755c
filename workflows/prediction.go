package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// PredictionWorkflow runs one prediction: AcceptJob validates the input and
// marks the job queued (a local activity, as FinalizeJob is), the model runs on the GPU class's task queue
// (rerouted to a larger class when it runs out of memory), and FinalizeJob
// marks the job completed with its results; or the job ends failed or
// cancelled with the reason. A notify_url gets a webhook at the end.
func PredictionWorkflow(ctx workflow.Context, in contract.PredictionInput) (contract.PredictionResult, error) {
	spec := in.Job
	class := in.GPUClass
	if class == "" {
		class = spec.GPUClass()
	}
	state := contract.PredictionState{JobID: spec.JobID, Status: omtx.StatusPending, GPUClass: class, Updated: workflow.Now(ctx)}
	if err := workflow.SetQueryHandler(ctx, contract.QueryStatus, func() (contract.PredictionState, error) {
		return state, nil
	}); err != nil {
		return contract.PredictionResult{}, fmt.Errorf("set query handler: %w", err)
	}
	setStatus := func(s omtx.JobStatus, msg string) {
		state.Status, state.Error, state.Updated = s, msg, workflow.Now(ctx)
	}
	octx := orchestrationCtx(ctx)

	// ended notifies and returns the workflow's outcome for a failed or
	// cancelled job whose document says so already.
	ended := func(dctx workflow.Context, status omtx.JobStatus, reason string) (contract.PredictionResult, error) {
		setStatus(status, reason)
		notify(dctx, &spec, contract.NotifyInput{Status: status, Error: reason})
		res := contract.PredictionResult{JobID: spec.JobID, Status: status, Error: reason}
		if status == omtx.StatusCancelled {
			return res, temporal.NewCanceledError(reason)
		}
		return res, temporal.NewNonRetryableApplicationError(reason, contract.ErrTypeJobFailed, nil)
	}
	// finish records a failed or cancelled job. It runs in a disconnected
	// context, so a cancelled workflow still writes its final status.
	finish := func(status omtx.JobStatus, reason, cause string) (contract.PredictionResult, error) {
		dctx, _ := workflow.NewDisconnectedContext(octx)
		if err := workflow.ExecuteActivity(dctx, contract.ActivityFailJob, contract.FailJobInput{
			JobID: spec.JobID, Status: status, Error: reason, Cause: cause,
		}).Get(dctx, nil); err != nil {
			return contract.PredictionResult{}, fmt.Errorf("record %s job: %w", status, err)
		}
		return ended(dctx, status, reason)
	}
	cancelled := func() (contract.PredictionResult, error) {
		return finish(omtx.StatusCancelled, "cancelled by user", omtx.CauseCancelled)
	}

	local := workflow.GetVersion(ctx, versionLocalJobWrites, workflow.DefaultVersion, 1) == 1
	var acc contract.AcceptJobResult
	if err := jobWrite(ctx, local, contract.ActivityAcceptJob, contract.AcceptJobInput{
		Job: spec, TaskQueue: contract.GPUTaskQueue(class), GPUClass: class,
	}, &acc); err != nil {
		switch {
		case contract.IsType(err, contract.ErrTypeInvalidInput):
			// AcceptJob refused the input and recorded why.
			return ended(ctx, omtx.StatusFailed, failureReason(err))
		case temporal.IsCanceledError(err):
			return cancelled()
		}
		return contract.PredictionResult{}, fmt.Errorf("accept job: %w", err)
	}
	if acc.Status.Terminal() {
		// Cancelled (or finished) before it started: nothing to run.
		setStatus(acc.Status, "")
		return contract.PredictionResult{JobID: spec.JobID, Status: acc.Status}, nil
	}
	// Queued until a GPU worker picks it up; the job document says when it
	// starts running.
	setStatus(omtx.StatusQueued, "")

	msa, err := ensureMSA(ctx, spec.Model, spec.InputData)
	switch {
	case err == nil:
	case temporal.IsCanceledError(err):
		return cancelled()
	default:
		return finish(omtx.StatusFailed, "msa: "+failureReason(err), causeOf(err))
	}

	var out contract.PredictResult
	for {
		err = runGPU(ctx, class, contract.ActivityPredict, contract.PredictInput{
			JobID:      spec.JobID,
			Folder:     omtx.JobPrefix(spec.JobID),
			Model:      spec.Model,
			Protein:    spec.InputData.ProteinSequence,
			Ligand:     omtx.Ligand{Name: spec.InputData.LigandName, SMILES: spec.InputData.LigandSMILES},
			Parameters: spec.InputData.Parameters,
			MSA:        msa,
			Warnings:   spec.Warnings,
			TargetID:   spec.InputData.TargetID, // data only, same commands: no GetVersion
		}, &out)
		if err == nil || !contract.IsType(err, contract.ErrTypeOutOfMemory) {
			break
		}
		next, ok, rerr := rerouteOnOOM(ctx, in.Fleet, class, []string{spec.JobID})
		if rerr != nil {
			if temporal.IsCanceledError(rerr) {
				return cancelled()
			}
			return finish(omtx.StatusFailed, "reroute after out of memory: "+rerr.Error(), omtx.CauseSystem)
		}
		if !ok {
			return finish(omtx.StatusFailed, failureReason(err)+" (no larger GPU class to reroute to)", omtx.CauseSystem)
		}
		class, state.GPUClass = next, next
	}
	switch {
	case err == nil:
	case temporal.IsCanceledError(err) || contract.IsType(err, contract.ErrTypeCancelled):
		return cancelled()
	default:
		return finish(omtx.StatusFailed, failureReason(err), causeOf(err))
	}

	if err := jobWrite(ctx, local, contract.ActivityFinalizeJob, contract.FinalizeJobInput{
		JobID: spec.JobID, Results: out.Results,
	}, nil); err != nil {
		if temporal.IsCanceledError(err) {
			return cancelled()
		}
		return contract.PredictionResult{}, fmt.Errorf("finalize job: %w", err)
	}
	setStatus(omtx.StatusCompleted, "")
	notify(ctx, &spec, contract.NotifyInput{Status: omtx.StatusCompleted, Results: &out.Results})
	return contract.PredictionResult{JobID: spec.JobID, Status: omtx.StatusCompleted, Results: &out.Results}, nil
}
