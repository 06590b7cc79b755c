package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	tclient "go.temporal.io/sdk/client"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/client"
	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store"
)

// reconcileLigands is the batch's size: a few hundred, one invalid (kept
// as a failed child).
const reconcileLigands = 300

// TestReconcileAfterHardKill is issue 10's scenario: make dev's process is
// killed with SIGKILL in the middle of a batch. No service may outlive it;
// restarted on the same state, the batch finishes; then the worst case, a
// Firestore that lost every record (the snapshot deleted), is repaired by
// `omtx-worker reconcile` from Temporal and GCS alone: the parent, every
// child and a single prediction come back as they were, and a second run
// changes nothing. Last, a record whose workflow never started is
// reported, and started with --start-missing.
func TestReconcileAfterHardKill(t *testing.T) {
	began := time.Now()
	lap := func(what string) { t.Logf("%6.1fs  %s", time.Since(began).Seconds(), what) }
	// Each GPU call sleeps first, so the batch is still running when the
	// test kills the stack.
	dev := newDevProcess(t, "OMTX_FAULT_PREDICT_DELAY=150ms")
	dev.start(t)
	lap("omtx-dev up")
	c := dev.client(t)
	ctx := ctxT(t)

	single, err := c.Predict(ctx, client.PredictRequest{
		Model: omtx.ModelBoltz2, ProteinSequence: "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK",
		LigandSMILES: "CC(=O)OC1=CC=CC=C1C(=O)O", LigandName: "Aspirin",
	})
	require.NoError(t, err)
	ligands := make([]client.Ligand, reconcileLigands)
	for i := range ligands {
		ligands[i] = client.Ligand{Name: fmt.Sprintf("L%03d", i), SMILES: "C" + []string{"C", "O", "N", "CC", "CO", "CN"}[i%6] + strings.Repeat("C", i/6%9) + "O"}
	}
	ligands[7].SMILES = "C1CC" // an unclosed ring: a failed child with its reason
	sub, err := c.SubmitBatch(ctx, client.BatchRequest{
		Model: omtx.ModelBoltz2, BatchName: "reconcile", ProteinSequence: "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK",
		Ligands: ligands, MaxConcurrent: 10, ChunkSize: 10, SkipInvalid: true,
	})
	require.NoError(t, err)
	require.Equal(t, 1, sub.InvalidLigands)
	batchID := sub.BatchID

	// Mid-batch: some ligands done, many to go, and the children created
	// well before the kill (the snapshot is at most seconds old).
	submitted := time.Now()
	waitFor(t, 2*time.Minute, "the batch to be part done", func() bool {
		b, err := c.Batch(ctx, batchID)
		return err == nil && b.CurrentProgress().Completed >= 40 && time.Since(submitted) > 6*time.Second
	})
	b, err := c.Batch(ctx, batchID)
	require.NoError(t, err)
	require.Less(t, b.CurrentProgress().Completed, reconcileLigands-50, "the batch ran too fast to be killed in the middle; raise the delay")
	lap(fmt.Sprintf("killing omtx-dev with SIGKILL at %d of %d ligands", b.CurrentProgress().Completed, reconcileLigands))
	dev.kill(t)

	t.Run("no service outlives omtx-dev", func(t *testing.T) {
		var pids, open []int
		// SIGKILL from the parent-death signal is delivered at once; allow
		// the kernel a moment to close the sockets.
		deadline := time.Now().Add(5 * time.Second)
		for {
			pids, open, err = dev.orphans()
			require.NoError(t, err)
			if (len(pids) == 0 && len(open) == 0) || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		assert.Empty(t, pids, "service processes survive omtx-dev")
		assert.Empty(t, open, "ports still held after omtx-dev was killed")
	})
	lap("orphans checked")

	dev.start(t)
	lap("omtx-dev restarted on the same state")
	c = dev.client(t)
	final := waitBatchDone(t, c, batchID, 4*time.Minute)
	lap(fmt.Sprintf("batch %s after the restart", final.Status))
	require.Equal(t, omtx.StatusCompleted, final.Status, final.Error)

	// What the crash lost of Firestore (up to a few seconds of writes) is
	// what reconcile repairs here.
	changes, sum := dev.reconcile(t, "--since", "1h")
	lap(fmt.Sprintf("reconcile after the crash: %s; %s", sum["message"], tally(changes)))
	before := checkRecords(t, dev, c, batchID, single.JobID)

	// The worst case: every record lost, the workflows and files intact.
	dev.stop(t)
	for _, dir := range []string{"firestore", "firestore.new", "firestore.old"} {
		require.NoError(t, os.RemoveAll(filepath.Join(dev.state, dir)))
	}
	dev.start(t)
	lap("omtx-dev restarted without its Firestore snapshot")
	c = dev.client(t)
	_, err = c.Batch(ctx, batchID)
	require.True(t, client.IsNotFound(err), "the batch's record is gone (the issue's 404): %v", err)

	changes, sum = dev.reconcile(t, "--since", "1h", "--dry-run")
	assert.Equal(t, float64(reconcileLigands+2), sum["created"], "a dry run reports the parent, every child and the single job")
	assert.Len(t, changes, reconcileLigands+2)
	_, err = c.Batch(ctx, batchID)
	require.True(t, client.IsNotFound(err), "a dry run writes nothing: %v", err)
	lap("reconcile --dry-run")

	changes, sum = dev.reconcile(t, "--since", "1h")
	lap(fmt.Sprintf("reconcile: %s; %s", sum["message"], tally(changes)))
	assert.Equal(t, float64(reconcileLigands+2), sum["created"], "the parent, every child and the single job are rebuilt")
	assert.Equal(t, float64(0), sum["errors"])
	assert.Len(t, changes, reconcileLigands+2, "one line per record")
	after := checkRecords(t, dev, c, batchID, single.JobID)
	require.Len(t, after, len(before))
	for id, want := range before {
		got := after[id]
		require.NotNil(t, got, id)
		assert.Equal(t, want.Status, got.Status, id)
		assert.Equal(t, want.Results, got.Results, id)
		assert.Equal(t, want.Error, got.Error, id)
		assert.Equal(t, want.InputData, got.InputData, id)
		assert.Equal(t, want.BatchIndex, got.BatchIndex, id)
		assert.Equal(t, want.Progress, got.Progress, id)
		if want.BatchResults != nil {
			require.NotNil(t, got.BatchResults, id)
			assert.Equal(t, want.BatchResults.BestJobID, got.BatchResults.BestJobID)
			assert.Equal(t, want.BatchResults.Top10, got.BatchResults.Top10)
			assert.Equal(t, want.BatchResults.Completed, got.BatchResults.Completed)
			assert.InDelta(t, want.BatchResults.AverageAffinity, got.BatchResults.AverageAffinity, 1e-9)
		}
	}

	changes, sum = dev.reconcile(t, "--since", "1h")
	lap("second reconcile: " + fmt.Sprint(sum["message"]))
	assert.Empty(t, changes, "a second run changes nothing")
	assert.Equal(t, 0, changed(sum))
	assert.Contains(t, sum["message"], "nothing to change")

	t.Run("a record whose workflow never started is reported, or started with --start-missing", func(t *testing.T) {
		// As the API leaves it when it dies between the two steps of a
		// submission, ten minutes ago.
		t.Setenv("FIRESTORE_EMULATOR_HOST", hostPort(dev.firestore))
		fs, err := store.OpenFirestore(ctx, config.DefaultProject, "")
		require.NoError(t, err)
		defer fs.Close()
		job, err := c.Job(ctx, single.JobID)
		require.NoError(t, err)
		spec := contract.SpecOf(job)
		spec.JobID, spec.IdempotencyKey, spec.CreatedAt = "job_reconcile_orphan", "", time.Now().UTC().Add(-10*time.Minute)
		require.NoError(t, store.NewJobs(fs).Create(ctx, spec.Document()))

		changes, sum := dev.reconcile(t, "--since", "1h")
		require.Len(t, changes, 1)
		assert.Equal(t, "job_reconcile_orphan", changes[0]["job_id"])
		assert.Equal(t, "unresolved", changes[0]["action"])
		assert.Equal(t, "NotFound", changes[0]["workflow_status"])
		assert.Equal(t, 0, changed(sum))

		changes, sum = dev.reconcile(t, "--since", "1h", "--start-missing")
		require.Len(t, changes, 1)
		assert.Equal(t, "started", changes[0]["action"])
		assert.Equal(t, float64(1), sum["started"])
		waitFor(t, 2*time.Minute, "the started job to complete", func() bool {
			j, err := c.Job(ctx, "job_reconcile_orphan")
			return err == nil && j.Status == omtx.StatusCompleted
		})
		lap("a record without a workflow: reported, then started and completed")

		changes, sum = dev.reconcile(t, "--since", "1h", "--start-missing")
		assert.Empty(t, changes)
		assert.Contains(t, sum["message"], "nothing to change")
	})
}

// checkRecords asserts that the batch's parent, every child and the single
// job are present and agree with Temporal and GCS, and returns them by id.
func checkRecords(t *testing.T, dev *devProcess, c *client.Client, batchID, singleID string) map[string]*omtx.Job {
	t.Helper()
	ctx := ctxT(t)
	tc, err := tclient.Dial(tclient.Options{HostPort: hostPort(dev.temporal)})
	require.NoError(t, err)
	defer tc.Close()
	out := map[string]*omtx.Job{}

	var br contract.BatchResult
	require.NoError(t, tc.GetWorkflow(ctx, contract.BatchWorkflowID(batchID), "").Get(ctx, &br))
	parent, err := c.Batch(ctx, batchID)
	require.NoError(t, err)
	assert.Equal(t, br.Status, parent.Status, "the parent's status is its workflow's")
	out[batchID] = &parent.Job

	var kids omtx.Progress
	n := 0
	require.NoError(t, c.EachBatchJob(ctx, batchID, "", func(j *client.Job) error {
		require.NotNil(t, j.BatchIndex)
		assert.Equal(t, n, *j.BatchIndex, "children in batch_index order, none missing")
		n++
		kids.Count(j.Status)
		assert.True(t, j.Status.Terminal(), "%s is %s in a completed batch", j.JobID, j.Status)
		rec, found := resultsRecord(t, c, j.JobID)
		if j.Status == omtx.StatusCompleted {
			require.True(t, found, "%s is completed without a results.json", j.JobID)
			assert.Equal(t, rec, j.Results, "%s's results are its results.json's record", j.JobID)
		} else {
			assert.False(t, found, "%s is %s, but has a results.json", j.JobID, j.Status)
		}
		out[j.JobID] = j
		return nil
	}))
	assert.Equal(t, reconcileLigands, n)
	require.NotNil(t, parent.Progress)
	assert.Equal(t, kids, *parent.Progress, "the parent's progress counts its children")
	assert.Equal(t, kids.Completed, parent.BatchResults.Completed)
	assert.Equal(t, 1, kids.Failed, "only the invalid row failed")

	desc, err := tc.DescribeWorkflow(ctx, contract.PredictionWorkflowID(singleID), "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.RawResponse.GetWorkflowExecutionInfo().GetStatus())
	job, err := c.Job(ctx, singleID)
	require.NoError(t, err)
	assert.Equal(t, omtx.StatusCompleted, job.Status)
	rec, found := resultsRecord(t, c, singleID)
	require.True(t, found)
	assert.Equal(t, rec, job.Results)
	out[singleID] = job
	return out
}

// resultsRecord reads the record block of a job's results.json.
func resultsRecord(t *testing.T, c *client.Client, jobID string) (*omtx.Results, bool) {
	t.Helper()
	f, err := c.OpenJobFile(ctxT(t), jobID, omtx.FileResults)
	if client.IsNotFound(err) {
		return nil, false
	}
	require.NoError(t, err)
	defer f.Body.Close()
	data, err := io.ReadAll(f.Body)
	require.NoError(t, err)
	var rf activities.ResultFile
	require.NoError(t, json.Unmarshal(data, &rf))
	return &rf.Record, true
}

// waitBatchDone polls a batch until it is final.
func waitBatchDone(t *testing.T, c *client.Client, batchID string, limit time.Duration) *client.Batch {
	t.Helper()
	var b *client.Batch
	waitFor(t, limit, "batch "+batchID+" to finish", func() bool {
		var err error
		b, err = c.Batch(context.Background(), batchID)
		return err == nil && b.Status.Terminal()
	})
	return b
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "waited %s for %s", limit, what)
		time.Sleep(300 * time.Millisecond)
	}
}

// tally counts reconcile's report lines by record type, action and
// statuses, for the log.
func tally(changes []map[string]any) string {
	n := map[string]int{}
	for _, c := range changes {
		n[fmt.Sprintf("%v %v %q->%v", c["job_type"], c["action"], c["from"], c["to"])]++
	}
	return fmt.Sprint(n)
}

// changed counts what a reconcile summary says it changed.
func changed(sum map[string]any) int {
	n := 0
	for _, k := range []string{"created", "updated", "started"} {
		if v, ok := sum[k].(float64); ok {
			n += int(v)
		}
	}
	return n
}
