package integration

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
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

// TestCreateIfAbsentStreams checks a streamed upload of several chunks
// (a 100,000-ligand library is about ten) with the same precondition: the
// first publishes, a second fails with EConflict and leaves the first,
// and an aborted one publishes nothing.
func TestCreateIfAbsentStreams(t *testing.T) {
	name := fmt.Sprintf("tests/create-if-absent-%d.json", time.Now().UnixNano())
	big := bytes.Repeat([]byte("0123456789abcdef"), (3<<20)/16+5) // over three chunks
	w := env.deps.Blobs.CreateIfAbsent(ctxT(t), name, "application/json")
	for p := big; len(p) > 0; p = p[min(len(p), 100_000):] {
		_, err := w.Write(p[:min(len(p), 100_000)])
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	got, err := env.deps.Blobs.Read(ctxT(t), name)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(big, got), "read back %d bytes, wrote %d", len(got), len(big))

	w = env.deps.Blobs.CreateIfAbsent(ctxT(t), name, "application/json")
	_, err = w.Write(big[:2<<20])
	require.NoError(t, err)
	assert.Equal(t, omtx.EConflict, omtx.ErrorCode(w.Close()))
	got, err = env.deps.Blobs.Read(ctxT(t), name)
	require.NoError(t, err)
	assert.Equal(t, len(big), len(got), "the second upload replaced the first")

	aborted := name + ".aborted"
	w = env.deps.Blobs.CreateIfAbsent(ctxT(t), aborted, "application/json")
	_, err = w.Write(big)
	require.NoError(t, err)
	w.(interface{ Abort() }).Abort()
	exists, err := env.deps.Blobs.Exists(ctxT(t), aborted)
	require.NoError(t, err)
	assert.False(t, exists, "an aborted upload published its object")
}
