package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestEndsOtherThanCompleted runs, past the API, the ways a job or batch
// ends other than completed, and checks each ends with a clear record.
// With make histories it captures each, so that every release keeps a
// history of the failure paths (FailJob, FinishChildren,
// CancelBatchRemainder, EnsureMSA, a webhook that fails) and not only of
// the happy path.
func TestEndsOtherThanCompleted(t *testing.T) {
	startGPUWorker(t) // serves the baseline model only, not boltz2
	const protein = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK"
	id := func(prefix string) string { return fmt.Sprintf("%s%d", prefix, time.Now().UnixNano()%1e9) }
	spec := func(jobID string, jt omtx.JobType, model string) contract.JobSpec {
		return contract.JobSpec{
			JobID: jobID, JobType: jt, UserID: testUser, Model: model, UsesMSA: new(omtx.ModelUsesMSA(model)),
			CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
			InputData: omtx.InputData{ProteinSequence: protein, LigandSMILES: "CCO", Parameters: omtx.Parameters{NumSamples: 1}},
		}
	}
	start := func(wid, workflow string, in any) client.WorkflowRun {
		run, err := env.deps.Temporal.ExecuteWorkflow(ctxT(t), startOptions(wid), workflow, in)
		require.NoError(t, err)
		return run
	}
	// endsFailed waits for run, and checks that it recorded its job failed
	// for reason.
	endsFailed := func(t *testing.T, run client.WorkflowRun, jobID, reason string) {
		t.Helper()
		require.Error(t, run.Get(ctxT(t), nil))
		doc, err := env.deps.Jobs.Get(ctxT(t), jobID)
		require.NoError(t, err)
		assert.Equal(t, omtx.StatusFailed, doc.Status)
		assert.Contains(t, doc.Error, reason)
	}

	t.Run("a prediction whose MSA fails, and its webhook that fails", func(t *testing.T) {
		// No MSA server is configured: EnsureMSA refuses at once. The
		// webhook's key has no secret: Notify refuses at once.
		s := spec(id("job_nomsa"), omtx.JobTypeIndividual, omtx.ModelBoltz2)
		s.InputData.Parameters.UseMSA = true
		s.NotifyURL, s.KeyID = "https://hooks.example.org/omtx", "no-such-key"
		wid := contract.PredictionWorkflowID(s.JobID)
		run := start(wid, contract.WorkflowPrediction, contract.PredictionInput{Job: s})
		endsFailed(t, run, s.JobID, "msa: ")
		var sent contract.NotifyResult
		require.NoError(t, env.deps.Temporal.GetWorkflow(ctxT(t), contract.NotifyWorkflowID(s.JobID), "").Get(ctxT(t), &sent))
		assert.False(t, sent.Delivered)
		captureHistory(t, wid, run.GetRunID())
		captureHistory(t, contract.NotifyWorkflowID(s.JobID), "")
	})

	t.Run("a prediction whose model fails", func(t *testing.T) {
		s := spec(id("job_nomodel"), omtx.JobTypeIndividual, omtx.ModelBoltz2)
		wid := contract.PredictionWorkflowID(s.JobID)
		run := start(wid, contract.WorkflowPrediction, contract.PredictionInput{Job: s})
		endsFailed(t, run, s.JobID, "serves models")
		captureHistory(t, wid, run.GetRunID())
	})

	t.Run("a batch that cannot run", func(t *testing.T) {
		s := spec(id("batch_noconfig"), omtx.JobTypeBatchParent, omtx.BaselineModel)
		s.InputData.LigandSMILES = ""
		require.NoError(t, env.deps.Jobs.Create(ctxT(t), s.Document()), "the record the API writes before the workflow")
		wid := contract.BatchWorkflowID(s.JobID)
		run := start(wid, contract.WorkflowBatch, contract.BatchInput{Parent: s, GPUClass: omtx.GPUClassL4})
		endsFailed(t, run, s.JobID, "batch_config")
		captureHistory(t, wid, run.GetRunID())
	})

	t.Run("a batch whose chunk fails", func(t *testing.T) {
		s := spec(id("batch_chunkfail"), omtx.JobTypeBatchParent, omtx.ModelBoltz2)
		s.InputData.LigandSMILES = ""
		s.BatchConfig = &omtx.BatchConfig{TotalLigands: 2, MaxConcurrent: 2, ChunkSize: 2, Priority: "normal"}
		lib := `[{"index":0,"row":1,"name":"a","smiles":"CCO"},{"index":1,"row":2,"name":"b","smiles":"CCN"}]`
		require.NoError(t, env.deps.Blobs.Put(ctxT(t), omtx.BatchPrefix(s.JobID)+omtx.FileLigands, "application/json", []byte(lib)))
		wid := contract.BatchWorkflowID(s.JobID)
		run := start(wid, contract.WorkflowBatch, contract.BatchInput{Parent: s, GPUClass: omtx.GPUClassL4})
		var res contract.BatchResult
		require.NoError(t, run.Get(ctxT(t), &res))
		assert.Equal(t, 2, res.Progress.Failed, "%+v", res)
		captureHistory(t, wid, run.GetRunID())
		captureHistory(t, contract.BatchChunkWorkflowID(s.JobID, 0), "")
	})
}
