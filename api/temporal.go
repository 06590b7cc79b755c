package api

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/workflows/wfinput"
)

// TemporalScheduler starts workflows on a Temporal cluster.
type TemporalScheduler struct {
	Client client.Client
}

// StartPrediction starts the job's PredictionWorkflow. The workflow id is
// derived from the job id, and starting an id that already ran or is
// running returns the existing run, so a retried submission runs once.
func (t TemporalScheduler) StartPrediction(ctx context.Context, in wfinput.Prediction) (string, error) {
	opts := client.StartWorkflowOptions{
		ID:                       omtx.PredictionWorkflowID(in.Job.JobID),
		TaskQueue:                omtx.TaskQueueOrchestration,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    jobSearchAttributes(&in.Job, in.GPUClass),
	}
	run, err := t.Client.ExecuteWorkflow(ctx, opts, omtx.PredictionWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return started.RunId, nil
	}
	if err != nil {
		return "", &omtx.Error{Code: omtx.EUnavailable, Message: fmt.Sprintf("could not schedule the job: %v", err)}
	}
	return run.GetRunID(), nil
}

// StartBatch starts a batch's BatchWorkflow, idempotently like
// StartPrediction.
func (t TemporalScheduler) StartBatch(ctx context.Context, in wfinput.Batch, priority int) (string, error) {
	p := &in.Parent
	opts := client.StartWorkflowOptions{
		ID:                       omtx.BatchWorkflowID(p.JobID),
		TaskQueue:                omtx.TaskQueueOrchestration,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		Priority:                 temporal.Priority{PriorityKey: priority},
		TypedSearchAttributes: temporal.NewSearchAttributes(
			temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrUserID).ValueSet(p.UserID),
			temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrJobType).ValueSet(string(p.JobType)),
			temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrModel).ValueSet(p.Model),
			temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrGPUClass).ValueSet(in.GPUClass),
			temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrBatchID).ValueSet(p.JobID),
		),
	}
	run, err := t.Client.ExecuteWorkflow(ctx, opts, omtx.BatchWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return started.RunId, nil
	}
	if err != nil {
		return "", &omtx.Error{Code: omtx.EUnavailable, Message: fmt.Sprintf("could not schedule the batch: %v", err)}
	}
	return run.GetRunID(), nil
}

// Cancel requests cancellation of a workflow's current run.
func (t TemporalScheduler) Cancel(ctx context.Context, workflowID string) error {
	err := t.Client.CancelWorkflow(ctx, workflowID, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return omtx.Errorf(omtx.EConflict, "job_id", "the job's workflow is no longer running")
	}
	if err != nil {
		return &omtx.Error{Code: omtx.EUnavailable, Message: fmt.Sprintf("could not cancel: %v", err)}
	}
	return nil
}

// BatchProgress queries a running batch's progress.
func (t TemporalScheduler) BatchProgress(ctx context.Context, batchID string) (omtx.Progress, error) {
	var p omtx.Progress
	v, err := t.Client.QueryWorkflow(ctx, omtx.BatchWorkflowID(batchID), "", omtx.QueryProgress)
	if err != nil {
		return p, err
	}
	return p, v.Get(&p)
}

// Ping checks that the Temporal frontend answers.
func (t TemporalScheduler) Ping(ctx context.Context) error {
	if _, err := t.Client.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return fmt.Errorf("temporal: %w", err)
	}
	return nil
}

// jobSearchAttributes are the search attributes operators filter on in the
// Web UI (registered by make dev).
func jobSearchAttributes(j *omtx.Job, gpuClass string) temporal.SearchAttributes {
	updates := []temporal.SearchAttributeUpdate{
		temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrUserID).ValueSet(j.UserID),
		temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrJobType).ValueSet(string(j.JobType)),
		temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrModel).ValueSet(j.Model),
		temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrGPUClass).ValueSet(gpuClass),
	}
	if j.BatchParentID != "" {
		updates = append(updates, temporal.NewSearchAttributeKeyKeyword(omtx.SearchAttrBatchID).ValueSet(j.BatchParentID))
	}
	return temporal.NewSearchAttributes(updates...)
}
