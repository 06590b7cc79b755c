package integration

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/devstack"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// The abuse suite's keys: one with the defaults, one with tight quotas.
const (
	abuseKey = "abuse-key-0123456789abcdef"
	quotaKey = "quota-key-0123456789abcdef"
)

// apiProcess is an omtx-api process of its own, so its memory can be read.
type apiProcess struct {
	*process
	base, metrics string
}

func startAPI(t *testing.T) *apiProcess {
	t.Helper()
	port, err := devstack.FreePort()
	require.NoError(t, err)
	mport, err := devstack.FreePort()
	require.NoError(t, err)
	keys := fmt.Sprintf("keys:\n  - key: %q\n    user: abuser\n  - key: %q\n    user: quota_user\n    priorities: [low]\n"+
		"    submit_rate: 0.2\n    submit_burst: 6\n    max_concurrent_batches: 1\n    max_inflight_ligands: 5\n", abuseKey, quotaKey)
	p, err := startProcess(env.apiBin, "omtx-api.log",
		fmt.Sprintf("OMTX_API_ADDR=127.0.0.1:%d", port), fmt.Sprintf("OMTX_METRICS_ADDR=127.0.0.1:%d", mport), "OMTX_API_KEYS="+keys)
	require.NoError(t, err)
	t.Cleanup(p.stop)
	a := &apiProcess{process: p, base: fmt.Sprintf("http://127.0.0.1:%d", port), metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", mport)}
	require.Eventually(t, func() bool {
		resp, err := http.Get(a.base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	}, 60*time.Second, 100*time.Millisecond)
	return a
}

// do sends a request with a content type; it returns status, headers and body.
func (a *apiProcess) do(t *testing.T, method, path, key, ct string, body io.Reader, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, a.base+path, body)
	require.NoError(t, err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

// peakRSS is the process's high-water resident memory, in bytes.
func (a *apiProcess) peakRSS(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(a.cmd.Process.Pid), "status"))
	require.NoError(t, err)
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(data)
	require.NotNil(t, m)
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// leftBehind counts a user's documents and workflows.
func leftBehind(t *testing.T, user string) (docs, workflows int) {
	t.Helper()
	jobs, err := env.deps.Jobs.List(ctxT(t), omtx.ListFilter{UserID: user})
	require.NoError(t, err)
	return len(jobs), workflowsMatching(t, `UserId = %q`, user)
}

func upload(t *testing.T, filename string, lib []byte, fields map[string]string) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	fw, err := mw.CreateFormFile("library", filename)
	require.NoError(t, err)
	_, err = fw.Write(lib)
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return &b, mw.FormDataContentType()
}

const abuseProtein = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK"

// TestAbuse tries the API as a careless or hostile user would, one case
// per class of issue 9. Each refusal is a 4xx that names the field (and
// the row), and leaves no document and no workflow; where memory is the
// attack, the API process's peak memory stays far below its 512 Mi limit.
func TestAbuse(t *testing.T) {
	a := startAPI(t)
	fields := map[string]string{"model": "boltz2", "protein_sequence": abuseProtein}
	refused := func(t *testing.T, wantCode int, wantField string, code int, body []byte) {
		t.Helper()
		require.Equal(t, wantCode, code, string(body))
		e := decode[api.ErrorBody](t, body)
		assert.Equal(t, wantField, e.Error.Field, string(body))
		assert.NotEmpty(t, e.Error.RequestID)
	}

	t.Run("extra CSV columns: count", func(t *testing.T) {
		var hdr []string
		hdr = append(hdr, "smiles", "name")
		for i := 0; i < 200; i++ {
			hdr = append(hdr, fmt.Sprintf("column_with_a_rather_long_descriptive_name_number_%010d", i))
		}
		var lib bytes.Buffer
		lib.WriteString(strings.Join(hdr, ",") + "\n")
		row := "CCO,x" + strings.Repeat(",v", 200) + "\n"
		for lib.Len() < 8<<20 {
			lib.WriteString(row)
		}
		b, ct := upload(t, "wide.csv", lib.Bytes(), fields)
		code, _, body := a.do(t, "POST", "/api/v1/predict/batch", abuseKey, ct, b)
		refused(t, 422, "file", code, body)
		assert.Contains(t, string(body), "metadata columns")
	})
	t.Run("reserved and long column names", func(t *testing.T) {
		for _, h := range []string{"__x__", strings.Repeat("h", 1600)} {
			b, ct := upload(t, "bad.csv", []byte("smiles,"+h+"\nCCO,1\n"), fields)
			code, _, body := a.do(t, "POST", "/api/v1/predict/batch", abuseKey, ct, b)
			refused(t, 422, "file", code, body)
		}
	})
	t.Run("a huge cell is a bad row", func(t *testing.T) {
		b, ct := upload(t, "cell.csv", []byte("smiles,note\nCCO,"+strings.Repeat("z", 4<<20)+"\n"), fields)
		code, _, body := a.do(t, "POST", "/api/v1/predict/batch", abuseKey, ct, b)
		refused(t, 422, "ligands", code, body)
		assert.Contains(t, string(body), `"row":2`)
	})
	t.Run("names with control and bidi characters", func(t *testing.T) {
		for _, name := range []string{"abc\u202edef", "tab\there", "zero\u200bwidth"} {
			body := fmt.Sprintf(`{"model":"boltz2","protein_sequence":%q,"ligands":[{"name":%q,"smiles":"CCO"}]}`, abuseProtein, name)
			code, _, resp := a.do(t, "POST", "/api/v1/predict/batch", abuseKey, "application/json", strings.NewReader(body))
			refused(t, 422, "ligands", code, resp)
			assert.Contains(t, string(resp), `"field":"name"`)
		}
	})
	t.Run("multipart: unknown, repeated, oversized and too many parts", func(t *testing.T) {
		b, ct := upload(t, "l.smi", []byte("CCO a\n"), map[string]string{"model": "boltz2", "protein_sequence": abuseProtein, "colour": "red"})
		code, _, body := a.do(t, "POST", "/api/v1/predict/batch", abuseKey, ct, b)
		refused(t, 422, "colour", code, body)
		b, ct = upload(t, "l.smi", []byte("CCO a\n"), map[string]string{"model": "boltz2", "protein_sequence": abuseProtein, "batch_name": strings.Repeat("n", 70<<10)})
		code, _, body = a.do(t, "POST", "/api/v1/predict/batch", abuseKey, ct, b)
		refused(t, 413, "batch_name", code, body)
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for i := 0; i < 20; i++ {
			fw, _ := mw.CreateFormFile("library", fmt.Sprintf("l%d.smi", i))
			_, _ = fw.Write([]byte("CCO a\n"))
		}
		require.NoError(t, mw.Close())
		code, _, body = a.do(t, "POST", "/api/v1/predict/batch", abuseKey, mw.FormDataContentType(), &buf)
		refused(t, 422, "library", code, body)
	})
	t.Run("estimate lists and counts are bounded", func(t *testing.T) {
		var ls []string
		for i := 0; i < 300_000; i++ {
			ls = append(ls, `{"smiles":"C"}`)
		}
		body := fmt.Sprintf(`{"model":"boltz2","protein_sequence":%q,"ligands":[%s]}`, abuseProtein, strings.Join(ls, ","))
		code, _, resp := a.do(t, "POST", "/api/v1/estimate", abuseKey, "application/json", strings.NewReader(body))
		refused(t, 413, "ligands", code, resp)
		code, _, resp = a.do(t, "POST", "/api/v1/estimate", abuseKey, "application/json",
			strings.NewReader(fmt.Sprintf(`{"model":"boltz2","protein_sequence":%q,"num_ligands":300000}`, abuseProtein)))
		refused(t, 422, "num_ligands", code, resp)
	})
	t.Run("seeds outside what Boltz-2 keeps", func(t *testing.T) {
		body := fmt.Sprintf(`{"model":"boltz2","protein_sequence":%q,"ligand_smiles":"CCO","parameters":{"seed":4294967296}}`, abuseProtein)
		code, _, resp := a.do(t, "POST", "/api/v1/predict", abuseKey, "application/json", strings.NewReader(body))
		refused(t, 422, "parameters.seed", code, resp)
	})
	t.Run("page tokens are cursors, checked", func(t *testing.T) {
		for _, tok := range []string{"zzz", strings.Repeat("a", 2000), "eyJjIjoiMjAyNi0wMS0wMVQwMDowMDowMFoiLCJqIjoiLi4vLi4vZXRjIn0"} {
			code, _, resp := a.do(t, "GET", "/api/v1/jobs?page_token="+tok, abuseKey, "", nil)
			refused(t, 422, "page_token", code, resp)
		}
	})
	t.Run("a lowercase bearer scheme is a bearer", func(t *testing.T) {
		req, _ := http.NewRequest("GET", a.base+"/api/v1/jobs", nil)
		req.Header.Set("Authorization", "bearer "+abuseKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	docs, wfs := leftBehind(t, "abuser")
	assert.Zero(t, docs, "refused requests left documents")
	assert.Zero(t, wfs, "refused requests left workflows")

	t.Run("random methods add no metric series", func(t *testing.T) {
		for i := 0; i < 40; i++ {
			code, _, _ := a.do(t, fmt.Sprintf("M%dX", i*7919), "/api/v1/predict", "", "", nil)
			assert.Contains(t, []int{400, 404, 405}, code)
		}
		resp, err := http.Get(a.metrics)
		require.NoError(t, err)
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		methods := map[string]bool{}
		for _, m := range regexp.MustCompile(`omtx_api_requests_total\{[^}]*method="([^"]*)"`).FindAllStringSubmatch(string(data), -1) {
			methods[m[1]] = true
		}
		for m := range methods {
			assert.Contains(t, []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER"}, m)
		}
		assert.True(t, methods["OTHER"], "unknown methods count under OTHER")
	})
	t.Run("readiness says nothing internal", func(t *testing.T) {
		_, _, body := a.do(t, "GET", "/readyz", "", "", nil)
		var r api.Readiness
		require.NoError(t, jsonUnmarshal(string(body), &r))
		for _, v := range r.Checks {
			assert.Contains(t, []string{"ok", "unavailable"}, v)
		}
	})
	t.Run("two bodies, one idempotency key, at the same moment", func(t *testing.T) {
		for trial := 0; trial < 8; trial++ {
			key := fmt.Sprintf("race-%d-%d", trial, time.Now().UnixNano())
			var wg sync.WaitGroup
			codes := make([]int, 2)
			bodies := make([][]byte, 2)
			for i, smi := range []string{"CCO", "CCN"} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := fmt.Sprintf(`{"model":"boltz2","protein_sequence":%q,"ligand_smiles":%q}`, abuseProtein, smi)
					codes[i], _, bodies[i] = a.do(t, "POST", "/api/v1/predict", abuseKey, "application/json", strings.NewReader(body), api.IdempotencyHeader, key)
				}()
			}
			wg.Wait()
			won := -1
			for i, c := range codes {
				if c == http.StatusAccepted {
					won = i
				}
			}
			require.NotEqual(t, -1, won, "one request must win: %v %s %s", codes, bodies[0], bodies[1])
			assert.Equal(t, http.StatusConflict, codes[1-won], "the other is refused: %s", bodies[1-won])
			job, err := env.deps.Jobs.Get(ctxT(t), decode[api.SubmitResponse](t, bodies[won]).JobID)
			require.NoError(t, err)
			assert.Equal(t, []string{"CCO", "CCN"}[won], job.InputData.LigandSMILES, "the record is the winner's")
			wantWorkflows(t, 1, `WorkflowId = %q`, contract.PredictionWorkflowID(job.JobID))
		}
	})
	t.Run("an uploaded MSA is part of the request", func(t *testing.T) {
		key := fmt.Sprintf("msa-%d", time.Now().UnixNano())
		msa := func(hit string) string {
			return fmt.Sprintf(`{"model":"boltz2","protein_sequence":%q,"ligand_smiles":"CCO","parameters":{"use_msa":true},"msa":%q}`,
				abuseProtein, ">query\n"+abuseProtein+"\n>hit\n"+hit+"\n")
		}
		code, _, body := a.do(t, "POST", "/api/v1/predict", abuseKey, "application/json", strings.NewReader(msa(abuseProtein)), api.IdempotencyHeader, key)
		require.Equal(t, http.StatusAccepted, code, string(body))
		other := "A" + abuseProtein[1:]
		code, _, body = a.do(t, "POST", "/api/v1/predict", abuseKey, "application/json", strings.NewReader(msa(other)), api.IdempotencyHeader, key)
		refused(t, 409, api.IdempotencyHeader, code, body)
	})
	t.Run("downloads are attachments the browser does not sniff", func(t *testing.T) {
		jobs, err := env.deps.Jobs.List(ctxT(t), omtx.ListFilter{UserID: "abuser", Limit: 1})
		require.NoError(t, err)
		require.NotEmpty(t, jobs)
		require.NoError(t, env.deps.Blobs.Put(ctxT(t), omtx.JobPrefix(jobs[0].JobID)+omtx.FileLogs, "text/html", []byte("<script>alert(1)</script>")))
		code, hdr, _ := a.do(t, "GET", "/api/v1/jobs/"+jobs[0].JobID+"/files/logs.txt", abuseKey, "", nil)
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, "nosniff", hdr.Get("X-Content-Type-Options"))
		assert.Contains(t, hdr.Get("Content-Disposition"), "attachment")
	})

	t.Run("quotas: priority, rate, ligands in flight, batches at once", func(t *testing.T) {
		lig := func(n int) string {
			var ls []string
			for i := 0; i < n; i++ {
				ls = append(ls, fmt.Sprintf(`{"smiles":"%sO"}`, strings.Repeat("C", i+1)))
			}
			return strings.Join(ls, ",")
		}
		batch := func(n int, prio string) string {
			return fmt.Sprintf(`{"model":"boltz2","protein_sequence":%q,"ligands":[%s],"priority":%q}`, abuseProtein, lig(n), prio)
		}
		code, _, body := a.do(t, "POST", "/api/v1/predict/batch", quotaKey, "application/json", strings.NewReader(batch(2, "high")))
		refused(t, 403, "priority", code, body)
		code, _, body = a.do(t, "POST", "/api/v1/predict/batch", quotaKey, "application/json", strings.NewReader(batch(6, "low")))
		refused(t, 429, "max_inflight_ligands", code, body)
		code, _, body = a.do(t, "POST", "/api/v1/predict/batch", quotaKey, "application/json", strings.NewReader(batch(2, "low")))
		require.Equal(t, http.StatusAccepted, code, string(body))
		first := decode[api.BatchSubmitResponse](t, body).BatchID
		code, hdr, body := a.do(t, "POST", "/api/v1/predict/batch", quotaKey, "application/json", strings.NewReader(batch(2, "low")))
		refused(t, 429, "max_concurrent_batches", code, body)
		assert.NotEmpty(t, hdr.Get("Retry-After"))
		// Spend the burst: then a submit is over the rate. code is the
		// last answer's, so the check below fails if ten submits all pass.
		code = 0
		for i := 0; i < 10 && code != http.StatusTooManyRequests; i++ {
			code, hdr, body = a.do(t, "POST", "/api/v1/predict", quotaKey, "application/json",
				strings.NewReader(fmt.Sprintf(`{"model":"boltz2","protein_sequence":%q,"ligand_smiles":"CCO"}`, abuseProtein)))
		}
		refused(t, 429, "submit rate", code, body)
		secs, err := strconv.Atoi(hdr.Get("Retry-After"))
		require.NoError(t, err)
		assert.Positive(t, secs)
		_, _, _ = a.do(t, "POST", "/api/v1/batches/"+first+"/cancel", quotaKey, "", nil)
	})

	t.Run("a library Firestore refuses ends the batch failed, never running", func(t *testing.T) {
		// Past the API's checks (started as the temporal CLI could), a
		// column name Firestore reserves reaches PrepareBatch.
		spec := contract.JobSpec{
			JobID: fmt.Sprintf("batch_unstorable%d", time.Now().UnixNano()%1e9), JobType: omtx.JobTypeBatchParent, UserID: "abuser",
			Model: omtx.BaselineModel, CreatedAt: time.Now().UTC(), InputData: omtx.InputData{ProteinSequence: abuseProtein, Parameters: omtx.Parameters{NumSamples: 1}},
			BatchConfig: &omtx.BatchConfig{TotalLigands: 1, MaxConcurrent: 1, ChunkSize: 1, Priority: "normal"},
		}
		lib := `[{"index":0,"row":1,"name":"x","smiles":"CCO","metadata":{"__x__":"1"}}]`
		require.NoError(t, env.deps.Blobs.Put(ctxT(t), omtx.BatchPrefix(spec.JobID)+omtx.FileLigands, "application/json", []byte(lib)))
		_, err := env.deps.Temporal.ExecuteWorkflow(ctxT(t), startOptions(contract.BatchWorkflowID(spec.JobID)), contract.WorkflowBatch,
			contract.BatchInput{Parent: spec, GPUClass: omtx.GPUClassL4})
		require.NoError(t, err)
		var doc *omtx.Job
		require.Eventually(t, func() bool {
			doc, err = env.deps.Jobs.Get(ctxT(t), spec.JobID)
			return err == nil && doc.Status.Terminal()
		}, 2*time.Minute, 250*time.Millisecond, "the batch never ended")
		assert.Equal(t, omtx.StatusFailed, doc.Status)
		assert.Contains(t, doc.Error, "refused by Firestore")
	})

	peak := a.peakRSS(t)
	t.Logf("API peak RSS over the abuse suite: %d MiB", peak>>20)
	assert.Less(t, peak, int64(256<<20), "the API's peak memory must stay far below its 512 Mi limit")
}

// startOptions start a workflow on the orchestration queue, as the API
// does.
func startOptions(id string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: id, TaskQueue: contract.TaskQueueOrchestration}
}
