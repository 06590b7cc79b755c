package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/validate"
)

// Orchestration holds the activities that run on the orchestration queue.
type Orchestration struct {
	Jobs JobStore
	// Targets records a target's MSAs (RecordTargetMSA).
	Targets TargetMSAStore
	Blobs   BlobStore
	// Notifier sends completion webhooks; nil means none are sent.
	Notifier *Notifier
	Now      func() time.Time
	Logger   *slog.Logger
	// Bounds are the deployment's limits on run settings, which AcceptJob
	// applies as the API did; zero fields take validate.DefaultBounds'.
	Bounds validate.Bounds
	// Cache is the result cache that PrepareBatch and LookupResult look
	// jobs up in before any GPU work; nil means none.
	Cache *ResultCache
}

// Activities maps the orchestration queue's activity types to their
// functions; the worker registers exactly these.
func (o *Orchestration) Activities() map[string]any {
	return map[string]any{
		contract.ActivityAcceptJob:            o.AcceptJob,
		contract.ActivityFinalizeJob:          o.FinalizeJob,
		contract.ActivityFailJob:              o.FailJob,
		contract.ActivityRecordRouting:        o.RecordRouting,
		contract.ActivityPrepareBatch:         o.PrepareBatch,
		contract.ActivityFinishChildren:       o.FinishChildren,
		contract.ActivityCancelBatchRemainder: o.CancelBatchRemainder,
		contract.ActivityUpdateBatchProgress:  o.UpdateBatchProgress,
		contract.ActivityAggregateBatch:       o.AggregateBatch,
		contract.ActivityNotify:               o.Notify,
		contract.ActivityRecordTargetMSA:      o.RecordTargetMSA,
		contract.ActivityLookupResult:         o.LookupResult,
	}
}

func (o *Orchestration) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

// AcceptJob validates the job's input under this worker's rules, then
// moves its document from pending to queued (creating the document from
// the spec if it is missing: the workflow was started some other way than
// through the API, or the record was lost) and stores input.json.
//
// Validation runs here, not in the workflow, so that changing the rules is
// a change of worker code only: no history depends on them. Input the
// rules refuse fails the job with the reason, and AcceptJob returns a
// non-retryable contract.ErrTypeInvalidInput error.
//
// A job already past pending is left as it is, so a retried AcceptJob
// changes nothing; its status is returned for the workflow to go on or
// stop on.
func (o *Orchestration) AcceptJob(ctx context.Context, in contract.AcceptJobInput) (contract.AcceptJobResult, error) {
	spec := in.Job
	info := activity.GetInfo(ctx)
	now := o.now()
	input := spec.InputData
	lig, verr := validate.InputWithin(spec.Model, &input, o.Bounds)
	refused := false
	job, err := o.Jobs.Update(ctx, spec.JobID, func(cur *omtx.Job) (*omtx.Job, error) {
		refused = false
		if cur == nil {
			cur = spec.Document()
		}
		if cur.Status != omtx.StatusPending {
			return nil, nil
		}
		cur.UpdatedAt = now
		if verr == nil && cur.InputData.ModelledSMILES == "" {
			// A spec from before modelled_smiles, or one not made by the
			// API: recorded here, under this worker's rules.
			cur.InputData.ModelledSMILES = lig.ModelledSMILES
		}
		if verr != nil {
			cur.Status, cur.Error, cur.CompletedAt = omtx.StatusFailed, "invalid input: "+verr.Error(), &now
			cur.FailureCause = omtx.CauseUserInput
			refused = true
			return cur, nil
		}
		cur.Status = omtx.StatusQueued
		cur.Temporal = &omtx.TemporalRef{
			WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
			TaskQueue: in.TaskQueue, GPUClass: in.GPUClass,
		}
		return cur, nil
	})
	if err != nil {
		return contract.AcceptJobResult{}, storeErr("accept job", err)
	}
	data, err := json.MarshalIndent(inputFile{
		JobID: job.JobID, JobType: job.JobType, Model: job.Model, RequestedModel: job.RequestedModel,
		UserID: job.UserID, CreatedAt: job.CreatedAt, InputData: job.InputData, Warnings: job.Warnings,
	}, "", "  ")
	if err != nil {
		return contract.AcceptJobResult{}, fmt.Errorf("encode input: %w", err)
	}
	if err := o.Blobs.Put(ctx, omtx.JobFolder(job)+omtx.FileInput, "application/json", data); err != nil {
		return contract.AcceptJobResult{}, storeErr("store input", err)
	}
	log := logFor(ctx, o.Logger, "job_id", job.JobID)
	if verr != nil && job.Status == omtx.StatusFailed {
		// Refused now, or by an earlier attempt of this activity.
		if refused {
			log.Warn("job refused", "error", job.Error)
			metrics.JobEnded(job.JobType, omtx.StatusFailed, omtx.CauseUserInput, 1)
		}
		return contract.AcceptJobResult{Status: job.Status}, contract.NonRetryable(contract.ErrTypeInvalidInput, job.Error, nil)
	}
	log.Info("job accepted", "status", job.Status)
	return contract.AcceptJobResult{Status: job.Status}, nil
}

// inputFile is the layout of input.json.
type inputFile struct {
	JobID          string         `json:"job_id"`
	JobType        omtx.JobType   `json:"job_type"`
	Model          string         `json:"model"`
	RequestedModel string         `json:"requested_model,omitempty"`
	UserID         string         `json:"user_id"`
	CreatedAt      time.Time      `json:"created_at"`
	InputData      omtx.InputData `json:"input_data"`
	Warnings       []string       `json:"warnings,omitempty"`
}

// FinalizeJob marks a job completed with its results. A job already in a
// terminal status is left alone.
func (o *Orchestration) FinalizeJob(ctx context.Context, in contract.FinalizeJobInput) (contract.FinalizeJobResult, error) {
	now := o.now()
	var changed *omtx.Job
	_, err := o.Jobs.Update(ctx, in.JobID, func(cur *omtx.Job) (*omtx.Job, error) {
		changed = nil
		if cur == nil {
			return nil, fmt.Errorf("job %s has no document", in.JobID)
		}
		if cur.Status.Terminal() {
			return nil, nil
		}
		changed = cur
		res := in.Results
		cur.Status, cur.Results, cur.Error = omtx.StatusCompleted, &res, ""
		cur.UpdatedAt, cur.CompletedAt = now, &now
		if cur.StartedAt == nil {
			cur.StartedAt = &now
		}
		return cur, nil
	})
	if err != nil {
		return contract.FinalizeJobResult{}, storeErr("finalize job", err)
	}
	if changed != nil {
		logFor(ctx, o.Logger, "job_id", in.JobID).Info("job completed", "affinity_pred_value", in.Results.AffinityPredValue, "model", in.Results.Model)
		metrics.JobEnded(changed.JobType, omtx.StatusCompleted, "", 1)
		metrics.Stage.WithLabelValues("end_to_end").Observe(now.Sub(changed.CreatedAt).Seconds())
	}
	return contract.FinalizeJobResult{}, nil
}

// FailJob marks a job failed (or cancelled) with a reason. A job already in
// a terminal status is left alone.
func (o *Orchestration) FailJob(ctx context.Context, in contract.FailJobInput) (contract.FailJobResult, error) {
	if in.Status != omtx.StatusFailed && in.Status != omtx.StatusCancelled {
		return contract.FailJobResult{}, contract.NonRetryable(contract.ErrTypePermanent,
			fmt.Sprintf("fail job: status %q is not failed or cancelled", in.Status), nil)
	}
	now := o.now()
	var changed *omtx.Job
	_, err := o.Jobs.Update(ctx, in.JobID, func(cur *omtx.Job) (*omtx.Job, error) {
		changed = nil
		if cur == nil || cur.Status.Terminal() {
			return nil, nil
		}
		changed = cur
		cur.Status, cur.Error = in.Status, in.Error
		if in.Status == omtx.StatusFailed {
			cur.FailureCause = causeOf(in.Status, in.Cause)
		}
		cur.UpdatedAt, cur.CompletedAt = now, &now
		return cur, nil
	})
	if err != nil {
		return contract.FailJobResult{}, storeErr("fail job", err)
	}
	if changed != nil {
		logFor(ctx, o.Logger, "job_id", in.JobID).Warn("job ended", "status", in.Status, "error", in.Error, "cause", causeOf(in.Status, in.Cause))
		metrics.JobEnded(changed.JobType, in.Status, causeOf(in.Status, in.Cause), 1)
	}
	return contract.FailJobResult{}, nil
}

// causeOf names whose failure a final status is, for metrics.
func causeOf(status omtx.JobStatus, cause string) string {
	switch {
	case status == omtx.StatusCancelled:
		return omtx.CauseCancelled
	case status == omtx.StatusCompleted:
		return ""
	case cause == "":
		return omtx.CauseSystem
	}
	return cause
}

// RecordRouting appends a GPU-class decision to the jobs' gpu_routing.
func (o *Orchestration) RecordRouting(ctx context.Context, in contract.RecordRoutingInput) (contract.RecordRoutingResult, error) {
	docs, err := o.Jobs.GetMany(ctx, in.JobIDs)
	if err != nil {
		return contract.RecordRoutingResult{}, storeErr("record routing", err)
	}
	var change []*omtx.Job
	for _, d := range docs {
		if d == nil || slices.Contains(d.GPURouting, in.Step) {
			continue // a retry must not append twice
		}
		d.GPURouting = append(d.GPURouting, in.Step)
		d.UpdatedAt = o.now()
		change = append(change, d)
	}
	if err := o.Jobs.SetMany(ctx, change); err != nil {
		return contract.RecordRoutingResult{}, storeErr("record routing", err)
	}
	return contract.RecordRoutingResult{}, nil
}
