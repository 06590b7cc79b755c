package activities

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store/storetest"
	"github.com/omtx-hub/omtx-hub/target"
)

// ckptModel predicts every ligand, naming its checkpoint digest, and
// counts the ligands it ran.
type ckptModel struct{ ran int }

func (m *ckptModel) Info() omtx.ModelInfo {
	return omtx.ModelInfo{Name: omtx.BaselineModel, Version: "test", Checkpoint: "model.onnx sha256:0123", Kind: "onnx", NoStructureReason: "test model"}
}

func (m *ckptModel) Predict(_ context.Context, req omtx.PredictRequest) ([]omtx.Prediction, error) {
	out := make([]omtx.Prediction, len(req.Ligands))
	for i, l := range req.Ligands {
		m.ran++
		out[i] = omtx.Prediction{LigandName: l.Name, LigandSMILES: l.SMILES, AffinityPredValue: float64(len(l.SMILES)), ModelSeconds: 2}
	}
	return out, nil
}

// cacheFixture is an orchestration worker and a GPU worker sharing one
// result cache and one in-memory store.
type cacheFixture struct {
	t     *testing.T
	jobs  *storetest.Jobs
	blobs *storetest.Blobs
	cache *storetest.ResultCache
	orch  *Orchestration
	gpu   *GPU
	model *ckptModel
}

const cacheProtein = "MKTAYIAKQRQISFVKSHFSRQ"

func newCacheFixture(t *testing.T) *cacheFixture {
	f := &cacheFixture{t: t, jobs: storetest.NewJobs(), blobs: storetest.NewBlobs(), cache: storetest.NewResultCache(), model: &ckptModel{}}
	rc := &ResultCache{Store: f.cache}
	f.orch = &Orchestration{Jobs: f.jobs, Blobs: f.blobs, Cache: rc}
	f.gpu = &GPU{Models: map[string]Predictor{omtx.BaselineModel: f.model}, Jobs: f.jobs, Blobs: f.blobs,
		GPUClass: omtx.GPUClassL4, PricePerHour: 0.9, ChunkGroup: 4, ScratchDir: t.TempDir(), Cache: &ResultCache{Store: f.cache}}
	return f
}

// prepare stores a library and runs PrepareBatch for it.
func (f *cacheFixture) prepare(batchID, user string, chunk int, noCache bool, smiles ...string) (contract.JobSpec, contract.PrepareBatchResult) {
	return f.prepareOn(batchID, user, "", chunk, noCache, smiles...)
}

// prepareOn is prepare against a stored target (targetID "": the
// protein alone).
func (f *cacheFixture) prepareOn(batchID, user, targetID string, chunk int, noCache bool, smiles ...string) (contract.JobSpec, contract.PrepareBatchResult) {
	t := f.t
	lib := make([]omtx.LibraryEntry, len(smiles))
	for i, s := range smiles {
		lib[i] = omtx.LibraryEntry{Index: i, Row: i + 1, Name: "L" + s, SMILES: s}
	}
	raw, err := json.Marshal(lib)
	require.NoError(t, err)
	require.NoError(t, f.blobs.Put(context.Background(), omtx.BatchPrefix(batchID)+omtx.FileLigands, "application/json", raw))
	spec := contract.JobSpec{
		JobID: batchID, JobType: omtx.JobTypeBatchParent, UserID: user, Model: omtx.BaselineModel, CreatedAt: time.Now(),
		InputData:   omtx.InputData{ProteinSequence: cacheProtein, Parameters: omtx.Parameters{NumSamples: 1}, NoCache: noCache, TargetID: targetID},
		BatchConfig: &omtx.BatchConfig{TotalLigands: len(smiles), MaxConcurrent: 8, ChunkSize: chunk},
	}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(f.orch.PrepareBatch)
	val, err := env.ExecuteActivity(f.orch.PrepareBatch, contract.PrepareBatchInput{Parent: spec})
	require.NoError(t, err)
	var out contract.PrepareBatchResult
	require.NoError(t, val.Get(&out))
	return spec, out
}

// run runs the batch's children on the GPU worker, as one chunk.
func (f *cacheFixture) run(spec contract.JobSpec) {
	n := spec.BatchConfig.TotalLigands
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(f.gpu.PredictChunk)
	_, err := env.ExecuteActivity(f.gpu.PredictChunk, contract.PredictChunkInput{
		BatchID: spec.JobID, JobIDs: omtx.BatchChildJobIDs(spec.JobID, 0, n, n), Model: spec.Model,
		Protein: spec.InputData.ProteinSequence, Parameters: spec.InputData.Parameters, TargetID: spec.InputData.TargetID,
	})
	require.NoError(f.t, err)
}

func (f *cacheFixture) child(batchID string, i, n int) *omtx.Job {
	return f.jobs.Doc(omtx.BatchChildJobID(batchID, i, n))
}

// TestPrepareBatchCompletesCachedLigands: a ligand the GPU computed for
// the same user, target, settings and model is completed when the next
// batch is prepared, from the source's results, with no GPU time or cost;
// the same molecule written another way hits too; a new one stays pending.
// Chunks whose children are all terminal are reported, as ranges.
func TestPrepareBatchCompletesCachedLigands(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t)
	first, out := f.prepare("batch_a", "alice", 2, false, "c1ccccc1O", "CCN", "CC(=O)O")
	require.Zero(t, out.CacheHits, "an empty cache misses")
	f.run(first)
	require.Equal(t, 3, f.model.ran)
	src := f.child("batch_a", 0, 3)
	require.NotNil(t, src.Results)

	// Phenol Kekulé, ethylamine as written, and a new ligand last.
	_, out = f.prepare("batch_b", "alice", 2, false, "OC1=CC=CC=C1", "NCC", "CC(=O)O", "CCCC")
	assert.Equal(t, 3, out.CacheHits)
	assert.Equal(t, []contract.ChunkRange{{From: 0, To: 1}}, out.TerminalChunks, "chunk 0 (two hits) needs no GPU; chunk 1 has a new ligand")
	assert.Equal(t, 2, out.TerminalCompleted)
	assert.Zero(t, out.TerminalFailed)

	hit := f.child("batch_b", 0, 4)
	require.Equal(t, omtx.StatusCompleted, hit.Status)
	require.NotNil(t, hit.Results)
	assert.True(t, hit.Results.CacheHit)
	assert.Equal(t, src.JobID, hit.Results.CacheSourceJobID)
	assert.Zero(t, hit.Results.GPUSeconds)
	assert.Zero(t, hit.Results.CostUSD)
	assert.Equal(t, src.Results.GPUSeconds, hit.Results.SavedGPUSeconds)
	assert.Equal(t, src.Results.CostUSD, hit.Results.SavedCostUSD)
	assert.Positive(t, hit.Results.SavedCostUSD)
	assert.Equal(t, src.Results.AffinityPredValue, hit.Results.AffinityPredValue)
	assert.Equal(t, "OC1=CC=CC=C1", hit.Results.LigandSMILES, "the child's own SMILES")
	assert.Equal(t, omtx.StatusPending, f.child("batch_b", 3, 4).Status)

	parent := f.jobs.Doc("batch_b")
	require.NotNil(t, parent.Progress)
	assert.Equal(t, 3, parent.Progress.Completed)
	assert.Equal(t, 1, parent.Progress.Pending)

	f.run(contract.JobSpec{JobID: "batch_b", Model: omtx.BaselineModel, InputData: omtx.InputData{ProteinSequence: cacheProtein, Parameters: omtx.Parameters{NumSamples: 1}}, BatchConfig: &omtx.BatchConfig{TotalLigands: 4}})
	assert.Equal(t, 4, f.model.ran, "only the new ligand ran")
}

// TestPrepareBatchOverExistingChildren: a batch prepared again over
// children that exist already (pending after a requeue) reports no chunk
// as terminal, even where the cache would complete its ligands: the stored
// children are left as they are, so their chunk must still run (or they
// would stay pending for ever).
func TestPrepareBatchOverExistingChildren(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t)
	first, _ := f.prepare("batch_a", "alice", 2, false, "c1ccccc1O", "CCN")
	f.run(first)
	// batch_b's children exist, pending, as a requeue leaves them.
	spec, _ := f.prepare("batch_b", "alice", 2, true, "c1ccccc1O", "CCN")
	_, err := f.jobs.Update(context.Background(), spec.JobID, func(j *omtx.Job) (*omtx.Job, error) {
		j.Status, j.Progress = omtx.StatusPending, nil
		return j, nil
	})
	require.NoError(t, err)
	_, out := f.prepare("batch_b", "alice", 2, false, "c1ccccc1O", "CCN")
	assert.Empty(t, out.TerminalChunks, "existing children keep their chunk on the GPU path")
	assert.Zero(t, out.CacheHits, "no child was completed from the cache")
	assert.Equal(t, omtx.StatusPending, f.child("batch_b", 0, 2).Status)
}

// TestResultCacheScope: one user's results never reach another by
// default; users the deployment names share; cache: false bypasses the
// lookup but still writes.
func TestResultCacheScope(t *testing.T) {
	t.Parallel()
	t.Run("another user misses", func(t *testing.T) {
		t.Parallel()
		f := newCacheFixture(t)
		first, _ := f.prepare("batch_a", "alice", 4, false, "CCO", "CCN")
		f.run(first)
		_, out := f.prepare("batch_b", "bob", 4, false, "CCO", "CCN")
		assert.Zero(t, out.CacheHits)
		assert.Empty(t, out.TerminalChunks)
		assert.Equal(t, omtx.StatusPending, f.child("batch_b", 0, 2).Status)
	})
	t.Run("shared users hit", func(t *testing.T) {
		t.Parallel()
		f := newCacheFixture(t)
		f.orch.Cache.SharedUsers, f.gpu.Cache.SharedUsers = []string{"alice", "bob"}, []string{"alice", "bob"}
		first, _ := f.prepare("batch_a", "alice", 4, false, "CCO", "CCN")
		f.run(first)
		_, out := f.prepare("batch_b", "bob", 4, false, "CCO", "CCN")
		assert.Equal(t, 2, out.CacheHits)
		_, out = f.prepare("batch_c", "carol", 4, false, "CCO", "CCN")
		assert.Zero(t, out.CacheHits, "a user not named keeps their own scope")
	})
	t.Run("cache false bypasses the lookup and still writes", func(t *testing.T) {
		t.Parallel()
		f := newCacheFixture(t)
		first, _ := f.prepare("batch_a", "alice", 4, true, "CCO")
		f.run(first)
		require.Equal(t, 1, f.cache.Entries(), "written though the lookup was bypassed")
		_, out := f.prepare("batch_b", "alice", 4, true, "CCO")
		assert.Zero(t, out.CacheHits)
		_, out = f.prepare("batch_c", "alice", 4, false, "CCO")
		assert.Equal(t, 1, out.CacheHits)
	})
	t.Run("no recorded checkpoint misses", func(t *testing.T) {
		t.Parallel()
		f := newCacheFixture(t)
		first, _ := f.prepare("batch_a", "alice", 4, false, "CCO")
		f.run(first)
		f.cache.ForgetModelRuns()
		require.Equal(t, 1, f.cache.Entries(), "the entry is still there")
		_, out := f.prepare("batch_b", "alice", 4, false, "CCO")
		assert.Zero(t, out.CacheHits, "an entry of a model run the fleet has no record of is not trusted")
	})
}

// TestLookupResult: a single prediction hits what a batch stored, for the
// same user only.
func TestLookupResult(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t)
	first, _ := f.prepare("batch_a", "alice", 4, false, "CCO")
	f.run(first)
	lookup := func(user string, noCache bool) contract.LookupResultResult {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(f.orch.LookupResult)
		val, err := env.ExecuteActivity(f.orch.LookupResult, contract.LookupResultInput{Job: contract.JobSpec{
			JobID: "job_1", JobType: omtx.JobTypeIndividual, UserID: user, Model: omtx.BaselineModel,
			InputData: omtx.InputData{ProteinSequence: cacheProtein, LigandSMILES: "OCC", Parameters: omtx.Parameters{NumSamples: 1}, NoCache: noCache},
		}})
		require.NoError(t, err)
		var out contract.LookupResultResult
		require.NoError(t, val.Get(&out))
		return out
	}
	got := lookup("alice", false)
	require.True(t, got.Hit)
	assert.True(t, got.Results.CacheHit)
	assert.Equal(t, f.child("batch_a", 0, 1).JobID, got.Results.CacheSourceJobID)
	assert.Zero(t, got.Results.GPUSeconds)
	assert.False(t, lookup("bob", false).Hit)
	assert.False(t, lookup("alice", true).Hit)
}

// TestTargetMSADigestIsPartOfTheKey: against a stored target, the key
// holds the digest of the chain's uploaded A3M as the GPU worker read it:
// the same target hits; the same chain with another alignment misses.
func TestTargetMSADigestIsPartOfTheKey(t *testing.T) {
	t.Parallel()
	f := newCacheFixture(t)
	store := func(id, a3m string) {
		tg := target.OneChain(cacheProtein, target.MSAFile)
		tg.Chains[0].MSA.File = "chain_a.a3m"
		raw, err := json.Marshal(tg)
		require.NoError(t, err)
		ctx := context.Background()
		require.NoError(t, f.blobs.Put(ctx, omtx.TargetObject(id), "application/json", raw))
		require.NoError(t, f.blobs.Put(ctx, omtx.TargetPrefix(id)+"files/chain_a.a3m", "text/plain", []byte(a3m)))
	}
	store("tgt_1", ">q\n"+cacheProtein+"\n")
	store("tgt_2", ">q\n"+cacheProtein+"\n>hit\n"+cacheProtein+"\n")
	first, _ := f.prepareOn("batch_a", "alice", "tgt_1", 4, false, "CCO", "CCN")
	f.run(first)
	require.Equal(t, 2, f.model.ran)
	_, out := f.prepareOn("batch_b", "alice", "tgt_1", 4, false, "CCO", "CCN")
	assert.Equal(t, 2, out.CacheHits, "the same target and alignment hit")
	_, out = f.prepareOn("batch_c", "alice", "tgt_2", 4, false, "CCO", "CCN")
	assert.Zero(t, out.CacheHits, "another alignment of the same chain misses")
}
