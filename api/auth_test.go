package api

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTwoAuthorizationHeadersAreRefused: a proxy may check the last of two
// Authorization headers while this server would read the first, so a
// request with two is refused whatever they hold, even two valid keys.
func TestTwoAuthorizationHeadersAreRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for name, second := range map[string]string{
		"another user's key": "Bearer " + key2,
		"the same key":       "Bearer " + key1,
		"garbage":            "Basic Zm9vOmJhcg==",
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/api/v1/jobs", nil)
			req.Header.Add("Authorization", "Bearer "+key1)
			req.Header.Add("Authorization", second)
			w := httptest.NewRecorder()
			f.srv.Handler().ServeHTTP(w, req)
			assert.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
			assert.Contains(t, w.Body.String(), `"field":"Authorization"`)
		})
	}
	w := f.do("GET", "/api/v1/jobs", key1, "")
	assert.Equal(t, http.StatusOK, w.Code, "one header still works: %s", w.Body.String())
}
