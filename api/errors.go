package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Error codes of the API's own, beside the domain's.
const (
	// eMalformed is a request body that is not the JSON it should be.
	eMalformed = "malformed"
	// eRateLimited is a request over its key's rate or quota.
	eRateLimited = "rate_limited"
	// eForbidden is a request its key may not make (a priority it lacks).
	eForbidden = "forbidden"
	// eMethodNotAllowed is a method the route does not take.
	eMethodNotAllowed = "method_not_allowed"
)

// errorStatus maps an error code to its HTTP status. It is the only place
// that does.
func errorStatus(code string) int {
	switch code {
	case omtx.EInvalid, omtx.EModel:
		return http.StatusUnprocessableEntity
	case omtx.ENotFound:
		return http.StatusNotFound
	case omtx.EUnauthorized:
		return http.StatusUnauthorized
	case omtx.EConflict:
		return http.StatusConflict
	case omtx.ETooLarge:
		return http.StatusRequestEntityTooLarge
	case omtx.EUnsupported:
		return http.StatusUnsupportedMediaType
	case omtx.EUnavailable:
		return http.StatusServiceUnavailable
	case eMalformed:
		return http.StatusBadRequest
	case eRateLimited:
		return http.StatusTooManyRequests
	case eForbidden:
		return http.StatusForbidden
	case eMethodNotAllowed:
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// ErrorBody is every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong, in terms of the request.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Rows lists per-row problems of an uploaded library.
	Rows any `json:"rows,omitempty"`
	// RequestID names the request in the API's logs.
	RequestID string `json:"request_id"`
}

// writeError writes err as the JSON error body. Anything but a domain
// error is logged with the request id and answered as an internal error,
// without its text: clients never see a dependency's address or message.
func (s *Server) writeError(c *gin.Context, err error) {
	var de *omtx.Error
	if !errors.As(err, &de) {
		s.log.ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method, "route", c.FullPath(),
			"error", err, "request_id", requestIDOf(c))
		de = &omtx.Error{Code: omtx.EInternal, Message: "internal error; quote the request_id when you report it"}
	}
	status := errorStatus(de.Code)
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", strconv.Itoa(RetryAfterSeconds))
	}
	c.AbortWithStatusJSON(status, ErrorBody{Error: ErrorDetail{
		Code: de.Code, Message: de.Message, Field: de.Field, RequestID: requestIDOf(c),
	}})
}

// unavailable hides a dependency failure behind a 503 naming the
// dependency's role, and logs the detail with the request id.
func (s *Server) unavailable(c *gin.Context, dep string, err error) error {
	switch omtx.ErrorCode(err) {
	case omtx.ENotFound, omtx.EConflict:
		return err
	}
	s.log.ErrorContext(c.Request.Context(), "dependency failed", "dependency", dep, "error", err, "request_id", requestIDOf(c))
	return &omtx.Error{Code: omtx.EUnavailable, Message: dep + " is unavailable; try again shortly"}
}
