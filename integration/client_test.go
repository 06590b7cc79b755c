package integration

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// call sends a request to the API and returns the status and body.
func call(t *testing.T, method, path, key, body string, headers ...string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, env.api.URL+path, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, data
}

func decode[T any](t *testing.T, data []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(data, &v), string(data))
	return v
}

// waitJob polls the job until its status is want (or terminal), and returns it.
func waitJob(t *testing.T, jobID string, want omtx.JobStatus, limit time.Duration) omtx.Job {
	t.Helper()
	deadline := time.Now().Add(limit)
	var job omtx.Job
	for time.Now().Before(deadline) {
		code, body := call(t, "GET", "/api/v1/jobs/"+jobID, testKey, "")
		if code == http.StatusOK {
			job = decode[omtx.Job](t, body)
			if job.Status == want {
				return job
			}
			if job.Status.Terminal() {
				t.Fatalf("job %s ended %s (want %s): %s", jobID, job.Status, want, job.Error)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("job %s is %q after %s, want %s", jobID, job.Status, limit, want)
	return job
}

// seedBody is the seed plan's 3.1 request. cache false: the tests that
// send it (and seedBatchBody) check a model run, and each would otherwise
// be served the result an earlier test's identical request stored.
const seedBody = `{
    "model": "boltz2",
    "protein_sequence": "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK",
    "ligand_smiles": "CC(=O)OC1=CC=CC=C1C(=O)O",
    "ligand_name": "Aspirin",
    "user_id": "test_user_001",
    "cache": false
  }`

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
