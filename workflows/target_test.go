package workflows

import (
	"context"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestTargetIDReachesTheGPUActivities: a job's or a screen's target id
// travels from the spec to the GPU activity that renders the complex.
func TestTargetIDReachesTheGPUActivities(t *testing.T) {
	t.Parallel()

	t.Run("prediction", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil).Once()
		var got contract.PredictInput
		e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in contract.PredictInput) (contract.PredictResult, error) {
				got = in
				return contract.PredictResult{}, nil
			}).Once()
		e.OnActivity(contract.ActivityFinalizeJob, mock.Anything, mock.Anything).Return(contract.FinalizeJobResult{}, nil).Once()
		job := testJob()
		job.InputData.TargetID = "tgt_1"
		e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: job, GPUClass: omtx.GPUClassL4})
		require.NoError(t, e.GetWorkflowError())
		require.Equal(t, "tgt_1", got.TargetID)
	})

	t.Run("the MSA activity runs for a target's chains", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil).Once()
		ref := omtx.MSARef{Mode: omtx.MSAServer, Object: "msa/x.a3m", Chains: map[string]string{"A": "msa/x.a3m"}}
		e.OnActivity(contract.ActivityEnsureMSA, mock.Anything, mock.MatchedBy(func(in contract.EnsureMSAInput) bool {
			return in.TargetID == "tgt_1"
		})).Return(ref, nil).Once()
		var got contract.PredictInput
		e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in contract.PredictInput) (contract.PredictResult, error) {
				got = in
				return contract.PredictResult{}, nil
			}).Once()
		e.OnActivity(contract.ActivityFinalizeJob, mock.Anything, mock.Anything).Return(contract.FinalizeJobResult{}, nil).Once()
		job := testJob()
		job.Model = omtx.ModelBoltz2
		job.InputData.TargetID = "tgt_1" // use_msa is false: the target's chains decide
		e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: job, GPUClass: omtx.GPUClassL4})
		require.NoError(t, e.GetWorkflowError())
		require.Equal(t, ref, got.MSA)
	})

	// The API routes by the whole complex's tokens (spec.Tokens); budgets
	// grow along the fleet (omtx.ParseFleet), so the next class holds the
	// complex too, and the rerouted attempt must still run the complex.
	t.Run("a chunk rerouted after running out of memory keeps its target", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		fleet, err := omtx.ParseFleet(omtx.DefaultFleetSpec)
		require.NoError(t, err)
		var queues, targets []string
		e.OnActivity(contract.ActivityPredictChunk, mock.Anything, mock.Anything).Return(
			func(ctx context.Context, in contract.PredictChunkInput) (contract.ChunkCounts, error) {
				queues = append(queues, activity.GetInfo(ctx).TaskQueue)
				targets = append(targets, in.TargetID)
				if len(queues) == 1 {
					return contract.ChunkCounts{}, contract.NonRetryable(contract.ErrTypeOutOfMemory, "out of GPU memory", nil)
				}
				return contract.ChunkCounts{Completed: len(in.JobIDs)}, nil
			}).Twice()
		e.OnActivity(contract.ActivityRecordRouting, mock.Anything, mock.Anything).Return(contract.RecordRoutingResult{}, nil).Once()
		e.ExecuteWorkflow(BatchChunkWorkflow, contract.ChunkInput{BatchID: "batch_t", JobIDs: []string{"c0"}, Model: omtx.ModelBoltz2,
			GPUClass: omtx.GPUClassL4, Fleet: fleet, TargetID: "tgt_1"})
		require.NoError(t, e.GetWorkflowError())
		require.Equal(t, []string{"tgt_1", "tgt_1"}, targets)
		require.Equal(t, []string{contract.GPUTaskQueue(omtx.GPUClassL4), contract.GPUTaskQueue("a100-80g")}, queues)
	})

	t.Run("screen", func(t *testing.T) {
		t.Parallel()
		e := batchEnv(t)
		prepared(e, 4)
		var seen []string
		e.OnActivity(contract.ActivityPredictChunk, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in contract.PredictChunkInput) (contract.ChunkCounts, error) {
				seen = append(seen, in.TargetID)
				return contract.ChunkCounts{Completed: len(in.JobIDs)}, nil
			})
		e.OnActivity(contract.ActivityAggregateBatch, mock.Anything, mock.Anything).Return(contract.AggregateBatchResult{Status: omtx.StatusCompleted}, nil).Once()
		in := batchInput(4, 2, 2)
		in.Parent.InputData.TargetID = "tgt_1"
		e.ExecuteWorkflow(BatchWorkflow, in)
		require.NoError(t, e.GetWorkflowError())
		require.Equal(t, []string{"tgt_1", "tgt_1"}, seen)
	})
}
