package webhook

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSignatureVector: the Python client's tests verify this same vector
// (clients/python/tests/data/webhook_vector.json), so the two
// implementations of the signature agree, and a change to Sign fails here.
func TestSignatureVector(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../clients/python/tests/data/webhook_vector.json")
	require.NoError(t, err)
	var v struct {
		Secret string `json:"secret"`
		Body   string `json:"body"`
		Unix   int64  `json:"unix"`
		Header string `json:"header"`
	}
	require.NoError(t, json.Unmarshal(data, &v))
	assert.Equal(t, v.Header, Sign([]byte(v.Secret), time.Unix(v.Unix, 0), []byte(v.Body)))
	assert.NoError(t, Verify([]byte(v.Secret), v.Header, []byte(v.Body), time.Unix(v.Unix, 0)))
}
