package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPutIfAbsent checks the GCS precondition the batch library relies on
// against fake-gcs-server.
func TestPutIfAbsent(t *testing.T) {
	name := fmt.Sprintf("tests/put-if-absent-%d.txt", time.Now().UnixNano())
	created, err := env.deps.Blobs.PutIfAbsent(ctxT(t), name, "text/plain", []byte("first"))
	require.NoError(t, err)
	assert.True(t, created)
	created, err = env.deps.Blobs.PutIfAbsent(ctxT(t), name, "text/plain", []byte("second"))
	require.NoError(t, err)
	assert.False(t, created)
	got, err := env.deps.Blobs.Read(ctxT(t), name)
	require.NoError(t, err)
	assert.Equal(t, "first", string(got))
}
