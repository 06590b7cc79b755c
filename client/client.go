// Package client is a typed Go client of the OMTX-Hub REST API
// (api/openapi.yaml). Every call takes a context. Calls that the API
// answers 429 or 503, and calls that do not reach it, are retried with
// exponential backoff, waiting at least what a Retry-After header asks.
// Submissions carry an idempotency key, generated per call unless given,
// so a retried submission never starts a second job.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the API of make dev.
const DefaultBaseURL = "http://127.0.0.1:8080"

// IdempotencyHeader carries a submission's idempotency key.
const IdempotencyHeader = "Idempotency-Key"

// RequestIDHeader is the header the API answers every request with.
const RequestIDHeader = "X-Request-Id"

// Client calls the OMTX-Hub API. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	key       string
	hc        *http.Client
	retries   int
	minWait   time.Duration
	maxWait   time.Duration
	userAgent string
	// sleep waits d or until ctx ends; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (default: one with no overall
// timeout, since file downloads can be large; use contexts for deadlines).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithRetries sets how many times a call is retried after a 429, a 503 or
// a failure to reach the API (default 5; 0 disables retries).
func WithRetries(n int) Option { return func(c *Client) { c.retries = max(0, n) } }

// WithBackoff sets the first and the largest wait between retries
// (default 500 ms and 30 s). A Retry-After header longer than max is
// still honoured.
func WithBackoff(first, most time.Duration) Option {
	return func(c *Client) { c.minWait, c.maxWait = first, most }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// withSleep replaces the wait between retries (tests).
func withSleep(f func(context.Context, time.Duration) error) Option {
	return func(c *Client) { c.sleep = f }
}

// New returns a client of the API at baseURL (for example
// "http://127.0.0.1:8080") that authenticates with apiKey.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("api url %q: want http(s)://host[:port]", baseURL)
	}
	c := &Client{
		base: u, key: strings.TrimSpace(apiKey), hc: &http.Client{},
		retries: 5, minWait: 500 * time.Millisecond, maxWait: 30 * time.Second,
		userAgent: "omtx-go-client", sleep: sleepCtx,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// BaseURL is the API's base address, without a trailing slash.
func (c *Client) BaseURL() string { return c.base.String() }

// CallOption changes one call.
type CallOption func(*callOpts)

type callOpts struct {
	idemKey string
}

// WithIdempotencyKey sends key as the submission's Idempotency-Key instead
// of a generated one: submitting again with the same key and body returns
// the first job (Duplicate is then true).
func WithIdempotencyKey(key string) CallOption { return func(o *callOpts) { o.idemKey = key } }

// NewIdempotencyKey returns a random key.
func NewIdempotencyKey() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return "omtx-" + hex.EncodeToString(b[:])
}

// request is one API call, replayable for retries.
type request struct {
	method, path string
	query        url.Values
	body         []byte
	contentType  string
	header       http.Header
	auth         bool
}

// do sends req, retrying 429, 503 and transport failures, and returns the
// successful response with its body unread; the caller closes it. A
// response of 400 or more becomes an *Error.
func (c *Client) do(ctx context.Context, req request) (*http.Response, error) {
	u := *c.base
	u.Path = c.base.Path + req.path
	u.RawQuery = req.query.Encode()
	for attempt := 0; ; attempt++ {
		var body io.Reader
		if req.body != nil {
			body = bytes.NewReader(req.body)
		}
		hr, err := http.NewRequestWithContext(ctx, req.method, u.String(), body)
		if err != nil {
			return nil, err
		}
		for k, v := range req.header {
			hr.Header[k] = v
		}
		if req.contentType != "" {
			hr.Header.Set("Content-Type", req.contentType)
		}
		hr.Header.Set("Accept", "application/json")
		hr.Header.Set("User-Agent", c.userAgent)
		if req.auth {
			hr.Header.Set("Authorization", "Bearer "+c.key)
		}
		resp, err := c.hc.Do(hr)
		var wait time.Duration
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			err = &UnreachableError{URL: c.base.String(), Err: err}
		case resp.StatusCode < 400:
			return resp, nil
		default:
			err = readError(resp)
			resp.Body.Close()
			var ae *Error
			if errors.As(err, &ae) && ae.Retryable() {
				wait = ae.RetryAfter
			} else {
				return nil, err
			}
		}
		if attempt >= c.retries {
			return nil, err
		}
		if err := c.sleep(ctx, c.backoff(attempt, wait)); err != nil {
			return nil, err
		}
	}
}

// backoff is the wait before retry attempt+1: exponential with full
// jitter, capped, and never shorter than what the server asked for.
func (c *Client) backoff(attempt int, asked time.Duration) time.Duration {
	ceil := float64(c.minWait) * math.Pow(2, float64(attempt))
	ceil = min(ceil, float64(c.maxWait))
	d := time.Duration(ceil/2 + mrand.Float64()*ceil/2)
	return max(d, asked)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// doJSON sends req and decodes a JSON answer into out.
func (c *Client) doJSON(ctx context.Context, req request, out any) (int, error) {
	resp, err := c.do(ctx, req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return resp.StatusCode, fmt.Errorf("%s %s: decode answer: %w", req.method, req.path, err)
	}
	return resp.StatusCode, nil
}

func jsonRequest(method, path string, body any) (request, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return request{}, err
	}
	return request{method: method, path: path, body: data, contentType: "application/json", auth: true}, nil
}

func submitHeader(opts []CallOption) http.Header {
	var o callOpts
	for _, f := range opts {
		f(&o)
	}
	if o.idemKey == "" {
		o.idemKey = NewIdempotencyKey()
	}
	return http.Header{IdempotencyHeader: {o.idemKey}}
}

// Predict submits one prediction.
func (c *Client) Predict(ctx context.Context, in PredictRequest, opts ...CallOption) (*SubmitResponse, error) {
	return submitJSON[SubmitResponse](ctx, c, "/api/v1/predict", in, opts)
}

// submitJSON posts a submission's JSON body with its Idempotency-Key and
// decodes the answer.
func submitJSON[T any](ctx context.Context, c *Client, path string, body any, opts []CallOption) (*T, error) {
	req, err := jsonRequest(http.MethodPost, path, body)
	if err != nil {
		return nil, err
	}
	req.header = submitHeader(opts)
	var out T
	if _, err := c.doJSON(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SubmitBatch submits a batch screen with its ligands in the body.
func (c *Client) SubmitBatch(ctx context.Context, in BatchRequest, opts ...CallOption) (*BatchSubmitResponse, error) {
	return submitJSON[BatchSubmitResponse](ctx, c, "/api/v1/predict/batch", in, opts)
}

// UploadBatch submits a batch screen as a library file (.csv or .smi).
func (c *Client) UploadBatch(ctx context.Context, in BatchUpload, opts ...CallOption) (*BatchSubmitResponse, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fields := [][2]string{
		{"model", in.Model}, {"protein_sequence", in.ProteinSequence}, {"target_id", in.TargetID}, {"batch_name", in.BatchName},
		{"priority", in.Priority}, {"msa", in.MSA}, {"notify_url", in.NotifyURL},
	}
	if in.MaxConcurrent > 0 {
		fields = append(fields, [2]string{"max_concurrent", strconv.Itoa(in.MaxConcurrent)})
	}
	if in.ChunkSize > 0 {
		fields = append(fields, [2]string{"chunk_size", strconv.Itoa(in.ChunkSize)})
	}
	if in.SkipInvalid {
		fields = append(fields, [2]string{"skip_invalid", "true"})
	}
	if in.NoCache {
		fields = append(fields, [2]string{"cache", "false"})
	}
	if in.Parameters != nil {
		p, err := json.Marshal(in.Parameters)
		if err != nil {
			return nil, err
		}
		fields = append(fields, [2]string{"parameters", string(p)})
	}
	if !in.Filters.IsZero() {
		p, err := json.Marshal(in.Filters)
		if err != nil {
			return nil, err
		}
		fields = append(fields, [2]string{"filters", string(p)})
	}
	for _, f := range fields {
		if f[1] == "" {
			continue
		}
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, err
		}
	}
	name := in.Filename
	if name == "" {
		name = "library.csv"
	}
	fw, err := w.CreateFormFile("library", name)
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(in.Library); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	req := request{method: http.MethodPost, path: "/api/v1/predict/batch", body: buf.Bytes(),
		contentType: w.FormDataContentType(), header: submitHeader(opts), auth: true}
	var out BatchSubmitResponse
	if _, err := c.doJSON(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Estimate asks for a cost and time estimate.
func (c *Client) Estimate(ctx context.Context, in EstimateRequest) (*EstimateResponse, error) {
	req, err := jsonRequest(http.MethodPost, "/api/v1/estimate", in)
	if err != nil {
		return nil, err
	}
	var out EstimateResponse
	if _, err := c.doJSON(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Job returns a job document (an individual job, a batch child or a batch
// parent).
func (c *Client) Job(ctx context.Context, jobID string) (*Job, error) {
	var out Job
	if _, err := c.doJSON(ctx, request{method: http.MethodGet, path: "/api/v1/jobs/" + url.PathEscape(jobID), auth: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Jobs returns a page of the caller's jobs and batches, newest first.
func (c *Client) Jobs(ctx context.Context, o ListOptions) (*JobList, error) {
	var out JobList
	if _, err := c.doJSON(ctx, request{method: http.MethodGet, path: "/api/v1/jobs", query: o.values(), auth: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Batch returns a batch parent with its progress.
func (c *Client) Batch(ctx context.Context, batchID string) (*Batch, error) {
	var out Batch
	if _, err := c.doJSON(ctx, request{method: http.MethodGet, path: "/api/v1/batches/" + url.PathEscape(batchID), auth: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// BatchJobs returns a page of a batch's children, by batch_index.
func (c *Client) BatchJobs(ctx context.Context, batchID string, o ListOptions) (*JobList, error) {
	var out JobList
	req := request{method: http.MethodGet, path: "/api/v1/batches/" + url.PathEscape(batchID) + "/jobs", query: o.values(), auth: true}
	if _, err := c.doJSON(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// BatchResults ranks a batch's ligands as they stand under the batch's own
// rule, or the one o names, without rerunning anything: one page of
// GET /api/v1/batches/{batch_id}/results. On a running batch it ranks the
// finished ligands and says Partial.
func (c *Client) BatchResults(ctx context.Context, batchID string, o ResultsOptions) (*RankedResults, error) {
	var out RankedResults
	req := request{method: http.MethodGet, path: "/api/v1/batches/" + url.PathEscape(batchID) + "/results", query: o.values(), auth: true}
	if _, err := c.doJSON(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// EachBatchJob calls fn for every child of a batch (with status, if set),
// following the page tokens; it stops at fn's first error.
func (c *Client) EachBatchJob(ctx context.Context, batchID string, status string, fn func(*Job) error) error {
	o := ListOptions{PageSize: 100, Status: Status(status)}
	for {
		page, err := c.BatchJobs(ctx, batchID, o)
		if err != nil {
			return err
		}
		for _, j := range page.Jobs {
			if err := fn(j); err != nil {
				return err
			}
		}
		if page.NextPageToken == "" {
			return nil
		}
		o.PageToken = page.NextPageToken
	}
}

func (o ListOptions) values() url.Values {
	q := url.Values{}
	if o.PageSize > 0 {
		q.Set("page_size", strconv.Itoa(o.PageSize))
	}
	if o.PageToken != "" {
		q.Set("page_token", o.PageToken)
	}
	if o.Status != "" {
		q.Set("status", string(o.Status))
	}
	return q
}

// RerunBatch starts a new batch of a finished batch's failed and/or
// cancelled ligands (which: RerunFailed, RerunCancelled or
// RerunFailedAndCancelled), with the same protein, model and settings.
// The answer's RerunOf names batchID. As a submission, it carries an
// Idempotency-Key, so a retried call starts one batch.
func (c *Client) RerunBatch(ctx context.Context, batchID, which string, opts ...CallOption) (*BatchSubmitResponse, error) {
	return submitJSON[BatchSubmitResponse](ctx, c, "/api/v1/batches/"+url.PathEscape(batchID)+"/rerun", map[string]string{"which": which}, opts)
}

// CancelJob asks an individual job to stop.
func (c *Client) CancelJob(ctx context.Context, jobID string) (*CancelResponse, error) {
	var out CancelResponse
	if _, err := c.doJSON(ctx, request{method: http.MethodPost, path: "/api/v1/jobs/" + url.PathEscape(jobID) + "/cancel", auth: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CancelBatch asks a batch to stop.
func (c *Client) CancelBatch(ctx context.Context, batchID string) (*CancelResponse, error) {
	var out CancelResponse
	if _, err := c.doJSON(ctx, request{method: http.MethodPost, path: "/api/v1/batches/" + url.PathEscape(batchID) + "/cancel", auth: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// File is an open stored file; the caller closes Body.
type File struct {
	Body        io.ReadCloser
	ContentType string
	// Size is the length the API announced, or -1.
	Size int64
}

// OpenJobFile opens one of a job's files (JobFiles).
func (c *Client) OpenJobFile(ctx context.Context, jobID, name string) (*File, error) {
	return c.openFile(ctx, "/api/v1/jobs/"+url.PathEscape(jobID)+"/files/"+name)
}

// OpenBatchFile opens one of a batch's files (BatchFiles).
func (c *Client) OpenBatchFile(ctx context.Context, batchID, name string) (*File, error) {
	return c.openFile(ctx, "/api/v1/batches/"+url.PathEscape(batchID)+"/files/"+name)
}

func (c *Client) openFile(ctx context.Context, path string) (*File, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: path, auth: true})
	if err != nil {
		return nil, err
	}
	return &File{Body: resp.Body, ContentType: resp.Header.Get("Content-Type"), Size: resp.ContentLength}, nil
}

// JobFile reads one of a job's files whole.
func (c *Client) JobFile(ctx context.Context, jobID, name string) ([]byte, error) {
	f, err := c.OpenJobFile(ctx, jobID, name)
	if err != nil {
		return nil, err
	}
	defer f.Body.Close()
	return io.ReadAll(f.Body)
}

// BatchFile reads one of a batch's files whole.
func (c *Client) BatchFile(ctx context.Context, batchID, name string) ([]byte, error) {
	f, err := c.OpenBatchFile(ctx, batchID, name)
	if err != nil {
		return nil, err
	}
	defer f.Body.Close()
	return io.ReadAll(f.Body)
}

// Health calls GET /healthz.
func (c *Client) Health(ctx context.Context) error {
	_, err := c.doJSON(ctx, request{method: http.MethodGet, path: "/healthz"}, nil)
	return err
}

// Ready calls GET /readyz; a 503 is an *Error whose code is "unavailable".
func (c *Client) Ready(ctx context.Context) (*Readiness, error) {
	var out Readiness
	if _, err := c.doJSON(ctx, request{method: http.MethodGet, path: "/readyz"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// OpenAPI returns the API's OpenAPI description (YAML).
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/openapi.yaml"})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// WebhookSecret is the secret that signs this key's webhooks.
type WebhookSecret struct {
	KeyID  string `json:"key_id"`
	Secret string `json:"secret"`
	Scheme string `json:"scheme"`
}

// WebhookSecret calls GET /api/v1/webhook-secret: the secret that signs
// the completion webhooks of work submitted with this client's key.
func (c *Client) WebhookSecret(ctx context.Context) (*WebhookSecret, error) {
	var out WebhookSecret
	if _, err := c.doJSON(ctx, request{method: http.MethodGet, path: "/api/v1/webhook-secret", auth: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
