package integration

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/aggregate/ranking"
	"github.com/omtx-hub/omtx-hub/client"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/requeue"
)

// TestRerunFailedAndCancelled: a screen ends with a ligand failed (an
// invalid row kept with skip_invalid) and ligands cancelled (the batch is
// cancelled after its first chunk); POST /batches/{id}/rerun starts a new
// batch of exactly those ligands, with their names, SMILES and metadata
// columns, linked both ways, which runs to its end.
func TestRerunFailedAndCancelled(t *testing.T) {
	slow := startGPUWorker(t, "OMTX_FAULT_PREDICT_DELAY=1500ms")
	c, err := client.New(env.api.URL, testKey)
	require.NoError(t, err)
	ctx := ctxT(t)
	var csv strings.Builder
	csv.WriteString("name,smiles,class\n")
	for i := range 10 {
		smiles := strings.Repeat("C", i%5+1) + "O"
		if i == 5 {
			smiles = "C1CC" // an unclosed ring: kept as a failed child
		}
		fmt.Fprintf(&csv, "R%02d,%s,series-%d\n", i, smiles, i%3)
	}
	sub, err := c.UploadBatch(ctx, client.BatchUpload{
		Filename: "rerun.csv", Library: []byte(csv.String()), Model: omtx.ModelBoltz2, BatchName: "rerun source",
		ProteinSequence: "MKTAYIAKQRQISFVKSHFSRQ", MaxConcurrent: 2, ChunkSize: 2, SkipInvalid: true, NoCache: true,
	})
	require.NoError(t, err)
	require.Equal(t, 1, sub.InvalidLigands)
	first := sub.BatchID

	waitFor(t, time.Minute, "the first chunk to finish", func() bool {
		b, err := c.Batch(ctx, first)
		return err == nil && b.CurrentProgress().Completed >= 2
	})
	code, body := call(t, "POST", "/api/v1/batches/"+first+"/rerun", testKey, `{"which":"failed"}`)
	require.Equal(t, http.StatusConflict, code, "a running batch is not rerun: %s", body)
	code, body = call(t, "POST", "/api/v1/batches/"+first+"/cancel", testKey, "")
	require.Equal(t, http.StatusAccepted, code, string(body))
	ended := waitBatch(t, first, time.Minute)
	slow.kill()
	require.Equal(t, omtx.StatusCancelled, ended.Status)

	// What the rerun must run: the first batch's failed and cancelled
	// ligands, in batch_index order.
	type ligand struct{ name, smiles, class string }
	var want []ligand
	for _, k := range children(t, first) {
		if k.Status == omtx.StatusFailed || k.Status == omtx.StatusCancelled {
			want = append(want, ligand{k.InputData.LigandName, k.InputData.LigandSMILES, k.LigandMetadata["class"]})
		}
	}
	require.Greater(t, len(want), 1, "a failed ligand and some cancelled ones")
	require.Less(t, len(want), 10, "some ligands completed before the cancel")

	startGPUWorker(t)
	code, body = call(t, "POST", "/api/v1/batches/"+first+"/rerun", otherKey, `{"which":"failed"}`)
	assert.Equal(t, http.StatusNotFound, code, "another user's batch: %s", body)
	re, err := c.RerunBatch(ctx, first, client.RerunFailedAndCancelled, client.WithIdempotencyKey("rerun-"+first))
	require.NoError(t, err)
	assert.Equal(t, first, re.RerunOf)
	assert.Equal(t, len(want), re.TotalLigands)
	again, err := c.RerunBatch(ctx, first, client.RerunFailedAndCancelled, client.WithIdempotencyKey("rerun-"+first))
	require.NoError(t, err)
	assert.Equal(t, re.BatchID, again.BatchID, "the same key is the same batch")
	assert.True(t, again.Duplicate)

	done := waitBatch(t, re.BatchID, 2*time.Minute)
	assert.Equal(t, omtx.StatusCompleted, done.Status)
	assert.Equal(t, first, done.RerunOf)
	require.NotNil(t, done.Progress)
	assert.Equal(t, omtx.Progress{Total: len(want), Completed: len(want) - 1, Failed: 1}, *done.Progress, "every ligand ran; the invalid row fails again")
	var got []ligand
	for _, k := range children(t, re.BatchID) {
		got = append(got, ligand{k.InputData.LigandName, k.InputData.LigandSMILES, k.LigandMetadata["class"]})
	}
	assert.Equal(t, want, got, "exactly those ligands, names, SMILES and metadata")

	b, err := c.Batch(ctx, first)
	require.NoError(t, err)
	assert.Equal(t, []string{re.BatchID}, b.Reruns, "the first batch links its rerun")
	code, body = call(t, "GET", "/api/v1/batches/"+re.BatchID+"/files/summary.json", testKey, "")
	require.Equal(t, http.StatusOK, code, string(body))
	assert.Equal(t, first, decode[ranking.Summary](t, body).RerunOf)

	code, body = call(t, "POST", "/api/v1/batches/"+re.BatchID+"/rerun", testKey, `{"which":"cancelled"}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, string(body))
	assert.Equal(t, "which", decode[errResp](t, body).Error.Field)
}

// errResp is an error body's fields the tests read.
type errResp struct {
	Error struct{ Code, Field, Message string }
}

// requeueCmd runs `omtx-worker requeue args` and returns its lines and
// summary.
func requeueCmd(t *testing.T, args ...string) ([]requeue.Line, requeue.Summary) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.orchBin, append([]string{"requeue"}, args...)...)
	cmd.Dir = env.root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "omtx-worker requeue %v: %s", args, stderr.String())
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var got []requeue.Line
	for _, l := range lines[:len(lines)-1] {
		got = append(got, decode[requeue.Line](t, []byte(l)))
	}
	sum := decode[requeue.Summary](t, []byte(lines[len(lines)-1]))
	require.True(t, sum.Summary, "the last line is the summary")
	return got, sum
}

// TestRequeue: a prediction that failed for an infrastructure reason is
// not re-run by replaying its workflow (AcceptJob keeps the failed
// record, which is why the runbook's reset did nothing); `omtx-worker
// requeue` sets it back to pending and starts its next generation, which
// completes; a second run starts nothing. A batch child requeued by id
// re-runs in its batch, whose record ends as a whole again.
func TestRequeue(t *testing.T) {
	startGPUWorker(t)
	began := time.Now().UTC().Add(-time.Second)
	ctx := ctxT(t)
	failedPrediction := func(id string) contract.JobSpec {
		s := contract.JobSpec{
			JobID: id, JobType: omtx.JobTypeIndividual, UserID: testUser, Model: omtx.BaselineModel, Priority: "interactive",
			UsesMSA: new(false), CreatedAt: time.Now().UTC().Truncate(time.Microsecond),
			InputData: omtx.InputData{ProteinSequence: "MKTAYIAKQRQISFVKSHFSRQ", LigandSMILES: "CCO", LigandName: "ethanol", Parameters: omtx.Parameters{NumSamples: 1}},
		}
		doc := s.Document()
		now := time.Now().UTC()
		doc.Status, doc.Error, doc.CompletedAt, doc.UpdatedAt = omtx.StatusFailed, "predict: activity heartbeat timeout (the GPU worker was lost)", &now, now
		require.NoError(t, env.deps.Jobs.Create(ctx, doc))
		return s
	}

	t.Run("a failed prediction", func(t *testing.T) {
		id := fmt.Sprintf("job_requeue%d", time.Now().UnixNano()%1e9)
		spec := failedPrediction(id)
		// What a reset amounts to: the workflow runs again into the
		// record it wrote, which AcceptJob keeps as failed.
		run, err := env.deps.Temporal.ExecuteWorkflow(ctx, startOptions(contract.PredictionWorkflowID(id)), contract.WorkflowPrediction, contract.PredictionInput{Job: spec})
		require.NoError(t, err)
		_ = run.Get(ctx, nil)
		doc, err := env.deps.Jobs.Get(ctx, id)
		require.NoError(t, err)
		require.Equal(t, omtx.StatusFailed, doc.Status, "a re-run workflow leaves the failed record failed")

		lines, sum := requeueCmd(t, "--ids", id)
		require.Len(t, lines, 1)
		assert.Equal(t, requeue.ActionRequeued, lines[0].Action)
		assert.Equal(t, contract.RequeueWorkflowID(contract.PredictionWorkflowID(id), 1), lines[0].WorkflowID)
		assert.Equal(t, 1, sum.Requeued)
		job := waitJob(t, id, omtx.StatusCompleted, time.Minute)
		assert.Equal(t, 1, job.Requeues)
		assert.Equal(t, lines[0].WorkflowID, job.Temporal.WorkflowID)
		require.NotNil(t, job.Results)

		lines, sum = requeueCmd(t, "--ids", id)
		require.Len(t, lines, 1)
		assert.Equal(t, requeue.ActionUnchanged, lines[0].Action, "completed now: nothing to requeue")
		assert.Equal(t, 0, sum.Requeued+sum.Started)
		_, err = env.deps.Temporal.DescribeWorkflow(ctx, contract.RequeueWorkflowID(contract.PredictionWorkflowID(id), 2), "")
		assert.Error(t, err, "no second generation was started")
	})

	t.Run("by query, dry run", func(t *testing.T) {
		id := fmt.Sprintf("job_requeueq%d", time.Now().UnixNano()%1e9)
		failedPrediction(id)
		lines, sum := requeueCmd(t, "--status", "failed", "--since", began.Format(time.RFC3339), "--cause", "infrastructure", "--dry-run")
		i := slices.IndexFunc(lines, func(l requeue.Line) bool { return l.JobID == id })
		require.GreaterOrEqual(t, i, 0, "the query finds the failed record: %+v", lines)
		assert.Equal(t, requeue.ActionRequeued, lines[i].Action)
		assert.True(t, lines[i].DryRun)
		assert.True(t, sum.DryRun)
		doc, err := env.deps.Jobs.Get(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, omtx.StatusFailed, doc.Status, "a dry run writes nothing")
	})

	t.Run("a batch child re-runs in its batch", func(t *testing.T) {
		body := `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","max_concurrent":2,"chunk_size":2,"cache":false,"ligands":[
			{"name":"a","smiles":"CCO"},{"name":"b","smiles":"CCN"},{"name":"c","smiles":"CCCO"},{"name":"d","smiles":"CCCN"}]}`
		code, resp := call(t, "POST", "/api/v1/predict/batch", testKey, body)
		require.Equal(t, http.StatusAccepted, code, string(resp))
		batchID := decode[struct {
			BatchID string `json:"batch_id"`
		}](t, resp).BatchID
		require.Equal(t, omtx.StatusCompleted, waitBatch(t, batchID, time.Minute).Status)
		// The GPU worker was lost on ligand c, past its retries: its
		// record failed (as reconcile would record it).
		lost := children(t, batchID)[2]
		now := time.Now().UTC()
		lost.Status, lost.Error, lost.Results, lost.UpdatedAt, lost.CompletedAt = omtx.StatusFailed, "predict: the GPU worker was lost", nil, now, &now
		require.NoError(t, env.deps.Jobs.SetMany(ctx, []*omtx.Job{lost}))

		lines, sum := requeueCmd(t, "--ids", lost.JobID)
		assert.Equal(t, 2, sum.Requeued, "the child and its batch: %+v", lines)
		b := waitBatch(t, batchID, time.Minute)
		assert.Equal(t, omtx.StatusCompleted, b.Status)
		assert.Equal(t, 1, b.Requeues)
		require.NotNil(t, b.Progress)
		assert.Equal(t, omtx.Progress{Total: 4, Completed: 4}, *b.Progress, "the parent's summary is whole again")
		require.NotNil(t, b.BatchResults)
		assert.Zero(t, b.BatchResults.Failed)
		code, resp = call(t, "GET", "/api/v1/batches/"+batchID+"/files/summary.json", testKey, "")
		require.Equal(t, http.StatusOK, code, string(resp))
		assert.Equal(t, 4, decode[ranking.Summary](t, resp).Completed)

		_, sum = requeueCmd(t, "--ids", lost.JobID)
		assert.Equal(t, 0, sum.Requeued+sum.Started, "idempotent")
	})
}
