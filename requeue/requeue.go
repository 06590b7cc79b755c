// Package requeue sets failed job records back to pending and starts
// fresh workflows for them (Requeuer), and runs as `omtx-worker requeue`
// (Command). It is the operators' bulk re-run after an outage.
//
// Why not `temporal workflow reset`: a reset replays the workflow into the
// record it already wrote. AcceptJob (and PrepareBatch) leave a record
// that is past pending as it is, so a reset workflow finds its job failed,
// returns, and runs nothing. Requeue changes the record first, then starts
// a new workflow.
//
// Each requeue is a generation: the record's requeues counter goes up by
// one, and the generation's workflow id is contract.RequeueWorkflowID
// (the first workflow's id with "-requeue-N"). The id is deterministic, so
// a run that died between its record write and its start is repaired by
// running the command again: it finds the record pending with a
// generation whose workflow does not exist, and starts it; a workflow
// that exists is never started twice (jobstart's reject-duplicate,
// use-existing).
//
// Batches are requeued whole. A batch child has no workflow of its own:
// its batch's chunk workflows run it. So requeuing a child (chosen by id
// or by query) requeues its batch: its failed children are set back to
// pending, the parent too, and a new BatchWorkflow runs the batch again.
// Its chunks skip every child that is already final (PredictChunk runs
// only children that are not), so only the requeued ligands run, and its
// final aggregate rebuilds the parent's progress, batch_results and
// files (summary.json, batch_results.csv) from every child. Children that
// failed because of their input ("invalid input", or refused by the
// model) are not requeued: they would fail the same way.
package requeue

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/jobstart"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// JobStore is the job store requeue reads and writes (store.Jobs).
type JobStore interface {
	Get(ctx context.Context, jobID string) (*omtx.Job, error)
	Update(ctx context.Context, jobID string, fn func(*omtx.Job) (*omtx.Job, error)) (*omtx.Job, error)
	SetMany(ctx context.Context, jobs []*omtx.Job) error
	ListChildren(ctx context.Context, f omtx.ChildFilter) ([]*omtx.Job, error)
	// ListFailed returns failed documents updated since, oldest first.
	ListFailed(ctx context.Context, since time.Time, limit int) ([]*omtx.Job, error)
	// ListUnfinished returns the jobs and batches not yet final.
	ListUnfinished(ctx context.Context) ([]*omtx.Job, error)
}

// Workflows is what requeue needs of Temporal.
type Workflows interface {
	// Exists reports whether a workflow with the id was ever started
	// (running or closed, within the namespace's retention).
	Exists(ctx context.Context, workflowID string) (bool, error)
	// Start starts a workflow built by jobstart (reject-duplicate,
	// use-existing).
	Start(ctx context.Context, s jobstart.Start) (runID string, err error)
}

// scanFactor bounds a query's scan: at most this many times its limit of
// failed records are read to select the limit.
const scanFactor = 10

// Causes a selection can ask for (Selection.Cause).
const (
	CauseAny            = ""
	CauseInfrastructure = "infrastructure"
	CauseInput          = "input"
)

// CauseOf names whose failure a failed record's is: the input's when it
// was refused as invalid or rejected by the model, else the
// infrastructure's (a worker lost, an outage, a timeout). The record says
// (FailureCause, as the workflow classified the error); a record failed
// before it was kept is judged by its error's text.
func CauseOf(j *omtx.Job) string {
	switch j.FailureCause {
	case omtx.CauseUserInput:
		return CauseInput
	case "":
		if strings.HasPrefix(j.Error, "invalid input") || strings.HasPrefix(j.Error, "ligand_smiles: ") {
			return CauseInput
		}
	}
	return CauseInfrastructure
}

// Selection chooses the records to requeue: by IDs, or by query (failed
// records updated since Since, of Cause, in batch BatchID when set), at
// most Limit records either way (a batch counts once, however many of its
// ligands failed).
type Selection struct {
	IDs     []string
	Since   time.Time
	Cause   string
	BatchID string
	Limit   int
}

// Requeuer requeues the records a Selection chooses.
type Requeuer struct {
	Jobs      JobStore
	Workflows Workflows
	// Fleet is passed to the workflows it starts, as the API passes it.
	Fleet  omtx.Fleet
	DryRun bool
	// Out receives one JSON line per record (a Line), then the Summary.
	Out io.Writer
	Now func() time.Time
}

// Actions of a Line.
const (
	ActionRequeued  = "requeued"  // set back to pending, and its new workflow started
	ActionStarted   = "started"   // requeued before, its workflow missing: started now
	ActionUnchanged = "unchanged" // requeued before, its workflow exists: nothing to do
	ActionSkipped   = "skipped"   // not requeued (Detail says why)
	ActionError     = "error"     // could not be requeued
)

// Line is one line of the report: what was done (or, with DryRun, would
// be) to one record.
type Line struct {
	JobID      string         `json:"job_id"`
	JobType    omtx.JobType   `json:"job_type,omitempty"`
	BatchID    string         `json:"batch_id,omitempty"`
	Action     string         `json:"action"`
	From       omtx.JobStatus `json:"from,omitempty"`
	To         omtx.JobStatus `json:"to,omitempty"`
	WorkflowID string         `json:"workflow_id,omitempty"`
	Detail     string         `json:"detail,omitempty"`
	DryRun     bool           `json:"dry_run,omitempty"`
}

// Summary is the report's last line.
type Summary struct {
	// Summary is always true: it tells this line from the others.
	Summary bool `json:"summary"`
	DryRun  bool `json:"dry_run"`
	// Selected counts the records the selection chose.
	Selected  int    `json:"selected"`
	Requeued  int    `json:"requeued"`
	Started   int    `json:"started"`
	Unchanged int    `json:"unchanged"`
	Skipped   int    `json:"skipped"`
	Errors    int    `json:"errors"`
	Message   string `json:"message"`
}

// groupSize is how many children one read or bulk write holds.
const groupSize = 400

// run is the state of one Run.
type run struct {
	*Requeuer
	ctx     context.Context
	sel     Selection
	now     time.Time
	sum     Summary
	enc     *json.Encoder
	batches []string        // batch ids to requeue, in the order met
	seen    map[string]bool // job and batch ids handled
}

// Run requeues what sel chooses and writes the report. Its error is for
// a selection that could not be read; a record that could not be
// requeued is reported and counted in Summary.Errors.
func (r *Requeuer) Run(ctx context.Context, sel Selection) (Summary, error) {
	out := r.Out
	if out == nil {
		out = io.Discard
	}
	now := time.Now().UTC()
	if r.Now != nil {
		now = r.Now().UTC()
	}
	x := &run{Requeuer: r, ctx: ctx, sel: sel, now: now, enc: json.NewEncoder(out), seen: map[string]bool{}}
	x.sum = Summary{Summary: true, DryRun: r.DryRun}
	if err := x.selectAndRun(); err != nil {
		return x.sum, err
	}
	n := x.sum.Requeued + x.sum.Started
	switch {
	case n == 0 && x.sum.Selected == 0:
		x.sum.Message = "nothing selected"
	case n == 0:
		x.sum.Message = "nothing to requeue"
	case r.DryRun:
		x.sum.Message = fmt.Sprintf("dry run: %d records would be requeued or started; nothing was written", n)
	default:
		x.sum.Message = fmt.Sprintf("%d records requeued or started", n)
	}
	if x.sum.Errors > 0 {
		x.sum.Message += fmt.Sprintf("; %d could not be requeued (see the error lines)", x.sum.Errors)
	}
	return x.sum, x.enc.Encode(x.sum)
}

// selectAndRun reads the selection and requeues each record: jobs as they
// come, batches after (each once).
func (x *run) selectAndRun() error {
	switch {
	case len(x.sel.IDs) > 0:
		for _, id := range x.sel.IDs {
			rec, err := x.Jobs.Get(x.ctx, id)
			if err != nil {
				x.fail(Line{JobID: id}, err)
				continue
			}
			x.sum.Selected++
			x.record(rec, true)
		}
	case x.sel.BatchID != "":
		x.sum.Selected++
		x.addBatch(x.sel.BatchID)
	default:
		// Records a requeue leaves failed (a batch's ligands refused for
		// their input, failures of the other cause) stay in the query's
		// answer run after run, oldest first: they are scanned past, up to
		// scanFactor times the limit, so that they cannot hide the newer
		// failures the limit is for.
		recs, err := x.Jobs.ListFailed(x.ctx, x.sel.Since, x.sel.Limit*scanFactor)
		if err != nil {
			return fmt.Errorf("list failed records: %w", err)
		}
		for _, rec := range recs {
			if x.sum.Selected >= x.sel.Limit {
				break
			}
			cause := CauseOf(rec)
			switch {
			case x.sel.Cause != CauseAny && cause != x.sel.Cause:
				continue
			case rec.JobType == omtx.JobTypeBatchChild && (cause == CauseInput || x.seen[rec.BatchParentID]):
				continue // never requeued (failedChildren), or its batch is in already
			}
			x.sum.Selected++
			x.record(rec, false)
		}
		// Requeues that died between their record write and their start.
		unfinished, err := x.Jobs.ListUnfinished(x.ctx)
		if err != nil {
			return fmt.Errorf("list unfinished records: %w", err)
		}
		for _, rec := range unfinished {
			if rec.Requeues > 0 && rec.Status == omtx.StatusPending && !x.seen[rec.JobID] {
				x.repair(rec)
			}
		}
	}
	for _, id := range x.batches {
		x.batch(id)
	}
	return nil
}

// record requeues one selected record: a job now, a batch (or a child's
// batch) later. explicit says it was chosen by id, so what is not
// requeued is reported.
func (x *run) record(rec *omtx.Job, explicit bool) {
	switch rec.JobType {
	case omtx.JobTypeBatchChild:
		x.addBatch(rec.BatchParentID)
	case omtx.JobTypeBatchParent:
		x.addBatch(rec.JobID)
	default:
		if x.seen[rec.JobID] {
			return
		}
		x.seen[rec.JobID] = true
		x.job(rec, explicit)
	}
}

func (x *run) addBatch(id string) {
	if !x.seen[id] {
		x.seen[id] = true
		x.batches = append(x.batches, id)
	}
}

// report writes one line and counts it.
func (x *run) report(l Line) {
	l.DryRun = x.DryRun && (l.Action == ActionRequeued || l.Action == ActionStarted)
	switch l.Action {
	case ActionRequeued:
		x.sum.Requeued++
	case ActionStarted:
		x.sum.Started++
	case ActionUnchanged:
		x.sum.Unchanged++
	case ActionSkipped:
		x.sum.Skipped++
	case ActionError:
		x.sum.Errors++
	}
	_ = x.enc.Encode(l) // a broken stdout shows in the summary's write
}

func (x *run) fail(l Line, err error) {
	l.Action, l.Detail = ActionError, err.Error()
	x.report(l)
}

// job requeues an individual job: a failed one is set back to pending
// under its next generation and started; a pending one of an earlier
// requeue is started if its workflow is missing.
func (x *run) job(rec *omtx.Job, explicit bool) {
	l := Line{JobID: rec.JobID, JobType: rec.JobType, From: rec.Status, To: rec.Status}
	switch {
	case rec.Status == omtx.StatusFailed && x.sel.Cause != CauseAny && CauseOf(rec) != x.sel.Cause:
		l.Action, l.Detail = ActionSkipped, "its failure's cause is "+CauseOf(rec)+", not "+x.sel.Cause
	case rec.Status == omtx.StatusFailed:
		l.To, l.WorkflowID = omtx.StatusPending, contract.RequeueWorkflowID(contract.WorkflowIDOf(rec.JobType, rec.JobID), rec.Requeues+1)
		l.Action, l.Detail = ActionRequeued, "failed: "+rec.Error
		if x.DryRun {
			x.report(l)
			return
		}
		cur, ok := x.nextGeneration(l, func(j *omtx.Job) bool { return j.Status == omtx.StatusFailed })
		if ok {
			x.start(cur, l)
		}
	case rec.Status == omtx.StatusPending && rec.Requeues > 0:
		x.repair(rec)
	default:
		if explicit {
			l.Action, l.Detail = ActionSkipped, fmt.Sprintf("it is %s: only failed records are requeued", rec.Status)
			if rec.Requeues > 0 {
				l.Action, l.WorkflowID, l.Detail = ActionUnchanged, contract.WorkflowOf(rec), fmt.Sprintf("requeued before, and %s", rec.Status)
			}
			x.report(l)
		}
	}
}

// temporalRef points a requeued record at its new generation's
// workflow, as the API points a new record at its first.
func temporalRef(j *omtx.Job) *omtx.TemporalRef {
	spec := contract.SpecOf(j)
	return &omtx.TemporalRef{WorkflowID: contract.WorkflowOf(j), TaskQueue: contract.TaskQueueOrchestration, GPUClass: spec.GPUClass()}
}

// nextGeneration sets the record of l back to pending under the
// generation l names (l.WorkflowID), if it is still as requeue found it
// (from). It reports an error, or a record that changed meanwhile, and
// returns false then.
func (x *run) nextGeneration(l Line, from func(*omtx.Job) bool) (*omtx.Job, bool) {
	cur, err := x.Jobs.Update(x.ctx, l.JobID, func(cur *omtx.Job) (*omtx.Job, error) {
		if cur == nil || !from(cur) {
			return nil, nil // changed meanwhile: see below
		}
		x.reset(cur)
		cur.BatchResults = nil // a batch's old aggregate no longer describes it
		cur.Requeues++
		cur.Temporal = temporalRef(cur)
		return cur, nil
	})
	if err != nil {
		x.fail(l, fmt.Errorf("set back to pending: %w", err))
		return nil, false
	}
	if cur == nil || cur.Status != omtx.StatusPending || contract.WorkflowOf(cur) != l.WorkflowID {
		l.Action, l.To, l.WorkflowID = ActionSkipped, "", ""
		l.Detail = "its record changed while it was being requeued; run the command again"
		x.report(l)
		return nil, false
	}
	return cur, true
}

// reset clears what a failed run left on a record that runs again.
func (x *run) reset(j *omtx.Job) {
	j.Status, j.Error, j.FailureCause, j.Results, j.UpdatedAt = omtx.StatusPending, "", "", nil, x.now
	j.StartedAt, j.CompletedAt = nil, nil
}

// start starts the workflow of a record set back to pending, and reports
// l with the run.
func (x *run) start(rec *omtx.Job, l Line) {
	s, err := jobstart.OfRecord(rec, x.Fleet)
	if err == nil {
		var runID string
		runID, err = x.Workflows.Start(x.ctx, s)
		l.Detail += "; started " + s.WorkflowID + ", run " + runID
	}
	if err != nil {
		x.fail(l, fmt.Errorf("start its workflow (run the command again to retry): %w", err))
		return
	}
	x.report(l)
}

// repair starts the workflow of a record an earlier requeue set back to
// pending, if that run died before starting it. A batch has its failed
// children set back to pending first, as its requeue would have.
func (x *run) repair(rec *omtx.Job) {
	x.seen[rec.JobID] = true
	wid := contract.WorkflowOf(rec)
	l := Line{JobID: rec.JobID, JobType: rec.JobType, From: rec.Status, To: rec.Status, WorkflowID: wid}
	exists, err := x.Workflows.Exists(x.ctx, wid)
	if err != nil {
		x.fail(l, fmt.Errorf("describe %s: %w", wid, err))
		return
	}
	if exists {
		l.Action, l.Detail = ActionUnchanged, "requeued before; its workflow exists"
		x.report(l)
		return
	}
	l.Action, l.Detail = ActionStarted, "requeued before, and its workflow never started"
	if x.DryRun {
		x.report(l)
		return
	}
	if rec.JobType == omtx.JobTypeBatchParent {
		kids, err := x.failedChildren(rec.JobID)
		if err == nil {
			err = x.setPending(rec.JobID, kids)
		}
		if err != nil {
			x.fail(l, err)
			return
		}
	}
	x.start(rec, l)
}

// batch requeues a batch: a finished one with failed children is set
// back to pending under its next generation, its failed children too, and
// a new BatchWorkflow started; an earlier requeue that died before its
// start is repaired; a batch still running is left to its workflow.
func (x *run) batch(id string) {
	l := Line{JobID: id, JobType: omtx.JobTypeBatchParent}
	parent, err := x.Jobs.Get(x.ctx, id)
	if err != nil {
		x.fail(l, err)
		return
	}
	l.From, l.To = parent.Status, parent.Status
	if parent.JobType != omtx.JobTypeBatchParent {
		x.fail(l, fmt.Errorf("%s is a %s, not a batch", id, parent.JobType))
		return
	}
	switch {
	case parent.Status == omtx.StatusPending && parent.Requeues > 0:
		x.repair(parent)
		return
	case !parent.Status.Terminal():
		l.Action, l.WorkflowID, l.Detail = ActionSkipped, contract.WorkflowOf(parent), fmt.Sprintf("the batch is %s: its workflow runs its children", parent.Status)
		x.report(l)
		return
	}
	kids, err := x.failedChildren(id)
	if err != nil {
		x.fail(l, err)
		return
	}
	if len(kids) == 0 {
		l.Action, l.Detail = ActionSkipped, "no failed ligands to requeue (those refused for their input would fail again)"
		x.report(l)
		return
	}
	l.Action, l.To = ActionRequeued, omtx.StatusPending
	l.WorkflowID = contract.RequeueWorkflowID(contract.WorkflowIDOf(parent.JobType, id), parent.Requeues+1)
	l.Detail = fmt.Sprintf("%d failed ligands set back to pending; the batch's workflow re-runs them and skips the finished ones", len(kids))
	var kidLines []Line // said before setPending resets the children
	for _, k := range kids {
		kidLines = append(kidLines, Line{JobID: k.JobID, JobType: k.JobType, BatchID: id, Action: ActionRequeued, From: omtx.StatusFailed, To: omtx.StatusPending,
			WorkflowID: l.WorkflowID, Detail: "failed: " + k.Error})
	}
	if !x.DryRun {
		// The parent first: once it is pending under its new generation,
		// a run that dies before the start is repaired by the next one
		// (repair), which sets the children back too.
		cur, ok := x.nextGeneration(l, func(j *omtx.Job) bool { return j.Status.Terminal() })
		if !ok {
			return
		}
		if err := x.setPending(id, kids); err != nil {
			x.fail(l, err)
			return
		}
		parent = cur
	}
	for _, kl := range kidLines {
		x.report(kl)
	}
	if x.DryRun {
		x.report(l)
		return
	}
	x.start(parent, l)
}

// failedChildren lists a batch's failed children that a requeue runs
// again: those of the selection's cause, never those refused for their
// input.
func (x *run) failedChildren(batchID string) ([]*omtx.Job, error) {
	var out []*omtx.Job
	f := omtx.ChildFilter{BatchID: batchID, Statuses: []omtx.JobStatus{omtx.StatusFailed}, AfterIndex: -1, Limit: groupSize}
	for {
		page, err := x.Jobs.ListChildren(x.ctx, f)
		if err != nil {
			return nil, fmt.Errorf("list the failed children of %s: %w", batchID, err)
		}
		for _, k := range page {
			if CauseOf(k) == CauseInfrastructure {
				out = append(out, k)
			}
		}
		if len(page) < groupSize || page[len(page)-1].BatchIndex == nil {
			return out, nil
		}
		f.AfterIndex = *page[len(page)-1].BatchIndex
	}
}

// setPending sets a batch's children to requeue (failedChildren) back to
// pending.
func (x *run) setPending(batchID string, kids []*omtx.Job) error {
	for _, k := range kids {
		x.reset(k)
	}
	for lo := 0; lo < len(kids); lo += groupSize {
		if err := x.Jobs.SetMany(x.ctx, kids[lo:min(lo+groupSize, len(kids))]); err != nil {
			return fmt.Errorf("set the failed children of %s back to pending: %w", batchID, err)
		}
	}
	return nil
}
