package integration

import (
	"context"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/devstack"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// outageClient gives up on a request after 30 s: an API that holds a
// request longer than that fails the test instead of hanging it. The
// answer the test wants comes within the API's dependency timeout (10 s).
var outageClient = &http.Client{Timeout: 30 * time.Second}

// outageCall is call with outageClient, returning the Retry-After header.
func outageCall(t *testing.T, method, path, body string) (code int, retryAfter string, data []byte) {
	t.Helper()
	req, err := http.NewRequest(method, env.api.URL+path, nil)
	require.NoError(t, err)
	if body != "" {
		req, err = http.NewRequest(method, env.api.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	resp, err := outageClient.Do(req)
	require.NoError(t, err, "%s %s got no answer while a dependency was down", method, path)
	defer resp.Body.Close()
	data, err = io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("Retry-After"), data
}

// freeze stops a service's process group with SIGSTOP, as a hung
// dependency (a stalled VM, a blackholed connection) looks to its
// clients: connections open, nothing answers. The cleanup thaws it.
func freeze(t *testing.T, service string) (thaw func()) {
	t.Helper()
	pid, ok := env.stack.PIDs()[service]
	require.True(t, ok, "no %s process", service)
	require.NoError(t, syscall.Kill(-pid, syscall.SIGSTOP))
	thawed := false
	thaw = func() {
		if !thawed {
			thawed = true
			_ = syscall.Kill(-pid, syscall.SIGCONT)
		}
	}
	t.Cleanup(thaw)
	return thaw
}

// eventually polls an API call until it answers want.
func eventually(t *testing.T, want int, method, path string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		code, _, data := outageCall(t, method, path, "")
		if code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s %s still answers %d after the dependency came back: %s", method, path, code, data)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestDependencyOutages freezes Firestore and then fake-gcs-server, and
// stops the Temporal dev server, under a running API. A frozen store gives
// a 503 with Retry-After instead of a hang; Temporal's outage leaves the
// API ready and its reads serving, while submits get a 503 with
// Retry-After. Each recovers when its dependency does.
func TestDependencyOutages(t *testing.T) {
	startGPUWorker(t)
	code, body := call(t, "POST", "/api/v1/predict", testKey, seedBody)
	require.Equal(t, http.StatusAccepted, code, string(body))
	sub := decode[api.SubmitResponse](t, body)
	waitJob(t, sub.JobID, omtx.StatusCompleted, 90*time.Second)
	file := "/api/v1/jobs/" + sub.JobID + "/files/results.json"

	t.Run("a frozen Firestore is a 503, not a hang", func(t *testing.T) {
		thaw := freeze(t, devstack.Firestore)
		code, retry, data := outageCall(t, "GET", "/api/v1/jobs", "")
		assert.Equal(t, http.StatusServiceUnavailable, code, string(data))
		assert.NotEmpty(t, retry, "a 503 must say when to retry")
		thaw()
		eventually(t, http.StatusOK, "GET", "/api/v1/jobs")
	})

	t.Run("a frozen file store is a 503, not a hang", func(t *testing.T) {
		thaw := freeze(t, devstack.GCS)
		code, retry, data := outageCall(t, "GET", file, "")
		assert.Equal(t, http.StatusServiceUnavailable, code, string(data))
		assert.NotEmpty(t, retry, "a 503 must say when to retry")
		thaw()
		eventually(t, http.StatusOK, "GET", file)
	})

	t.Run("Temporal down: reads serve, submits get 503", func(t *testing.T) {
		env.stack.StopService(devstack.Temporal)
		t.Cleanup(func() {
			if _, ok := env.stack.PIDs()[devstack.Temporal]; !ok {
				require.NoError(t, env.stack.StartTemporal(context.Background()))
			}
		})
		code, _, data := outageCall(t, "GET", "/readyz", "")
		assert.Equal(t, http.StatusOK, code, "Temporal is a soft dependency of readiness: %s", data)
		assert.Contains(t, string(data), `"temporal":"unavailable"`)
		code, _, data = outageCall(t, "GET", "/api/v1/jobs/"+sub.JobID, "")
		assert.Equal(t, http.StatusOK, code, string(data))
		code, _, data = outageCall(t, "GET", file, "")
		assert.Equal(t, http.StatusOK, code, string(data))

		records := func() int {
			jobs, err := env.deps.Jobs.List(ctxT(t), storeFilter(testUser))
			require.NoError(t, err)
			return len(jobs)
		}
		before := records()
		code, retry, data := outageCall(t, "POST", "/api/v1/predict", seedBody)
		assert.Equal(t, http.StatusServiceUnavailable, code, string(data))
		assert.NotEmpty(t, retry)
		assert.Equal(t, before, records(), "a submit that could not start left a record")

		require.NoError(t, env.stack.StartTemporal(ctxT(t)))
		deadline := time.Now().Add(90 * time.Second)
		for {
			code, _, data = outageCall(t, "POST", "/api/v1/predict", seedBody)
			if code == http.StatusAccepted || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Second)
		}
		require.Equal(t, http.StatusAccepted, code, "submits resume with Temporal: %s", data)
		waitJob(t, decode[api.SubmitResponse](t, data).JobID, omtx.StatusCompleted, 90*time.Second)
	})
}
