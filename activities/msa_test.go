package activities

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store/storetest"
)

// countingServer returns a one-sequence alignment of the query and counts
// the calls.
type countingServer struct{ calls atomic.Int32 }

func (c *countingServer) Compute(_ context.Context, seq string) ([]byte, error) {
	c.calls.Add(1)
	return []byte(">101\n" + seq + "\n"), nil
}

// TestEnsureMSACacheKeyedBySpec: the same sequence computed the same way
// is served from the cache; a new database version (as the operator sets
// it) computes afresh into its own object.
func TestEnsureMSACacheKeyedBySpec(t *testing.T) {
	t.Parallel()
	const protein = "MKTAYIAKQRQISFVKSHFSRQ"
	blobs, server := storetest.NewBlobs(), &countingServer{}
	ensure := func(t *testing.T, spec msa.KeySpec) omtx.MSARef {
		t.Helper()
		m := &MSA{Server: server, Spec: spec, Blobs: blobs}
		var s testsuite.WorkflowTestSuite
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(m.EnsureMSA)
		val, err := env.ExecuteActivity(m.EnsureMSA, contract.EnsureMSAInput{Protein: protein})
		require.NoError(t, err)
		var ref omtx.MSARef
		require.NoError(t, val.Get(&ref))
		return ref
	}
	v1 := msa.KeySpec{ServerURL: "http://msa:8080", UseEnv: true, DBVersion: "2302"}
	first := ensure(t, v1)
	assert.Equal(t, v1.CacheObject(protein), first.Object)
	assert.Equal(t, omtx.MSAServer, first.Mode)
	assert.Equal(t, first, ensure(t, v1))
	assert.Equal(t, int32(1), server.calls.Load(), "cached")

	v2 := v1
	v2.DBVersion = "2403"
	second := ensure(t, v2)
	assert.NotEqual(t, first.Object, second.Object)
	assert.Equal(t, int32(2), server.calls.Load(), "a new database version is not served the old alignment")
}
