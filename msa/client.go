package msa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of a Client's optional fields.
const (
	DefaultUserAgent   = "omtx-hub/1 (+msa)"
	DefaultPollEvery   = 5 * time.Second
	DefaultHTTPTimeout = 60 * time.Second
)

// Limits on what the client reads.
const (
	// MaxResultBytes bounds the alignments read out of a result archive.
	MaxResultBytes = 1 << 30
	// maxDownloadBytes bounds the compressed archive.
	maxDownloadBytes = 512 << 20
	// maxJSONBytes bounds a ticket answer.
	maxJSONBytes = 1 << 20
	// maxPollFailures is how many status polls in a row may fail with a
	// network error, an HTTP 429 or 5xx before Compute gives up.
	maxPollFailures = 5
)

// Job statuses of the ColabFold MMseqs2 API.
const (
	StatusPending     = "PENDING"
	StatusRunning     = "RUNNING"
	StatusComplete    = "COMPLETE"
	StatusError       = "ERROR"
	StatusRateLimit   = "RATELIMIT"
	StatusUnknown     = "UNKNOWN"
	StatusMaintenance = "MAINTENANCE"
)

const (
	opSubmit   = "submit"
	opStatus   = "status"
	opDownload = "download"
)

var defaultHTTP = &http.Client{Timeout: DefaultHTTPTimeout}

// Client computes MSAs on a ColabFold-compatible MMseqs2 server. The zero
// value of every field but BaseURL is usable; a Client is safe for
// concurrent use as long as its fields are not changed.
type Client struct {
	BaseURL string // e.g. https://api.colabfold.com
	// AuthHeader is an optional "Name: value" header sent with every
	// request, e.g. "X-API-Key: secret" or "Authorization: Bearer token".
	AuthHeader string
	UserAgent  string        // default DefaultUserAgent
	HTTP       *http.Client  // default: a client with a 60s timeout
	PollEvery  time.Duration // wait before each status poll; default 5s
	// UseEnv selects mode "env" (UniRef plus the environmental databases
	// BFD/MGnify/MetaEuk/SMAG, what Boltz always uses) instead of "all"
	// (UniRef only). The worker should set it.
	UseEnv bool
	Logger *slog.Logger // default: discard
	// OnPoll, if set, is called after each status poll with the status
	// the server reported (the activity heartbeats there).
	OnPoll func(status string)
	// Guard, if set, rate-limits Compute and stops calling a failing
	// server (client_guard.go). Share one Guard between the Clients of a
	// process.
	Guard *Guard
}

// ticket is the server's answer to a submission or a status poll.
type ticket struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// Mode is the submission mode Compute uses: "env" or "all".
func (c *Client) Mode() string {
	if c.UseEnv {
		return "env"
	}
	return "all"
}

// Compute submits the sequence, polls until the job is done, downloads and
// unpacks the result and returns one A3M: the query record (QueryHeader),
// then the UniRef hits, then, in env mode, the environmental hits (see the
// package documentation for how the files are merged). The sequence is
// upper-cased and stripped of whitespace first; it must be letters only.
//
// Errors are *RateLimitError, *ServerError (both retryable), *InvalidError
// (permanent), or the context's error wrapped when ctx ends first.
func (c *Client) Compute(ctx context.Context, sequence string) ([]byte, error) {
	seq, err := checkSequence(sequence)
	if err != nil {
		return nil, err
	}
	base, err := c.checkServer()
	if err != nil {
		return nil, err
	}
	return guarded(ctx, c.Guard, func() ([]byte, error) { return c.compute(ctx, base, seq) })
}

// guarded runs f under g (rate limit, breaker), reporting its outcome.
func guarded[T any](ctx context.Context, g *Guard, f func() (T, error)) (T, error) {
	done, err := g.before(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	out, err := f()
	done(err)
	return out, err
}

// checkSequence normalizes a query sequence and checks it is letters only.
func checkSequence(sequence string) (string, error) {
	seq := normalize(sequence)
	if seq == "" {
		return "", &InvalidError{Msg: "empty sequence"}
	}
	for i := 0; i < len(seq); i++ {
		if seq[i] < 'A' || seq[i] > 'Z' {
			return "", &InvalidError{Msg: fmt.Sprintf("invalid residue %q at position %d", seq[i], i+1)}
		}
	}
	return seq, nil
}

// checkServer returns the server's base URL once the configuration is
// usable.
func (c *Client) checkServer() (string, error) {
	base := strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	if base == "" {
		return "", &InvalidError{Msg: "no msa server URL configured"}
	}
	if _, _, err := c.authHeader(); err != nil {
		return "", err
	}
	return base, nil
}

// compute is Compute past the checks and the guard.
func (c *Client) compute(ctx context.Context, base, seq string) ([]byte, error) {
	log := c.logger().With("key", Key(seq), "length", len(seq), "mode", c.Mode())
	tgz, id, err := c.run(ctx, log, base, endpointMSA, QueryHeader+"\n"+seq+"\n", c.Mode())
	if err != nil {
		return nil, err
	}
	a3m, err := c.merge(tgz)
	if err != nil {
		return nil, err
	}
	n, err := ValidateA3M(a3m, seq)
	if err != nil {
		return nil, &InvalidError{Msg: "the msa server's alignment is unusable", Err: err}
	}
	log.InfoContext(ctx, "msa job complete", "ticket", id, "sequences", n, "bytes", len(a3m))
	return a3m, nil
}

// Submission endpoints: unpaired and paired MSAs.
const (
	endpointMSA  = "/ticket/msa"
	endpointPair = "/ticket/pair"
)

// run submits a query (FASTA text q) to endpoint in mode, polls until the
// job is done and downloads its result archive. It returns the archive
// and the job's ticket id.
func (c *Client) run(ctx context.Context, log *slog.Logger, base, endpoint, q, mode string) ([]byte, string, error) {
	t, err := c.submit(ctx, base, endpoint, q, mode)
	if err != nil {
		return nil, "", err
	}
	log.InfoContext(ctx, "msa job submitted", "ticket", t.ID, "status", t.Status)

	every := c.PollEvery
	if every <= 0 {
		every = DefaultPollEvery
	}
	failures := 0
	for t.Status == StatusPending || t.Status == StatusRunning || t.Status == StatusUnknown {
		if err := sleep(ctx, every); err != nil {
			return nil, "", fmt.Errorf("msa: waiting for job %s: %w", t.ID, err)
		}
		next, err := c.status(ctx, base, t.ID)
		if err != nil {
			if ctx.Err() != nil {
				return nil, "", fmt.Errorf("msa: polling job %s: %w", t.ID, ctx.Err())
			}
			if transientPollError(err) && failures < maxPollFailures {
				failures++
				log.WarnContext(ctx, "msa status poll failed, polling again", "ticket", t.ID, "failures", failures, "err", err)
				continue
			}
			return nil, "", err
		}
		failures = 0
		t.Status = next.Status
		log.DebugContext(ctx, "msa job status", "ticket", t.ID, "status", t.Status)
		if c.OnPoll != nil {
			c.OnPoll(t.Status)
		}
	}
	switch t.Status {
	case StatusComplete:
	case StatusRateLimit:
		return nil, "", &RateLimitError{Reason: "job " + t.ID}
	case StatusError:
		return nil, "", &ServerError{Op: opStatus, Status: t.Status, Msg: "job " + t.ID + " failed on the server"}
	case StatusMaintenance:
		return nil, "", &ServerError{Op: opStatus, Status: t.Status, Msg: "the server is under maintenance"}
	default:
		return nil, "", &ServerError{Op: opStatus, Status: t.Status, Msg: "unexpected status of job " + t.ID}
	}

	tgz, err := c.get(ctx, opDownload, base+"/result/download/"+url.PathEscape(t.ID), maxDownloadBytes)
	if err != nil {
		return nil, "", err
	}
	return tgz, t.ID, nil
}

// submit posts the query q (FASTA) to endpoint in mode and returns the
// ticket of a job the server took (status PENDING, RUNNING, UNKNOWN or
// COMPLETE).
func (c *Client) submit(ctx context.Context, base, endpoint, q, mode string) (ticket, error) {
	form := url.Values{}
	form.Set("q", q)
	form.Set("mode", mode)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return ticket{}, &InvalidError{Msg: "bad msa server URL", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body, err := c.do(ctx, opSubmit, req, maxJSONBytes)
	if err != nil {
		return ticket{}, err
	}
	t, err := decodeTicket(opSubmit, body)
	if err != nil {
		return ticket{}, err
	}
	switch t.Status {
	case StatusPending, StatusRunning, StatusUnknown, StatusComplete:
		if t.ID == "" {
			return ticket{}, &ServerError{Op: opSubmit, Status: t.Status, Msg: "no job id in the answer"}
		}
		return t, nil
	case StatusRateLimit:
		return ticket{}, &RateLimitError{RetryAfter: retryAfter(resp.Header.Get("Retry-After"), time.Now()), Reason: t.Reason}
	case StatusError:
		return ticket{}, &ServerError{Op: opSubmit, Status: t.Status, Msg: "the server failed to take the job"}
	case StatusMaintenance:
		return ticket{}, &ServerError{Op: opSubmit, Status: t.Status, Msg: "the server is under maintenance"}
	default:
		return ticket{}, &ServerError{Op: opSubmit, Status: t.Status, Msg: "unexpected status"}
	}
}

// status polls a job.
func (c *Client) status(ctx context.Context, base, id string) (ticket, error) {
	body, err := c.get(ctx, opStatus, base+"/ticket/"+url.PathEscape(id), maxJSONBytes)
	if err != nil {
		return ticket{}, err
	}
	return decodeTicket(opStatus, body)
}

// get GETs a URL and returns its body.
func (c *Client) get(ctx context.Context, op, u string, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &InvalidError{Msg: "bad msa server URL", Err: err}
	}
	_, body, err := c.do(ctx, op, req, max)
	return body, err
}

// do sends a request with the client's headers, reads up to max bytes of
// the answer and classifies failures.
func (c *Client) do(ctx context.Context, op string, req *http.Request, max int64) (*http.Response, []byte, error) {
	ua := c.UserAgent
	if ua == "" {
		ua = DefaultUserAgent
	}
	req.Header.Set("User-Agent", ua)
	if name, value, _ := c.authHeader(); name != "" {
		req.Header.Set(name, value)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("msa server %s: %w", op, ctx.Err())
		}
		return nil, nil, &ServerError{Op: op, Msg: "request failed", Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("msa server %s: %w", op, ctx.Err())
		}
		return nil, nil, &ServerError{Op: op, HTTPStatus: resp.StatusCode, Msg: "reading the answer failed", Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, httpError(op, resp, body, time.Now())
	}
	if int64(len(body)) > max {
		return nil, nil, &ServerError{Op: op, Msg: fmt.Sprintf("answer larger than %d bytes", max)}
	}
	return resp, body, nil
}

// merge unpacks a result archive and merges its a3m files.
func (c *Client) merge(tgz []byte) ([]byte, error) {
	want := []string{UnirefFile}
	if c.UseEnv {
		want = append(want, EnvFile)
	}
	files, err := unpackResult(tgz, want, MaxResultBytes)
	if err != nil {
		return nil, &ServerError{Op: opDownload, Msg: "malformed result", Err: err}
	}
	data := make([][]byte, len(want))
	for i, w := range want {
		data[i] = files[w]
	}
	a3m, err := mergeQuery(data)
	if err != nil {
		return nil, &ServerError{Op: opDownload, Msg: "malformed alignment", Err: err}
	}
	if a3m == nil {
		return nil, &InvalidError{Msg: "the msa server's result has no alignment for the query"}
	}
	return a3m, nil
}

// authHeader parses AuthHeader; name is "" when none is configured.
func (c *Client) authHeader() (name, value string, err error) {
	h := strings.TrimSpace(c.AuthHeader)
	if h == "" {
		return "", "", nil
	}
	name, value, ok := strings.Cut(h, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	if !ok || !validHeaderName(name) || !validHeaderValue(value) {
		// Never echo the header: its value is a secret.
		return "", "", &InvalidError{Msg: `msa auth header must be "Name: value"`}
	}
	return name, value, nil
}

// validHeaderName reports whether s is an HTTP header name (an RFC 9110
// token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether s may be sent as a header value: no
// control characters but tab.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func (c *Client) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// decodeTicket parses a ticket answer. Like the reference clients, an
// answer that is not JSON counts as a server error.
func decodeTicket(op string, body []byte) (ticket, error) {
	var t ticket
	if err := json.Unmarshal(body, &t); err != nil {
		return ticket{}, &ServerError{Op: op, Msg: "answer is not JSON: " + snippet(body)}
	}
	if t.Status == "" {
		return ticket{}, &ServerError{Op: op, Msg: "answer has no status: " + snippet(body)}
	}
	return t, nil
}

// jsonReason is the "reason" of a JSON error answer, if any.
func jsonReason(body []byte) string {
	var t ticket
	if json.Unmarshal(body, &t) == nil {
		return t.Reason
	}
	return ""
}

// transientPollError reports whether a failed status poll is worth
// repeating before giving up on the job: network errors, 429 and 5xx.
// A 4xx means the ticket is gone.
func transientPollError(err error) bool {
	var rl *RateLimitError
	if errors.As(err, &rl) {
		return true
	}
	var se *ServerError
	if errors.As(err, &se) {
		return se.Err != nil || se.HTTPStatus >= 500 || se.HTTPStatus == http.StatusRequestTimeout
	}
	return false
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
