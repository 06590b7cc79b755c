package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error codes of the API's error body.
const (
	CodeInvalid          = "invalid"            // 422
	CodeUnknownModel     = "unknown_model"      // 422
	CodeMalformed        = "malformed"          // 400
	CodeUnauthorized     = "unauthorized"       // 401
	CodeNotFound         = "not_found"          // 404
	CodeMethodNotAllowed = "method_not_allowed" // 405
	CodeConflict         = "conflict"           // 409
	CodeTooLarge         = "too_large"          // 413
	CodeUnsupported      = "unsupported"        // 415
	CodeRateLimited      = "rate_limited"       // 429
	CodeInternal         = "internal"           // 500
	CodeUnavailable      = "unavailable"        // 503
)

// Error is an error answer of the API.
type Error struct {
	// Status is the HTTP status.
	Status  int
	Code    string
	Message string
	// Field names the request field at fault, if any.
	Field string
	// Rows lists every bad row of a refused ligand library.
	Rows      []RowProblem
	RequestID string
	// RetryAfter is what a Retry-After header asked for, or 0.
	RetryAfter time.Duration
}

// RowProblem is one bad row of a ligand library.
type RowProblem struct {
	Row     int    `json:"row"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// UnmarshalJSON also reads the older "reason" key for the message.
func (p *RowProblem) UnmarshalJSON(data []byte) error {
	var raw struct {
		Row     int    `json:"row"`
		Field   string `json:"field"`
		Message string `json:"message"`
		Reason  string `json:"reason"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	p.Row, p.Field, p.Message = raw.Row, raw.Field, raw.Message
	if p.Message == "" {
		p.Message = raw.Reason
	}
	return nil
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%d)", e.Code, e.Status)
	if e.Field != "" {
		fmt.Fprintf(&b, " %s", e.Field)
	}
	fmt.Fprintf(&b, ": %s", e.Message)
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return b.String()
}

// Retryable reports whether the same request may succeed later: a 429 or
// a 503.
func (e *Error) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable
}

// UnreachableError is a call that did not reach the API.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the OMTX-Hub API at %s: %v", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// ErrorCode returns the API error code of err, or "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsNotFound reports whether err is the API's 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// codeOfStatus names the code of a status whose body carried none.
func codeOfStatus(status int) string {
	switch status {
	case 400:
		return CodeMalformed
	case 401:
		return CodeUnauthorized
	case 404:
		return CodeNotFound
	case 405:
		return CodeMethodNotAllowed
	case 409:
		return CodeConflict
	case 413:
		return CodeTooLarge
	case 415:
		return CodeUnsupported
	case 422:
		return CodeInvalid
	case 429:
		return CodeRateLimited
	case 503:
		return CodeUnavailable
	}
	return CodeInternal
}

// readError turns an error response into an *Error. The body is read up
// to 1 MiB (a library's row list can be long).
func readError(resp *http.Response) error {
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var body struct {
		Error *struct {
			Code      string       `json:"code"`
			Message   string       `json:"message"`
			Field     string       `json:"field"`
			Rows      []RowProblem `json:"rows"`
			RequestID string       `json:"request_id"`
		} `json:"error"`
	}
	e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get(RequestIDHeader)}
	if json.Unmarshal(data, &body) == nil && body.Error != nil {
		e.Code, e.Message, e.Field, e.Rows = body.Error.Code, body.Error.Message, body.Error.Field, body.Error.Rows
		if body.Error.RequestID != "" {
			e.RequestID = body.Error.RequestID
		}
	}
	if e.Code == "" {
		e.Code = codeOfStatus(resp.StatusCode)
	}
	if e.Message == "" {
		e.Message = strings.TrimSpace(string(data))
		if e.Message == "" || len(e.Message) > 300 {
			e.Message = http.StatusText(resp.StatusCode)
		}
	}
	e.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	return e
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
