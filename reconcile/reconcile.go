// Package reconcile repairs job records that disagree with Temporal
// (Reconciler), and runs as `omtx-worker reconcile` (Command). It is a
// recovery tool, not part of a worker: it reads workflow histories and
// starts missing workflows through package jobstart, as the API does.
package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/jobstart"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Reconciler repairs job records that disagree with Temporal: after a
// Firestore restore from backup, a lost local Firestore snapshot, or an
// API that died between writing a record and starting its workflow.
//
// Temporal's history and the files in GCS are the truth it rebuilds from:
//   - every PredictionWorkflow and BatchWorkflow started since Since is
//     checked. A missing record is rebuilt from the workflow's input
//     (its JobSpec); a record that is not final while its workflow has
//     closed gets the workflow's final status (a completed job its
//     results from results.json). A running workflow's record is left to
//     the workflow, except that a missing one is recreated as its spec's
//     pending document, so that the workflow's next writes find it;
//   - a batch's children are rebuilt from batches/{id}/ligands.json with
//     activities.NewChild, each with the results of its results.json; in
//     a closed batch a child without results ends failed (or cancelled,
//     when the batch was). The parent's progress and batch_results are
//     then rebuilt by activities.AggregateChildren, as AggregateBatch
//     built them (a batch whose workflow failed was never aggregated: its
//     progress is counted from the children);
//   - a record that is not final, older than MinAge, whose workflow does
//     not exist, is reported, or started from the record with
//     StartMissing, as the API starts it.
//
// A final record keeps its status (the activities never overwrite one
// either); only a closed batch's progress and batch_results are brought
// in line with its children. Jobs and parents are written in a
// transaction that re-checks them, and missing children are created only
// if still missing, so a run racing a workflow never moves a record
// backwards; existing children are rewritten only once their batch's
// workflow has closed. A second run finds nothing to change.
type Reconciler struct {
	Jobs     JobStore
	Blobs    BlobStore
	Temporal Executions
	// Fleet is passed to workflows started for records without one, as
	// the API passes it.
	Fleet omtx.Fleet
	// Since bounds the workflows (by start time) and records (by
	// creation) that are checked.
	Since time.Duration
	// MinAge: a record younger than this without a workflow is left
	// alone, since the API may be about to start it.
	MinAge       time.Duration
	DryRun       bool
	StartMissing bool
	// Out receives one JSON line per record changed or left in
	// disagreement (a Change), then the Summary.
	Out io.Writer
	Now func() time.Time
}

// JobStore is the job store reconcile writes through (store.Jobs).
type JobStore interface {
	activities.JobStore
	Create(ctx context.Context, job *omtx.Job) error
	ListUnfinished(ctx context.Context) ([]*omtx.Job, error)
}

// BlobStore is the file store reconcile reads (store.Blobs).
type BlobStore interface {
	activities.BlobStore
	List(ctx context.Context, prefix string) ([]string, error)
}

// Executions is what reconcile reads of Temporal, and how it starts a
// missing workflow. NewExecutions implements it over a client.
type Executions interface {
	// List returns the latest run of every workflow of type wfType
	// started since.
	List(ctx context.Context, wfType string, since time.Time) ([]Execution, error)
	// Describe returns a workflow's latest run; found is false when no
	// workflow has the id.
	Describe(ctx context.Context, workflowID string) (ex Execution, found bool, err error)
	// Input decodes the input of ex's run into v.
	Input(ctx context.Context, ex Execution, v any) error
	// Outcome reads how a closed run ended: a completed run's result
	// decoded into v, or a failed, terminated or timed-out run's message.
	Outcome(ctx context.Context, ex Execution, v any) (msg string, err error)
	// Start starts a workflow, built by jobstart.Of as the API builds it.
	Start(ctx context.Context, req jobstart.Start) (runID string, err error)
}

// Execution is one run of a workflow.
type Execution struct {
	WorkflowID string
	RunID      string
	Type       string
	Status     enumspb.WorkflowExecutionStatus
	Start      time.Time
	Close      time.Time
}

// Running reports whether the run has not closed.
func (e Execution) Running() bool {
	return e.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// Actions of a Change.
const (
	ActionCreated    = "created"    // the record was missing and is rebuilt
	ActionUpdated    = "updated"    // the record is brought in line with its workflow
	ActionStarted    = "started"    // the record's missing workflow is started
	ActionUnresolved = "unresolved" // a disagreement left as it is (Detail says why)
	ActionError      = "error"      // the record could not be checked or repaired
)

// Change is one line of reconcile's output: what it did (or, with
// DryRun, would do) to one record.
type Change struct {
	JobID      string       `json:"job_id"`
	JobType    omtx.JobType `json:"job_type,omitempty"`
	BatchID    string       `json:"batch_id,omitempty"`
	WorkflowID string       `json:"workflow_id,omitempty"`
	// Workflow is the workflow's status (Running, Completed, Failed,
	// Canceled, Terminated, TimedOut), or NotFound.
	Workflow string `json:"workflow_status,omitempty"`
	Action   string `json:"action"`
	// From is the record's status before ("" when it was missing), To
	// after.
	From   omtx.JobStatus `json:"from"`
	To     omtx.JobStatus `json:"to,omitempty"`
	Detail string         `json:"detail,omitempty"`
	DryRun bool           `json:"dry_run,omitempty"`
}

// Summary is reconcile's last output line.
type Summary struct {
	// Summary is always true: it tells this line from the Change lines.
	Summary   bool   `json:"summary"`
	Since     string `json:"since"`
	DryRun    bool   `json:"dry_run"`
	Workflows int    `json:"workflows_checked"`
	// Records counts the records checked: jobs, batches and children.
	Records    int    `json:"records_checked"`
	Created    int    `json:"created"`
	Updated    int    `json:"updated"`
	Started    int    `json:"started"`
	Unresolved int    `json:"unresolved"`
	Errors     int    `json:"errors"`
	Message    string `json:"message"`
}

// Changed counts the records changed (or, with DryRun, to change).
func (s Summary) Changed() int { return s.Created + s.Updated + s.Started }

// groupSize is how many children one bulk write holds.
const groupSize = 400

// run is the state of one Run.
type run struct {
	*Reconciler
	ctx context.Context
	now time.Time
	sum Summary
	enc *json.Encoder
}

// Run checks every workflow and unfinished record in the window, repairs
// what disagrees (unless DryRun) and writes the report. Its error is for
// a failure to list workflows or records; a record that cannot be
// repaired is reported and counted in Summary.Errors.
func (r *Reconciler) Run(ctx context.Context) (Summary, error) {
	now := time.Now().UTC()
	if r.Now != nil {
		now = r.Now().UTC()
	}
	out := r.Out
	if out == nil {
		out = io.Discard
	}
	x := &run{Reconciler: r, ctx: ctx, now: now, enc: json.NewEncoder(out)}
	x.sum = Summary{Summary: true, Since: r.Since.String(), DryRun: r.DryRun}
	since := now.Add(-r.Since)
	seen := map[string]bool{}
	for _, wfType := range []string{contract.WorkflowPrediction, contract.WorkflowBatch} {
		exs, err := r.Temporal.List(ctx, wfType, since)
		if err != nil {
			return x.sum, fmt.Errorf("list %s executions: %w", wfType, err)
		}
		for _, ex := range exs {
			seen[ex.WorkflowID] = true
			x.check(ex)
		}
	}
	recs, err := r.Jobs.ListUnfinished(ctx)
	if err != nil {
		return x.sum, err
	}
	for _, rec := range recs {
		wid := contract.WorkflowOf(rec)
		if seen[wid] || rec.JobType == omtx.JobTypeBatchChild || rec.CreatedAt.Before(since) {
			continue
		}
		seen[wid] = true
		ex, found, err := r.Temporal.Describe(ctx, wid)
		switch {
		case err != nil:
			x.fail(Change{JobID: rec.JobID, JobType: rec.JobType, WorkflowID: wid, From: rec.Status}, err)
		case found:
			x.check(ex)
		case now.Sub(rec.CreatedAt) >= r.MinAge:
			x.sum.Records++
			x.startMissing(rec, wid)
		}
	}
	switch n := x.sum.Changed(); {
	case n == 0 && x.sum.Errors == 0 && x.sum.Unresolved == 0:
		x.sum.Message = "nothing to change: every record agrees with Temporal"
	case n == 0:
		x.sum.Message = "nothing changed"
	case r.DryRun:
		x.sum.Message = fmt.Sprintf("dry run: %d records would change; nothing was written", n)
	default:
		x.sum.Message = fmt.Sprintf("%d records changed", n)
	}
	if x.sum.Unresolved > 0 {
		x.sum.Message += fmt.Sprintf("; %d left as they are (see the unresolved lines)", x.sum.Unresolved)
	}
	if x.sum.Errors > 0 {
		x.sum.Message += fmt.Sprintf("; %d could not be checked or repaired (see the error lines)", x.sum.Errors)
	}
	return x.sum, x.enc.Encode(x.sum)
}

// report writes one Change and counts it.
func (x *run) report(c Change) {
	c.DryRun = x.DryRun && c.Action != ActionUnresolved && c.Action != ActionError
	switch c.Action {
	case ActionCreated:
		x.sum.Created++
	case ActionUpdated:
		x.sum.Updated++
	case ActionStarted:
		x.sum.Started++
	case ActionUnresolved:
		x.sum.Unresolved++
	case ActionError:
		x.sum.Errors++
	}
	_ = x.enc.Encode(c) // a broken stdout shows in the summary's write
}

func (x *run) fail(c Change, err error) {
	c.Action, c.Detail = ActionError, err.Error()
	x.report(c)
}

// check reconciles the record of one workflow.
func (x *run) check(ex Execution) {
	x.sum.Workflows++
	if ex.Status == enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
		// Visibility lists runs; this one handed over to a later run.
		cur, found, err := x.Temporal.Describe(x.ctx, ex.WorkflowID)
		if err == nil && !found {
			err = errors.New("the workflow has no current run")
		}
		if err != nil {
			x.fail(Change{WorkflowID: ex.WorkflowID, Workflow: ex.Status.String()}, fmt.Errorf("describe the current run: %w", err))
			return
		}
		ex = cur
	}
	var err error
	c := Change{WorkflowID: ex.WorkflowID, Workflow: ex.Status.String()}
	// A requeued record's workflow is its first's id with a generation
	// (contract.RequeueWorkflowID).
	base, _ := contract.SplitRequeue(ex.WorkflowID)
	switch {
	case strings.HasPrefix(base, contract.PredictionWorkflowID("")):
		c.JobID, c.JobType = strings.TrimPrefix(base, contract.PredictionWorkflowID("")), omtx.JobTypeIndividual
		err = x.prediction(ex, c)
	case strings.HasPrefix(base, contract.BatchWorkflowID("")):
		c.JobID, c.JobType = strings.TrimPrefix(base, contract.BatchWorkflowID("")), omtx.JobTypeBatchParent
		err = x.batch(ex, c)
	default:
		return // not started by the API: no record of its own
	}
	if err != nil {
		x.fail(c, err)
	}
}

// get reads a record; a missing one is nil.
func (x *run) get(jobID string) (*omtx.Job, error) {
	j, err := x.Jobs.Get(x.ctx, jobID)
	if omtx.ErrorCode(err) == omtx.ENotFound {
		return nil, nil
	}
	return j, err
}

// final is how a closed run ended, as a job's status and error. A
// completed run's result is decoded into result, and the callers take
// its status, when it has one, over "completed": a completed workflow
// may end a job that was cancelled before it ran.
func (x *run) final(ex Execution, result any) (omtx.JobStatus, string, error) {
	msg, err := x.Temporal.Outcome(x.ctx, ex, result)
	if err != nil {
		return "", "", fmt.Errorf("read how the workflow ended: %w", err)
	}
	switch ex.Status {
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return omtx.StatusCompleted, msg, nil
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		return omtx.StatusCancelled, "cancelled by user", nil
	}
	return omtx.StatusFailed, msg, nil
}

// temporalRef is the record's pointer to its workflow, as the API writes
// it.
func temporalRef(ex Execution, spec *contract.JobSpec) *omtx.TemporalRef {
	return &omtx.TemporalRef{WorkflowID: ex.WorkflowID, RunID: ex.RunID, TaskQueue: contract.TaskQueueOrchestration, GPUClass: spec.GPUClass()}
}

// pending is the record of a spec as the API writes it (as requeue
// writes it, for a requeue's workflow).
func pending(ex Execution, spec *contract.JobSpec) *omtx.Job {
	doc := spec.Document()
	doc.Temporal = temporalRef(ex, spec)
	_, doc.Requeues = contract.SplitRequeue(ex.WorkflowID)
	return doc
}

// superseded reports whether ex is a run of an earlier generation than
// the record's: `omtx-worker requeue` has started the record afresh, and
// the old run's outcome no longer describes it.
func superseded(rec *omtx.Job, ex Execution) bool {
	_, n := contract.SplitRequeue(ex.WorkflowID)
	return rec != nil && n < rec.Requeues
}

// end gives a record its final status.
func (x *run) end(doc *omtx.Job, ex Execution, status omtx.JobStatus, msg string) {
	doc.Status, doc.Error, doc.UpdatedAt = status, msg, x.now
	if status == omtx.StatusCompleted {
		doc.Error = ""
	}
	closed := ex.Close
	if closed.IsZero() {
		closed = x.now
	}
	doc.CompletedAt = &closed
	if doc.StartedAt == nil && !ex.Start.IsZero() {
		start := ex.Start
		doc.StartedAt = &start
	}
}

// prediction reconciles an individual job's record with its
// PredictionWorkflow.
func (x *run) prediction(ex Execution, c Change) error {
	x.sum.Records++
	rec, err := x.get(c.JobID)
	if err != nil {
		return err
	}
	if rec != nil {
		c.From = rec.Status
		if rec.Status.Terminal() || ex.Running() || superseded(rec, ex) {
			return nil
		}
	}
	var in contract.PredictionInput
	if rec == nil {
		if err := x.Temporal.Input(x.ctx, ex, &in); err != nil {
			return fmt.Errorf("read the workflow's input: %w", err)
		}
		if in.Job.JobID != c.JobID {
			return fmt.Errorf("the workflow's input is job %q", in.Job.JobID)
		}
	}
	if ex.Running() {
		c.Action, c.To, c.Detail = ActionCreated, omtx.StatusPending, "the workflow is running: its pending record is recreated for it to update"
		if !x.DryRun {
			if err := x.Jobs.Create(x.ctx, pending(ex, &in.Job)); err != nil && omtx.ErrorCode(err) != omtx.EConflict {
				return err
			}
		}
		x.report(c)
		return nil
	}
	var res contract.PredictionResult
	status, msg, err := x.final(ex, &res)
	if err != nil {
		return err
	}
	if res.Status != "" {
		status, msg = res.Status, res.Error
	}
	var results *omtx.Results
	if status == omtx.StatusCompleted {
		if results, err = x.results(omtx.JobPrefix(c.JobID)); err != nil {
			return err
		}
		c.Detail = "completed, with the results of " + omtx.JobPrefix(c.JobID) + omtx.FileResults
		if results == nil {
			results = res.Results
			c.Detail = "completed, with the results the workflow returned (no results.json)"
		}
		if results == nil {
			return errors.New("the workflow completed, but neither results.json nor the workflow holds its results")
		}
	} else {
		c.Detail = "the workflow ended " + string(status) + ": " + msg
	}
	c.Action, c.To = ActionUpdated, status
	if rec == nil {
		c.Action = ActionCreated
	}
	if !x.DryRun {
		if _, err := x.Jobs.Update(x.ctx, c.JobID, func(cur *omtx.Job) (*omtx.Job, error) {
			switch {
			case cur == nil:
				if in.Job.JobID == "" {
					return nil, errors.New("the record vanished while it was being repaired")
				}
				cur = pending(ex, &in.Job)
			case cur.Status.Terminal():
				return nil, nil // finished meanwhile
			}
			x.end(cur, ex, status, msg)
			cur.Results = results
			return cur, nil
		}); err != nil {
			return err
		}
	}
	x.report(c)
	return nil
}

// results reads the record block of the results.json in folder; nil when
// there is none.
func (x *run) results(folder string) (*omtx.Results, error) {
	data, err := x.Blobs.Read(x.ctx, folder+omtx.FileResults)
	if omtx.ErrorCode(err) == omtx.ENotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f activities.ResultFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s%s: %w", folder, omtx.FileResults, err)
	}
	return &f.Record, nil
}

// batch reconciles a batch: its children, then its parent record.
func (x *run) batch(ex Execution, c Change) error {
	x.sum.Records++
	parent, err := x.get(c.JobID)
	if err != nil {
		return err
	}
	if parent != nil {
		c.From = parent.Status
	}
	if superseded(parent, ex) {
		return nil
	}
	var in contract.BatchInput
	if err := x.Temporal.Input(x.ctx, ex, &in); err != nil {
		return fmt.Errorf("read the workflow's input: %w", err)
	}
	spec := in.Parent
	if spec.JobID != c.JobID {
		return fmt.Errorf("the workflow's input is batch %q", spec.JobID)
	}
	var res contract.BatchResult
	status, msg := omtx.JobStatus(""), ""
	if !ex.Running() {
		if status, msg, err = x.final(ex, &res); err != nil {
			return err
		}
		if res.Status != "" {
			status = res.Status
		}
	}
	kids, err := x.children(ex, &spec, status)
	if err != nil {
		return err
	}

	if ex.Running() {
		if parent != nil {
			return nil
		}
		c.Action, c.To, c.Detail = ActionCreated, omtx.StatusPending, "the workflow is running: its pending record is recreated for it to update"
		if !x.DryRun {
			doc := pending(ex, &spec)
			doc.ChildJobIDs = kids.ids()
			if err := x.Jobs.Create(x.ctx, doc); err != nil && omtx.ErrorCode(err) != omtx.EConflict {
				return err
			}
		}
		x.report(c)
		return nil
	}

	// Only a batch whose workflow completed or was cancelled was
	// aggregated; one that failed keeps the counts of its children.
	aggregated := ex.Status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED || ex.Status == enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED
	switch {
	case parent == nil:
	case !parent.Status.Terminal():
	case kids.changed > 0:
	case parent.Progress == nil || *parent.Progress != kids.progress:
	case aggregated && parent.BatchResults == nil:
	default:
		return nil // agrees
	}
	c.Action, c.To = ActionUpdated, status
	if parent == nil {
		c.Action = ActionCreated
	} else if parent.Status.Terminal() {
		c.To = parent.Status // a final status stays
	}
	c.Detail = fmt.Sprintf("progress counted from its %d children", kids.progress.Total)
	prog, results := kids.progress, (*omtx.BatchResults)(nil)
	if aggregated {
		// As AggregateBatch records it: an error only when no ligand
		// completed.
		msg = ""
		c.Detail = fmt.Sprintf("progress and batch_results rebuilt from its %d children", kids.progress.Total)
		if !x.DryRun {
			base := parent
			if base == nil {
				base = pending(ex, &spec)
			}
			agg, err := activities.AggregateChildren(x.ctx, x.Jobs, x.Blobs, base, status == omtx.StatusCancelled, nil)
			if err != nil {
				return err
			}
			prog, results, msg = agg.Progress, &agg.Results, agg.Error
		}
	}
	if !x.DryRun {
		if _, err := x.Jobs.Update(x.ctx, c.JobID, func(cur *omtx.Job) (*omtx.Job, error) {
			if cur == nil {
				cur = pending(ex, &spec)
			}
			if !cur.Status.Terminal() {
				x.end(cur, ex, status, msg)
			}
			cur.Progress, cur.UpdatedAt = &prog, x.now
			if results != nil {
				cur.BatchResults = results
			}
			if len(cur.ChildJobIDs) == 0 {
				cur.ChildJobIDs = kids.ids()
			}
			return cur, nil
		}); err != nil {
			return err
		}
	}
	x.report(c)
	return nil
}

// childSet is what reconciling a batch's children found.
type childSet struct {
	batchID string
	// total is how many ligands ligands.json holds.
	total int
	// progress counts the children by status, as repaired.
	progress omtx.Progress
	changed  int
}

// ids lists the children's job ids for the parent's child_job_ids, when
// the parent holds them (activities.MaxChildIDsInParent).
func (k *childSet) ids() []string {
	if k.total == 0 || k.total > activities.MaxChildIDsInParent {
		return nil
	}
	return omtx.BatchChildJobIDs(k.batchID, 0, k.total, k.total)
}

// children rebuilds a batch's missing children from ligands.json, and, in
// a batch whose workflow has closed (final is its status), ends the ones
// that are not final: completed with their results.json, or failed (or
// cancelled with the batch) without one. A running batch's existing
// children are left to it.
func (x *run) children(ex Execution, spec *contract.JobSpec, final omtx.JobStatus) (*childSet, error) {
	batchID := spec.JobID
	total := 0
	if spec.BatchConfig != nil {
		total = spec.BatchConfig.TotalLigands
	}
	have := map[string]omtx.JobStatus{}
	if err := activities.EachChild(x.ctx, x.Jobs, batchID, total, func(_ string, j *omtx.Job) error {
		if j != nil {
			have[j.JobID] = j.Status
		}
		return nil
	}, nil); err != nil {
		return nil, err
	}
	done, err := x.withResults(batchID)
	if err != nil {
		return nil, err
	}
	k := &childSet{batchID: batchID}
	var group []*omtx.Job // children to write, each new or not final
	var existing []string // ids of the group's children that exist
	flush := func() error {
		if err := x.repairChildren(ex, final, group, existing, done, k); err != nil {
			return err
		}
		group, existing = group[:0], existing[:0]
		return nil
	}
	err = activities.ReadLibrary(x.ctx, x.Blobs, omtx.BatchPrefix(batchID)+omtx.FileLigands, func(e omtx.LibraryEntry) error {
		k.total++
		x.sum.Records++
		child := activities.NewChild(spec, e, max(total, 1), x.now)
		st, ok := have[child.JobID]
		if ok && (st.Terminal() || ex.Running()) {
			k.progress.Count(st)
			return nil
		}
		if ok {
			existing = append(existing, child.JobID)
		}
		group = append(group, child)
		if len(group) == groupSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return nil, fmt.Errorf("children of %s: %w", batchID, err)
	}
	return k, nil
}

// withResults lists the children of a batch that have a results.json.
func (x *run) withResults(batchID string) (map[string]bool, error) {
	prefix := omtx.BatchPrefix(batchID) + "jobs/"
	names, err := x.Blobs.List(x.ctx, prefix)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, n := range names {
		if id, ok := strings.CutSuffix(strings.TrimPrefix(n, prefix), "/"+omtx.FileResults); ok {
			done[id] = true
		}
	}
	return done, nil
}

// repairChildren writes one group of children: fresh documents for the
// missing ones, the existing documents (named by existing) otherwise,
// each ended as the batch's workflow says, and reports each.
func (x *run) repairChildren(ex Execution, final omtx.JobStatus, group []*omtx.Job, existing []string, done map[string]bool, k *childSet) error {
	if len(group) == 0 {
		return nil
	}
	docs := map[string]*omtx.Job{}
	if len(existing) > 0 {
		cur, err := x.Jobs.GetMany(x.ctx, existing)
		if err != nil {
			return err
		}
		for _, d := range cur {
			if d != nil {
				docs[d.JobID] = d
			}
		}
	}
	var create, update []*omtx.Job
	for _, fresh := range group {
		c := Change{JobID: fresh.JobID, JobType: omtx.JobTypeBatchChild, BatchID: k.batchID, WorkflowID: ex.WorkflowID, Workflow: ex.Status.String()}
		doc, ok := docs[fresh.JobID]
		if ok {
			c.From = doc.Status
			if doc.Status.Terminal() { // finished meanwhile
				k.progress.Count(doc.Status)
				continue
			}
		} else {
			doc = fresh
		}
		switch {
		case doc.Status.Terminal(): // a row that failed validation
			c.Detail = doc.Error
		case done[doc.JobID]:
			res, err := x.results(omtx.BatchChildPrefix(k.batchID, doc.JobID))
			if err != nil {
				return err
			}
			if res == nil {
				return fmt.Errorf("%s: results.json vanished", doc.JobID)
			}
			doc.Status, doc.Results, doc.Error = omtx.StatusCompleted, res, ""
			doc.UpdatedAt, doc.CompletedAt = x.now, &x.now
			c.Detail = "completed, with the results of its results.json"
		case ex.Running():
			c.Detail = "pending: the batch is running"
		case final == omtx.StatusCancelled:
			doc.Status, doc.Error, doc.UpdatedAt, doc.CompletedAt = omtx.StatusCancelled, "batch cancelled", x.now, &x.now
			c.Detail = "the batch was cancelled before this ligand ran"
		default:
			doc.Status, doc.UpdatedAt, doc.CompletedAt = omtx.StatusFailed, x.now, &x.now
			doc.Error = "no result was stored for this ligand (its record was rebuilt by reconcile)"
			c.Detail = "the batch ended " + string(final) + " with no results.json for this ligand"
		}
		c.To = doc.Status
		k.progress.Count(doc.Status)
		k.changed++
		if ok {
			c.Action = ActionUpdated
			update = append(update, doc)
		} else {
			c.Action = ActionCreated
			create = append(create, doc)
		}
		x.report(c)
	}
	if x.DryRun {
		return nil
	}
	// Missing children are created only if still missing, so a running
	// batch that creates or finishes one meanwhile keeps its own.
	if _, err := x.Jobs.CreateMany(x.ctx, create); err != nil {
		return err
	}
	return x.Jobs.SetMany(x.ctx, update)
}

// startMissing starts the workflow of a record that has none (the API
// died between writing the record and starting it), as the API starts
// it; without StartMissing it reports the record.
func (x *run) startMissing(rec *omtx.Job, wid string) {
	c := Change{JobID: rec.JobID, JobType: rec.JobType, WorkflowID: wid, Workflow: "NotFound", From: rec.Status, To: rec.Status}
	req, err := jobstart.OfRecord(rec, x.Fleet)
	if err != nil {
		return // a batch child: its batch's workflow runs it
	}
	if !x.StartMissing {
		c.Action, c.Detail = ActionUnresolved, "the record is not final and has no workflow: rerun with --start-missing to start it from the record"
		x.report(c)
		return
	}
	c.Action, c.Detail = ActionStarted, "started from the record"
	if !x.DryRun {
		runID, err := x.Temporal.Start(x.ctx, req)
		if err != nil {
			x.fail(c, err)
			return
		}
		c.Detail += ", run " + runID
	}
	x.report(c)
}
