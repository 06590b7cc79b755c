package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/client"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// specChecker is an http.RoundTripper that validates every response
// against api/openapi.yaml with kin-openapi: status, headers and body, with
// the spec's closed schemas, so an undocumented field or status fails the
// test. It records which operations it saw succeed and fail.
type specChecker struct {
	t      *testing.T
	doc    *openapi3.T
	router routers.Router
	next   http.RoundTripper

	mu   sync.Mutex
	seen map[string]map[string]bool // operationId -> "2xx"/"err" -> seen
}

func newSpecChecker(t *testing.T) *specChecker {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(api.OpenAPI)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	doc.Servers = nil // match the test server's address
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	for _, ct := range []string{"image/png", "application/zip", "chemical/x-mmcif", "chemical/x-pdb"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
	for _, ct := range []string{"text/html", "text/css", "application/javascript", "chemical/x-mdl-sdfile"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
	return &specChecker{t: t, doc: doc, router: router, next: http.DefaultTransport, seen: map[string]map[string]bool{}}
}

func (c *specChecker) client(t *testing.T, base, key string) *client.Client {
	t.Helper()
	cl, err := client.New(base, key, client.WithHTTPClient(&http.Client{Transport: c}), client.WithRetries(0))
	require.NoError(t, err)
	return cl
}

func (c *specChecker) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	c.check(req, resp, body)
	return resp, nil
}

// check validates one response.
func (c *specChecker) check(req *http.Request, resp *http.Response, body []byte) {
	c.t.Helper()
	name := req.Method + " " + req.URL.Path + " → " + resp.Status
	find := req
	if i := strings.Index(req.URL.Path, "/files/analysis/"); i >= 0 {
		// A batch file name with a slash: route it as its escaped form.
		find = req.Clone(req.Context())
		u := *req.URL
		u.RawPath = req.URL.Path[:i+len("/files/")] + strings.ReplaceAll(req.URL.Path[i+len("/files/"):], "/", "%2F")
		find.URL = &u
	}
	route, params, err := c.router.FindRoute(find)
	if err != nil {
		// No operation: only an error body may answer (unknown route,
		// method not allowed).
		if resp.StatusCode < 400 {
			c.t.Errorf("%s: no operation in the spec answers it: %v", name, err)
			return
		}
		c.checkErrorBody(name, resp, body)
		return
	}
	// kin-openapi stops at the first header problem; report a missing
	// X-Request-Id on its own so that the body is still validated.
	header := resp.Header.Clone()
	if header.Get("X-Request-Id") == "" {
		c.t.Errorf("%s: no X-Request-Id header", name)
		header.Set("X-Request-Id", "missing")
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode,
		Header:                 header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(req.Context(), in); err != nil {
		c.t.Errorf("%s (%s) does not match the spec:\n%v\nbody: %.600s", name, route.Operation.OperationID, err, body)
	}
	kind := "2xx"
	if resp.StatusCode >= 400 {
		kind = "err"
	}
	c.mu.Lock()
	if c.seen[route.Operation.OperationID] == nil {
		c.seen[route.Operation.OperationID] = map[string]bool{}
	}
	c.seen[route.Operation.OperationID][kind] = true
	c.mu.Unlock()
}

func (c *specChecker) checkErrorBody(name string, resp *http.Response, body []byte) {
	c.t.Helper()
	if resp.Header.Get("X-Request-Id") == "" {
		c.t.Errorf("%s: no X-Request-Id header", name)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		c.t.Errorf("%s: error body is not JSON: %.300s", name, body)
		return
	}
	if err := c.doc.Components.Schemas["ErrorBody"].Value.VisitJSON(v); err != nil {
		c.t.Errorf("%s: error body does not match ErrorBody: %v\nbody: %.300s", name, err, body)
	}
}

// raw sends a hand-made request through the checker.
func (c *specChecker) raw(t *testing.T, method, url, key, contentType, body string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := c.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// status returns the HTTP status of a client call's error (0 for none).
func status(err error) int {
	var e *client.Error
	if err == nil {
		return 0
	}
	if ok := asError(err, &e); ok {
		return e.Status
	}
	return -1
}

func asError(err error, target **client.Error) bool {
	e, ok := err.(*client.Error)
	if ok {
		*target = e
	}
	return ok
}

// TestOpenAPIResponsesMatchTheSpec calls every route, for success and for
// errors, and validates every response against the spec.
func TestOpenAPIResponsesMatchTheSpec(t *testing.T) {
	chk := newSpecChecker(t)
	base := env.api.URL
	cl := chk.client(t, base, testKey)
	anon := chk.client(t, base, "")
	ctx := ctxT(t)
	protein := "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK"

	// Service routes and the results page.
	require.NoError(t, cl.Health(ctx))
	// Ready or not (the emulators may still be warming up), every answer
	// is validated; the test waits (bounded) for a ready one, so that the
	// success response is checked too whichever test runs first.
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(time.Second) {
		code := chk.raw(t, "GET", base+"/readyz", "", "", "")
		require.Contains(t, []int{200, 503}, code)
		if code == 200 || time.Now().After(deadline) {
			break
		}
	}
	_, err := cl.OpenAPI(ctx)
	require.NoError(t, err)
	assert.Equal(t, 200, chk.raw(t, "GET", base+"/ui", "", "", ""))
	assert.Equal(t, 200, chk.raw(t, "GET", base+"/ui/assets/app.js", "", "", ""))
	assert.Equal(t, 200, chk.raw(t, "GET", base+"/ui/assets/app.css", "", "", ""))
	assert.Equal(t, 404, chk.raw(t, "GET", base+"/ui/assets/missing.js", "", "", ""))
	assert.Equal(t, 404, chk.raw(t, "GET", base+"/no/such/route", "", "", ""))
	assert.Equal(t, 405, chk.raw(t, "DELETE", base+"/api/v1/predict", testKey, "", ""))
	_, err = cl.WebhookSecret(ctx)
	require.NoError(t, err)
	assert.Equal(t, 401, status(func() error { _, err := anon.WebhookSecret(ctx); return err }()))

	// Work cancelled while no GPU worker runs, so it cannot end first.
	sub, err := cl.Predict(ctx, client.PredictRequest{Model: "boltz2", ProteinSequence: protein, LigandSMILES: "CCO", LigandName: "ethanol"})
	require.NoError(t, err)
	_, err = cl.CancelJob(ctx, sub.JobID)
	require.NoError(t, err)
	noCache := false // else the same user's earlier runs complete it before the cancel
	cb, err := cl.SubmitBatch(ctx, client.BatchRequest{Model: "boltz2", ProteinSequence: protein, Cache: &noCache,
		Ligands: []client.Ligand{{Name: "a", SMILES: "CCO"}, {Name: "b", SMILES: "CCN"}}})
	require.NoError(t, err)
	_, err = cl.CancelBatch(ctx, cb.BatchID)
	require.NoError(t, err)
	assert.Equal(t, 404, status(func() error { _, err := cl.CancelJob(ctx, "job_nosuchjob"); return err }()))
	assert.Equal(t, 404, status(func() error { _, err := cl.CancelBatch(ctx, "batch_nosuchbatch"); return err }()))

	startGPUWorker(t)

	// Submissions: success, duplicate, conflict, invalid, malformed,
	// unsupported, unauthenticated, too large.
	req := client.PredictRequest{Model: "boltz2", ProteinSequence: protein, LigandSMILES: "CC(=O)OC1=CC=CC=C1C(=O)O", LigandName: "Aspirin"}
	key := client.WithIdempotencyKey(fmt.Sprintf("openapi-%d", time.Now().UnixNano()))
	job, err := cl.Predict(ctx, req, key)
	require.NoError(t, err)
	dup, err := cl.Predict(ctx, req, key)
	require.NoError(t, err)
	assert.True(t, dup.Duplicate)
	req2 := req
	req2.LigandSMILES = "CCO"
	assert.Equal(t, 409, status(func() error { _, err := cl.Predict(ctx, req2, key); return err }()))
	assert.Equal(t, 422, status(func() error {
		_, err := cl.Predict(ctx, client.PredictRequest{Model: "boltz2", ProteinSequence: protein, LigandSMILES: "C1CC"})
		return err
	}()))
	assert.Equal(t, 401, status(func() error { _, err := anon.Predict(ctx, req); return err }()))
	assert.Equal(t, 400, chk.raw(t, "POST", base+"/api/v1/predict", testKey, "application/json", `{"model":`))
	assert.Equal(t, 415, chk.raw(t, "POST", base+"/api/v1/predict", testKey, "text/plain", `model=boltz2`))
	assert.Equal(t, 413, chk.raw(t, "POST", base+"/api/v1/predict", testKey, "application/json", `{"ligand_name":"`+strings.Repeat("x", 9<<20)+`"}`))

	// Estimates.
	_, err = cl.Estimate(ctx, client.EstimateRequest{Model: "boltz2", ProteinSequence: protein, NumLigands: 100})
	require.NoError(t, err)
	assert.Equal(t, 422, status(func() error {
		_, err := cl.Estimate(ctx, client.EstimateRequest{Model: "no-such-model", ProteinSequence: protein, NumLigands: 1})
		return err
	}()))
	assert.Equal(t, 400, chk.raw(t, "POST", base+"/api/v1/estimate", testKey, "application/json", `[`))

	// Batches: JSON and upload, and a refused library with its rows.
	b, err := cl.SubmitBatch(ctx, client.BatchRequest{Model: "boltz2", BatchName: "openapi", ProteinSequence: protein, MaxConcurrent: 4,
		Ligands: []client.Ligand{{Name: "a", SMILES: "CCO"}, {Name: "b", SMILES: "CCN"}, {Name: "c", SMILES: "CCCl"}, {Name: "d", SMILES: "c1ccccc1O"}}})
	require.NoError(t, err)
	_, err = cl.UploadBatch(ctx, client.BatchUpload{Filename: "lib.smi", Library: []byte("CCO e\nCCCO f\n"), Model: "boltz2", ProteinSequence: protein})
	require.NoError(t, err)
	assert.Equal(t, 422, status(func() error {
		_, err := cl.UploadBatch(ctx, client.BatchUpload{Filename: "lib.csv", Library: []byte("name,smiles\nx,C1CC\ny,CCO\n"), Model: "boltz2", ProteinSequence: protein})
		return err
	}()))
	assert.Equal(t, 400, chk.raw(t, "POST", base+"/api/v1/predict/batch", testKey, "application/json", `{`))

	// Reads, while and after running.
	done := waitJob(t, job.JobID, omtx.StatusCompleted, 2*time.Minute)
	_, err = cl.Job(ctx, done.JobID)
	require.NoError(t, err)
	for _, f := range []string{"input.json", "results.json", "logs.txt"} {
		_, err := cl.JobFile(ctx, done.JobID, f)
		require.NoError(t, err, f)
	}
	assert.Equal(t, 404, status(func() error { _, err := cl.JobFile(ctx, done.JobID, "structure.pdb"); return err }()), "the baseline has no structure")
	assert.Equal(t, 404, status(func() error { _, err := cl.Job(ctx, "job_nosuchjob"); return err }()))
	assert.Equal(t, 404, status(func() error { _, err := cl.JobFile(ctx, done.JobID, "secrets.txt"); return err }()))
	assert.Equal(t, 409, status(func() error { _, err := cl.CancelJob(ctx, done.JobID); return err }()))
	page, err := cl.Jobs(ctx, client.ListOptions{PageSize: 2})
	require.NoError(t, err)
	assert.NotEmpty(t, page.NextPageToken)
	_, err = cl.Jobs(ctx, client.ListOptions{PageSize: 2, PageToken: page.NextPageToken, Status: "completed"})
	require.NoError(t, err)
	assert.Equal(t, 422, status(func() error { _, err := cl.Jobs(ctx, client.ListOptions{Status: "finished"}); return err }()))

	_, err = cl.Batch(ctx, b.BatchID) // running or pending: may carry live_progress
	require.NoError(t, err)
	bd := waitBatch(t, b.BatchID, 2*time.Minute)
	require.Equal(t, omtx.StatusCompleted, bd.Status, bd.Error)
	_, err = cl.Batch(ctx, b.BatchID)
	require.NoError(t, err)
	kids, err := cl.BatchJobs(ctx, b.BatchID, client.ListOptions{PageSize: 3})
	require.NoError(t, err)
	assert.Len(t, kids.Jobs, 3)
	assert.Equal(t, 422, status(func() error {
		_, err := cl.BatchJobs(ctx, b.BatchID, client.ListOptions{Status: "finished"})
		return err
	}()))
	assert.Equal(t, 404, status(func() error { _, err := cl.Batch(ctx, "batch_nosuchbatch"); return err }()))
	assert.Equal(t, 404, status(func() error { _, err := cl.BatchJobs(ctx, "batch_nosuchbatch", client.ListOptions{}); return err }()))
	ranked, err := cl.BatchResults(ctx, b.BatchID, client.ResultsOptions{Ranking: omtx.RankingLeadOptimization, PageSize: 2})
	require.NoError(t, err)
	assert.Len(t, ranked.Results, 2)
	assert.Equal(t, 422, status(func() error {
		_, err := cl.BatchResults(ctx, b.BatchID, client.ResultsOptions{Ranking: "best_first"})
		return err
	}()))
	for _, f := range []string{"batch_config.json", "ligands.json", "batch_results.csv", "batch_results.json", "summary.json", "analysis/affinity_distribution.png"} {
		_, err := cl.BatchFile(ctx, b.BatchID, f)
		require.NoError(t, err, f)
	}
	assert.Equal(t, 404, status(func() error { _, err := cl.BatchFile(ctx, b.BatchID, "analysis/top_10_structures.zip"); return err }()), "no structures from the baseline")
	for _, poses := range []bool{false, true} {
		sd, err := cl.BatchSDF(ctx, b.BatchID, poses, client.ResultsOptions{}, 0)
		require.NoError(t, err)
		if poses {
			assert.Zero(t, sd.Records, "no structures from the baseline")
		} else {
			assert.Equal(t, ranked.TotalRanked, sd.Records)
		}
		assert.Equal(t, 422, status(func() error {
			_, err := cl.BatchSDF(ctx, b.BatchID, poses, client.ResultsOptions{}, 100_000)
			return err
		}()))
	}
	assert.Equal(t, 409, status(func() error { _, err := cl.CancelBatch(ctx, b.BatchID); return err }()))
	// A rerun of the cancelled batch's ligands; none of the completed
	// batch's failed.
	waitBatch(t, cb.BatchID, time.Minute)
	_, err = cl.RerunBatch(ctx, cb.BatchID, client.RerunCancelled)
	require.NoError(t, err)
	assert.Equal(t, 422, status(func() error { _, err := cl.RerunBatch(ctx, b.BatchID, client.RerunFailed); return err }()))

	// Targets: created (JSON and Boltz YAML), read, listed, rendered,
	// deleted, and refused; a dry run on one.
	tg := &target.Target{Chains: []target.Chain{{Type: target.Protein, IDs: target.ChainIDs{"A"}, Sequence: protein}}}
	tr, err := cl.CreateTarget(ctx, "openapi", tg, nil)
	require.NoError(t, err)
	_, err = cl.ImportTarget(ctx, client.TargetImport{YAML: []byte("version: 1\nsequences:\n  - protein:\n      id: A\n      sequence: " + protein + "\n      msa: empty\n")})
	require.NoError(t, err)
	assert.Equal(t, 422, status(func() error { _, err := cl.CreateTarget(ctx, "", &target.Target{}, nil); return err }()))
	assert.Equal(t, 415, chk.raw(t, "POST", base+"/api/v1/targets", testKey, "text/plain", "version: 1"))
	assert.Equal(t, 400, chk.raw(t, "POST", base+"/api/v1/targets", testKey, "application/json", "{"))
	_, err = cl.Target(ctx, tr.TargetID)
	require.NoError(t, err)
	_, err = cl.Targets(ctx, client.ListOptions{PageSize: 1})
	require.NoError(t, err)
	assert.Equal(t, 422, status(func() error { _, err := cl.Targets(ctx, client.ListOptions{PageToken: "bogus"}); return err }()))
	_, err = cl.TargetYAML(ctx, tr.TargetID, "")
	require.NoError(t, err)
	assert.Equal(t, 404, status(func() error { _, err := cl.TargetYAML(ctx, "tgt_0000000000000000", ""); return err }()))
	_, err = cl.DryRunPredict(ctx, client.PredictRequest{Model: "boltz2", TargetID: tr.TargetID, LigandSMILES: "CCO"})
	require.NoError(t, err)
	require.NoError(t, cl.DeleteTarget(ctx, tr.TargetID))
	assert.Equal(t, 404, status(func() error { _, err := cl.Target(ctx, tr.TargetID); return err }()))
	assert.Equal(t, 404, status(func() error { return cl.DeleteTarget(ctx, tr.TargetID) }()))

	t.Run("every operation was validated, succeeding and failing", func(t *testing.T) {
		var missing []string
		for path, item := range chk.doc.Paths.Map() {
			for method, op := range item.Operations() {
				seen := chk.seen[op.OperationID]
				if !seen["2xx"] {
					missing = append(missing, op.OperationID+" (success) "+method+" "+path)
				}
				hasErr := false
				for code := range op.Responses.Map() {
					hasErr = hasErr || code >= "400"
				}
				if hasErr && !seen["err"] && path != "/readyz" {
					missing = append(missing, op.OperationID+" (error) "+method+" "+path)
				}
			}
		}
		sort.Strings(missing)
		assert.Empty(t, missing)
	})
}
