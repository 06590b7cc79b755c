package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/validate"
	"github.com/omtx-hub/omtx-hub/workflows/wfinput"
)

// PredictionInput is PredictionWorkflow's input (see package wfinput).
type PredictionInput = wfinput.Prediction

// PredictionResult is PredictionWorkflow's result.
type PredictionResult struct {
	JobID   string
	Status  omtx.JobStatus
	Results *omtx.Results
	Error   string
}

// PredictionState answers the status query.
type PredictionState struct {
	JobID    string         `json:"job_id"`
	Status   omtx.JobStatus `json:"status"`
	GPUClass string         `json:"gpu_class"`
	Error    string         `json:"error,omitempty"`
	Updated  time.Time      `json:"updated_at"`
}

// ErrTypeJobFailed is the type of the error a failed job's workflow ends with.
const ErrTypeJobFailed = "JobFailed"

// PredictionWorkflow runs one prediction: it validates the input, marks the
// job queued, runs the model on the GPU class's task queue, and marks the
// job completed with its results, or failed or cancelled with the reason.
func PredictionWorkflow(ctx workflow.Context, in PredictionInput) (PredictionResult, error) {
	job := in.Job
	class := in.GPUClass
	if class == "" {
		class = omtx.DefaultGPUClass
	}
	state := PredictionState{JobID: job.JobID, Status: omtx.StatusPending, GPUClass: class, Updated: workflow.Now(ctx)}
	if err := workflow.SetQueryHandler(ctx, omtx.QueryStatus, func() (PredictionState, error) {
		return state, nil
	}); err != nil {
		return PredictionResult{}, fmt.Errorf("set query handler: %w", err)
	}
	setStatus := func(s omtx.JobStatus, msg string) {
		state.Status, state.Error, state.Updated = s, msg, workflow.Now(ctx)
	}
	octx := orchestrationCtx(ctx)
	var orch *activities.Orchestration

	// finish records a failed or cancelled job. It runs in a disconnected
	// context, so a cancelled workflow still writes its final status.
	finish := func(status omtx.JobStatus, reason string) (PredictionResult, error) {
		setStatus(status, reason)
		dctx, _ := workflow.NewDisconnectedContext(octx)
		if err := workflow.ExecuteActivity(dctx, orch.FailJob, activities.FailInput{
			JobID: job.JobID, Status: status, Error: reason,
		}).Get(dctx, nil); err != nil {
			return PredictionResult{}, fmt.Errorf("record %s job: %w", status, err)
		}
		res := PredictionResult{JobID: job.JobID, Status: status, Error: reason}
		if status == omtx.StatusCancelled {
			return res, temporal.NewCanceledError(reason)
		}
		return res, temporal.NewNonRetryableApplicationError(reason, ErrTypeJobFailed, nil)
	}

	if err := validate.InputData(&job.InputData); err != nil {
		return finish(omtx.StatusFailed, "invalid input: "+err.Error())
	}

	var acc activities.AcceptOutput
	if err := workflow.ExecuteActivity(octx, orch.AcceptJob, activities.AcceptInput{
		Job: job, TaskQueue: omtx.GPUTaskQueue(class), GPUClass: class,
	}).Get(ctx, &acc); err != nil {
		if temporal.IsCanceledError(err) {
			return finish(omtx.StatusCancelled, "cancelled by user")
		}
		return PredictionResult{}, fmt.Errorf("accept job: %w", err)
	}
	if acc.Status.Terminal() {
		// Cancelled (or finished) before it started: nothing to run.
		setStatus(acc.Status, "")
		return PredictionResult{JobID: job.JobID, Status: acc.Status}, nil
	}
	// Queued until a GPU worker picks it up; the job document says when it
	// starts running.
	setStatus(omtx.StatusQueued, "")

	msa, err := ensureMSA(ctx, job.Model, job.InputData.ProteinSequence, job.InputData)
	switch {
	case err == nil:
	case temporal.IsCanceledError(err):
		return finish(omtx.StatusCancelled, "cancelled by user")
	default:
		return finish(omtx.StatusFailed, "msa: "+failureReason(err))
	}

	var gpu *activities.GPU
	var out activities.PredictOutput
	for {
		err = workflow.ExecuteActivity(gpuCtx(ctx, class), gpu.Predict, activities.PredictInput{
			JobID:      job.JobID,
			Folder:     omtx.JobFolder(&job),
			Model:      job.Model,
			Protein:    job.InputData.ProteinSequence,
			Ligand:     omtx.Ligand{Name: job.InputData.LigandName, SMILES: job.InputData.LigandSMILES},
			Parameters: job.InputData.Parameters,
			MSA:        msa,
		}).Get(ctx, &out)
		if err == nil || !activities.IsOutOfMemory(err) {
			break
		}
		next, ok, rerr := rerouteOnOOM(ctx, in.Fleet, class, []string{job.JobID})
		if rerr != nil {
			if temporal.IsCanceledError(rerr) {
				return finish(omtx.StatusCancelled, "cancelled by user")
			}
			return finish(omtx.StatusFailed, "reroute after out of memory: "+rerr.Error())
		}
		if !ok {
			return finish(omtx.StatusFailed, failureReason(err)+" (no larger GPU class to reroute to)")
		}
		class, state.GPUClass = next, next
	}
	switch {
	case err == nil:
	case temporal.IsCanceledError(err) || activities.IsCancelled(err):
		return finish(omtx.StatusCancelled, "cancelled by user")
	default:
		return finish(omtx.StatusFailed, failureReason(err))
	}

	if err := workflow.ExecuteActivity(octx, orch.FinalizeJob, activities.FinalizeInput{
		JobID: job.JobID, Results: out.Results,
	}).Get(ctx, nil); err != nil {
		if temporal.IsCanceledError(err) {
			return finish(omtx.StatusCancelled, "cancelled by user")
		}
		return PredictionResult{}, fmt.Errorf("finalize job: %w", err)
	}
	setStatus(omtx.StatusCompleted, "")
	return PredictionResult{JobID: job.JobID, Status: omtx.StatusCompleted, Results: &out.Results}, nil
}

// failureReason turns an activity error into the message stored on the job:
// the innermost application error's message, without Temporal's wrapping.
func failureReason(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Error()
	}
	var te *temporal.TimeoutError
	if errors.As(err, &te) {
		return "prediction timed out: " + te.Error()
	}
	return err.Error()
}
