package workflows

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/omtx"
)

const (
	testProtein = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK"
	aspirin     = "CC(=O)OC1=CC=CC=C1C(=O)O"
)

func testJob() omtx.Job {
	return omtx.Job{
		JobID: "job_test", JobType: omtx.JobTypeIndividual, Model: omtx.BaselineModel,
		Status: omtx.StatusPending, UserID: "u1",
		CreatedAt: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC),
		InputData: omtx.InputData{ProteinSequence: testProtein, LigandSMILES: aspirin, LigandName: "Aspirin"},
	}
}

// env returns a test environment with the activities registered, so that
// mocks are matched by name.
func env(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	e.RegisterActivity(&activities.Orchestration{})
	e.RegisterActivity(&activities.GPU{})
	t.Cleanup(func() { e.AssertExpectations(t) })
	return e
}

func TestPredictionWorkflow(t *testing.T) {
	t.Parallel()

	t.Run("completes and records results", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		want := omtx.Results{Model: omtx.BaselineModel, AffinityPredValue: 1.5}
		e.OnActivity("AcceptJob", mock.Anything, mock.MatchedBy(func(in activities.AcceptInput) bool {
			return in.Job.JobID == "job_test" && in.TaskQueue == "omtx-gpu-l4" && in.GPUClass == "l4"
		})).Return(activities.AcceptOutput{Status: omtx.StatusQueued}, nil).Once()
		e.OnActivity("Predict", mock.Anything, mock.MatchedBy(func(in activities.PredictInput) bool {
			return in.Folder == "jobs/job_test/" && in.Ligand.SMILES == aspirin && in.Parameters.NumSamples == 1
		})).Return(activities.PredictOutput{Results: want}, nil).Once()
		e.OnActivity("FinalizeJob", mock.Anything, activities.FinalizeInput{JobID: "job_test", Results: want}).Return(nil).Once()

		e.ExecuteWorkflow(PredictionWorkflow, PredictionInput{Job: testJob(), GPUClass: omtx.GPUClassL4})

		require.True(t, e.IsWorkflowCompleted())
		require.NoError(t, e.GetWorkflowError())
		var got PredictionResult
		require.NoError(t, e.GetWorkflowResult(&got))
		require.Equal(t, omtx.StatusCompleted, got.Status)
		require.Equal(t, want.AffinityPredValue, got.Results.AffinityPredValue)
	})

	t.Run("invalid input fails the job without running the model", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity("FailJob", mock.Anything, mock.MatchedBy(func(in activities.FailInput) bool {
			return in.Status == omtx.StatusFailed && in.JobID == "job_test"
		})).Return(nil).Once()
		job := testJob()
		job.InputData.LigandSMILES = "C1CC"
		e.ExecuteWorkflow(PredictionWorkflow, PredictionInput{Job: job})

		err := e.GetWorkflowError()
		require.Error(t, err)
		var ae *temporal.ApplicationError
		require.True(t, errors.As(err, &ae))
		require.Equal(t, ErrTypeJobFailed, ae.Type())
		require.Contains(t, ae.Error(), "ligand_smiles")
	})

	t.Run("model failure after retries marks the job failed", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity("AcceptJob", mock.Anything, mock.Anything).Return(activities.AcceptOutput{Status: omtx.StatusQueued}, nil)
		e.OnActivity("Predict", mock.Anything, mock.Anything).
			Return(activities.PredictOutput{}, errors.New("cuda error: device lost")).Times(PredictMaxAttempts)
		var failed activities.FailInput
		e.OnActivity("FailJob", mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
			failed = args.Get(1).(activities.FailInput)
		}).Return(nil).Once()

		e.ExecuteWorkflow(PredictionWorkflow, PredictionInput{Job: testJob()})

		require.Error(t, e.GetWorkflowError())
		require.Equal(t, omtx.StatusFailed, failed.Status)
		require.Contains(t, failed.Error, "device lost")
	})

	t.Run("a rejected ligand is not retried", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity("AcceptJob", mock.Anything, mock.Anything).Return(activities.AcceptOutput{Status: omtx.StatusQueued}, nil)
		e.OnActivity("Predict", mock.Anything, mock.Anything).Return(activities.PredictOutput{},
			temporal.NewNonRetryableApplicationError("ligand_smiles: unsupported element", activities.ErrTypeInvalidInput, nil)).Once()
		e.OnActivity("FailJob", mock.Anything, mock.Anything).Return(nil).Once()

		e.ExecuteWorkflow(PredictionWorkflow, PredictionInput{Job: testJob()})
		require.Error(t, e.GetWorkflowError())
	})

	t.Run("a job cancelled before it was accepted does not run", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity("AcceptJob", mock.Anything, mock.Anything).Return(activities.AcceptOutput{Status: omtx.StatusCancelled}, nil).Once()

		e.ExecuteWorkflow(PredictionWorkflow, PredictionInput{Job: testJob()})
		require.NoError(t, e.GetWorkflowError())
		var got PredictionResult
		require.NoError(t, e.GetWorkflowResult(&got))
		require.Equal(t, omtx.StatusCancelled, got.Status)
	})

	t.Run("cancelling the workflow records cancelled", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity("AcceptJob", mock.Anything, mock.Anything).Return(activities.AcceptOutput{Status: omtx.StatusQueued}, nil)
		e.OnActivity("Predict", mock.Anything, mock.Anything).After(time.Hour).Return(activities.PredictOutput{}, nil).Maybe()
		e.OnActivity("FailJob", mock.Anything, mock.MatchedBy(func(in activities.FailInput) bool {
			return in.Status == omtx.StatusCancelled
		})).Return(nil).Once()
		e.RegisterDelayedCallback(e.CancelWorkflow, time.Minute)

		e.ExecuteWorkflow(PredictionWorkflow, PredictionInput{Job: testJob()})
		err := e.GetWorkflowError()
		require.Error(t, err)
		require.True(t, temporal.IsCanceledError(err))
	})

	t.Run("status query answers while the model runs", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity("AcceptJob", mock.Anything, mock.Anything).Return(activities.AcceptOutput{Status: omtx.StatusQueued}, nil)
		e.OnActivity("Predict", mock.Anything, mock.Anything).After(10*time.Minute).Return(activities.PredictOutput{}, nil)
		e.OnActivity("FinalizeJob", mock.Anything, mock.Anything).Return(nil)
		var got PredictionState
		e.RegisterDelayedCallback(func() {
			v, err := e.QueryWorkflow(omtx.QueryStatus)
			require.NoError(t, err)
			require.NoError(t, v.Get(&got))
		}, time.Minute)

		e.ExecuteWorkflow(PredictionWorkflow, PredictionInput{Job: testJob()})
		require.NoError(t, e.GetWorkflowError())
		require.Equal(t, omtx.StatusQueued, got.Status)
		require.Equal(t, "job_test", got.JobID)
	})
}
