package requeue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/jobstart"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store/storetest"
)

// fakeWorkflows records starts; a started id exists. failStart makes the
// next start fail, as a crash between the record write and the start.
type fakeWorkflows struct {
	started   []jobstart.Start
	exists    map[string]bool
	failStart bool
}

func (f *fakeWorkflows) Exists(_ context.Context, id string) (bool, error) { return f.exists[id], nil }

func (f *fakeWorkflows) Start(_ context.Context, s jobstart.Start) (string, error) {
	if f.failStart {
		f.failStart = false
		return "", errors.New("temporal unreachable")
	}
	if f.exists == nil {
		f.exists = map[string]bool{}
	}
	if f.exists[s.WorkflowID] {
		return "run-old", nil // use-existing
	}
	f.exists[s.WorkflowID] = true
	f.started = append(f.started, s)
	return "run-new", nil
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

type fixture struct {
	jobs *storetest.Jobs
	wf   *fakeWorkflows
	out  bytes.Buffer
	r    *Requeuer
}

func newFixture() *fixture {
	f := &fixture{jobs: storetest.NewJobs(), wf: &fakeWorkflows{}}
	f.r = &Requeuer{Jobs: f.jobs, Workflows: f.wf, Out: &f.out, Now: func() time.Time { return t0.Add(time.Hour) }}
	return f
}

func (f *fixture) run(t *testing.T, sel Selection) ([]Line, Summary) {
	t.Helper()
	f.out.Reset()
	if sel.Limit == 0 {
		sel.Limit = DefaultLimit
	}
	sum, err := f.r.Run(context.Background(), sel)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(f.out.String()), "\n")
	var out []Line
	for _, l := range lines[:len(lines)-1] {
		var x Line
		require.NoError(t, json.Unmarshal([]byte(l), &x), l)
		out = append(out, x)
	}
	var last Summary
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &last))
	assert.Equal(t, sum, last, "the last line is the summary")
	return out, sum
}

func failedJob(id, msg string) *omtx.Job {
	done := t0
	return &omtx.Job{
		JobID: id, JobType: omtx.JobTypeIndividual, UserID: "u", Model: omtx.BaselineModel, Status: omtx.StatusFailed,
		Error: msg, CreatedAt: t0, UpdatedAt: t0, CompletedAt: &done, Priority: "interactive",
		InputData: omtx.InputData{ProteinSequence: "MKTAYIAKQR", LigandSMILES: "CCO"},
		Temporal:  &omtx.TemporalRef{WorkflowID: contract.PredictionWorkflowID(id)},
	}
}

// finishedBatch stores a completed batch whose children end in statuses,
// each failed one with err (or a refusal for its input when err is "").
func (f *fixture) finishedBatch(id string, statuses ...omtx.JobStatus) {
	f.jobs.Put(&omtx.Job{
		JobID: id, JobType: omtx.JobTypeBatchParent, UserID: "u", Model: omtx.BaselineModel, Status: omtx.StatusCompleted,
		CreatedAt: t0, UpdatedAt: t0, BatchConfig: &omtx.BatchConfig{TotalLigands: len(statuses), MaxConcurrent: 2, ChunkSize: 2, Priority: "normal"},
		BatchResults: &omtx.BatchResults{StatusLine: "completed with failures"},
	})
	for i, st := range statuses {
		idx := i
		k := &omtx.Job{
			JobID: omtx.BatchChildJobID(id, i, len(statuses)), JobType: omtx.JobTypeBatchChild, BatchParentID: id, BatchIndex: &idx,
			UserID: "u", Status: st, CreatedAt: t0, UpdatedAt: t0,
		}
		if st == omtx.StatusFailed {
			k.Error = "predict: activity heartbeat timeout"
			if i == 0 {
				k.Error = "invalid input (row 1): smiles: unclosed ring"
			}
		}
		f.jobs.Put(k)
	}
}

func TestRequeueJob(t *testing.T) {
	t.Parallel()

	t.Run("a failed prediction is set back to pending and started under its next generation; twice starts nothing new", func(t *testing.T) {
		t.Parallel()
		f := newFixture()
		f.jobs.Put(failedJob("job_a", "predict: worker lost"))
		lines, sum := f.run(t, Selection{IDs: []string{"job_a"}})
		require.Len(t, lines, 1)
		assert.Equal(t, ActionRequeued, lines[0].Action)
		assert.Equal(t, omtx.StatusFailed, lines[0].From)
		assert.Equal(t, omtx.StatusPending, lines[0].To)
		assert.Equal(t, "prediction-job_a-requeue-1", lines[0].WorkflowID)
		assert.Equal(t, 1, sum.Requeued)
		doc := f.jobs.Doc("job_a")
		assert.Equal(t, omtx.StatusPending, doc.Status)
		assert.Empty(t, doc.Error)
		assert.Nil(t, doc.CompletedAt)
		assert.Equal(t, 1, doc.Requeues)
		assert.Equal(t, "prediction-job_a-requeue-1", doc.Temporal.WorkflowID)
		require.Len(t, f.wf.started, 1)
		s := f.wf.started[0]
		assert.Equal(t, "prediction-job_a-requeue-1", s.WorkflowID)
		assert.Equal(t, contract.WorkflowPrediction, s.Workflow)
		assert.Equal(t, "job_a", s.Input.(contract.PredictionInput).Job.JobID)

		lines, sum = f.run(t, Selection{IDs: []string{"job_a"}})
		require.Len(t, lines, 1)
		assert.Equal(t, ActionUnchanged, lines[0].Action)
		assert.Equal(t, 0, sum.Requeued+sum.Started)
		assert.Len(t, f.wf.started, 1, "a second run starts nothing")

		// It failed again: the next requeue is the next generation.
		f.jobs.Put(failedJob("job_a", "predict: worker lost again"))
		doc = f.jobs.Doc("job_a")
		doc.Requeues = 1
		f.jobs.Put(doc)
		lines, _ = f.run(t, Selection{IDs: []string{"job_a"}})
		assert.Equal(t, "prediction-job_a-requeue-2", lines[0].WorkflowID)
		assert.Len(t, f.wf.started, 2)
	})

	t.Run("a run that died between the record write and the start is repaired by the next", func(t *testing.T) {
		t.Parallel()
		f := newFixture()
		f.jobs.Put(failedJob("job_b", "predict: worker lost"))
		f.wf.failStart = true
		f.out.Reset()
		sum, err := f.r.Run(context.Background(), Selection{IDs: []string{"job_b"}, Limit: 10})
		require.NoError(t, err)
		assert.Equal(t, 1, sum.Errors)
		assert.Equal(t, omtx.StatusPending, f.jobs.Doc("job_b").Status, "the record was written")
		assert.Empty(t, f.wf.started)

		t.Run("by id", func(t *testing.T) {
			lines, sum := f.run(t, Selection{IDs: []string{"job_b"}})
			require.Len(t, lines, 1)
			assert.Equal(t, ActionStarted, lines[0].Action)
			assert.Equal(t, 1, sum.Started)
			require.Len(t, f.wf.started, 1)
			assert.Equal(t, "prediction-job_b-requeue-1", f.wf.started[0].WorkflowID, "the same generation, not a new one")
		})
	})

	t.Run("by query, repairs included", func(t *testing.T) {
		t.Parallel()
		f := newFixture()
		f.jobs.Put(failedJob("job_infra", "predict: worker lost"))
		f.jobs.Put(failedJob("job_input", "invalid input: ligand_smiles: unclosed ring"))
		old := failedJob("job_old", "predict: worker lost")
		old.UpdatedAt = t0.Add(-48 * time.Hour)
		f.jobs.Put(old)
		crashed := failedJob("job_crashed", "")
		crashed.Status, crashed.Requeues = omtx.StatusPending, 1
		f.jobs.Put(crashed)

		lines, sum := f.run(t, Selection{Since: t0.Add(-time.Hour), Cause: CauseInfrastructure})
		got := map[string]string{}
		for _, l := range lines {
			got[l.JobID] = l.Action
		}
		assert.Equal(t, map[string]string{"job_infra": ActionRequeued, "job_crashed": ActionStarted}, got,
			"the input refusal is not of the cause, the old one is before --since")
		assert.Equal(t, 1, sum.Selected)

		lines, sum = f.run(t, Selection{Since: t0.Add(-time.Hour), Cause: CauseInfrastructure})
		for _, l := range lines {
			assert.Equal(t, ActionUnchanged, l.Action, "a second run finds nothing to do: %+v", l)
		}
		assert.Equal(t, 2, sum.Unchanged)
		assert.Equal(t, 0, sum.Requeued+sum.Started)
		assert.Len(t, f.wf.started, 2)
	})

	t.Run("the limit is not spent on records a requeue leaves failed", func(t *testing.T) {
		t.Parallel()
		f := newFixture()
		// Five ligands of an older batch refused for their input: oldest
		// first in the query's answer, and never requeued.
		for i := range 5 {
			k := failedJob(fmt.Sprintf("job_batch_x_%04d", i), "invalid input (row 1): bad SMILES")
			k.JobType, k.BatchParentID, k.UpdatedAt = omtx.JobTypeBatchChild, "batch_x", t0.Add(-time.Minute)
			f.jobs.Put(k)
		}
		f.jobs.Put(failedJob("job_new", "predict: worker lost"))
		lines, sum := f.run(t, Selection{Since: t0.Add(-time.Hour), Limit: 1})
		assert.Equal(t, 1, sum.Selected)
		require.NotEmpty(t, lines)
		assert.Equal(t, "job_new", lines[0].JobID, "the newer failure is reached: %+v", lines)
		assert.Equal(t, ActionRequeued, lines[0].Action)
	})

	t.Run("--dry-run writes and starts nothing", func(t *testing.T) {
		t.Parallel()
		f := newFixture()
		f.jobs.Put(failedJob("job_d", "predict: worker lost"))
		f.r.DryRun = true
		lines, sum := f.run(t, Selection{IDs: []string{"job_d"}})
		require.Len(t, lines, 1)
		assert.True(t, lines[0].DryRun)
		assert.Equal(t, ActionRequeued, lines[0].Action)
		assert.Contains(t, sum.Message, "dry run")
		assert.Equal(t, omtx.StatusFailed, f.jobs.Doc("job_d").Status)
		assert.Empty(t, f.wf.started)
	})

	t.Run("what is not failed is left as it is", func(t *testing.T) {
		t.Parallel()
		f := newFixture()
		done := failedJob("job_c", "")
		done.Status = omtx.StatusCompleted
		f.jobs.Put(done)
		lines, _ := f.run(t, Selection{IDs: []string{"job_missing", "job_c"}})
		require.Len(t, lines, 2)
		assert.Equal(t, ActionError, lines[0].Action, "an unknown id")
		assert.Equal(t, ActionSkipped, lines[1].Action)
		assert.Contains(t, lines[1].Detail, "only failed records are requeued")
		assert.Empty(t, f.wf.started)
	})
}

func TestRequeueBatch(t *testing.T) {
	t.Parallel()
	failed, done := omtx.StatusFailed, omtx.StatusCompleted

	t.Run("a child requeues its batch: its failed ligands, not its input refusals, under a new BatchWorkflow", func(t *testing.T) {
		t.Parallel()
		f := newFixture()
		f.finishedBatch("batch_1", failed, done, failed, failed)
		child := omtx.BatchChildJobID("batch_1", 2, 4)
		lines, sum := f.run(t, Selection{IDs: []string{child}})
		require.Len(t, lines, 3, "two children and the batch")
		assert.Equal(t, 3, sum.Requeued)
		batchLine := lines[2]
		assert.Equal(t, "batch_1", batchLine.JobID)
		assert.Equal(t, "batch-batch_1-requeue-1", batchLine.WorkflowID)

		parent := f.jobs.Doc("batch_1")
		assert.Equal(t, omtx.StatusPending, parent.Status)
		assert.Equal(t, 1, parent.Requeues)
		assert.Nil(t, parent.BatchResults, "the old aggregate no longer describes it")
		assert.Equal(t, failed, f.jobs.Doc(omtx.BatchChildJobID("batch_1", 0, 4)).Status, "an input refusal would fail again")
		assert.Equal(t, done, f.jobs.Doc(omtx.BatchChildJobID("batch_1", 1, 4)).Status)
		for _, i := range []int{2, 3} {
			k := f.jobs.Doc(omtx.BatchChildJobID("batch_1", i, 4))
			assert.Equal(t, omtx.StatusPending, k.Status)
			assert.Empty(t, k.Error)
		}
		require.Len(t, f.wf.started, 1)
		s := f.wf.started[0]
		assert.Equal(t, "batch-batch_1-requeue-1", s.WorkflowID)
		assert.Equal(t, contract.WorkflowBatch, s.Workflow)
		assert.Equal(t, "batch_1", s.Input.(contract.BatchInput).Parent.JobID)

		lines, _ = f.run(t, Selection{BatchID: "batch_1"})
		require.Len(t, lines, 1)
		assert.Equal(t, ActionUnchanged, lines[0].Action, "requeued and started already")
		assert.Len(t, f.wf.started, 1)
	})

	t.Run("a requeue that died after the parent's write sets the children back and starts", func(t *testing.T) {
		t.Parallel()
		f := newFixture()
		f.finishedBatch("batch_2", done, failed)
		p := f.jobs.Doc("batch_2")
		p.Status, p.Requeues = omtx.StatusPending, 1
		f.jobs.Put(p)
		lines, sum := f.run(t, Selection{Since: t0.Add(-time.Hour)})
		assert.Equal(t, 1, sum.Started, "%+v", lines)
		assert.Equal(t, omtx.StatusPending, f.jobs.Doc(omtx.BatchChildJobID("batch_2", 1, 2)).Status)
		require.Len(t, f.wf.started, 1)
		assert.Equal(t, "batch-batch_2-requeue-1", f.wf.started[0].WorkflowID)
	})

	t.Run("a running batch and one with nothing to requeue are left alone", func(t *testing.T) {
		t.Parallel()
		f := newFixture()
		f.finishedBatch("batch_3", failed) // an input refusal only
		f.finishedBatch("batch_4", done, failed)
		p := f.jobs.Doc("batch_4")
		p.Status = omtx.StatusRunning
		f.jobs.Put(p)
		lines, sum := f.run(t, Selection{IDs: []string{"batch_3", "batch_4"}})
		require.Len(t, lines, 2)
		assert.Equal(t, 2, sum.Skipped)
		assert.Contains(t, lines[0].Detail, "no failed ligands")
		assert.Contains(t, lines[1].Detail, "its workflow runs its children")
		assert.Empty(t, f.wf.started)
	})
}

func TestSelection(t *testing.T) {
	t.Parallel()
	now := t0
	sel, err := selection("", "failed", "2026-11-30T00:00Z", "infrastructure", "", 50, now)
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), sel.Since)
	assert.Equal(t, CauseInfrastructure, sel.Cause)
	sel, err = selection("", "failed", "24h", "", "", 50, now)
	require.NoError(t, err)
	assert.Equal(t, now.Add(-24*time.Hour), sel.Since)
	sel, err = selection(" a, b ,", "", "", "", "", 50, now)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, sel.IDs)
	for name, args := range map[string][]string{
		"ids and a query":       {"a", "failed", "", "", ""},
		"no selection":          {"", "", "", "", ""},
		"another status":        {"", "running", "24h", "", ""},
		"a query without since": {"", "failed", "", "", ""},
		"a bad since":           {"", "failed", "yesterday", "", ""},
		"a bad cause":           {"", "failed", "24h", "gpu", ""},
	} {
		_, err := selection(args[0], args[1], args[2], args[3], args[4], 50, now)
		assert.Error(t, err, name)
	}
	_, err = selection("a,b,c", "", "", "", "", 2, now)
	assert.Error(t, err, "more ids than --limit")
	_, err = selection("", "failed", "24h", "", "", MaxLimit+1, now)
	assert.Error(t, err)
}

// TestCauseOf: the record's own cause, as the workflow classified the
// error, wins over its text; only a record without one is judged by its
// text.
func TestCauseOf(t *testing.T) {
	for _, c := range []struct {
		j    omtx.Job
		want string
	}{
		{omtx.Job{Error: "target tgt_x: no such target", FailureCause: omtx.CauseUserInput}, CauseInput},
		{omtx.Job{Error: "invalid input: looks like input", FailureCause: omtx.CauseSystem}, CauseInfrastructure},
		{omtx.Job{Error: "ligand_smiles: unparsable"}, CauseInput},
		{omtx.Job{Error: "invalid input (row 3): bad"}, CauseInput},
		{omtx.Job{Error: "activity StartToClose timeout"}, CauseInfrastructure},
	} {
		assert.Equal(t, c.want, CauseOf(&c.j), c.j.Error)
	}
}
