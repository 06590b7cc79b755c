package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store"
)

// MaxChildIDsInParent bounds child_job_ids in a parent document, which must
// stay under Firestore's 1 MiB document limit. Larger batches omit the list;
// their children are found by the batch_parent_id query, as always.
const MaxChildIDsInParent = 10000

// ChildJobIDs lists the child ids of a batch of total ligands.
func ChildJobIDs(batchID string, total int) []string {
	ids := make([]string, total)
	for i := range ids {
		ids[i] = omtx.BatchChildJobID(batchID, i, total)
	}
	return ids
}

// PrepareBatchInput is PrepareBatch's input: the parent document as the API
// wrote it.
type PrepareBatchInput struct {
	Parent omtx.Job
}

// PrepareBatchOutput reports what PrepareBatch found.
type PrepareBatchOutput struct {
	Status  omtx.JobStatus // the parent's status: running, or terminal if cancelled before it started
	Total   int
	Invalid int
}

// PrepareBatch marks the batch running and creates one BATCH_CHILD document
// per ligand of batches/{batch_id}/ligands.json. Children that exist already
// are left alone, so a retry creates each once. Rows that failed validation
// (kept at the caller's request) become failed children with their reasons.
func (o *Orchestration) PrepareBatch(ctx context.Context, in PrepareBatchInput) (PrepareBatchOutput, error) {
	p := in.Parent
	now := o.now()
	info := activity.GetInfo(ctx)
	parent, err := o.Jobs.Update(ctx, p.JobID, func(cur *omtx.Job) (*omtx.Job, error) {
		if cur == nil {
			j := p
			cur = &j
		}
		if cur.Status == omtx.StatusPending && sameKeyOtherRequest(cur, &p) {
			cur.Status, cur.Error, cur.UpdatedAt, cur.CompletedAt = omtx.StatusFailed, errKeyReused, now, &now
			return cur, nil
		}
		if cur.Status != omtx.StatusPending {
			return nil, nil
		}
		cur.Status, cur.UpdatedAt, cur.StartedAt = omtx.StatusRunning, now, &now
		cur.Temporal = &omtx.TemporalRef{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID}
		return cur, nil
	})
	if err != nil {
		return PrepareBatchOutput{}, fmt.Errorf("prepare batch: %w", err)
	}
	if parent.Status.Terminal() {
		return PrepareBatchOutput{Status: parent.Status}, nil
	}
	raw, err := o.Blobs.Read(ctx, omtx.BatchPrefix(p.JobID)+omtx.FileLigands)
	if err != nil {
		return PrepareBatchOutput{}, fmt.Errorf("read ligands: %w", err)
	}
	var entries []omtx.LibraryEntry
	if err := json.Unmarshal(raw, &entries); err != nil {
		return PrepareBatchOutput{}, temporal.NewNonRetryableApplicationError("ligands.json is not a ligand list: "+err.Error(), ErrTypeInvalidInput, err)
	}
	total := len(entries)
	out := PrepareBatchOutput{Status: omtx.StatusRunning, Total: total}
	children := make([]*omtx.Job, 0, writeGroup)
	flush := func() error {
		if err := o.Jobs.CreateMany(ctx, children); err != nil {
			return err
		}
		children = children[:0]
		activity.RecordHeartbeat(ctx)
		return nil
	}
	for _, e := range entries {
		c := newChild(&p, e, total, now)
		if e.Error != "" {
			out.Invalid++
		}
		children = append(children, c)
		if len(children) == writeGroup {
			if err := flush(); err != nil {
				return out, fmt.Errorf("create children: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return out, fmt.Errorf("create children: %w", err)
	}
	// Record the children on the parent, unless it was cancelled while
	// they were being created (its final record must not be overwritten).
	if _, err := o.Jobs.Update(ctx, p.JobID, func(cur *omtx.Job) (*omtx.Job, error) {
		if cur == nil || cur.Status.Terminal() {
			return nil, nil
		}
		cur.UpdatedAt = now
		cur.Progress = &omtx.Progress{Total: total, Failed: out.Invalid, Pending: total - out.Invalid}
		if total <= MaxChildIDsInParent {
			cur.ChildJobIDs = ChildJobIDs(p.JobID, total)
		}
		return cur, nil
	}); err != nil {
		return out, fmt.Errorf("prepare batch: %w", err)
	}
	logFor(ctx, o.Logger, "batch_id", p.JobID).Info("batch prepared", "ligands", total, "invalid", out.Invalid)
	return out, nil
}

// writeGroup is how many documents one batched write holds.
const writeGroup = 400

func newChild(parent *omtx.Job, e omtx.LibraryEntry, total int, now time.Time) *omtx.Job {
	idx := e.Index
	c := &omtx.Job{
		JobID:          omtx.BatchChildJobID(parent.JobID, e.Index, total),
		JobType:        omtx.JobTypeBatchChild,
		BatchParentID:  parent.JobID,
		BatchIndex:     &idx,
		Model:          parent.Model,
		RequestedModel: parent.RequestedModel,
		Status:         omtx.StatusPending,
		UserID:         parent.UserID,
		CreatedAt:      parent.CreatedAt,
		UpdatedAt:      now,
		InputData: omtx.InputData{
			ProteinSequence: parent.InputData.ProteinSequence,
			LigandSMILES:    e.SMILES,
			LigandName:      e.Name,
			Parameters:      parent.InputData.Parameters,
		},
		LigandMetadata: e.Metadata,
	}
	if e.Error != "" {
		c.Status, c.Error, c.CompletedAt = omtx.StatusFailed, "invalid input (row "+fmt.Sprint(e.Row)+"): "+e.Error, &now
	}
	return c
}

// ChunkCounts counts a chunk's ligands by final status.
type ChunkCounts struct {
	Completed int
	Failed    int
	Cancelled int
}

func countFinal(docs []*omtx.Job) ChunkCounts {
	var c ChunkCounts
	for _, d := range docs {
		if d == nil {
			continue
		}
		switch d.Status {
		case omtx.StatusCompleted:
			c.Completed++
		case omtx.StatusFailed:
			c.Failed++
		case omtx.StatusCancelled:
			c.Cancelled++
		}
	}
	return c
}

// FinishChildrenInput is FinishChildren's input.
type FinishChildrenInput struct {
	JobIDs []string
	Status omtx.JobStatus // failed or cancelled
	Error  string
}

// FinishChildren gives every listed child that is not yet terminal the
// status, and counts all of them by final status. A chunk whose GPU work
// failed for good, or was cancelled, ends this way.
func (o *Orchestration) FinishChildren(ctx context.Context, in FinishChildrenInput) (ChunkCounts, error) {
	docs, err := o.Jobs.GetMany(ctx, in.JobIDs)
	if err != nil {
		return ChunkCounts{}, fmt.Errorf("finish children: %w", err)
	}
	now := o.now()
	var change []*omtx.Job
	for _, d := range docs {
		if d == nil || d.Status.Terminal() {
			continue
		}
		d.Status, d.Error, d.UpdatedAt, d.CompletedAt = in.Status, in.Error, now, &now
		change = append(change, d)
	}
	if err := o.Jobs.SetMany(ctx, change); err != nil {
		return ChunkCounts{}, fmt.Errorf("finish children: %w", err)
	}
	metrics.Jobs.WithLabelValues(string(omtx.JobTypeBatchChild), string(in.Status)).Add(float64(len(change)))
	return countFinal(docs), nil
}

// CancelBatchRemainderInput is CancelBatchRemainder's input.
type CancelBatchRemainderInput struct {
	BatchID string
	// Status is cancelled (the default) or failed; Error says why.
	Status omtx.JobStatus
	Error  string
}

// CancelBatchRemainder gives every child of a batch that never finished
// the status (cancelled by default: the batch was cancelled; failed: it
// cannot run, e.g. without its MSA), page by page, and returns how many it
// marked.
func (o *Orchestration) CancelBatchRemainder(ctx context.Context, in CancelBatchRemainderInput) (int, error) {
	if in.Status == "" {
		in.Status, in.Error = omtx.StatusCancelled, "batch cancelled"
	}
	n := 0
	for {
		docs, err := o.Jobs.ListChildren(ctx, store.ChildFilter{
			BatchID: in.BatchID, AfterIndex: -1, Limit: writeGroup,
			Statuses: []omtx.JobStatus{omtx.StatusPending, omtx.StatusQueued, omtx.StatusRunning},
		})
		if err != nil {
			return n, fmt.Errorf("cancel remainder: %w", err)
		}
		if len(docs) == 0 {
			return n, nil
		}
		now := o.now()
		for _, d := range docs {
			d.Status, d.Error, d.UpdatedAt, d.CompletedAt = in.Status, in.Error, now, &now
		}
		if err := o.Jobs.SetMany(ctx, docs); err != nil {
			return n, fmt.Errorf("cancel remainder: %w", err)
		}
		metrics.Jobs.WithLabelValues(string(omtx.JobTypeBatchChild), string(in.Status)).Add(float64(len(docs)))
		n += len(docs)
		activity.RecordHeartbeat(ctx, n)
	}
}

// BatchProgressInput is UpdateBatchProgress's input.
type BatchProgressInput struct {
	BatchID  string
	Progress omtx.Progress
}

// UpdateBatchProgress writes the parent's progress and updated_at. The
// workflow calls it at a bounded rate, not once per ligand.
func (o *Orchestration) UpdateBatchProgress(ctx context.Context, in BatchProgressInput) error {
	return o.Jobs.Patch(ctx, in.BatchID, map[string]any{"progress": in.Progress, "updated_at": o.now()})
}

// PredictChunkInput is PredictChunk's input: K ligands of one batch, all
// against the same protein.
type PredictChunkInput struct {
	BatchID    string
	Chunk      int
	JobIDs     []string
	Model      string
	Protein    string
	Parameters omtx.Parameters
	MSA        omtx.MSARef
}

// PredictChunk runs the model on a chunk of a batch in one activity, so the
// model and the protein's features are loaded once for K ligands. Each
// ligand's results are written on their own, to
// batches/{batch_id}/jobs/{job_id}/ and to its child document, as soon as
// its group finishes. A retried attempt skips ligands whose documents are
// already terminal, and heartbeats carry how far the chunk got, so it
// resumes after the last finished ligand instead of redoing it.
func (g *GPU) PredictChunk(ctx context.Context, in PredictChunkInput) (ChunkCounts, error) {
	info := activity.GetInfo(ctx)
	pred, err := g.predictor(in.Model)
	if err != nil {
		return ChunkCounts{}, err
	}
	var resumed int
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &resumed)
	}
	docs, err := g.Jobs.GetMany(ctx, in.JobIDs)
	if err != nil {
		return ChunkCounts{}, fmt.Errorf("read chunk: %w", err)
	}
	now := g.now()
	var todo []*omtx.Job
	for i, d := range docs {
		if d == nil {
			return ChunkCounts{}, fmt.Errorf("child %s has no document", in.JobIDs[i])
		}
		if d.Status.Terminal() {
			continue
		}
		d.Status, d.UpdatedAt = omtx.StatusRunning, now
		if d.StartedAt == nil {
			d.StartedAt = &now
		}
		d.Temporal = &omtx.TemporalRef{
			WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
			TaskQueue: info.TaskQueue, GPUClass: g.GPUClass, Attempt: info.Attempt, Worker: g.WorkerID,
		}
		todo = append(todo, d)
	}
	if err := g.Jobs.SetMany(ctx, todo); err != nil {
		return ChunkCounts{}, fmt.Errorf("mark chunk running: %w", err)
	}
	log := logFor(ctx, g.Logger, "batch_id", in.BatchID, "chunk", in.Chunk)
	if resumed > 0 || len(todo) < len(docs) {
		log.Info("chunk resumed", "heartbeat_done", resumed, "already_finished", len(docs)-len(todo))
	}

	group := g.ChunkGroup
	if group <= 0 {
		group = 8
	}
	for start := 0; start < len(todo); start += group {
		if err := ctx.Err(); err != nil {
			return ChunkCounts{}, err
		}
		part := todo[start:min(start+group, len(todo))]
		if err := g.predictGroup(ctx, in, pred, part, indexAfter(in.JobIDs, part[0].JobID)-1); err != nil {
			return ChunkCounts{}, err
		}
		activity.RecordHeartbeat(ctx, indexAfter(in.JobIDs, part[len(part)-1].JobID))
	}
	counts := countFinal(docs)
	log.Info("chunk done", "completed", counts.Completed, "failed", counts.Failed, "cancelled", counts.Cancelled)
	return counts, nil
}

// indexAfter is the heartbeat detail: how many of the chunk's ligands, in
// order, are behind us.
func indexAfter(ids []string, last string) int {
	for i, id := range ids {
		if id == last {
			return i + 1
		}
	}
	return 0
}

// predictGroup runs one group of a chunk through the model and stores each
// ligand's outcome.
// done is the chunk's progress before this group, which the keepalive
// heartbeats carry while the model runs.
func (g *GPU) predictGroup(ctx context.Context, in PredictChunkInput, pred Predictor, part []*omtx.Job, done int) error {
	model := pred.Info()
	ligands := make([]omtx.Ligand, len(part))
	for i, d := range part {
		ligands[i] = omtx.Ligand{Name: d.InputData.LigandName, SMILES: d.InputData.LigandSMILES}
	}
	// The model's own output for the group goes to every ligand's logs.
	groupLog := newJobLog(g.now)
	req, cleanup, err := g.request(ctx, in.Protein, ligands, in.Parameters, in.MSA, groupLog)
	if err != nil {
		return err
	}
	defer cleanup()
	stop := heartbeat(ctx, g.HeartbeatEvery, done)
	preds, err := pred.Predict(ctx, req)
	stop()
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return modelError(err)
	}
	if len(preds) != len(part) {
		return fmt.Errorf("predict: model returned %d predictions for %d ligands", len(preds), len(part))
	}
	// Store only ligands no one else finished meanwhile (a cancel, or a
	// retried attempt): a terminal status is never overwritten.
	fresh, err := g.Jobs.GetMany(ctx, jobIDs(part))
	if err != nil {
		return fmt.Errorf("re-read chunk: %w", err)
	}
	info := activity.GetInfo(ctx)
	keep := part[:0:0]
	for i, d := range part {
		if fresh[i] != nil && fresh[i].Status.Terminal() {
			continue
		}
		keep = append(keep, d)
		p := preds[i]
		folder := omtx.BatchChildPrefix(in.BatchID, d.JobID)
		logs := newJobLog(g.now)
		logs.Printf("batch %s chunk %d ligand %d (%s) attempt %d on worker %s (gpu class %s), model run shared by %d ligands:",
			in.BatchID, in.Chunk, derefIndex(d.BatchIndex), d.InputData.LigandName, info.Attempt, g.WorkerID, g.GPUClass, len(part))
		_, _ = logs.Write(groupLog.Bytes())
		now := g.now()
		if p.Error != "" {
			logs.Printf("ligand rejected by the model: %s", p.Error)
			g.storeLogs(ctx, folder, logs)
			d.Status, d.Error = omtx.StatusFailed, "ligand_smiles: "+p.Error
		} else {
			logs.Printf("model %s %s: affinity_pred_value=%.4f %s, affinity_probability_binary=%.4f, confidence=%.4f",
				model.Name, model.Version, p.AffinityPredValue, omtx.UnitsLog10IC50uM, p.AffinityProbabilityBinary, p.ConfidenceScore)
			res, err := g.storeResult(ctx, folder, d.JobID, in.Parameters, in.MSA, model, p, logs)
			if err != nil {
				return err
			}
			d.Status, d.Results, d.Error = omtx.StatusCompleted, &res, ""
		}
		d.UpdatedAt, d.CompletedAt = now, &now
	}
	if err := g.Jobs.SetMany(ctx, keep); err != nil {
		return fmt.Errorf("record chunk results: %w", err)
	}
	for _, d := range keep {
		metrics.Jobs.WithLabelValues(string(omtx.JobTypeBatchChild), string(d.Status)).Inc()
	}
	return nil
}

func jobIDs(docs []*omtx.Job) []string {
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.JobID
	}
	return ids
}

func derefIndex(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}
