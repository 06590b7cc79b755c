package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Orchestration holds the activities that run on the orchestration queue.
type Orchestration struct {
	Jobs   JobStore
	Blobs  BlobStore
	Now    func() time.Time
	Logger *slog.Logger
}

func (o *Orchestration) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

// AcceptInput is AcceptJob's input: the job document as submitted.
type AcceptInput struct {
	Job       omtx.Job
	TaskQueue string // the GPU queue it will run on
	GPUClass  string
}

// AcceptOutput tells the workflow the job's status after acceptance.
type AcceptOutput struct {
	Status omtx.JobStatus
}

// AcceptJob moves a job from pending to queued, creating the document from
// the workflow input if the API crashed before writing it, and stores
// input.json. A job already past queued is left as it is, so a retried
// AcceptJob changes nothing; a terminal status is returned for the workflow
// to stop on.
func (o *Orchestration) AcceptJob(ctx context.Context, in AcceptInput) (AcceptOutput, error) {
	info := activity.GetInfo(ctx)
	ref := &omtx.TemporalRef{
		WorkflowID: info.WorkflowExecution.ID,
		RunID:      info.WorkflowExecution.RunID,
		TaskQueue:  in.TaskQueue,
		GPUClass:   in.GPUClass,
	}
	now := o.now()
	job, err := o.Jobs.Update(ctx, in.Job.JobID, func(cur *omtx.Job) (*omtx.Job, error) {
		if cur == nil {
			j := in.Job
			cur = &j
			cur.Status = omtx.StatusPending
		}
		if cur.Status == omtx.StatusPending && sameKeyOtherRequest(cur, &in.Job) {
			cur.Status, cur.Error, cur.UpdatedAt, cur.CompletedAt = omtx.StatusFailed, errKeyReused, now, &now
			return cur, nil
		}
		if cur.Status != omtx.StatusPending {
			return nil, nil
		}
		cur.Status = omtx.StatusQueued
		cur.UpdatedAt = now
		cur.Temporal = ref
		return cur, nil
	})
	if err != nil {
		return AcceptOutput{}, fmt.Errorf("accept job: %w", err)
	}
	input, err := json.MarshalIndent(inputFile{
		JobID: job.JobID, JobType: job.JobType, Model: job.Model, RequestedModel: job.RequestedModel,
		UserID: job.UserID, CreatedAt: job.CreatedAt, InputData: job.InputData,
		BatchParentID: job.BatchParentID, BatchIndex: job.BatchIndex,
	}, "", "  ")
	if err != nil {
		return AcceptOutput{}, fmt.Errorf("encode input: %w", err)
	}
	if err := o.Blobs.Put(ctx, omtx.JobFolder(job)+omtx.FileInput, "application/json", input); err != nil {
		return AcceptOutput{}, fmt.Errorf("store input: %w", err)
	}
	logFor(ctx, o.Logger, "job_id", job.JobID, "batch_id", job.BatchParentID).Info("job accepted", "status", job.Status)
	return AcceptOutput{Status: job.Status}, nil
}

type inputFile struct {
	JobID          string         `json:"job_id"`
	JobType        omtx.JobType   `json:"job_type"`
	Model          string         `json:"model"`
	RequestedModel string         `json:"requested_model,omitempty"`
	UserID         string         `json:"user_id"`
	CreatedAt      time.Time      `json:"created_at"`
	InputData      omtx.InputData `json:"input_data"`
	BatchParentID  string         `json:"batch_parent_id,omitempty"`
	BatchIndex     *int           `json:"batch_index,omitempty"`
}

const errKeyReused = "Idempotency-Key was reused with a different request; resubmit with a new key"

// sameKeyOtherRequest reports whether the stored document was written for
// a different request than the workflow's (two requests raced with one
// idempotency key).
func sameKeyOtherRequest(stored, run *omtx.Job) bool {
	return stored.RequestHash != "" && run.RequestHash != "" && stored.RequestHash != run.RequestHash
}

// FinalizeInput is FinalizeJob's input.
type FinalizeInput struct {
	JobID   string
	Results omtx.Results
}

// FinalizeJob marks a job completed with its results. A job already in a
// terminal status is left alone.
func (o *Orchestration) FinalizeJob(ctx context.Context, in FinalizeInput) error {
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
		cur.Status = omtx.StatusCompleted
		cur.Results = &res
		cur.Error = ""
		cur.UpdatedAt = now
		cur.CompletedAt = &now
		if cur.StartedAt == nil {
			cur.StartedAt = &now
		}
		return cur, nil
	})
	if err != nil {
		return fmt.Errorf("finalize job: %w", err)
	}
	if changed != nil {
		logFor(ctx, o.Logger, "job_id", in.JobID).Info("job completed", "affinity_pred_value", in.Results.AffinityPredValue, "model", in.Results.Model)
		metrics.Jobs.WithLabelValues(string(changed.JobType), string(omtx.StatusCompleted)).Inc()
		metrics.Stage.WithLabelValues("end_to_end").Observe(now.Sub(changed.CreatedAt).Seconds())
	}
	return nil
}

// FailInput is FailJob's input.
type FailInput struct {
	JobID  string
	Status omtx.JobStatus // failed or cancelled
	Error  string
}

// FailJob marks a job failed (or cancelled) with a reason. A job already in
// a terminal status is left alone.
func (o *Orchestration) FailJob(ctx context.Context, in FailInput) error {
	if in.Status != omtx.StatusFailed && in.Status != omtx.StatusCancelled {
		return fmt.Errorf("fail job: status %q is not failed or cancelled", in.Status)
	}
	now := o.now()
	var changed *omtx.Job
	_, err := o.Jobs.Update(ctx, in.JobID, func(cur *omtx.Job) (*omtx.Job, error) {
		changed = nil
		if cur == nil || cur.Status.Terminal() {
			return nil, nil
		}
		changed = cur
		cur.Status = in.Status
		cur.Error = in.Error
		cur.UpdatedAt = now
		cur.CompletedAt = &now
		return cur, nil
	})
	if err != nil {
		return fmt.Errorf("fail job: %w", err)
	}
	if changed != nil {
		logFor(ctx, o.Logger, "job_id", in.JobID).Warn("job ended", "status", in.Status, "error", in.Error)
		metrics.Jobs.WithLabelValues(string(changed.JobType), string(in.Status)).Inc()
	}
	return nil
}

// RoutingInput is RecordRouting's input.
type RoutingInput struct {
	JobIDs []string
	Step   omtx.RoutingStep
}

// RecordRouting appends a GPU-class decision to the jobs' gpu_routing.
func (o *Orchestration) RecordRouting(ctx context.Context, in RoutingInput) error {
	docs, err := o.Jobs.GetMany(ctx, in.JobIDs)
	if err != nil {
		return fmt.Errorf("record routing: %w", err)
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
		return fmt.Errorf("record routing: %w", err)
	}
	return nil
}
