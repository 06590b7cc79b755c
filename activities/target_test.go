package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// seen records, per model call, the complex the predictor got, with the
// contents of its files read while the call ran (the scratch folder goes
// afterwards).
type seen struct {
	mu    sync.Mutex
	calls []seenCall
	name  string // the model's name; "" is the baseline's
}

type seenCall struct {
	target    target.Target
	msa       map[string]string // chain → file contents
	templates map[string]string // name → file contents
	msaPath   string
	digests   map[string]string
	exts      map[string]string // chain → its MSA file's suffix
}

func (s *seen) Info() omtx.ModelInfo {
	name := omtx.BaselineModel
	if s.name != "" {
		name = s.name
	}
	return omtx.ModelInfo{Name: name, Version: "test", Kind: "onnx", NoStructureReason: "test model"}
}

func (s *seen) Predict(_ context.Context, req omtx.PredictRequest) ([]omtx.Prediction, error) {
	c := seenCall{msa: map[string]string{}, templates: map[string]string{}, msaPath: req.MSAPath, digests: req.Target.MSADigests, exts: map[string]string{}}
	if err := json.Unmarshal(req.Target.JSON, &c.target); err != nil {
		return nil, err
	}
	for k, p := range req.Target.MSA {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		c.msa[k], c.exts[k] = string(b), filepath.Ext(p)
	}
	for k, p := range req.Target.Templates {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		c.templates[k] = string(b)
	}
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	out := make([]omtx.Prediction, len(req.Ligands))
	for i, l := range req.Ligands {
		out[i] = omtx.Prediction{LigandName: l.Name, LigandSMILES: l.SMILES, ModelSeconds: 0.01}
	}
	return out, nil
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// countingBlobs counts reads by object name.
type countingBlobs struct {
	BlobStore
	mu    sync.Mutex
	reads map[string]int
}

func (c *countingBlobs) Read(ctx context.Context, name string) ([]byte, error) {
	c.mu.Lock()
	c.reads[name]++
	c.mu.Unlock()
	return c.BlobStore.Read(ctx, name)
}

// TestChunkRunsTheTargetsComplex: a chunk of a screen on a target gives
// the model the target with every file on the worker's disk: the uploaded
// A3M, the server's cached A3M for a server chain, and the template; the
// target itself is read once per process however many groups run.
func TestChunkRunsTheTargetsComplex(t *testing.T) {
	t.Parallel()
	model := &seen{}
	acts, _, blobs, in := chunkFixture(t, "batch_t", 4, model, 2)
	counting := &countingBlobs{BlobStore: blobs, reads: map[string]int{}}
	acts.Blobs = counting

	tg := &target.Target{
		Chains: []target.Chain{
			{Type: target.Protein, IDs: target.ChainIDs{"A"}, Sequence: "MKTAYIAKQRQ",
				MSA: &target.MSA{Mode: target.MSAFile, File: "a.a3m"}},
			{Type: target.Protein, IDs: target.ChainIDs{"B", "C"}, Sequence: "GSHMLEDP",
				MSA: &target.MSA{Mode: target.MSAServer}},
			{Type: target.Protein, IDs: target.ChainIDs{"D"}, Sequence: "MMMM",
				MSA: &target.MSA{Mode: target.MSAEmpty}},
		},
		Ligands:     []target.FixedLigand{{IDs: target.ChainIDs{"E"}, CCD: "MG"}},
		Templates:   []target.Template{{CIF: "t.cif"}},
		LigandChain: "F",
	}
	raw, err := json.Marshal(tg)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, blobs.Put(ctx, omtx.TargetObject("tgt_1"), "application/json", raw))
	require.NoError(t, blobs.Put(ctx, omtx.TargetPrefix("tgt_1")+"files/a.a3m", "text/plain", []byte(">a\nMKTAYIAKQRQ\n")))
	require.NoError(t, blobs.Put(ctx, omtx.TargetPrefix("tgt_1")+"files/t.cif", "chemical/x-mmcif", []byte("data_t\n")))
	require.NoError(t, blobs.Put(ctx, "msa/b.a3m", "text/plain", []byte(">b\nGSHMLEDP\n")))
	in.TargetID = "tgt_1"
	in.MSA = omtx.MSARef{Mode: omtx.MSAServer, Object: "msa/b.a3m", Chains: map[string]string{"B": "msa/b.a3m"}}

	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts.PredictChunk)
	_, err = env.ExecuteActivity(acts.PredictChunk, in)
	require.NoError(t, err)

	require.Len(t, model.calls, 2, "two groups of two")
	for _, c := range model.calls {
		assert.Equal(t, *tg, c.target)
		assert.Equal(t, map[string]string{"A": ">a\nMKTAYIAKQRQ\n", "B": ">b\nGSHMLEDP\n"}, c.msa)
		assert.Equal(t, map[string]string{"t.cif": "data_t\n"}, c.templates)
		assert.Empty(t, c.msaPath)
		assert.Equal(t, map[string]string{"A": sha256Hex(">a\nMKTAYIAKQRQ\n"), "B": sha256Hex(">b\nGSHMLEDP\n")}, c.digests)
	}
	assert.Equal(t, 1, counting.reads[omtx.TargetObject("tgt_1")], "target.json read once per process")
	model2 := &seen{name: omtx.ModelBoltz2}

	t.Run("a heteromer's paired CSV reaches the model as a .csv file", func(t *testing.T) {
		acts2, jobs2, blobs2, in2 := chunkFixture(t, "batch_p", 1, model2, 2)
		for _, name := range []string{omtx.TargetObject("tgt_1"), omtx.TargetPrefix("tgt_1") + "files/a.a3m", omtx.TargetPrefix("tgt_1") + "files/t.cif"} {
			b, err := blobs.Read(ctx, name)
			require.NoError(t, err)
			require.NoError(t, blobs2.Put(ctx, name, "", b))
		}
		const csv = "key,sequence\n0,GSHMLEDP"
		require.NoError(t, blobs2.Put(ctx, "msa/v2/p.csv", "text/csv", []byte(csv)))
		in2.TargetID, in2.Model = "tgt_1", omtx.ModelBoltz2
		acts2.Models = map[string]Predictor{omtx.ModelBoltz2: model2}
		in2.MSA = omtx.MSARef{Mode: omtx.MSAServer, Object: "msa/v2/p.csv", Chains: map[string]string{"B": "msa/v2/p.csv"}}
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(acts2.PredictChunk)
		_, err := env.ExecuteActivity(acts2.PredictChunk, in2)
		require.NoError(t, err)
		require.NotEmpty(t, model2.calls)
		assert.Equal(t, csv, model2.calls[0].msa["B"])
		assert.Equal(t, map[string]string{"A": ".a3m", "B": ".csv"}, model2.calls[0].exts)
		// The job records each chain's MSA: the uploaded one, and the
		// server's paired CSV, with the digests of what the model read.
		kid, err := jobs2.Get(ctx, omtx.BatchChildJobIDs("batch_p", 0, 1, 1)[0])
		require.NoError(t, err)
		require.NotNil(t, kid.Results, kid.Error)
		assert.Equal(t, []omtx.ChainMSA{
			{ChainID: "A", Mode: omtx.MSAUploaded, Digest: sha256Hex(">a\nMKTAYIAKQRQ\n")},
			{ChainID: "B", Mode: omtx.MSAServer, Digest: sha256Hex(csv), Paired: true},
		}, kid.Results.MSAs)
	})

	t.Run("a server chain without a computed MSA is refused", func(t *testing.T) {
		acts2, _, blobs2, in2 := chunkFixture(t, "batch_u", 1, &seen{}, 2)
		for _, name := range []string{omtx.TargetObject("tgt_1"), omtx.TargetPrefix("tgt_1") + "files/a.a3m", omtx.TargetPrefix("tgt_1") + "files/t.cif"} {
			b, err := blobs.Read(ctx, name)
			require.NoError(t, err)
			require.NoError(t, blobs2.Put(ctx, name, "", b))
		}
		in2.TargetID = "tgt_1"
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(acts2.PredictChunk)
		_, err := env.ExecuteActivity(acts2.PredictChunk, in2)
		require.ErrorContains(t, err, "chain B's MSA comes from the MSA server, but none was computed")
	})
}

// TestOneChainRunsAsATarget: a job without a target gives the model the
// seed's one-chain target, with its MSA.
func TestOneChainRunsAsATarget(t *testing.T) {
	t.Parallel()
	model := &seen{}
	acts, _, blobs, in := chunkFixture(t, "batch_o", 1, model, 2)
	in.Protein = "mktayiakqr qisfvkshfsrq" // canonical for Boltz: upper case, no spaces
	require.NoError(t, blobs.Put(context.Background(), "msa/p.a3m", "text/plain", []byte(">p\nMKTAYIAKQRQISFVKSHFSRQ\n")))
	in.MSA = omtx.MSARef{Mode: omtx.MSAServer, Object: "msa/p.a3m"}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts.PredictChunk)
	_, err := env.ExecuteActivity(acts.PredictChunk, in)
	require.NoError(t, err)
	require.Len(t, model.calls, 1)
	want := target.OneChain("MKTAYIAKQRQISFVKSHFSRQ", target.MSAFile)
	want.Chains[0].MSA.File = "msa.a3m"
	assert.Equal(t, *want, model.calls[0].target)
	assert.Equal(t, map[string]string{"A": ">p\nMKTAYIAKQRQISFVKSHFSRQ\n"}, model.calls[0].msa)
	assert.NotEmpty(t, model.calls[0].msaPath)
}

// TestChildrenKeepTheTarget: a screen's children run against its target.
func TestChildrenKeepTheTarget(t *testing.T) {
	t.Parallel()
	parent := contract.JobSpec{JobID: "batch_k", InputData: omtx.InputData{ProteinSequence: "MKTAYIAKQRQ", TargetID: "tgt_1", TargetHash: "h1"}}
	c := NewChild(&parent, omtx.LibraryEntry{Index: 0, Name: "L0", SMILES: "CCO"}, 1, parent.CreatedAt)
	assert.Equal(t, "tgt_1", c.InputData.TargetID)
	assert.Equal(t, "h1", c.InputData.TargetHash)
}
