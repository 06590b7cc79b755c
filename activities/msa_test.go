package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	mu     sync.Mutex
	asked  []string
	paired [][]string
}

func (e *echoServer) Compute(_ context.Context, seq string) ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.asked = append(e.asked, seq)
	return []byte(">101\n" + seq + "\n"), nil
}

// ComputePaired pairs each sequence with itself, one row, and counts the
// call.
func (e *echoServer) ComputePaired(_ context.Context, seqs []string) ([][]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.paired = append(e.paired, seqs)
	out := make([][]byte, len(seqs))
	for i, s := range seqs {
		out[i] = []byte(fmt.Sprintf(">%d\n%s\n>pair_1\n%s\n", 101+i, s, s))
	}
	return out, nil
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
	pair := []string{kinase, partner}
	want := omtx.MSARef{Mode: omtx.MSAServer, Object: m.Spec.PairedCacheObject(pair, 0),
		Chains: map[string]string{"B": m.Spec.PairedCacheObject(pair, 0), "D": m.Spec.PairedCacheObject(pair, 1)}}
	for run := range 2 {
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(m.EnsureMSA)
		val, err := env.ExecuteActivity(m.EnsureMSA, contract.EnsureMSAInput{Protein: "IGNORED", TargetID: "tgt_m"})
		require.NoError(t, err)
		var got omtx.MSARef
		require.NoError(t, val.Get(&got))
		assert.Equal(t, want, got, "run %d", run)
		assert.Equal(t, pair, server.asked, "run %d: each server chain once, then from the cache", run)
		assert.Equal(t, [][]string{pair}, server.paired, "run %d: one paired submission of the heteromer, then from the cache", run)
	}
	for i, seq := range pair {
		b, err := blobs.Read(context.Background(), m.Spec.CacheObject(seq))
		require.NoError(t, err)
		assert.Equal(t, ">101\n"+seq+"\n", string(b))
		// Boltz's CSV: the paired rows keyed by row, the unpaired query
		// dropped (main.py L510-511).
		b, err = blobs.Read(context.Background(), m.Spec.PairedCacheObject(pair, i))
		require.NoError(t, err)
		assert.Equal(t, "key,sequence\n0,"+seq+"\n1,"+seq, string(b))
	}

	t.Run("a homomer is not paired", func(t *testing.T) {
		t.Parallel()
		homo := *tg
		homo.Chains = []target.Chain{tg.Chains[1], {Type: target.Protein, IDs: target.ChainIDs{"H"}, Sequence: kinase}}
		raw, err := json.Marshal(&homo)
		require.NoError(t, err)
		require.NoError(t, blobs.Put(context.Background(), omtx.TargetObject("tgt_h"), "application/json", raw))
		got, err := m.ensureTarget(context.Background(), "tgt_h")
		require.NoError(t, err)
		obj := m.Spec.CacheObject(kinase)
		assert.Equal(t, omtx.MSARef{Mode: omtx.MSAServer, Object: obj, Chains: map[string]string{"B": obj, "H": obj}}, got)
	})

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

func (c *countingServer) ComputePaired(context.Context, []string) ([][]byte, error) {
	return nil, errors.New("countingServer: not paired")
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

// blockingServer holds every Compute until release is closed, telling
// started when the first call arrives.
type blockingServer struct {
	countingServer
	started chan struct{}
	once    sync.Once
	release chan struct{}
}

func (b *blockingServer) Compute(ctx context.Context, seq string) ([]byte, error) {
	b.once.Do(func() { close(b.started) })
	<-b.release
	return b.countingServer.Compute(ctx, seq)
}

// TestEnsureMSAWaitsForARunInFlight: a run that asks for an MSA while
// another is computing it (a job submitted while its target's
// TargetMSAWorkflow runs) waits for that one's result rather than asking
// the server a second time; and a run whose holder failed takes over.
func TestEnsureMSAWaitsForARunInFlight(t *testing.T) {
	t.Parallel()
	const protein = "MKTAYIAKQRQISFVKSHFSRQ"
	blobs := storetest.NewBlobs()
	server := &blockingServer{started: make(chan struct{}), release: make(chan struct{})}
	m := &MSA{Server: server, Blobs: blobs, WaitEvery: time.Millisecond}
	run := func() (omtx.MSARef, error) {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(m.EnsureMSA)
		val, err := env.ExecuteActivity(m.EnsureMSA, contract.EnsureMSAInput{Protein: protein})
		if err != nil {
			return omtx.MSARef{}, err
		}
		var ref omtx.MSARef
		return ref, val.Get(&ref)
	}
	type result struct {
		ref omtx.MSARef
		err error
	}
	first, second := make(chan result, 1), make(chan result, 1)
	go func() { ref, err := run(); first <- result{ref, err} }()
	<-server.started
	go func() { ref, err := run(); second <- result{ref, err} }()
	// The second run finds the marker and waits: it neither returns nor
	// calls the server while the first holds it.
	select {
	case r := <-second:
		t.Fatalf("the second run returned while the first was computing: %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
	close(server.release)
	a, b := <-first, <-second
	require.NoError(t, a.err)
	require.NoError(t, b.err)
	assert.Equal(t, a.ref, b.ref)
	assert.Equal(t, int32(1), server.calls.Load(), "one server request for two runs")

	t.Run("a failed holder's marker is taken over", func(t *testing.T) {
		t.Parallel()
		const other = "GSHMLEDPVDAFQ"
		obj := m.Spec.CacheObject(other)
		require.NoError(t, m.writeMarker(context.Background(), obj+".inflight", time.Time{}))
		srv := &countingServer{}
		m2 := &MSA{Server: srv, Blobs: blobs, WaitEvery: time.Millisecond}
		got, err := m2.ensureCached(context.Background(), other)
		require.NoError(t, err)
		assert.Equal(t, obj, got)
		assert.Equal(t, int32(1), srv.calls.Load())
	})
}
