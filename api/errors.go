package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// errorStatus maps a domain error code to its HTTP status. It is the only
// place that does.
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
	}
	return http.StatusInternalServerError
}

// eMalformed is a request body that is not the JSON it should be.
const eMalformed = "malformed"

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// Rows lists per-row problems of an uploaded library.
	Rows any `json:"rows,omitempty"`
}

// writeError writes err as the JSON error body. Internal errors are logged
// and their details withheld.
func (s *Server) writeError(c *gin.Context, err error) {
	var de *omtx.Error
	if !errors.As(err, &de) {
		s.log.ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method, "path", c.FullPath(), "error", err)
		de = &omtx.Error{Code: omtx.EInternal, Message: "internal error"}
	}
	c.AbortWithStatusJSON(errorStatus(de.Code), errorBody{Error: errorDetail{Code: de.Code, Message: de.Message, Field: de.Field}})
}
