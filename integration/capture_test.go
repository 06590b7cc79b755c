package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestBatchContinuesAsNewMidRun runs a batch started as the temporal CLI
// could, with two chunks per run: its first run continues as new, and the
// second picks up where it stopped. With make histories it captures both
// runs, the second one in flight, so every release keeps a history that a
// deploy meets mid-batch. It also captures a job the worker's rules refuse
// (AcceptJob's non-retryable path).
func TestBatchContinuesAsNewMidRun(t *testing.T) {
	const n, chunk = 12, 2
	startGPUWorker(t, "OMTX_FAULT_PREDICT_DELAY=700ms")
	id := fmt.Sprintf("batch_midrun%d", time.Now().UnixNano()%1e9)
	spec := contract.JobSpec{
		JobID: id, JobType: omtx.JobTypeBatchParent, UserID: testUser, Model: omtx.BaselineModel,
		CreatedAt:   time.Now().UTC().Truncate(time.Microsecond),
		InputData:   omtx.InputData{ProteinSequence: "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK", Parameters: omtx.Parameters{NumSamples: 1}},
		BatchConfig: &omtx.BatchConfig{TotalLigands: n, MaxConcurrent: chunk, ChunkSize: chunk, Priority: "normal"},
	}
	var lib []string
	for i := 0; i < n; i++ {
		lib = append(lib, fmt.Sprintf(`{"index":%d,"row":%d,"name":"mid_%02d","smiles":"%sO"}`, i, i+1, i, strings.Repeat("C", i+1)))
	}
	require.NoError(t, env.deps.Blobs.Put(ctxT(t), omtx.BatchPrefix(id)+omtx.FileLigands, "application/json", []byte("["+strings.Join(lib, ",")+"]")))
	wid := contract.BatchWorkflowID(id)
	run, err := env.deps.Temporal.ExecuteWorkflow(ctxT(t), startOptions(wid), contract.WorkflowBatch,
		contract.BatchInput{Parent: spec, GPUClass: omtx.GPUClassL4, ChunksPerRun: 2})
	require.NoError(t, err)
	first := run.GetRunID()

	// The second run has started a chunk and not finished the batch.
	var second string
	require.Eventually(t, func() bool {
		d, err := env.deps.Temporal.DescribeWorkflow(ctxT(t), wid, "")
		if err != nil {
			return false
		}
		info := d.RawResponse.GetWorkflowExecutionInfo()
		second = info.GetExecution().GetRunId()
		if second == first || info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			return false
		}
		return workflowsMatching(t, `WorkflowId = %q`, contract.BatchChunkWorkflowID(id, 2)) == 1
	}, 2*time.Minute, 100*time.Millisecond, "the batch never continued as new")
	captureHistory(t, wid, first)
	captureHistory(t, wid, second)

	b := waitBatch(t, id, 3*time.Minute)
	require.Equal(t, omtx.StatusCompleted, b.Status, b.Error)
	assert.Equal(t, n, b.Progress.Completed)
	runs, err := env.deps.Temporal.ListWorkflow(ctxT(t), &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowId = %q", wid)})
	require.NoError(t, err)
	assert.Len(t, runs.GetExecutions(), n/chunk/2, "one run per two chunks")

	// A job whose input the worker's rules refuse, started past the API.
	bad := contract.JobSpec{
		JobID: fmt.Sprintf("job_refused%d", time.Now().UnixNano()%1e9), JobType: omtx.JobTypeIndividual, UserID: testUser,
		Model: omtx.BaselineModel, CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
		InputData: omtx.InputData{ProteinSequence: "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK", LigandSMILES: "C1CC"},
	}
	bwid := contract.PredictionWorkflowID(bad.JobID)
	brun, err := env.deps.Temporal.ExecuteWorkflow(ctxT(t), startOptions(bwid), contract.WorkflowPrediction, contract.PredictionInput{Job: bad})
	require.NoError(t, err)
	require.Error(t, brun.Get(ctxT(t), nil), "the job fails")
	doc, err := env.deps.Jobs.Get(ctxT(t), bad.JobID)
	require.NoError(t, err)
	assert.Equal(t, omtx.StatusFailed, doc.Status)
	assert.Contains(t, doc.Error, "invalid SMILES")
	captureHistory(t, bwid, brun.GetRunID())
}
