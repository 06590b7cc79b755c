package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestSIGTERMMidChunkLosesNothing is a scale-in, a spot preemption's
// notice or a node drain, as a GPU worker sees it: SIGTERM while it runs a
// chunk, with a second worker up. The stopping worker finishes the group
// in hand, stores it, and hands the rest back; the chunk finishes on the
// other worker. No ligand is lost or run twice, and the attempts kept for
// real failures are untouched: every ligand ran on attempt 1.
func TestSIGTERMMidChunkLosesNothing(t *testing.T) {
	const n = 16
	// Worker A: every model call of 2 ligands takes 2 s, so the chunk is
	// mid-way when SIGTERM comes; it may take 60 s to stop.
	a := startGPUWorker(t, "OMTX_WORKER_ID=gpu-a", "OMTX_FAULT_PREDICT_DELAY=2s", "OMTX_CHUNK_GROUP=2", "OMTX_WORKER_STOP_TIMEOUT=60s")

	var ligands []string
	for i := 0; i < n; i++ {
		ligands = append(ligands, fmt.Sprintf(`{"name":"sigterm_%02d","smiles":"%sCO"}`, i, strings.Repeat("C", i%7)))
	}
	body := `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK",` +
		`"ligands":[` + strings.Join(ligands, ",") + `],"max_concurrent":16,"chunk_size":16,"cache":false}`
	code, resp := call(t, "POST", "/api/v1/predict/batch", testKey, body)
	require.Equal(t, http.StatusAccepted, code, string(resp))
	batchID := decode[api.BatchSubmitResponse](t, resp).BatchID

	// Wait until worker A has stored some ligands but not all.
	require.Eventually(t, func() bool {
		kids, err := env.deps.Jobs.ListChildren(ctxT(t), omtx.ChildFilter{BatchID: batchID, AfterIndex: -1, Statuses: []omtx.JobStatus{omtx.StatusCompleted}})
		return err == nil && len(kids) >= 4
	}, 90*time.Second, 200*time.Millisecond, "worker A never got going")

	b := startGPUWorker(t, "OMTX_WORKER_ID=gpu-b", "OMTX_CHUNK_GROUP=2")
	_ = b
	require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-a.done:
	case <-time.After(90 * time.Second):
		t.Fatal("worker A did not stop within its grace period")
	}
	assert.Equal(t, 0, a.cmd.ProcessState.ExitCode(), "a worker asked to stop exits cleanly")

	done := waitBatch(t, batchID, 3*time.Minute)
	require.Equal(t, omtx.StatusCompleted, done.Status, done.Error)
	require.Equal(t, n, done.Progress.Completed, "every ligand completed")

	kids, err := env.deps.Jobs.ListChildren(ctxT(t), omtx.ChildFilter{BatchID: batchID, AfterIndex: -1})
	require.NoError(t, err)
	require.Len(t, kids, n)
	byWorker := map[string]int{}
	for _, k := range kids {
		require.Equal(t, omtx.StatusCompleted, k.Status, k.JobID)
		require.NotNil(t, k.Results)
		require.NotNil(t, k.Temporal)
		assert.Equal(t, int32(1), k.Temporal.Attempt, "%s: the stop spent no attempt", k.JobID)
		byWorker[k.Temporal.Worker]++
	}
	assert.Positive(t, byWorker["gpu-a"], "worker A stored what it finished before it stopped: %v", byWorker)
	assert.Positive(t, byWorker["gpu-b"], "worker B ran the rest: %v", byWorker)

	// No ligand ran twice, counted from what each worker says it ran
	// through the model, not from the children (where the last writer
	// wins): A stopped at a ligand boundary with `finished` ligands run
	// and stored, and B ran all but the `already_finished` it found. With
	// every ligand completed, runs adding up to n means each ran once.
	ranA, skippedB := chunkLog(t, batchID)
	assert.Equal(t, n, ranA+(n-skippedB), "model runs: %d on A, %d on B, for %d ligands", ranA, n-skippedB, n)
	assert.Equal(t, byWorker["gpu-a"], ranA, "A stored exactly what it ran")

	// The chunk's history: the first run ended WorkerInterrupted, a second
	// run (a fresh activity, attempt 1) completed it; nothing timed out.
	ev := chunkActivityEvents(t, batchID)
	assert.Equal(t, 2, ev.scheduled, "the chunk ran twice: on A, then on B")
	assert.Equal(t, 1, ev.interrupted)
	assert.Zero(t, ev.timedOut, "a SIGTERM is not a crash: no heartbeat timeout")
	captureHistory(t, contract.BatchChunkWorkflowID(batchID, 0), "")

	// One row per ligand in the results.
	csv, err := env.deps.Blobs.Read(ctxT(t), omtx.BatchPrefix(batchID)+omtx.FileBatchResultsCSV)
	require.NoError(t, err)
	assert.Equal(t, n+1, strings.Count(string(csv), "\n"))
}

// activityEvents counts the activity events of a chunk workflow's history.
type activityEvents struct {
	scheduled, completed, timedOut int
	// interrupted failed with contract.ErrTypeInterrupted; failed with
	// anything else.
	interrupted, failed int
}

// chunkActivityEvents reads the history of batchID's first chunk.
func chunkActivityEvents(t *testing.T, batchID string) activityEvents {
	t.Helper()
	var c activityEvents
	it := env.deps.Temporal.GetWorkflowHistory(ctxT(t), contract.BatchChunkWorkflowID(batchID, 0), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		switch {
		case ev.GetActivityTaskScheduledEventAttributes() != nil:
			c.scheduled++
		case ev.GetActivityTaskCompletedEventAttributes() != nil:
			c.completed++
		case ev.GetActivityTaskFailedEventAttributes() != nil:
			f := ev.GetActivityTaskFailedEventAttributes().GetFailure()
			if f.GetApplicationFailureInfo().GetType() == contract.ErrTypeInterrupted {
				c.interrupted++
			} else {
				c.failed++
				t.Logf("chunk activity failed: %s", f.GetMessage())
			}
		case ev.GetActivityTaskTimedOutEventAttributes() != nil:
			c.timedOut++
		}
	}
	return c
}

// chunkLog reads the GPU workers' log lines about batchID's chunk: how
// many ligands the stopping worker had run when it stopped at a ligand
// boundary, and how many the resuming worker found already finished. It
// fails the test when either line is missing.
func chunkLog(t *testing.T, batchID string) (ranBeforeStop, foundFinished int) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(env.stateDir, "gpu-worker.log"))
	require.NoError(t, err)
	stopped, resumed := false, false
	for _, line := range strings.Split(string(data), "\n") {
		var rec struct {
			Msg      string `json:"msg"`
			BatchID  string `json:"batch_id"`
			Finished *int   `json:"finished"`
			Already  *int   `json:"already_finished"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.BatchID != batchID {
			continue
		}
		switch {
		case strings.HasPrefix(rec.Msg, "worker stopping: chunk interrupted at a ligand boundary") && rec.Finished != nil:
			require.False(t, stopped, "the chunk was interrupted twice")
			stopped, ranBeforeStop = true, *rec.Finished
		case rec.Msg == "chunk resumed" && rec.Already != nil:
			require.False(t, resumed, "the chunk was resumed twice")
			resumed, foundFinished = true, *rec.Already
		}
	}
	require.True(t, stopped, "worker A never logged stopping at a ligand boundary for %s", batchID)
	require.True(t, resumed, "worker B never logged resuming the chunk of %s", batchID)
	return ranBeforeStop, foundFinished
}
