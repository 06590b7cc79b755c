package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// decodeJSON reads a JSON body strictly: the right content type, at most
// limit bytes, one object, no unknown fields. Errors name the field.
func decodeJSON(c *gin.Context, limit int64, dst any) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return omtx.Errorf(omtx.EUnsupported, "Content-Type", "must be application/json, got %q", ct)
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return omtx.Errorf(omtx.ETooLarge, "", "request body is over %d bytes", limit)
	}
	if err != nil {
		return omtx.Errorf(eMalformed, "", "read body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return omtx.Errorf(eMalformed, "", "request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return omtx.Errorf(eMalformed, "", "request body holds more than one JSON value")
	}
	return nil
}

// jsonError turns a decoding error into a domain error naming the field.
func jsonError(err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return omtx.Errorf(eMalformed, "", "malformed JSON at byte %d: %v", se.Offset, err)
	case errors.As(err, &te):
		field := te.Field
		return omtx.Errorf(omtx.EInvalid, field, "must be %s, got JSON %s", jsonKind(te.Type.Kind().String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return omtx.Errorf(eMalformed, "", "malformed JSON: unexpected end of body")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return omtx.Errorf(omtx.EInvalid, field, "unknown field")
	}
	return omtx.Errorf(eMalformed, "", "malformed JSON: %v", err)
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	case "int", "int64", "int32", "float64", "float32":
		return "a number"
	}
	return fmt.Sprintf("a %s", k)
}
