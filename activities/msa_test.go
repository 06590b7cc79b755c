package activities

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store/storetest"
	"github.com/omtx-hub/omtx-hub/target"
)

// echoServer aligns each sequence to itself and counts the calls.
type echoServer struct {
	mu    sync.Mutex
	asked []string
}

func (e *echoServer) Compute(_ context.Context, seq string) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.asked = append(e.asked, seq)
	return []byte(">101\n" + seq + "\n"), nil
}

// TestEnsureMSAForATarget: each server chain of a target gets its MSA,
// computed once per sequence and cached, while uploaded and empty chains
// ask the server nothing; a second job on the same target asks nothing.
func TestEnsureMSAForATarget(t *testing.T) {
	t.Parallel()
	const kinase, partner = "MKTAYIAKQRQISFVKSHFSRQ", "GSHMLEDPVDAFQ"
	tg := &target.Target{
		Chains: []target.Chain{
			{Type: target.Protein, IDs: target.ChainIDs{"A"}, Sequence: "MMMMK", MSA: &target.MSA{Mode: target.MSAFile, File: "a.a3m"}},
			{Type: target.Protein, IDs: target.ChainIDs{"B", "C"}, Sequence: kinase},
			{Type: target.Protein, IDs: target.ChainIDs{"D"}, Sequence: partner, MSA: &target.MSA{Mode: target.MSAServer}},
			{Type: target.Protein, IDs: target.ChainIDs{"E"}, Sequence: "MMMMR", MSA: &target.MSA{Mode: target.MSAEmpty}},
			{Type: target.DNA, IDs: target.ChainIDs{"F"}, Sequence: "ACGT"},
		},
		LigandChain: "G",
	}
	raw, err := json.Marshal(tg)
	require.NoError(t, err)
	blobs := storetest.NewBlobs()
	require.NoError(t, blobs.Put(context.Background(), omtx.TargetObject("tgt_m"), "application/json", raw))
	server := &echoServer{}
	m := &MSA{Server: server, Blobs: blobs}

	var s testsuite.WorkflowTestSuite
	want := omtx.MSARef{Mode: omtx.MSAServer, Object: m.Spec.CacheObject(kinase),
		Chains: map[string]string{"B": m.Spec.CacheObject(kinase), "D": m.Spec.CacheObject(partner)}}
	for run := range 2 {
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(m.EnsureMSA)
		val, err := env.ExecuteActivity(m.EnsureMSA, contract.EnsureMSAInput{Protein: "IGNORED", TargetID: "tgt_m"})
		require.NoError(t, err)
		var got omtx.MSARef
		require.NoError(t, val.Get(&got))
		assert.Equal(t, want, got, "run %d", run)
		assert.Equal(t, []string{kinase, partner}, server.asked, "run %d: each server chain once, then from the cache", run)
	}
	for _, seq := range []string{kinase, partner} {
		b, err := blobs.Read(context.Background(), m.Spec.CacheObject(seq))
		require.NoError(t, err)
		assert.Equal(t, ">101\n"+seq+"\n", string(b))
	}

	t.Run("no server chain", func(t *testing.T) {
		t.Parallel()
		only := *tg
		only.Chains = tg.Chains[:1]
		raw, err := json.Marshal(&only)
		require.NoError(t, err)
		require.NoError(t, blobs.Put(context.Background(), omtx.TargetObject("tgt_u"), "application/json", raw))
		got, err := m.ensureTarget(context.Background(), "tgt_u")
		require.NoError(t, err)
		assert.Equal(t, omtx.MSARef{Mode: omtx.MSAUploaded}, got)
	})
}

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
