package msa

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimitError reports that the MSA server refused a submission for now:
// it answered status RATELIMIT or HTTP 429. It is retryable.
type RateLimitError struct {
	// RetryAfter is the wait the server asked for (Retry-After header),
	// or 0 when it gave none.
	RetryAfter time.Duration
	// Reason is the server's explanation, if any.
	Reason string
}

func (e *RateLimitError) Error() string {
	var b strings.Builder
	b.WriteString("msa server rate limit")
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// ServerError reports a failure on the server's side or on the way to it:
// job status ERROR, MAINTENANCE or UNKNOWN where a ticket was expected, an
// HTTP 5xx, a lost ticket, a network error, or a malformed answer. It is
// retryable: the next attempt submits again.
type ServerError struct {
	Op         string // "submit", "status" or "download"
	Status     string // the job status the server reported, if that is the failure
	HTTPStatus int    // the HTTP status, if that is the failure
	Msg        string
	Err        error // underlying error (a network error), if any
}

func (e *ServerError) Error() string {
	var b strings.Builder
	b.WriteString("msa server")
	if e.Op != "" {
		b.WriteString(" ")
		b.WriteString(e.Op)
	}
	b.WriteString(": ")
	switch {
	case e.Status != "":
		fmt.Fprintf(&b, "status %s", e.Status)
	case e.HTTPStatus != 0:
		fmt.Fprintf(&b, "HTTP %d", e.HTTPStatus)
	}
	if e.Msg != "" {
		if e.Status != "" || e.HTTPStatus != 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *ServerError) Unwrap() error { return e.Err }

// InvalidError reports a permanent failure: the sequence is not one the
// server can align (rejected with an HTTP 4xx, or the result holds no
// usable alignment for it), or the client is misconfigured (no BaseURL, a
// malformed AuthHeader, credentials the server refuses). Retrying the same
// request cannot succeed.
type InvalidError struct {
	HTTPStatus int // the HTTP status, if that is the failure
	Msg        string
	Err        error
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	b.WriteString("msa: ")
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, "HTTP %d: ", e.HTTPStatus)
	}
	b.WriteString(e.Msg)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *InvalidError) Unwrap() error { return e.Err }

// IsRetryable reports whether a Compute error may succeed on a later
// attempt. *RateLimitError and *ServerError are retryable; *InvalidError
// and context.Canceled (the caller gave up) are not; a context deadline
// (the attempt ran out of time) is. Any other non-nil error is treated as
// transient. nil is not retryable.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var inv *InvalidError
	if errors.As(err, &inv) {
		return false
	}
	var rl *RateLimitError
	var se *ServerError
	if errors.As(err, &rl) || errors.As(err, &se) {
		return true
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	return true
}

// httpError classifies a non-2xx answer to op. 429 is a rate limit; 408 and
// 5xx are server errors; 401 and 403 mean the credentials are wrong, a
// permanent configuration problem. Any other 4xx is the server rejecting
// the request: for a submission that is the sequence (permanent), for a
// status poll or a download it is the ticket (the server lost or expired
// the job, so submitting again is the fix: retryable).
func httpError(op string, resp *http.Response, body []byte, now time.Time) error {
	code := resp.StatusCode
	msg := snippet(body)
	switch {
	case code == http.StatusTooManyRequests:
		return &RateLimitError{RetryAfter: retryAfter(resp.Header.Get("Retry-After"), now), Reason: jsonReason(body)}
	case code == http.StatusRequestTimeout || code >= 500:
		return &ServerError{Op: op, HTTPStatus: code, Msg: msg}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return &InvalidError{HTTPStatus: code, Msg: "the msa server refused the credentials (check the auth header): " + msg}
	case op == opSubmit:
		return &InvalidError{HTTPStatus: code, Msg: "the msa server rejected the sequence: " + msg}
	default:
		return &ServerError{Op: op, HTTPStatus: code, Msg: msg}
	}
}

// retryAfter parses a Retry-After value: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d.Round(time.Second)
		}
	}
	return 0
}

// snippet is the start of a response body, for error messages.
func snippet(body []byte) string {
	const max = 200
	s := strings.TrimSpace(string(body))
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strings.ToValidUTF8(s, "?")
}
