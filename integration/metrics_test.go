package integration

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/devstack"
	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
)

func scrape(t *testing.T, url string) string {
	t.Helper()
	var body []byte
	require.Eventually(t, func() bool {
		resp, err := http.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ = io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK
	}, 20*time.Second, 200*time.Millisecond, "scrape %s", url)
	return string(body)
}

// TestMetricsAfterOnePrediction scrapes /metrics of the API and both
// workers after one prediction and finds the series deploy/'s alerts use.
func TestMetricsAfterOnePrediction(t *testing.T) {
	port, err := devstack.FreePort()
	require.NoError(t, err)
	gpuMetrics := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	startGPUWorker(t, fmt.Sprintf("OMTX_METRICS_ADDR=127.0.0.1:%d", port))

	code, body := call(t, "POST", "/api/v1/predict", testKey, seedBody)
	require.Equal(t, http.StatusAccepted, code, string(body))
	waitJob(t, decode[api.SubmitResponse](t, body).JobID, omtx.StatusCompleted, 90*time.Second)

	// The API runs in this process; its registry is this process's.
	apiMetrics := httptest.NewServer(metrics.Handler())
	defer apiMetrics.Close()

	for _, c := range []struct {
		name, url string
		want      []string
	}{
		{"api", apiMetrics.URL, []string{
			`omtx_api_requests_total{code="202",method="POST",route="/api/v1/predict"}`,
			`omtx_api_request_duration_seconds_bucket{method="POST",route="/api/v1/predict"`,
		}},
		{"orchestration worker", "http://" + env.orchMetrics + "/metrics", []string{
			`omtx_jobs_total{cause="",job_type="INDIVIDUAL",status="completed"}`,
			`omtx_job_stage_seconds_count{stage="end_to_end"}`,
			`omtx_task_queue_backlog{task_queue="omtx-gpu-l4"`,
			`temporal_workflow_completed`,
		}},
		{"gpu worker", gpuMetrics, []string{
			`omtx_gpu_seconds_total{gpu_class="l4",model="descriptor-baseline-v1"}`,
			`omtx_cost_usd_total{gpu_class="l4",model="descriptor-baseline-v1"}`,
			`omtx_job_stage_seconds_count{stage="model"}`,
			`omtx_job_stage_seconds_count{stage="queue_delay"}`,
			`omtx_job_stage_seconds_count{stage="write"}`,
			`temporal_activity_execution_latency`,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := scrape(t, c.url)
			for _, w := range c.want {
				assert.True(t, strings.Contains(text, w), "%s has no %s", c.name, w)
			}
		})
	}
}
