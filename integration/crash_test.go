package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/omtx"
)

func storeFilter(user string) omtx.ListFilter { return omtx.ListFilter{UserID: user} }

// TestGPUWorkerCrash kills the GPU worker while it holds a prediction, then
// starts a new one: Temporal notices the missing heartbeats and retries the
// attempt, which completes the job once, with one set of result files.
func TestGPUWorkerCrash(t *testing.T) {
	slow := startGPUWorker(t, "OMTX_FAULT_PREDICT_DELAY=1h")

	code, body := call(t, "POST", "/api/v1/predict", testKey, seedBody)
	require.Equal(t, http.StatusAccepted, code, string(body))
	jobID := decode[api.SubmitResponse](t, body).JobID

	running := waitJob(t, jobID, omtx.StatusRunning, 60*time.Second)
	require.Equal(t, int32(1), running.Temporal.Attempt)
	slow.kill()

	startGPUWorker(t)
	job := waitJob(t, jobID, omtx.StatusCompleted, 2*time.Minute)
	assert.Equal(t, int32(2), job.Temporal.Attempt, "the second attempt finished it")
	require.NotNil(t, job.Results)

	names, err := env.deps.Blobs.List(ctxT(t), omtx.JobPrefix(jobID))
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		omtx.JobPrefix(jobID) + "input.json", omtx.JobPrefix(jobID) + "logs.txt", omtx.JobPrefix(jobID) + "results.json",
	}, names, "one copy of each file")
}
