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

	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store"
)

// memJobs is an in-memory JobStore.
type memJobs struct {
	mu   sync.Mutex
	docs map[string]omtx.Job
}

func (m *memJobs) Get(_ context.Context, id string) (*omtx.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.docs[id]
	if !ok {
		return nil, omtx.Errorf(omtx.ENotFound, "job_id", "no %s", id)
	}
	return &j, nil
}

func (m *memJobs) Update(_ context.Context, id string, fn func(*omtx.Job) (*omtx.Job, error)) (*omtx.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var cur *omtx.Job
	if j, ok := m.docs[id]; ok {
		cur = &j
	}
	next, err := fn(cur)
	if err != nil || next == nil {
		return cur, err
	}
	m.docs[id] = *next
	return next, nil
}

func (m *memJobs) CreateMany(_ context.Context, jobs []*omtx.Job) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, j := range jobs {
		if _, ok := m.docs[j.JobID]; !ok {
			m.docs[j.JobID] = *j
		}
	}
	return nil
}

func (m *memJobs) GetMany(_ context.Context, ids []string) ([]*omtx.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*omtx.Job, len(ids))
	for i, id := range ids {
		if j, ok := m.docs[id]; ok {
			out[i] = &j
		}
	}
	return out, nil
}

func (m *memJobs) SetMany(_ context.Context, jobs []*omtx.Job) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, j := range jobs {
		m.docs[j.JobID] = *j
	}
	return nil
}

func (m *memJobs) Patch(context.Context, string, map[string]any) error { return nil }

func (m *memJobs) ListChildren(context.Context, store.ChildFilter) ([]*omtx.Job, error) {
	return nil, errors.New("not used")
}

// memBlobs is an in-memory BlobStore that counts writes per object.
type memBlobs struct {
	mu     sync.Mutex
	data   map[string][]byte
	writes map[string]int
}

func (b *memBlobs) Put(_ context.Context, name, _ string, data []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.data[name] = data
	b.writes[name]++
	return nil
}

func (b *memBlobs) Read(_ context.Context, name string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.data[name]
	if !ok {
		return nil, omtx.Errorf(omtx.ENotFound, "name", "no %s", name)
	}
	return d, nil
}

func (b *memBlobs) Exists(_ context.Context, name string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.data[name]
	return ok, nil
}

func (b *memBlobs) URI(name string) string { return "gs://test/" + name }

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

func TestPredictChunkResumesAfterLastFinishedLigand(t *testing.T) {
	t.Parallel()
	jobs := &memJobs{docs: map[string]omtx.Job{}}
	blobs := &memBlobs{data: map[string][]byte{}, writes: map[string]int{}}
	ids := ChildJobIDs("batch_r", 10)
	for i, id := range ids {
		idx := i
		jobs.docs[id] = omtx.Job{
			JobID: id, JobType: omtx.JobTypeBatchChild, BatchParentID: "batch_r", BatchIndex: &idx,
			Status: omtx.StatusPending, CreatedAt: time.Now(),
			InputData: omtx.InputData{LigandName: "L" + string(rune('a'+i)), LigandSMILES: "CCO"},
		}
	}
	model := &flaky{failOn: "Lg"} // the 7th ligand: its group (of 3) is the third
	acts := &GPU{Models: map[string]Predictor{omtx.BaselineModel: model}, Jobs: jobs, Blobs: blobs,
		GPUClass: omtx.GPUClassL4, PricePerHour: 0.65, ChunkGroup: 3, ScratchDir: t.TempDir()}
	in := PredictChunkInput{BatchID: "batch_r", JobIDs: ids, Model: omtx.BaselineModel, Protein: "MKTAYIAKQRQISFVKSHFSRQ"}

	var s testsuite.WorkflowTestSuite
	first := s.NewTestActivityEnvironment()
	first.RegisterActivity(acts)
	var progress []int
	first.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var done int
		if details.HasValues() && details.Get(&done) == nil {
			progress = append(progress, done)
		}
	})
	_, err := first.ExecuteActivity(acts.PredictChunk, in)
	require.ErrorContains(t, err, "device lost")
	require.NotEmpty(t, progress)
	assert.Equal(t, 6, progress[len(progress)-1], "the heartbeat carried the progress: 6 ligands behind")
	done := 0
	for _, id := range ids {
		if jobs.docs[id].Status == omtx.StatusCompleted {
			done++
		}
	}
	require.Equal(t, 6, done, "the first two groups were stored before the failure")

	// The retry (heartbeat: 6 ligands behind us) predicts only the rest.
	model.asked = nil
	retry := s.NewTestActivityEnvironment()
	retry.RegisterActivity(acts)
	retry.SetHeartbeatDetails(6)
	val, err := retry.ExecuteActivity(acts.PredictChunk, in)
	require.NoError(t, err)
	var counts ChunkCounts
	require.NoError(t, val.Get(&counts))
	assert.Equal(t, 10, counts.Completed)
	assert.Equal(t, []string{"Lg", "Lh", "Li", "Lj"}, model.asked)

	var results []string
	for name, n := range blobs.writes {
		if strings.HasSuffix(name, "/results.json") {
			results = append(results, name)
			assert.Equal(t, 1, n, "%s written once", name)
		}
	}
	sort.Strings(results)
	assert.Len(t, results, 10)
	for _, id := range ids {
		r := jobs.docs[id].Results
		require.NotNil(t, r)
		assert.InDelta(t, 0.01/3600*0.65, r.CostUSD, 1e-15)
		assert.Equal(t, omtx.MSASingleSequence, r.MSAMode)
	}
}
