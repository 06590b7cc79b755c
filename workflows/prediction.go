package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// PredictionWorkflow runs one prediction: AcceptJob validates the input and
// marks the job queued (a local activity, as FinalizeJob is), the MSA is
// fetched if the spec says the model reads one, the model runs on the GPU
// class's task queue (rerouted to a larger class when it runs out of
// memory), and FinalizeJob marks the job completed with its results; or
// the job ends failed or cancelled with the reason. A notify_url gets a
// webhook at the end.
func PredictionWorkflow(ctx workflow.Context, in contract.PredictionInput) (contract.PredictionResult, error) {
	class := in.GPUClass
	if class == "" {
		class = in.Job.GPUClass()
	}
	p := &prediction{ctx: ctx, spec: in.Job, fleet: in.Fleet, state: contract.PredictionState{
		JobID: in.Job.JobID, Status: omtx.StatusPending, GPUClass: class, Updated: workflow.Now(ctx),
	}}
	if err := workflow.SetQueryHandler(ctx, contract.QueryStatus, func() (contract.PredictionState, error) {
		return p.state, nil
	}); err != nil {
		return contract.PredictionResult{}, fmt.Errorf("set query handler: %w", err)
	}
	return p.run()
}

// prediction is one run of PredictionWorkflow: its spec, and the state its
// status query answers (state.GPUClass is the class the model runs on).
type prediction struct {
	ctx   workflow.Context
	spec  contract.JobSpec
	fleet omtx.Fleet
	state contract.PredictionState
	// local: AcceptJob and FinalizeJob run as local activities
	// (versionLocalJobWrites).
	local bool
}

// jobEnd is how a job ends when it does not complete: the status and
// reason to record, and whose failure it is. recorded is set when an
// activity has written it already (AcceptJob refusing the input).
type jobEnd struct {
	status        omtx.JobStatus
	reason, cause string
	recorded      bool
}

func (e *jobEnd) Error() string { return string(e.status) + ": " + e.reason }

// cancelledByUser is the end of a job whose workflow was cancelled.
func cancelledByUser() error {
	return &jobEnd{status: omtx.StatusCancelled, reason: "cancelled by user", cause: omtx.CauseCancelled}
}

// run is the job's phases in order; each returns a *jobEnd, or an error
// that fails the workflow itself (a record that could not be written).
func (p *prediction) run() (contract.PredictionResult, error) {
	p.local = workflow.GetVersion(p.ctx, versionLocalJobWrites, workflow.DefaultVersion, 1) == 1
	status, err := p.accept()
	if err != nil {
		return p.end(err)
	}
	if status.Terminal() {
		// Cancelled (or finished) before it started: nothing to run.
		p.setStatus(status, "")
		return contract.PredictionResult{JobID: p.spec.JobID, Status: status}, nil
	}
	// Queued until a GPU worker picks it up; the job document says when it
	// starts running.
	p.setStatus(omtx.StatusQueued, "")
	out, err := p.compute()
	if err != nil {
		return p.end(err)
	}
	if err := p.finalize(out); err != nil {
		return p.end(err)
	}
	p.setStatus(omtx.StatusCompleted, "")
	notify(p.ctx, &p.spec, contract.NotifyInput{Status: omtx.StatusCompleted, Results: &out.Results})
	return contract.PredictionResult{JobID: p.spec.JobID, Status: omtx.StatusCompleted, Results: &out.Results}, nil
}

func (p *prediction) setStatus(s omtx.JobStatus, msg string) {
	p.state.Status, p.state.Error, p.state.Updated = s, msg, workflow.Now(p.ctx)
}

// accept runs AcceptJob, which validates the input and queues the job, and
// returns the job's status.
func (p *prediction) accept() (omtx.JobStatus, error) {
	var acc contract.AcceptJobResult
	err := jobWrite(p.ctx, p.local, contract.ActivityAcceptJob, contract.AcceptJobInput{
		Job: p.spec, TaskQueue: contract.GPUTaskQueue(p.state.GPUClass), GPUClass: p.state.GPUClass,
	}, &acc)
	switch {
	case err == nil:
		return acc.Status, nil
	case contract.IsType(err, contract.ErrTypeInvalidInput):
		// AcceptJob refused the input and recorded why.
		return "", &jobEnd{status: omtx.StatusFailed, reason: failureReason(err), recorded: true}
	case temporal.IsCanceledError(err):
		return "", cancelledByUser()
	}
	return "", fmt.Errorf("accept job: %w", err)
}

// compute gets the job's results: from the result cache, or from the
// model with the protein's MSA.
func (p *prediction) compute() (contract.PredictResult, error) {
	if out, err := p.cached(); err != nil || out.Hit {
		return contract.PredictResult{Results: out.Results}, err
	}
	msa, err := p.msa()
	if err != nil {
		return contract.PredictResult{}, err
	}
	return p.predict(msa)
}

// cached looks the job up in the result cache (versionResultCache). The
// lookup is advisory: one that fails is a miss, and the job runs.
func (p *prediction) cached() (contract.LookupResultResult, error) {
	var out contract.LookupResultResult
	if workflow.GetVersion(p.ctx, versionResultCache, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return out, nil
	}
	err := jobWrite(p.ctx, p.local, contract.ActivityLookupResult, contract.LookupResultInput{Job: p.spec}, &out)
	switch {
	case err == nil:
		return out, nil
	case temporal.IsCanceledError(err):
		return out, cancelledByUser()
	}
	workflow.GetLogger(p.ctx).Warn("result cache lookup failed; the job runs", "error", err)
	return contract.LookupResultResult{}, nil
}

// msa gets the protein's MSA, or single-sequence mode.
func (p *prediction) msa() (omtx.MSARef, error) {
	ref, err := ensureMSA(p.ctx, &p.spec)
	switch {
	case err == nil:
		return ref, nil
	case temporal.IsCanceledError(err):
		return ref, cancelledByUser()
	}
	return ref, &jobEnd{status: omtx.StatusFailed, reason: "msa: " + failureReason(err), cause: failureCause(err)}
}

// predict runs the model, rerouted to larger GPU classes while it runs out
// of memory.
func (p *prediction) predict(msa omtx.MSARef) (contract.PredictResult, error) {
	var out contract.PredictResult
	err := runRerouting(p.ctx, p.fleet, &p.state.GPUClass, []string{p.spec.JobID}, contract.ActivityPredict, contract.PredictInput{
		JobID:      p.spec.JobID,
		Folder:     omtx.JobPrefix(p.spec.JobID),
		Model:      p.spec.Model,
		Protein:    p.spec.InputData.ProteinSequence,
		Ligand:     omtx.Ligand{Name: p.spec.InputData.LigandName, SMILES: p.spec.InputData.LigandSMILES},
		Parameters: p.spec.InputData.Parameters,
		TargetID:   p.spec.InputData.TargetID, // data only, same commands: no GetVersion
		MSA:        msa,
		Warnings:   p.spec.Warnings,
	}, &out)
	var rerr *rerouteError
	switch {
	case err == nil:
		return out, nil
	case temporal.IsCanceledError(err) || contract.IsType(err, contract.ErrTypeCancelled):
		return out, cancelledByUser()
	case errors.As(err, &rerr):
		return out, &jobEnd{status: omtx.StatusFailed, reason: rerr.Error(), cause: omtx.CauseSystem}
	case contract.IsType(err, contract.ErrTypeOutOfMemory):
		return out, &jobEnd{status: omtx.StatusFailed, reason: failureReason(err) + " (no larger GPU class to reroute to)", cause: omtx.CauseSystem}
	}
	return out, &jobEnd{status: omtx.StatusFailed, reason: failureReason(err), cause: failureCause(err)}
}

// finalize marks the job completed with its results.
func (p *prediction) finalize(out contract.PredictResult) error {
	err := jobWrite(p.ctx, p.local, contract.ActivityFinalizeJob, contract.FinalizeJobInput{
		JobID: p.spec.JobID, Results: out.Results,
	}, nil)
	switch {
	case err == nil:
		return nil
	case temporal.IsCanceledError(err):
		return cancelledByUser()
	}
	return fmt.Errorf("finalize job: %w", err)
}

// end records a job that ended failed or cancelled (in a disconnected
// context, so that a cancelled workflow still writes its final status),
// sends its webhook, and returns the workflow's outcome. Any other error
// fails the workflow as it is.
func (p *prediction) end(err error) (contract.PredictionResult, error) {
	var e *jobEnd
	if !errors.As(err, &e) {
		return contract.PredictionResult{}, err
	}
	dctx := p.ctx
	if !e.recorded {
		var rerr error
		dctx, rerr = recordEnd(p.ctx, orchestrationCtx, contract.ActivityFailJob, contract.FailJobInput{
			JobID: p.spec.JobID, Status: e.status, Error: e.reason, Cause: e.cause,
		}, nil)
		if rerr != nil {
			return contract.PredictionResult{}, fmt.Errorf("record %s job: %w", e.status, rerr)
		}
	}
	p.setStatus(e.status, e.reason)
	notify(dctx, &p.spec, contract.NotifyInput{Status: e.status, Error: e.reason})
	res := contract.PredictionResult{JobID: p.spec.JobID, Status: e.status, Error: e.reason}
	if e.status == omtx.StatusCancelled {
		return res, temporal.NewCanceledError(e.reason)
	}
	return res, temporal.NewNonRetryableApplicationError(e.reason, contract.ErrTypeJobFailed, nil)
}
