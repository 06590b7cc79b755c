package activities

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store/storetest"
)

// flaky predicts every ligand, but fails the call that includes failOn,
// once, as a lost GPU would; it records which ligands it was asked for.
type flaky struct {
	mu     sync.Mutex
	failOn string
	failed bool
	asked  []string
}

func (f *flaky) Info() omtx.ModelInfo {
	return omtx.ModelInfo{Name: omtx.BaselineModel, Version: "test", Kind: "onnx", NoStructureReason: "test model"}
}

func (f *flaky) Predict(_ context.Context, req omtx.PredictRequest) ([]omtx.Prediction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]omtx.Prediction, len(req.Ligands))
	for i, l := range req.Ligands {
		if l.Name == f.failOn && !f.failed {
			f.failed = true
			return nil, errors.New("cuda: device lost")
		}
		f.asked = append(f.asked, l.Name)
		out[i] = omtx.Prediction{LigandName: l.Name, LigandSMILES: l.SMILES, AffinityPredValue: 1, ModelSeconds: 0.01}
	}
	return out, nil
}

// chunkFixture is a batch of n pending children in an in-memory store.
func chunkFixture(t *testing.T, batchID string, n int, model Predictor, group int) (*GPU, *storetest.Jobs, *storetest.Blobs, contract.PredictChunkInput) {
	t.Helper()
	jobs, blobs := storetest.NewJobs(), storetest.NewBlobs()
	ids := omtx.BatchChildJobIDs(batchID, 0, n, n)
	for i, id := range ids {
		idx := i
		jobs.Put(&omtx.Job{
			JobID: id, JobType: omtx.JobTypeBatchChild, BatchParentID: batchID, BatchIndex: &idx,
			Status: omtx.StatusPending, CreatedAt: time.Now(),
			InputData: omtx.InputData{LigandName: "L" + string(rune('a'+i)), LigandSMILES: "CCO"},
		})
	}
	acts := &GPU{Models: map[string]Predictor{omtx.BaselineModel: model}, Jobs: jobs, Blobs: blobs,
		GPUClass: omtx.GPUClassL4, PricePerHour: 0.65, ChunkGroup: group, ScratchDir: t.TempDir()}
	in := contract.PredictChunkInput{BatchID: batchID, JobIDs: ids, Model: omtx.BaselineModel, Protein: "MKTAYIAKQRQISFVKSHFSRQ"}
	return acts, jobs, blobs, in
}

// runChunk runs PredictChunk once in a fresh activity environment, which
// must succeed, and returns its counts.
func runChunk(t *testing.T, acts *GPU, in contract.PredictChunkInput) contract.ChunkCounts {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts.PredictChunk)
	val, err := env.ExecuteActivity(acts.PredictChunk, in)
	require.NoError(t, err)
	var counts contract.ChunkCounts
	require.NoError(t, val.Get(&counts))
	return counts
}

// TestPredictChunkResumesFromTheDocuments: a retried attempt runs only the
// ligands whose child documents are not terminal. The documents, not the
// heartbeats, say what is done: the retry gets no heartbeat details.
func TestPredictChunkResumesFromTheDocuments(t *testing.T) {
	t.Parallel()
	model := &flaky{failOn: "Lg"} // the 7th ligand: its group (of 3) is the third
	acts, jobs, blobs, in := chunkFixture(t, "batch_r", 10, model, 3)

	var s testsuite.WorkflowTestSuite
	first := s.NewTestActivityEnvironment()
	first.RegisterActivity(acts.PredictChunk)
	var progress []int
	first.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var beat chunkBeat
		if details.HasValues() && details.Get(&beat) == nil {
			progress = append(progress, beat.Done)
		}
	})
	_, err := first.ExecuteActivity(acts.PredictChunk, in)
	require.ErrorContains(t, err, "device lost")
	require.NotEmpty(t, progress)
	assert.Equal(t, 6, progress[len(progress)-1], "the heartbeats carried the progress: 6 ligands done")
	done := 0
	for _, id := range in.JobIDs {
		if jobs.Doc(id).Status == omtx.StatusCompleted {
			done++
		}
	}
	require.Equal(t, 6, done, "the first two groups were stored before the failure")

	model.asked = nil
	counts := runChunk(t, acts, in)
	assert.Equal(t, 10, counts.Completed)
	assert.Equal(t, []string{"Lg", "Lh", "Li", "Lj"}, model.asked, "only the ligands not yet stored ran again")

	var results []string
	for _, id := range in.JobIDs {
		name := omtx.BatchChildPrefix("batch_r", id) + omtx.FileResults
		results = append(results, name)
		assert.Equal(t, 1, blobs.Writes(name), "%s written once", name)
	}
	sort.Strings(results)
	assert.Len(t, results, 10)
	for _, id := range in.JobIDs {
		r := jobs.Doc(id).Results
		require.NotNil(t, r)
		assert.InDelta(t, 0.01/3600*0.65, r.CostUSD, 1e-15)
		assert.Equal(t, omtx.MSANone, r.MSAMode, "the baseline reads no MSA and claims none")
		assert.True(t, strings.HasSuffix(r.ResultsFile, "/results.json"))
	}
}

// TestPredictChunkCountsWhatOthersFinished: a ligand that someone else
// made terminal while the group ran (a cancel) keeps its status and counts
// as such.
func TestPredictChunkCountsWhatOthersFinished(t *testing.T) {
	t.Parallel()
	acts, jobs, _, in := chunkFixture(t, "batch_c", 4, &cancelling{}, 4)
	acts.Models[omtx.BaselineModel] = &cancelling{jobs: jobs, cancel: in.JobIDs[1]}
	assert.Equal(t, contract.ChunkCounts{Completed: 3, Cancelled: 1}, runChunk(t, acts, in))
	assert.Equal(t, omtx.StatusCancelled, jobs.Doc(in.JobIDs[1]).Status, "a terminal status is never overwritten")
}

// cancelling predicts every ligand, and meanwhile marks one cancelled, as
// a user's cancel would.
type cancelling struct {
	jobs   *storetest.Jobs
	cancel string
}

func (c *cancelling) Info() omtx.ModelInfo { return (&flaky{}).Info() }

func (c *cancelling) Predict(ctx context.Context, req omtx.PredictRequest) ([]omtx.Prediction, error) {
	if c.jobs != nil {
		d := c.jobs.Doc(c.cancel)
		d.Status = omtx.StatusCancelled
		c.jobs.Put(d)
	}
	out := make([]omtx.Prediction, len(req.Ligands))
	for i, l := range req.Ligands {
		out[i] = omtx.Prediction{LigandName: l.Name, LigandSMILES: l.SMILES}
	}
	return out, nil
}
