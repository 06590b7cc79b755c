package jobstart_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/jobstart"
	"github.com/omtx-hub/omtx-hub/omtx"
)

func TestOf(t *testing.T) {
	t.Parallel()
	fleet := omtx.Fleet{{Name: "l4", MaxTokens: 1200}, {Name: "a100-80g", MaxTokens: 4000}}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	routed := []omtx.RoutingStep{{GPUClass: "a100-80g"}}
	for _, c := range []struct {
		name         string
		spec         contract.JobSpec
		wantID       string
		wantWorkflow string
		wantPriority int
		wantClass    string
	}{
		{
			name:   "a prediction is interactive",
			spec:   contract.JobSpec{JobID: "job_1", JobType: omtx.JobTypeIndividual, UserID: "u1", Model: "m", CreatedAt: t0, Priority: "interactive"},
			wantID: "prediction-job_1", wantWorkflow: contract.WorkflowPrediction, wantPriority: 1, wantClass: omtx.DefaultGPUClass,
		},
		{
			name:   "a first-release prediction without a priority is interactive",
			spec:   contract.JobSpec{JobID: "job_2", JobType: omtx.JobTypeIndividual, UserID: "u1", Model: "m", CreatedAt: t0},
			wantID: "prediction-job_2", wantWorkflow: contract.WorkflowPrediction, wantPriority: 1, wantClass: omtx.DefaultGPUClass,
		},
		{
			name:   "a batch keeps its own priority and routing",
			spec:   contract.JobSpec{JobID: "batch_1", JobType: omtx.JobTypeBatchParent, UserID: "u2", Model: "m", CreatedAt: t0, Priority: "low", GPURouting: routed},
			wantID: "batch-batch_1", wantWorkflow: contract.WorkflowBatch, wantPriority: 4, wantClass: "a100-80g",
		},
		{
			name:   "a batch without a priority is normal",
			spec:   contract.JobSpec{JobID: "batch_2", JobType: omtx.JobTypeBatchParent, UserID: "u2", Model: "m", CreatedAt: t0},
			wantID: "batch-batch_2", wantWorkflow: contract.WorkflowBatch, wantPriority: 3, wantClass: omtx.DefaultGPUClass,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := jobstart.Of(c.spec, fleet)
			require.NoError(t, err)
			assert.Equal(t, c.wantID, got.WorkflowID)
			assert.Equal(t, c.wantWorkflow, got.Workflow)
			assert.Equal(t, contract.TaskQueueOrchestration, got.TaskQueue)
			assert.Equal(t, c.wantPriority, got.Priority)
			assert.Equal(t, c.spec.UserID, got.FairnessKey)
			assert.Equal(t, contract.SearchAttributes(&c.spec, c.spec.JobType, c.wantClass), got.SearchAttributes)
			switch in := got.Input.(type) {
			case contract.PredictionInput:
				assert.Equal(t, contract.PredictionInput{Job: c.spec, GPUClass: c.wantClass, Fleet: fleet}, in)
			case contract.BatchInput:
				assert.Equal(t, contract.BatchInput{Parent: c.spec, GPUClass: c.wantClass, Fleet: fleet}, in)
			default:
				t.Fatalf("input is a %T", got.Input)
			}

			opts := got.Options()
			assert.Equal(t, got.WorkflowID, opts.ID)
			assert.Equal(t, got.TaskQueue, opts.TaskQueue)
			assert.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE, opts.WorkflowIDReusePolicy, "a retried submission never runs twice")
			assert.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, opts.WorkflowIDConflictPolicy)
			assert.Equal(t, got.Priority, opts.Priority.PriorityKey)
			assert.Equal(t, got.FairnessKey, opts.Priority.FairnessKey)
			assert.Equal(t, got.SearchAttributes, opts.TypedSearchAttributes)
		})
	}

	t.Run("a batch child has no workflow of its own", func(t *testing.T) {
		t.Parallel()
		_, err := jobstart.Of(contract.JobSpec{JobID: "batch_1_00001", JobType: omtx.JobTypeBatchChild}, fleet)
		require.Error(t, err)
	})
}

func TestOfRecord(t *testing.T) {
	t.Parallel()
	rec := &omtx.Job{JobID: "job_1", JobType: omtx.JobTypeIndividual, UserID: "u1", Model: "m", Status: omtx.StatusPending}
	s, err := jobstart.OfRecord(rec, nil)
	require.NoError(t, err)
	assert.Equal(t, "prediction-job_1", s.WorkflowID, "a record never requeued runs under its first id")
	rec.Requeues = 2
	s, err = jobstart.OfRecord(rec, nil)
	require.NoError(t, err)
	assert.Equal(t, "prediction-job_1-requeue-2", s.WorkflowID)
	assert.Equal(t, "job_1", s.Input.(contract.PredictionInput).Job.JobID)
	_, err = jobstart.OfRecord(&omtx.Job{JobID: "c", JobType: omtx.JobTypeBatchChild}, nil)
	assert.Error(t, err, "a child has no workflow of its own")
}
