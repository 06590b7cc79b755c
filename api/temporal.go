package api

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/jobstart"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// TemporalScheduler starts workflows on a Temporal cluster.
type TemporalScheduler struct {
	Client client.Client
}

// Start starts a workflow (jobstart.Execute). Starting an id that
// already ran or is running returns the existing run, so a retried
// submission runs once.
func (t TemporalScheduler) Start(ctx context.Context, req StartRequest) (string, error) {
	return jobstart.Execute(ctx, t.Client, req)
}

// Cancel requests cancellation of a workflow's current run.
func (t TemporalScheduler) Cancel(ctx context.Context, workflowID string) error {
	err := t.Client.CancelWorkflow(ctx, workflowID, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return omtx.Errorf(omtx.EConflict, "job_id", "the job's workflow is no longer running")
	}
	if err != nil {
		return fmt.Errorf("cancel %s: %w", workflowID, err)
	}
	return nil
}

// BatchProgress queries a running batch's workflow for its progress.
func (t TemporalScheduler) BatchProgress(ctx context.Context, workflowID string) (omtx.Progress, error) {
	var p omtx.Progress
	v, err := t.Client.QueryWorkflow(ctx, workflowID, "", contract.QueryProgress)
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
