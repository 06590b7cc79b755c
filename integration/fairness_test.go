package integration

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestSinglePredictionDoesNotQueueBehindAScreen: one user's screen fills
// the L4 queue with chunks; another user's single prediction, submitted
// after it, is served next. Interactive predictions carry a higher Temporal
// task priority than any batch (contract.PriorityKeys), and the dev server runs
// the priority-aware matcher (devstack.DynamicConfig). The test looks at
// order, not time: with one GPU slot, at most the chunk that was already
// running starts before the single prediction.
func TestSinglePredictionDoesNotQueueBehindAScreen(t *testing.T) {
	const n = 30
	var ligands []string
	for i := 0; i < n; i++ {
		ligands = append(ligands, fmt.Sprintf(`{"name":"fair_%02d","smiles":"%sCN"}`, i, strings.Repeat("C", i%9)))
	}
	batch := `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK",` +
		`"ligands":[` + strings.Join(ligands, ",") + fmt.Sprintf(`],"max_concurrent":%d,"chunk_size":1}`, n)
	code, body := call(t, "POST", "/api/v1/predict/batch", testKey, batch)
	require.Equal(t, http.StatusAccepted, code, string(body))
	batchID := decode[api.BatchSubmitResponse](t, body).BatchID

	// Every chunk's GPU task waits in the queue: no GPU worker runs yet.
	waitBacklog(t, n)
	code, body = call(t, "POST", "/api/v1/predict", otherKey, strings.Replace(seedBody, `"user_id": "test_user_001"`, `"user_id": "someone_else"`, 1))
	require.Equal(t, http.StatusAccepted, code, string(body))
	jobID := decode[api.SubmitResponse](t, body).JobID
	waitBacklog(t, n+1)

	startGPUWorker(t, "OMTX_GPU_SLOTS=1", "OMTX_FAULT_PREDICT_DELAY=300ms")
	var job *omtx.Job
	require.Eventually(t, func() bool {
		var err error
		job, err = env.deps.Jobs.Get(ctxT(t), jobID)
		return err == nil && job.Status == omtx.StatusCompleted
	}, 3*time.Minute, 250*time.Millisecond, "the single prediction never completed")
	require.NotNil(t, job.StartedAt)
	waitBatch(t, batchID, 5*time.Minute)

	kids, err := env.deps.Jobs.ListChildren(ctxT(t), omtx.ChildFilter{BatchID: batchID, AfterIndex: -1})
	require.NoError(t, err)
	require.Len(t, kids, n)
	before := 0
	for _, k := range kids {
		require.NotNil(t, k.StartedAt, k.JobID)
		if k.StartedAt.Before(*job.StartedAt) {
			before++
		}
	}
	assert.LessOrEqual(t, before, 1, "the single prediction waited behind %d of the screen's %d chunks", before, n)
}

// waitBacklog waits until the L4 queue holds at least n waiting tasks.
func waitBacklog(t *testing.T, n int64) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := env.deps.Temporal.WorkflowService().DescribeTaskQueue(ctxT(t), &workflowservice.DescribeTaskQueueRequest{
			Namespace: env.cfg.TemporalNamespace, TaskQueue: &taskqueuepb.TaskQueue{Name: contract.GPUTaskQueue(omtx.GPUClassL4)},
			TaskQueueType: enumspb.TASK_QUEUE_TYPE_ACTIVITY, ReportStats: true,
		})
		return err == nil && resp.GetStats().GetApproximateBacklogCount() >= n
	}, 2*time.Minute, 250*time.Millisecond, "the L4 queue never held %d tasks", n)
}
