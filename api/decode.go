package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/library"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// decodeJSON reads a JSON body strictly: the right content type, at most
// limit bytes, one object, no unknown fields. Errors name the field, and
// the entry of an array.
//
// The body is decoded as it streams in, one top-level field at a time, and
// an array of objects (a batch's ligands) one element at a time: neither
// the body nor an array's JSON is ever held whole beside what it decodes
// to, and an array is refused at its (library.MaxLigands+1)th element,
// without reading the rest.
func decodeJSON(c *gin.Context, limit int64, dst any) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return omtx.Errorf(omtx.EUnsupported, "Content-Type", "must be application/json, got %q", ct)
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	dec.DisallowUnknownFields()
	err := decodeObject(dec, dst)
	if err == nil && dec.More() {
		err = omtx.Errorf(eMalformed, "", "request body holds more than one JSON value")
	}
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &mbe):
		return omtx.Errorf(omtx.ETooLarge, "", "request body is over %d bytes", limit)
	case errors.Is(err, io.EOF):
		return omtx.Errorf(eMalformed, "", "request body is empty; send a JSON object")
	}
	return jsonError(err)
}

// decodeObject decodes one JSON object into the struct dst points to,
// field by field, matching keys to json tags exactly.
func decodeObject(dec *json.Decoder, dst any) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		// Malformed JSON stays a 400 whatever it starts with; well-formed
		// JSON of another kind is a 422.
		if err := skipValue(dec, tok); err != nil {
			return err
		}
		return omtx.Errorf(omtx.EInvalid, "", "request body must be a JSON object, got JSON %s", jsonValue(tok))
	}
	v := reflect.ValueOf(dst).Elem()
	fields := structJSONFields(v.Type())
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key := tok.(string) // an object's keys are strings
		i, ok := fields[key]
		if !ok {
			return omtx.Errorf(omtx.EInvalid, key, "unknown field")
		}
		f := v.Field(i)
		if f.Type() == reflect.TypeFor[*target.Target]() {
			var raw json.RawMessage
			if err = dec.Decode(&raw); err == nil {
				err = decodeTarget(raw, f.Addr().Interface())
			}
			if err != nil {
				err = &inField{field: key, err: err}
			}
		} else if f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct {
			err = decodeArray(dec, key, f)
		} else if err = dec.Decode(f.Addr().Interface()); err != nil {
			err = &inField{field: key, err: err}
		}
		if err != nil {
			return err
		}
	}
	_, err = dec.Token() // the closing brace
	return err
}

// decodeArray decodes a JSON array (or null) into the slice f, element by
// element.
func decodeArray(dec *json.Decoder, key string, f reflect.Value) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if tok != json.Delim('[') {
		return omtx.Errorf(omtx.EInvalid, key, "must be an array, got JSON %s", jsonValue(tok))
	}
	f.Set(reflect.MakeSlice(f.Type(), 0, 0))
	for n := 0; dec.More(); n++ {
		if n == library.MaxLigands {
			return library.TooMany()
		}
		e := reflect.New(f.Type().Elem())
		if err := dec.Decode(e.Interface()); err != nil {
			return &inField{field: fmt.Sprintf("%s[%d]", key, n), err: err}
		}
		f.Set(reflect.Append(f, e.Elem()))
	}
	_, err = dec.Token() // the closing bracket
	return err
}

// skipValue reads the rest of the value that tok starts.
func skipValue(dec *json.Decoder, tok json.Token) error {
	depth := 0
	for {
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
		if depth == 0 {
			return nil
		}
		var err error
		if tok, err = dec.Token(); err != nil {
			return err
		}
	}
}

// structJSONFields maps a struct's json tags to its field indexes.
func structJSONFields(t reflect.Type) map[string]int {
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			m[name] = i
		}
	}
	return m
}

// jsonValue names the kind of a JSON token.
func jsonValue(tok json.Token) string {
	switch tok {
	case json.Delim('['):
		return "array"
	case json.Delim('{'):
		return "object"
	}
	switch tok.(type) {
	case string:
		return "string"
	case float64, json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return "value"
}

// inField is a decoding error inside the value of field.
type inField struct {
	field string
	err   error
}

func (e *inField) Error() string { return e.field + ": " + e.err.Error() }
func (e *inField) Unwrap() error { return e.err }

// jsonError turns a decoding error into a domain error naming the field.
func jsonError(err error) error {
	var de *omtx.Error
	if errors.As(err, &de) {
		return err
	}
	prefix, inner := "", err
	var fe *inField
	if errors.As(err, &fe) {
		prefix, inner = fe.field, fe.err
	}
	path := func(field string) string {
		switch {
		case prefix == "":
			return field
		case field == "":
			return prefix
		}
		return prefix + "." + field
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return omtx.Errorf(eMalformed, "", "malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		return omtx.Errorf(omtx.EInvalid, path(te.Field), "must be %s, got JSON %s", jsonKind(te.Type.Kind().String()), te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return omtx.Errorf(eMalformed, "", "malformed JSON: unexpected end of body")
	case strings.HasPrefix(inner.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(inner.Error(), "json: unknown field "), `"`)
		return omtx.Errorf(omtx.EInvalid, path(field), "unknown field")
	}
	return omtx.Errorf(eMalformed, "", "malformed JSON: %v", inner)
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
