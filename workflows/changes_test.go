package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// The behaviour behind each change id of versions.go, in a new run.

func TestInterruptedGPUWorkRunsAgainOutsideTheRetryBudget(t *testing.T) {
	t.Parallel()
	e := env(t)
	e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil)
	interrupted := contract.NonRetryable(contract.ErrTypeInterrupted, "worker stopped", nil)
	// More interruptions than PredictMaxAttempts: none counts against it.
	e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).Return(contract.PredictResult{}, interrupted).Times(PredictMaxAttempts + 2)
	e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).Return(contract.PredictResult{Results: omtx.Results{Model: "m"}}, nil).Once()
	e.OnActivity(contract.ActivityFinalizeJob, mock.Anything, mock.Anything).Return(contract.FinalizeJobResult{}, nil).Once()
	e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: testJob()})
	require.NoError(t, e.GetWorkflowError())
}

func TestInterruptionsHaveABudgetOfTheirOwn(t *testing.T) {
	t.Parallel()
	e := env(t)
	e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil)
	e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).
		Return(contract.PredictResult{}, contract.NonRetryable(contract.ErrTypeInterrupted, "worker stopped", nil)).Times(MaxInterruptions + 1)
	e.OnActivity(contract.ActivityFailJob, mock.Anything, mock.MatchedBy(func(in contract.FailJobInput) bool {
		return in.Status == omtx.StatusFailed && in.Cause == omtx.CauseSystem
	})).Return(contract.FailJobResult{}, nil).Once()
	e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: testJob()})
	require.Error(t, e.GetWorkflowError(), "the job ends failed, not running forever")
}

func TestAFailedBatchFailsTheChildrenItCreated(t *testing.T) {
	t.Parallel()
	e := batchEnv(t)
	e.OnActivity(contract.ActivityPrepareBatch, mock.Anything, mock.Anything).Return(contract.PrepareBatchResult{},
		contract.NonRetryable(contract.ErrTypePermanent, "create children: refused by Firestore: bad field", nil)).Once()
	e.OnActivity(contract.ActivityCancelBatchRemainder, mock.Anything, mock.MatchedBy(func(in contract.CancelBatchRemainderInput) bool {
		return in.Status == omtx.StatusFailed && in.BatchID == "batch_t"
	})).Return(contract.CancelBatchRemainderResult{Marked: 3}, nil).Once()
	e.OnActivity(contract.ActivityFailJob, mock.Anything, mock.MatchedBy(func(in contract.FailJobInput) bool {
		return in.JobID == "batch_t" && in.Status == omtx.StatusFailed
	})).Return(contract.FailJobResult{}, nil).Once()
	e.ExecuteWorkflow(BatchWorkflow, batchInput(10, 4, 2))
	var ae *temporal.ApplicationError
	require.True(t, errors.As(e.GetWorkflowError(), &ae))
	assert.Equal(t, contract.ErrTypeJobFailed, ae.Type())
}

func TestAChunkThatCannotBeRecordedFailsTheBatchVisibly(t *testing.T) {
	t.Parallel()
	e := batchEnv(t)
	prepared(e, 2)
	e.OnActivity(contract.ActivityPredictChunk, mock.Anything, mock.Anything).Return(contract.ChunkCounts{}, errors.New("boom"))
	e.OnActivity(contract.ActivityFinishChildren, mock.Anything, mock.Anything).Return(contract.ChunkCounts{}, errors.New("firestore down"))
	e.ExecuteWorkflow(BatchWorkflow, batchInput(2, 2, 2))
	err := e.GetWorkflowError()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "record the ligands of a failed chunk")
}

func TestANotifyURLStartsAWebhookThatOutlivesTheJob(t *testing.T) {
	t.Parallel()
	e := env(t)
	job := testJob()
	job.NotifyURL, job.KeyID = "https://hooks.example.org/x", "abcd"
	e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil)
	e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).Return(contract.PredictResult{Results: omtx.Results{Model: "m", AffinityPredValue: -1}}, nil)
	e.OnActivity(contract.ActivityFinalizeJob, mock.Anything, mock.Anything).Return(contract.FinalizeJobResult{}, nil)
	var sent contract.NotifyInput
	e.OnActivity(contract.ActivityNotify, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in contract.NotifyInput) (contract.NotifyResult, error) {
			sent = in
			return contract.NotifyResult{Delivered: true}, nil
		}).Once()
	e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: job})
	require.NoError(t, e.GetWorkflowError())
	assert.Equal(t, "https://hooks.example.org/x", sent.URL)
	assert.Equal(t, "abcd", sent.KeyID)
	assert.Equal(t, omtx.StatusCompleted, sent.Status)
	require.NotNil(t, sent.Results)
	assert.InDelta(t, -1, sent.Results.AffinityPredValue, 1e-12)
}

func TestAWebhookThatFailsForADayEndsUndelivered(t *testing.T) {
	t.Parallel()
	e := env(t)
	e.OnActivity(contract.ActivityNotify, mock.Anything, mock.Anything).After(time.Minute).
		Return(contract.NotifyResult{}, errors.New("connection refused"))
	e.ExecuteWorkflow(NotifyWorkflow, contract.NotifyInput{JobID: "job_x", URL: "https://hooks.example.org/x"})
	require.NoError(t, e.GetWorkflowError(), "a webhook never fails anything")
	var out contract.NotifyResult
	require.NoError(t, e.GetWorkflowResult(&out))
	assert.False(t, out.Delivered)
	assert.NotEmpty(t, out.Error)
}

func TestAPredictionWritesItsJobDocumentInLocalActivities(t *testing.T) {
	t.Parallel()
	e := env(t)
	var local []string
	e.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		local = append(local, info.ActivityType.Name)
	})
	e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil).Once()
	e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).Return(contract.PredictResult{Results: omtx.Results{Model: "m"}}, nil).Once()
	e.OnActivity(contract.ActivityFinalizeJob, mock.Anything, mock.Anything).Return(contract.FinalizeJobResult{}, nil).Once()
	e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: testJob()})
	require.NoError(t, e.GetWorkflowError())
	assert.Equal(t, []string{contract.ActivityAcceptJob, contract.ActivityLookupResult, contract.ActivityFinalizeJob}, local,
		"the job-document writes (and the result-cache lookup) run in the workflow's worker; the model alone is an activity task")
}
