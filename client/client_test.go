package client

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a fake API that answers from a script and records requests.
type recorder struct {
	mu       sync.Mutex
	requests []*http.Request
	bodies   []string
	answer   func(n int, r *http.Request) (int, http.Header, string)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	n := len(rec.requests)
	rec.requests = append(rec.requests, r)
	rec.bodies = append(rec.bodies, string(body))
	rec.mu.Unlock()
	status, h, out := rec.answer(n, r)
	for k, v := range h {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, out)
}

// newTest returns a client of rec whose waits are recorded, not slept.
func newTest(t *testing.T, rec *recorder, opts ...Option) (*Client, *[]time.Duration) {
	t.Helper()
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	var waits []time.Duration
	opts = append([]Option{withSleep(func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	})}, opts...)
	c, err := New(srv.URL, "secret-key-0123456789", opts...)
	require.NoError(t, err)
	return c, &waits
}

const okSubmit = `{"job_id":"job_1","status":"pending","model":"m","url":"/api/v1/jobs/job_1"}`

func TestRetriesHonourRetryAfter(t *testing.T) {
	t.Parallel()
	rec := &recorder{answer: func(n int, r *http.Request) (int, http.Header, string) {
		switch n {
		case 0:
			return 429, http.Header{"Retry-After": {"7"}}, `{"error":{"code":"rate_limited","message":"slow down","request_id":"r0"}}`
		case 1:
			return 503, nil, `{"error":{"code":"unavailable","message":"temporal is unavailable","request_id":"r1"}}`
		}
		return 202, nil, okSubmit
	}}
	c, waits := newTest(t, rec, WithBackoff(100*time.Millisecond, time.Second))
	resp, err := c.Predict(context.Background(), PredictRequest{Model: "boltz2", ProteinSequence: "MKT", LigandSMILES: "C"})
	require.NoError(t, err)
	assert.Equal(t, "job_1", resp.JobID)
	require.Len(t, rec.requests, 3)
	require.Len(t, *waits, 2)
	assert.Equal(t, 7*time.Second, (*waits)[0], "Retry-After is honoured even above the backoff cap")
	assert.LessOrEqual(t, (*waits)[1], 200*time.Millisecond, "the second wait is the capped exponential backoff")

	t.Run("every attempt of one call carries the same generated idempotency key", func(t *testing.T) {
		k := rec.requests[0].Header.Get(IdempotencyHeader)
		assert.NotEmpty(t, k)
		for _, r := range rec.requests {
			assert.Equal(t, k, r.Header.Get(IdempotencyHeader))
			assert.Equal(t, "Bearer secret-key-0123456789", r.Header.Get("Authorization"))
		}
		assert.Equal(t, rec.bodies[0], rec.bodies[2], "the body is resent whole")
	})
}

func TestIdempotencyKeys(t *testing.T) {
	t.Parallel()
	rec := &recorder{answer: func(int, *http.Request) (int, http.Header, string) { return 202, nil, okSubmit }}
	c, _ := newTest(t, rec)
	ctx := context.Background()
	_, err := c.Predict(ctx, PredictRequest{})
	require.NoError(t, err)
	_, err = c.Predict(ctx, PredictRequest{})
	require.NoError(t, err)
	_, err = c.SubmitBatch(ctx, BatchRequest{}, WithIdempotencyKey("mine"))
	require.NoError(t, err)
	a, b := rec.requests[0].Header.Get(IdempotencyHeader), rec.requests[1].Header.Get(IdempotencyHeader)
	assert.NotEqual(t, a, b, "each call generates its own key")
	assert.Equal(t, "mine", rec.requests[2].Header.Get(IdempotencyHeader))
}

func TestErrorsCarryTheAPIsDetails(t *testing.T) {
	t.Parallel()
	rec := &recorder{answer: func(int, *http.Request) (int, http.Header, string) {
		return 422, http.Header{"X-Request-Id": {"hdr-id"}}, `{"error":{"code":"invalid","message":"2 invalid entries","field":"ligands",
			"rows":[{"row":3,"field":"smiles","message":"unclosed ring"},{"row":5,"field":"name","reason":"too long"}],"request_id":"req-9"}}`
	}}
	c, waits := newTest(t, rec)
	_, err := c.SubmitBatch(context.Background(), BatchRequest{})
	var ae *Error
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 422, ae.Status)
	assert.Equal(t, CodeInvalid, ae.Code)
	assert.Equal(t, "ligands", ae.Field)
	assert.Equal(t, "req-9", ae.RequestID)
	assert.Equal(t, []RowProblem{{Row: 3, Field: "smiles", Message: "unclosed ring"}, {Row: 5, Field: "name", Message: "too long"}}, ae.Rows)
	assert.Empty(t, *waits, "a 422 is not retried")
	assert.Len(t, rec.requests, 1)
	assert.Contains(t, err.Error(), "ligands")
}

func TestGivesUpAfterRetries(t *testing.T) {
	t.Parallel()
	rec := &recorder{answer: func(int, *http.Request) (int, http.Header, string) {
		return 503, nil, `{"error":{"code":"unavailable","message":"down"}}`
	}}
	c, waits := newTest(t, rec, WithRetries(2))
	_, err := c.Job(context.Background(), "job_1")
	assert.Equal(t, CodeUnavailable, ErrorCode(err))
	assert.Len(t, rec.requests, 3)
	assert.Len(t, *waits, 2)
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	c, err := New(addr, "k", WithRetries(1), withSleep(func(context.Context, time.Duration) error { return nil }))
	require.NoError(t, err)
	_, err = c.Jobs(context.Background(), ListOptions{})
	var ue *UnreachableError
	assert.ErrorAs(t, err, &ue)
}

func TestContextEndsRetries(t *testing.T) {
	t.Parallel()
	rec := &recorder{answer: func(int, *http.Request) (int, http.Header, string) {
		return 429, http.Header{"Retry-After": {"3600"}}, `{"error":{"code":"rate_limited","message":"later"}}`
	}}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	c, err := New(srv.URL, "k")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			rec.mu.Lock()
			n := len(rec.requests)
			rec.mu.Unlock()
			if n > 0 {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	_, err = c.Batch(ctx, "batch_1")
	assert.True(t, errors.Is(err, context.Canceled), "%v", err)
}

func TestListPagingAndQuery(t *testing.T) {
	t.Parallel()
	rec := &recorder{answer: func(n int, r *http.Request) (int, http.Header, string) {
		if r.URL.Query().Get("page_token") == "" {
			return 200, nil, `{"jobs":[{"job_id":"a"},{"job_id":"b"}],"next_page_token":"t1"}`
		}
		return 200, nil, `{"jobs":[{"job_id":"c"}]}`
	}}
	c, _ := newTest(t, rec)
	var ids []string
	require.NoError(t, c.EachBatchJob(context.Background(), "batch_x", "completed", func(j *Job) error {
		ids = append(ids, j.JobID)
		return nil
	}))
	assert.Equal(t, []string{"a", "b", "c"}, ids)
	assert.Equal(t, "/api/v1/batches/batch_x/jobs", rec.requests[0].URL.Path)
	assert.Equal(t, "page_size=100&status=completed", rec.requests[0].URL.RawQuery)
	assert.Equal(t, "t1", rec.requests[1].URL.Query().Get("page_token"))
}

func TestUploadBatchIsMultipart(t *testing.T) {
	t.Parallel()
	rec := &recorder{answer: func(int, *http.Request) (int, http.Header, string) {
		return 202, nil, `{"batch_id":"batch_1","job_id":"batch_1","status":"pending","model":"m","total_ligands":2,"url":"/api/v1/batches/batch_1"}`
	}}
	c, _ := newTest(t, rec)
	out, err := c.UploadBatch(context.Background(), BatchUpload{Filename: "lib.smi", Library: []byte("C a\nCC b\n"),
		Model: "boltz2", ProteinSequence: "MKT", MaxConcurrent: 4, NotifyURL: "https://example.test/hook"})
	require.NoError(t, err)
	assert.Equal(t, "batch_1", out.BatchID)
	r := rec.requests[0]
	assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data; boundary="))
	body := rec.bodies[0]
	for _, want := range []string{`name="library"; filename="lib.smi"`, "C a\nCC b\n", `name="max_concurrent"`, `name="notify_url"`} {
		assert.Contains(t, body, want)
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	assert.Equal(t, 30*time.Second, retryAfter(now.Add(30*time.Second).Format(http.TimeFormat), now))
	assert.Equal(t, 5*time.Second, retryAfter("5", now))
	assert.Zero(t, retryAfter("soon", now))
}

func TestWebhookSignature(t *testing.T) {
	t.Parallel()
	secret := []byte("whsec")
	body, _ := json.Marshal(Webhook{Event: "batch.completed", ID: "batch_1", Status: "completed"})
	now := time.Unix(1_800_000_000, 0)
	h := Sign(secret, body, now)
	assert.NoError(t, VerifySignature(secret, h, body, now.Add(time.Minute), 5*time.Minute))
	assert.ErrorIs(t, VerifySignature(secret, h, append(body, ' '), now, 5*time.Minute), ErrBadSignature, "a changed body")
	assert.ErrorIs(t, VerifySignature([]byte("other"), h, body, now, 5*time.Minute), ErrBadSignature, "another secret")
	assert.ErrorIs(t, VerifySignature(secret, h, body, now.Add(time.Hour), 5*time.Minute), ErrBadSignature, "a replay")
	assert.ErrorIs(t, VerifySignature(secret, "v1=00", body, now, 5*time.Minute), ErrBadSignature)
}

func TestBatchResults(t *testing.T) {
	t.Parallel()
	rec := &recorder{answer: func(int, *http.Request) (int, http.Header, string) {
		return 200, nil, `{"batch_id":"batch_1","status":"running","partial":true,"ranking":{"mode":"lead_optimization","binder_threshold":0.6,"description":"d"},` +
			`"summary":{"status_line":"partial: 1 of 2 ligands finished","failed":0,"failures":[]},"total_ranked":1,"offset":0,"page_size":50,` +
			`"results":[{"rank":1,"job_id":"job_1","ligand_name":"L","delta_g_kcal_mol":-9,"below_confidence_floor":["iptm"],"results_url":"/api/v1/jobs/job_1/files/results.json","ligand_metadata":{"class":"x"}}]}`
	}}
	c, _ := newTest(t, rec)
	thr, floor := 0.6, 0.5
	got, err := c.BatchResults(t.Context(), "batch_1", ResultsOptions{Ranking: "lead_optimization", BinderThreshold: &thr, MinIPTM: &floor, Offset: 50, PageSize: 25})
	require.NoError(t, err)
	req := rec.requests[0]
	assert.Equal(t, "/api/v1/batches/batch_1/results", req.URL.Path)
	assert.Equal(t, "binder_threshold=0.6&min_iptm=0.5&offset=50&page_size=25&ranking=lead_optimization", req.URL.RawQuery)
	assert.True(t, got.Partial)
	assert.Equal(t, "lead_optimization", string(got.Ranking.Mode))
	assert.Equal(t, "partial: 1 of 2 ligands finished", got.Summary.StatusLine)
	require.Len(t, got.Results, 1)
	assert.Equal(t, []string{"iptm"}, got.Results[0].BelowConfidenceFloor)
	assert.Equal(t, "x", got.Results[0].LigandMetadata["class"])
	assert.InDelta(t, -9, got.Results[0].DeltaGKcalMol, 1e-12)
}

func TestImportTargetSendsTheYAMLAndFilesByName(t *testing.T) {
	t.Parallel()
	rec := &recorder{answer: func(int, *http.Request) (int, http.Header, string) {
		return 201, nil, `{"target_id":"tgt_0123456789abcdef","user_id":"u","created_at":"2026-12-07T00:00:00Z","target_hash":"sha256:00","tokens":3,"ligand_chain":"B","chains":[],"url":"/api/v1/targets/tgt_0123456789abcdef"}`
	}}
	c, _ := newTest(t, rec)
	out, err := c.ImportTarget(context.Background(), TargetImport{
		YAML: []byte("version: 1\n"), Files: map[string][]byte{"seq1.a3m": []byte(">q\nMKT\n")}, Name: "n",
	})
	require.NoError(t, err)
	assert.Equal(t, "tgt_0123456789abcdef", out.TargetID)
	r := rec.requests[0]
	assert.Equal(t, "/api/v1/targets", r.URL.Path)
	assert.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data; boundary="))
	for _, want := range []string{`name="yaml"`, "version: 1\n", `name="file"; filename="seq1.a3m"`, ">q\nMKT\n", `name="name"`} {
		assert.Contains(t, rec.bodies[0], want)
	}
}

func TestDryRunAsksForIt(t *testing.T) {
	t.Parallel()
	rec := &recorder{answer: func(int, *http.Request) (int, http.Header, string) {
		return 200, nil, `{"dry_run":true,"boltz_yaml":"version: 1\n","settings":{"use_msa":false},"model":"boltz2","substituted":false,"tokens":9,"gpu_class":"l4"}`
	}}
	c, _ := newTest(t, rec)
	out, err := c.DryRunBatch(context.Background(), BatchRequest{Model: "boltz2", TargetID: "tgt_0123456789abcdef", Ligands: []Ligand{{SMILES: "CCO"}}})
	require.NoError(t, err)
	assert.Equal(t, "version: 1\n", out.BoltzYAML)
	assert.Equal(t, "/api/v1/predict/batch", rec.requests[0].URL.Path)
	assert.Equal(t, "true", rec.requests[0].URL.Query().Get("dry_run"))
	assert.Contains(t, rec.bodies[0], `"target_id":"tgt_0123456789abcdef"`)
	assert.NotContains(t, rec.bodies[0], "protein_sequence", "a target request sends no protein_sequence")
}
