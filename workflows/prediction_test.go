package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

const (
	testProtein = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK"
	aspirin     = "CC(=O)OC1=CC=CC=C1C(=O)O"
)

func testJob() contract.JobSpec {
	return contract.JobSpec{
		JobID: "job_test", JobType: omtx.JobTypeIndividual, Model: omtx.BaselineModel, UserID: "u1",
		CreatedAt: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC),
		InputData: omtx.InputData{ProteinSequence: testProtein, LigandSMILES: aspirin, LigandName: "Aspirin",
			Parameters: omtx.Parameters{NumSamples: 1}},
	}
}

// env returns a test environment with every activity and child workflow
// registered under its contract name, so that mocks are matched by name.
func env(t *testing.T) *testsuite.TestWorkflowEnvironment {
	var s testsuite.WorkflowTestSuite
	e := s.NewTestWorkflowEnvironment()
	for _, acts := range []map[string]any{(&activities.Orchestration{}).Activities(), (&activities.GPU{}).Activities(), (&activities.MSA{}).Activities()} {
		for name, fn := range acts {
			e.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
		}
	}
	e.RegisterWorkflowWithOptions(BatchChunkWorkflow, workflow.RegisterOptions{Name: contract.WorkflowBatchChunk})
	e.RegisterWorkflowWithOptions(NotifyWorkflow, workflow.RegisterOptions{Name: contract.WorkflowNotify})
	t.Cleanup(func() { e.AssertExpectations(t) })
	return e
}

func TestPredictionWorkflow(t *testing.T) {
	t.Parallel()

	t.Run("completes and records results", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		want := omtx.Results{Model: omtx.BaselineModel, AffinityPredValue: 1.5}
		e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.MatchedBy(func(in contract.AcceptJobInput) bool {
			return in.Job.JobID == "job_test" && in.TaskQueue == "omtx-gpu-l4" && in.GPUClass == "l4"
		})).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil).Once()
		e.OnActivity(contract.ActivityPredict, mock.Anything, mock.MatchedBy(func(in contract.PredictInput) bool {
			return in.Folder == "jobs/job_test/" && in.Ligand.SMILES == aspirin && in.Parameters.NumSamples == 1
		})).Return(contract.PredictResult{Results: want}, nil).Once()
		e.OnActivity(contract.ActivityFinalizeJob, mock.Anything, contract.FinalizeJobInput{JobID: "job_test", Results: want}).Return(contract.FinalizeJobResult{}, nil).Once()

		e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: testJob(), GPUClass: omtx.GPUClassL4})

		require.True(t, e.IsWorkflowCompleted())
		require.NoError(t, e.GetWorkflowError())
		var got contract.PredictionResult
		require.NoError(t, e.GetWorkflowResult(&got))
		require.Equal(t, omtx.StatusCompleted, got.Status)
		require.Equal(t, want.AffinityPredValue, got.Results.AffinityPredValue)
	})

	t.Run("input AcceptJob refuses ends the job without running the model", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusFailed},
			contract.NonRetryable(contract.ErrTypeInvalidInput, "invalid input: ligand_smiles: invalid SMILES", nil)).Once()
		job := testJob()
		job.InputData.LigandSMILES = "C1CC"
		e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: job})

		err := e.GetWorkflowError()
		require.Error(t, err)
		var ae *temporal.ApplicationError
		require.True(t, errors.As(err, &ae))
		require.Equal(t, contract.ErrTypeJobFailed, ae.Type())
		require.Contains(t, ae.Error(), "ligand_smiles")
	})

	t.Run("an invalid SMILES is not the workflow's to judge", func(t *testing.T) {
		t.Parallel()
		// The workflow runs no validation: whatever the rules, the same
		// commands (AcceptJob first) are scheduled.
		e := env(t)
		job := testJob()
		job.InputData.LigandSMILES = "C1CC"
		e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil).Once()
		e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).Return(contract.PredictResult{}, nil).Once()
		e.OnActivity(contract.ActivityFinalizeJob, mock.Anything, mock.Anything).Return(contract.FinalizeJobResult{}, nil).Once()
		e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: job})
		require.NoError(t, e.GetWorkflowError())
	})

	t.Run("model failure after retries marks the job failed", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil)
		e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).
			Return(contract.PredictResult{}, errors.New("cuda error: device lost")).Times(PredictMaxAttempts)
		var failed contract.FailJobInput
		e.OnActivity(contract.ActivityFailJob, mock.Anything, mock.Anything).Run(func(args mock.Arguments) {
			failed = args.Get(1).(contract.FailJobInput)
		}).Return(contract.FailJobResult{}, nil).Once()

		e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: testJob()})

		require.Error(t, e.GetWorkflowError())
		require.Equal(t, omtx.StatusFailed, failed.Status)
		require.Equal(t, omtx.CauseSystem, failed.Cause)
		require.Contains(t, failed.Error, "device lost")
	})

	t.Run("a rejected ligand is not retried", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil)
		e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).Return(contract.PredictResult{},
			contract.NonRetryable(contract.ErrTypeInvalidInput, "ligand_smiles: unsupported element", nil)).Once()
		e.OnActivity(contract.ActivityFailJob, mock.Anything, mock.MatchedBy(func(in contract.FailJobInput) bool {
			return in.Cause == omtx.CauseUserInput
		})).Return(contract.FailJobResult{}, nil).Once()

		e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: testJob()})
		require.Error(t, e.GetWorkflowError())
	})

	t.Run("a job cancelled before it was accepted does not run", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusCancelled}, nil).Once()

		e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: testJob()})
		require.NoError(t, e.GetWorkflowError())
		var got contract.PredictionResult
		require.NoError(t, e.GetWorkflowResult(&got))
		require.Equal(t, omtx.StatusCancelled, got.Status)
	})

	t.Run("cancelling the workflow records cancelled", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil)
		e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).After(time.Hour).Return(contract.PredictResult{}, nil).Maybe()
		e.OnActivity(contract.ActivityFailJob, mock.Anything, mock.MatchedBy(func(in contract.FailJobInput) bool {
			return in.Status == omtx.StatusCancelled
		})).Return(contract.FailJobResult{}, nil).Once()
		e.RegisterDelayedCallback(e.CancelWorkflow, time.Minute)

		e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: testJob()})
		err := e.GetWorkflowError()
		require.Error(t, err)
		require.True(t, temporal.IsCanceledError(err))
	})

	t.Run("status query answers while the model runs", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil)
		e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).After(10*time.Minute).Return(contract.PredictResult{}, nil)
		e.OnActivity(contract.ActivityFinalizeJob, mock.Anything, mock.Anything).Return(contract.FinalizeJobResult{}, nil)
		var got contract.PredictionState
		e.RegisterDelayedCallback(func() {
			v, err := e.QueryWorkflow(contract.QueryStatus)
			require.NoError(t, err)
			require.NoError(t, v.Get(&got))
		}, time.Minute)

		e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: testJob()})
		require.NoError(t, e.GetWorkflowError())
		require.Equal(t, omtx.StatusQueued, got.Status)
		require.Equal(t, "job_test", got.JobID)
	})
}

// TestTheSpecDecidesWhetherTheModelReadsAnMSA: EnsureMSA runs when the
// request asks for an MSA and the spec says the model reads one; a spec
// recorded before JobSpec.UsesMSA gets the rule of its release (boltz2
// alone), whatever omtx's rule is now.
func TestTheSpecDecidesWhetherTheModelReadsAnMSA(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	for _, c := range []struct {
		name    string
		model   string
		usesMSA *bool
		want    bool
	}{
		{"the spec says yes", omtx.BaselineModel, &yes, true},
		{"the spec says no", omtx.ModelBoltz2, &no, false},
		{"a spec before the field: boltz2 read one", omtx.ModelBoltz2, nil, true},
		{"a spec before the field: no other model did", omtx.BaselineModel, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := env(t)
			job := testJob()
			job.Model, job.UsesMSA, job.InputData.Parameters.UseMSA = c.model, c.usesMSA, true
			e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil).Once()
			if c.want {
				e.OnActivity(contract.ActivityEnsureMSA, mock.Anything, mock.Anything).Return(omtx.MSARef{Mode: omtx.MSAServer, Object: "msa/x.a3m"}, nil).Once()
			}
			var got omtx.MSARef
			e.OnActivity(contract.ActivityPredict, mock.Anything, mock.Anything).Return(func(_ context.Context, in contract.PredictInput) (contract.PredictResult, error) {
				got = in.MSA
				return contract.PredictResult{}, nil
			}).Once()
			e.OnActivity(contract.ActivityFinalizeJob, mock.Anything, mock.Anything).Return(contract.FinalizeJobResult{}, nil).Once()
			e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: job})
			require.NoError(t, e.GetWorkflowError())
			require.Equal(t, c.want, got.Mode == omtx.MSAServer, "the MSA the model got: %+v", got)
		})
	}
}
