package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/jobstart"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store/storetest"
)

// fakeTemporal holds workflow runs by id, with their input and outcome.
type fakeTemporal struct {
	runs    map[string]fakeRun
	started []jobstart.Start
}

type fakeRun struct {
	ex     Execution
	input  any
	result any    // a completed run's result
	msg    string // a failed run's message
}

func (f *fakeTemporal) add(ex Execution, input, result any, msg string) {
	if f.runs == nil {
		f.runs = map[string]fakeRun{}
	}
	f.runs[ex.WorkflowID] = fakeRun{ex: ex, input: input, result: result, msg: msg}
}

func (f *fakeTemporal) List(_ context.Context, wfType string, since time.Time) ([]Execution, error) {
	var out []Execution
	for _, r := range f.runs {
		if r.ex.Type == wfType && !r.ex.Start.Before(since) {
			out = append(out, r.ex)
		}
	}
	return out, nil
}

func (f *fakeTemporal) Describe(_ context.Context, id string) (Execution, bool, error) {
	r, ok := f.runs[id]
	return r.ex, ok, nil
}

func roundTrip(from, to any) error {
	data, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, to)
}

func (f *fakeTemporal) Input(_ context.Context, ex Execution, v any) error {
	return roundTrip(f.runs[ex.WorkflowID].input, v)
}

func (f *fakeTemporal) Outcome(_ context.Context, ex Execution, v any) (string, error) {
	r := f.runs[ex.WorkflowID]
	if r.result != nil {
		return "", roundTrip(r.result, v)
	}
	return r.msg, nil
}

func (f *fakeTemporal) Start(_ context.Context, req jobstart.Start) (string, error) {
	f.started = append(f.started, req)
	return "run-new", nil
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// fixture is a reconciler over in-memory stores and a fake Temporal.
type fixture struct {
	jobs  *storetest.Jobs
	blobs *storetest.Blobs
	tmp   *fakeTemporal
	out   bytes.Buffer
	r     *Reconciler
}

func newReconcileFixture() *fixture {
	f := &fixture{jobs: storetest.NewJobs(), blobs: storetest.NewBlobs(), tmp: &fakeTemporal{}}
	f.r = &Reconciler{
		Jobs: f.jobs, Blobs: f.blobs, Temporal: f.tmp, Since: 24 * time.Hour, MinAge: 5 * time.Minute,
		Out: &f.out, Now: func() time.Time { return t0.Add(time.Hour) },
	}
	return f
}

// run runs the reconciler and returns its change lines and summary.
func (f *fixture) run(t *testing.T) ([]Change, Summary) {
	t.Helper()
	f.out.Reset()
	sum, err := f.r.Run(context.Background())
	require.NoError(t, err)
	var changes []Change
	lines := strings.Split(strings.TrimSpace(f.out.String()), "\n")
	for _, l := range lines[:len(lines)-1] {
		var c Change
		require.NoError(t, json.Unmarshal([]byte(l), &c), l)
		changes = append(changes, c)
	}
	var last Summary
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &last))
	assert.Equal(t, sum, last, "the last line is the summary")
	return changes, sum
}

func (f *fixture) putResult(t *testing.T, folder, jobID string, affinity float64) omtx.Results {
	t.Helper()
	rec := omtx.Results{Model: omtx.BaselineModel, AffinityPredValue: affinity, ResultsFile: "gs://test/" + folder + omtx.FileResults}
	data, err := json.Marshal(activities.ResultFile{JobID: jobID, Record: rec})
	require.NoError(t, err)
	require.NoError(t, f.blobs.Put(context.Background(), folder+omtx.FileResults, "application/json", data))
	return rec
}

func predictionSpec(id string) contract.JobSpec {
	return contract.JobSpec{
		JobID: id, JobType: omtx.JobTypeIndividual, UserID: "u", Model: omtx.BaselineModel, CreatedAt: t0, Priority: "interactive",
		InputData: omtx.InputData{ProteinSequence: "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK", LigandSMILES: "CCO", LigandName: "ethanol"},
	}
}

func docOf(spec contract.JobSpec) *omtx.Job { return spec.Document() }

func execution(id, wfType string, status enumspb.WorkflowExecutionStatus) Execution {
	ex := Execution{WorkflowID: id, RunID: "run-1", Type: wfType, Status: status, Start: t0}
	if status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		ex.Close = t0.Add(time.Minute)
	}
	return ex
}

func TestReconcilePrediction(t *testing.T) {
	t.Parallel()
	completed := enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED

	t.Run("a lost record of a completed job is rebuilt with the results of results.json", func(t *testing.T) {
		t.Parallel()
		f := newReconcileFixture()
		spec := predictionSpec("job_a")
		f.tmp.add(execution(contract.PredictionWorkflowID("job_a"), contract.WorkflowPrediction, completed),
			contract.PredictionInput{Job: spec}, contract.PredictionResult{JobID: "job_a", Status: omtx.StatusCompleted}, "")
		want := f.putResult(t, omtx.JobPrefix("job_a"), "job_a", -1.5)

		changes, sum := f.run(t)
		require.Len(t, changes, 1)
		assert.Equal(t, ActionCreated, changes[0].Action)
		assert.Equal(t, omtx.JobStatus(""), changes[0].From)
		assert.Equal(t, omtx.StatusCompleted, changes[0].To)
		assert.Equal(t, 1, sum.Created)
		doc := f.jobs.Doc("job_a")
		require.NotNil(t, doc)
		assert.Equal(t, omtx.StatusCompleted, doc.Status)
		assert.Equal(t, &want, doc.Results)
		assert.Equal(t, spec.InputData, doc.InputData)
		assert.Equal(t, "prediction-job_a", doc.Temporal.WorkflowID)
		assert.Equal(t, t0.Add(time.Minute), *doc.CompletedAt)

		changes, sum = f.run(t)
		assert.Empty(t, changes, "a second run changes nothing")
		assert.Equal(t, 0, sum.Changed())
		assert.Contains(t, sum.Message, "nothing to change")
	})

	t.Run("a record behind its closed workflow gets the final status", func(t *testing.T) {
		t.Parallel()
		f := newReconcileFixture()
		spec := predictionSpec("job_b")
		doc := spec.Document()
		doc.Status = omtx.StatusRunning
		f.jobs.Put(doc)
		f.tmp.add(execution(contract.PredictionWorkflowID("job_b"), contract.WorkflowPrediction, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED),
			contract.PredictionInput{Job: spec}, nil, "ligand_smiles: refused by the model")

		changes, _ := f.run(t)
		require.Len(t, changes, 1)
		assert.Equal(t, Change{JobID: "job_b", JobType: omtx.JobTypeIndividual, WorkflowID: "prediction-job_b", Workflow: "Failed",
			Action: ActionUpdated, From: omtx.StatusRunning, To: omtx.StatusFailed,
			Detail: "the workflow ended failed: ligand_smiles: refused by the model"}, changes[0])
		got := f.jobs.Doc("job_b")
		assert.Equal(t, omtx.StatusFailed, got.Status)
		assert.Equal(t, "ligand_smiles: refused by the model", got.Error)
		assert.False(t, omtx.Counts(got.JobType, got.Status), "no longer counts against the quota")
	})

	t.Run("a completed workflow whose job was cancelled before it ran", func(t *testing.T) {
		t.Parallel()
		f := newReconcileFixture()
		f.tmp.add(execution(contract.PredictionWorkflowID("job_c"), contract.WorkflowPrediction, completed),
			contract.PredictionInput{Job: predictionSpec("job_c")}, contract.PredictionResult{JobID: "job_c", Status: omtx.StatusCancelled}, "")
		f.run(t)
		assert.Equal(t, omtx.StatusCancelled, f.jobs.Doc("job_c").Status)
	})

	t.Run("a running workflow: a missing record is recreated pending, an existing one is left", func(t *testing.T) {
		t.Parallel()
		f := newReconcileFixture()
		running := enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
		f.tmp.add(execution(contract.PredictionWorkflowID("job_d"), contract.WorkflowPrediction, running), contract.PredictionInput{Job: predictionSpec("job_d")}, nil, "")
		f.tmp.add(execution(contract.PredictionWorkflowID("job_e"), contract.WorkflowPrediction, running), contract.PredictionInput{Job: predictionSpec("job_e")}, nil, "")
		queued := docOf(predictionSpec("job_e"))
		queued.Status = omtx.StatusQueued
		f.jobs.Put(queued)

		changes, _ := f.run(t)
		require.Len(t, changes, 1)
		assert.Equal(t, "job_d", changes[0].JobID)
		assert.Equal(t, omtx.StatusPending, f.jobs.Doc("job_d").Status)
		assert.Equal(t, omtx.StatusQueued, f.jobs.Doc("job_e").Status)
	})

	t.Run("a final record is left as it is", func(t *testing.T) {
		t.Parallel()
		f := newReconcileFixture()
		doc := docOf(predictionSpec("job_f"))
		doc.Status = omtx.StatusCancelled
		f.jobs.Put(doc)
		f.tmp.add(execution(contract.PredictionWorkflowID("job_f"), contract.WorkflowPrediction, completed),
			contract.PredictionInput{Job: predictionSpec("job_f")}, contract.PredictionResult{Status: omtx.StatusCompleted}, "")
		changes, _ := f.run(t)
		assert.Empty(t, changes)
		assert.Equal(t, int64(0), f.jobs.Writes())
	})
}

// batchFixture stores a batch of five ligands: index 1 failed validation,
// 0, 2 and 3 have a results.json, 4 has none.
func batchFixture(t *testing.T, f *fixture, id string) contract.JobSpec {
	t.Helper()
	spec := contract.JobSpec{
		JobID: id, JobType: omtx.JobTypeBatchParent, UserID: "u", Model: omtx.BaselineModel, CreatedAt: t0,
		BatchName: "screen", InputData: omtx.InputData{ProteinSequence: "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK"},
		BatchConfig: &omtx.BatchConfig{TotalLigands: 5, MaxConcurrent: 2, ChunkSize: 2, InvalidLigands: 1, Priority: "normal"},
	}
	var lib []omtx.LibraryEntry
	for i := range 5 {
		e := omtx.LibraryEntry{Index: i, Row: i + 2, Name: fmt.Sprintf("L%d", i), SMILES: "CCO"}
		if i == 1 {
			e.Error = "unclosed ring"
		}
		lib = append(lib, e)
	}
	data, err := json.Marshal(lib)
	require.NoError(t, err)
	require.NoError(t, f.blobs.Put(context.Background(), omtx.BatchPrefix(id)+omtx.FileLigands, "application/json", data))
	for _, i := range []int{0, 2, 3} {
		cid := omtx.BatchChildJobID(id, i, 5)
		f.putResult(t, omtx.BatchChildPrefix(id, cid), cid, float64(-i))
	}
	return spec
}

func TestReconcileBatch(t *testing.T) {
	t.Parallel()

	t.Run("a completed batch with no records at all is rebuilt, parent and children", func(t *testing.T) {
		t.Parallel()
		f := newReconcileFixture()
		spec := batchFixture(t, f, "batch_a")
		f.tmp.add(execution(contract.BatchWorkflowID("batch_a"), contract.WorkflowBatch, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED),
			contract.BatchInput{Parent: spec}, contract.BatchResult{BatchID: "batch_a", Status: omtx.StatusCompleted}, "")

		changes, sum := f.run(t)
		assert.Equal(t, 6, sum.Created, "the parent and five children")
		assert.Equal(t, 0, sum.Errors)
		require.Len(t, changes, 6)
		assert.Equal(t, "batch_a", changes[5].JobID, "children first, then their parent")

		want := map[int]omtx.JobStatus{0: omtx.StatusCompleted, 1: omtx.StatusFailed, 2: omtx.StatusCompleted, 3: omtx.StatusCompleted, 4: omtx.StatusFailed}
		for i, st := range want {
			c := f.jobs.Doc(omtx.BatchChildJobID("batch_a", i, 5))
			require.NotNil(t, c, "child %d", i)
			assert.Equal(t, st, c.Status, "child %d", i)
			assert.Equal(t, "batch_a", c.BatchParentID)
			assert.Equal(t, i, *c.BatchIndex)
			if st == omtx.StatusCompleted {
				require.NotNil(t, c.Results)
				assert.Equal(t, float64(-i), c.Results.AffinityPredValue)
			}
		}
		assert.Contains(t, f.jobs.Doc(omtx.BatchChildJobID("batch_a", 1, 5)).Error, "unclosed ring", "an invalid row keeps its reason")

		p := f.jobs.Doc("batch_a")
		require.NotNil(t, p)
		assert.Equal(t, omtx.StatusCompleted, p.Status)
		assert.Equal(t, omtx.Progress{Total: 5, Completed: 3, Failed: 2}, *p.Progress)
		require.NotNil(t, p.BatchResults)
		assert.Equal(t, 3, p.BatchResults.Completed)
		assert.Equal(t, "L3", p.BatchResults.BestLigand, "ranked by the aggregation code")
		assert.Len(t, p.ChildJobIDs, 5)
		assert.Equal(t, "screen", p.BatchName)
		ok, err := f.blobs.Exists(context.Background(), omtx.BatchPrefix("batch_a")+omtx.FileBatchResultsCSV)
		require.NoError(t, err)
		assert.True(t, ok, "the batch's files are written again")

		changes, sum = f.run(t)
		assert.Empty(t, changes)
		assert.Equal(t, 0, sum.Changed(), "a second run changes nothing")
		assert.Equal(t, 6, sum.Records)
	})

	t.Run("a cancelled batch: children that never ran are cancelled", func(t *testing.T) {
		t.Parallel()
		f := newReconcileFixture()
		spec := batchFixture(t, f, "batch_b")
		f.tmp.add(execution(contract.BatchWorkflowID("batch_b"), contract.WorkflowBatch, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED),
			contract.BatchInput{Parent: spec}, nil, "")
		parent := spec.Document()
		parent.Status = omtx.StatusRunning
		f.jobs.Put(parent)
		f.run(t)
		assert.Equal(t, omtx.StatusCancelled, f.jobs.Doc(omtx.BatchChildJobID("batch_b", 4, 5)).Status)
		p := f.jobs.Doc("batch_b")
		assert.Equal(t, omtx.StatusCancelled, p.Status)
		assert.Empty(t, p.Error)
		assert.Equal(t, omtx.Progress{Total: 5, Completed: 3, Failed: 1, Cancelled: 1}, *p.Progress)
	})

	t.Run("a final parent whose children were lost keeps its status; its progress counts them again", func(t *testing.T) {
		t.Parallel()
		f := newReconcileFixture()
		spec := batchFixture(t, f, "batch_c")
		f.tmp.add(execution(contract.BatchWorkflowID("batch_c"), contract.WorkflowBatch, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED),
			contract.BatchInput{Parent: spec}, nil, "prepare batch: boom")
		parent := spec.Document()
		parent.Status, parent.Error = omtx.StatusFailed, "prepare batch: boom"
		f.jobs.Put(parent)
		changes, _ := f.run(t)
		require.Len(t, changes, 6)
		p := f.jobs.Doc("batch_c")
		assert.Equal(t, omtx.StatusFailed, p.Status)
		assert.Equal(t, omtx.Progress{Total: 5, Completed: 3, Failed: 2}, *p.Progress)
		assert.Nil(t, p.BatchResults, "a failed batch was never aggregated")
	})

	t.Run("a running batch: the lost parent is recreated pending, lost children pending or completed, the rest left to it", func(t *testing.T) {
		t.Parallel()
		f := newReconcileFixture()
		spec := batchFixture(t, f, "batch_d")
		f.tmp.add(execution(contract.BatchWorkflowID("batch_d"), contract.WorkflowBatch, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING),
			contract.BatchInput{Parent: spec}, nil, "")
		running := activities.NewChild(&spec, omtx.LibraryEntry{Index: 0, Name: "L0", SMILES: "CCO"}, 5, t0)
		running.Status = omtx.StatusRunning
		f.jobs.Put(running)

		_, sum := f.run(t)
		assert.Equal(t, 5, sum.Created, "the parent and four children")
		assert.Equal(t, omtx.StatusPending, f.jobs.Doc("batch_d").Status)
		assert.Equal(t, omtx.StatusRunning, f.jobs.Doc(running.JobID).Status, "left to the workflow")
		assert.Equal(t, omtx.StatusCompleted, f.jobs.Doc(omtx.BatchChildJobID("batch_d", 2, 5)).Status)
		assert.Equal(t, omtx.StatusPending, f.jobs.Doc(omtx.BatchChildJobID("batch_d", 4, 5)).Status, "the workflow will run it")

		_, sum = f.run(t)
		assert.Equal(t, 0, sum.Changed())
	})

	t.Run("a dry run writes nothing and says what it would do", func(t *testing.T) {
		t.Parallel()
		f := newReconcileFixture()
		spec := batchFixture(t, f, "batch_e")
		f.tmp.add(execution(contract.BatchWorkflowID("batch_e"), contract.WorkflowBatch, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED),
			contract.BatchInput{Parent: spec}, contract.BatchResult{Status: omtx.StatusCompleted}, "")
		f.r.DryRun = true
		changes, sum := f.run(t)
		assert.Equal(t, 6, sum.Created)
		assert.Contains(t, sum.Message, "dry run")
		for _, c := range changes {
			assert.True(t, c.DryRun)
		}
		assert.Equal(t, 0, f.jobs.Len())
		assert.Equal(t, 0, f.blobs.Writes(omtx.BatchPrefix("batch_e")+omtx.FileBatchResultsCSV))
	})
}

func TestReconcileRecordWithoutWorkflow(t *testing.T) {
	t.Parallel()
	setup := func() *fixture {
		f := newReconcileFixture()
		old := docOf(predictionSpec("job_old"))
		f.jobs.Put(old)
		young := docOf(predictionSpec("job_young"))
		young.CreatedAt = t0.Add(58 * time.Minute) // two minutes before now
		f.jobs.Put(young)
		done := docOf(predictionSpec("job_done"))
		done.Status = omtx.StatusCompleted
		f.jobs.Put(done)
		return f
	}

	t.Run("reported", func(t *testing.T) {
		t.Parallel()
		f := setup()
		changes, sum := f.run(t)
		require.Len(t, changes, 1, "the young record may be about to start; the final one needs nothing")
		assert.Equal(t, "job_old", changes[0].JobID)
		assert.Equal(t, ActionUnresolved, changes[0].Action)
		assert.Equal(t, "NotFound", changes[0].Workflow)
		assert.Equal(t, 0, sum.Changed())
		assert.Equal(t, "nothing changed; 1 left as they are (see the unresolved lines)", sum.Message)
		assert.Empty(t, f.tmp.started)
	})

	t.Run("started with --start-missing, as the API starts it", func(t *testing.T) {
		t.Parallel()
		f := setup()
		f.r.StartMissing = true
		f.r.Fleet = omtx.Fleet{{Name: "l4", MaxTokens: 1200}}
		changes, sum := f.run(t)
		require.Len(t, changes, 1)
		assert.Equal(t, ActionStarted, changes[0].Action)
		assert.Equal(t, 1, sum.Started)
		require.Len(t, f.tmp.started, 1)
		req := f.tmp.started[0]
		assert.Equal(t, "prediction-job_old", req.WorkflowID)
		assert.Equal(t, contract.WorkflowPrediction, req.Workflow)
		assert.Equal(t, 1, req.Priority, "single predictions first")
		assert.Equal(t, "u", req.FairnessKey)
		in, ok := req.Input.(contract.PredictionInput)
		require.True(t, ok)
		assert.Equal(t, contract.SpecOf(f.jobs.Doc("job_old")), in.Job)
		assert.Equal(t, f.r.Fleet, in.Fleet)
	})
}

// TestReconcileRequeued: a record that omtx-worker requeue started afresh
// belongs to its latest generation's workflow; the first run, which ended
// failed, must not end it again.
func TestReconcileRequeued(t *testing.T) {
	t.Parallel()
	completed := enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	f := newReconcileFixture()
	spec := predictionSpec("job_r")
	doc := spec.Document()
	doc.Requeues = 1
	f.jobs.Put(doc) // pending: requeued
	f.tmp.add(execution(contract.PredictionWorkflowID("job_r"), contract.WorkflowPrediction, completed),
		contract.PredictionInput{Job: spec}, contract.PredictionResult{JobID: "job_r", Status: omtx.StatusFailed, Error: "worker lost"}, "")

	t.Run("the first run's outcome is not the record's", func(t *testing.T) {
		changes, _ := f.run(t)
		require.Len(t, changes, 1, "only the missing requeue workflow is reported")
		assert.Equal(t, ActionUnresolved, changes[0].Action)
		assert.Equal(t, "prediction-job_r-requeue-1", changes[0].WorkflowID)
		assert.Equal(t, omtx.StatusPending, f.jobs.Doc("job_r").Status)
	})
	t.Run("a requeue whose workflow is missing is the one started", func(t *testing.T) {
		f.r.StartMissing = true
		changes, _ := f.run(t)
		require.Len(t, changes, 1)
		assert.Equal(t, ActionStarted, changes[0].Action)
		require.Len(t, f.tmp.started, 1)
		assert.Equal(t, "prediction-job_r-requeue-1", f.tmp.started[0].WorkflowID)
	})
	t.Run("its generation's workflow, once closed, ends the record", func(t *testing.T) {
		f.tmp.add(execution(contract.RequeueWorkflowID(contract.PredictionWorkflowID("job_r"), 1), contract.WorkflowPrediction, completed),
			contract.PredictionInput{Job: spec}, contract.PredictionResult{JobID: "job_r", Status: omtx.StatusCompleted}, "")
		f.putResult(t, omtx.JobPrefix("job_r"), "job_r", -1)
		changes, _ := f.run(t)
		require.Len(t, changes, 1)
		assert.Equal(t, "job_r", changes[0].JobID)
		assert.Equal(t, omtx.StatusCompleted, f.jobs.Doc("job_r").Status)
	})
}
