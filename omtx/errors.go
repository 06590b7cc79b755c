package omtx

import (
	"errors"
	"fmt"
)

// Error codes, defined once. api/ maps each to an HTTP status in one place.
const (
	EInvalid      = "invalid"       // bad input: 400/422
	ENotFound     = "not_found"     // 404
	EUnauthorized = "unauthorized"  // 401
	EConflict     = "conflict"      // 409
	ETooLarge     = "too_large"     // 413
	EUnavailable  = "unavailable"   // 503: a dependency is down
	EInternal     = "internal"      // 500
	EUnsupported  = "unsupported"   // 415
	EModel        = "unknown_model" // 422
)

// Error is a domain error with a code, a human message and, for input
// errors, the offending field.
type Error struct {
	Code    string
	Field   string
	Message string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Errorf builds a domain error.
func Errorf(code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's domain error, or EInternal.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}
