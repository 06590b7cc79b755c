// Package jobstart turns a contract.JobSpec into the start of the workflow
// that runs it: its id, task queue, options, search attributes, priority
// and input. It is the one place that does: the API starts every job and
// batch through it, and reconcile starts a record's missing workflow
// through it, so the two can never start one spec differently.
//
// It imports the contract, the domain and the Temporal SDK's client, and
// no HTTP framework, so the workers' binaries that use it link no gin.
package jobstart

import (
	"context"
	"errors"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Start is the start of one workflow.
type Start struct {
	WorkflowID string
	Workflow   string // a contract.Workflow* name
	TaskQueue  string
	// Input is the workflow's one argument: a contract.PredictionInput or
	// a contract.BatchInput.
	Input any
	// SearchAttributes come from contract.SearchAttributes.
	SearchAttributes temporal.SearchAttributes
	// Priority is the Temporal priority key (1 is served first), and
	// FairnessKey shares a priority level fairly between users.
	Priority    int
	FairnessKey string
	// AllowReuse lets an id whose run has closed start again (a target
	// deleted and created anew); a running one is still found, not
	// started twice.
	AllowReuse bool
}

// Of builds the start of the workflow that runs spec: a PredictionWorkflow
// for an individual job, a BatchWorkflow for a batch. fleet is passed to
// the workflow, which reroutes along it. A batch child has no workflow of
// its own (it runs in its batch's chunks): Of refuses it.
func Of(spec contract.JobSpec, fleet omtx.Fleet) (Start, error) {
	class := spec.GPUClass()
	s := Start{
		WorkflowID:       contract.WorkflowIDOf(spec.JobType, spec.JobID),
		TaskQueue:        contract.TaskQueueOrchestration,
		SearchAttributes: contract.SearchAttributes(&spec, spec.JobType, class),
		Priority:         contract.PriorityKeys[priorityOf(&spec)],
		FairnessKey:      spec.UserID,
	}
	switch spec.JobType {
	case omtx.JobTypeIndividual:
		s.Workflow, s.Input = contract.WorkflowPrediction, contract.PredictionInput{Job: spec, GPUClass: class, Fleet: fleet}
	case omtx.JobTypeBatchParent:
		s.Workflow, s.Input = contract.WorkflowBatch, contract.BatchInput{Parent: spec, GPUClass: class, Fleet: fleet}
	default:
		return Start{}, fmt.Errorf("job %s is a %q: only individual jobs and batches have a workflow of their own", spec.JobID, spec.JobType)
	}
	return s, nil
}

// OfRecord builds the start of the workflow that runs a job or batch
// record now: Of its spec, under the id of the record's latest requeue
// (contract.WorkflowOf) when `omtx-worker requeue` has set it back to
// pending.
func OfRecord(rec *omtx.Job, fleet omtx.Fleet) (Start, error) {
	s, err := Of(contract.SpecOf(rec), fleet)
	if err != nil {
		return Start{}, err
	}
	s.WorkflowID = contract.WorkflowOf(rec)
	return s, nil
}

// priorityOf names the spec's priority level: its own, or when it has
// none (a record of the first release) its type's default, as the API
// sets them.
func priorityOf(spec *contract.JobSpec) string {
	if _, ok := contract.PriorityKeys[spec.Priority]; ok {
		return spec.Priority
	}
	if spec.JobType == omtx.JobTypeBatchParent {
		return "normal"
	}
	return "interactive"
}

// Options are the client options s starts with. Starting an id that
// already ran or is running finds the existing run (reject-duplicate,
// use-existing), so a retried submission runs once; with AllowReuse, an id
// whose run closed starts anew.
func (s Start) Options() client.StartWorkflowOptions {
	reuse := enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	if s.AllowReuse {
		reuse = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
	}
	return client.StartWorkflowOptions{
		ID:                       s.WorkflowID,
		TaskQueue:                s.TaskQueue,
		WorkflowIDReusePolicy:    reuse,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    s.SearchAttributes,
		Priority:                 temporal.Priority{PriorityKey: s.Priority, FairnessKey: s.FairnessKey},
	}
}

// Execute starts s on c and returns its run id; for an id that already
// ran or is running, the existing run's.
func Execute(ctx context.Context, c client.Client, s Start) (string, error) {
	run, err := c.ExecuteWorkflow(ctx, s.Options(), s.Workflow, s.Input)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return started.RunId, nil
	}
	if err != nil {
		return "", fmt.Errorf("start %s %s: %w", s.Workflow, s.WorkflowID, err)
	}
	return run.GetRunID(), nil
}
