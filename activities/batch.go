package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// MaxChildIDsInParent bounds child_job_ids in a parent document, which must
// stay under Firestore's 1 MiB document limit. Larger batches omit the list;
// their children are found by the batch_parent_id query, as always.
const MaxChildIDsInParent = 10000

// writeGroup is how many documents one batched write holds.
const writeGroup = 400

// PrepareBatch marks the batch running and creates one BATCH_CHILD document
// per ligand of batches/{batch_id}/ligands.json, streaming the file so that
// memory does not grow with the library. Children that exist already are
// left alone, so a retry creates each once. Rows that failed validation
// (kept at the caller's request) become failed children with their reasons,
// and rows the batch's filters held back filtered children with their rules.
// A library file that cannot be read as a ligand list fails the batch at
// once (non-retryable).
func (o *Orchestration) PrepareBatch(ctx context.Context, in contract.PrepareBatchInput) (contract.PrepareBatchResult, error) {
	spec := in.Parent
	now := o.now()
	info := activity.GetInfo(ctx)
	parent, err := o.Jobs.Update(ctx, spec.JobID, func(cur *omtx.Job) (*omtx.Job, error) {
		if cur == nil {
			cur = spec.Document()
		}
		if cur.Status != omtx.StatusPending {
			return nil, nil
		}
		cur.Status, cur.UpdatedAt, cur.StartedAt = omtx.StatusRunning, now, &now
		cur.Temporal = &omtx.TemporalRef{WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID}
		return cur, nil
	})
	if err != nil {
		return contract.PrepareBatchResult{}, storeErr("prepare batch", err)
	}
	if parent.Status.Terminal() {
		return contract.PrepareBatchResult{Status: parent.Status}, nil
	}
	total := 0
	if spec.BatchConfig != nil {
		total = spec.BatchConfig.TotalLigands
	}
	out := contract.PrepareBatchResult{Status: omtx.StatusRunning}
	filtered := 0
	children := make([]*omtx.Job, 0, writeGroup)
	cached := o.newBatchCache(ctx, &spec, now)
	flush := func() error {
		cached.apply(ctx, children)
		existed, err := o.Jobs.CreateMany(ctx, children)
		if err != nil {
			return storeErr("create children", err)
		}
		cached.created(children, existed)
		children = children[:0]
		activity.RecordHeartbeat(ctx, out.Total)
		return nil
	}
	err = ReadLibrary(ctx, o.Blobs, omtx.BatchPrefix(spec.JobID)+omtx.FileLigands, func(e omtx.LibraryEntry) error {
		if e.Index != out.Total {
			return contract.NonRetryable(contract.ErrTypeInvalidInput,
				fmt.Sprintf("ligands.json: entry %d has index %d", out.Total, e.Index), nil)
		}
		if total > 0 && out.Total >= total {
			return contract.NonRetryable(contract.ErrTypeInvalidInput,
				fmt.Sprintf("ligands.json holds more than the %d ligands of batch_config", total), nil)
		}
		out.Total++
		if e.Error != "" {
			out.Invalid++
		} else if e.FilterRule != "" {
			filtered++
		}
		children = append(children, NewChild(&spec, e, max(total, 1), now))
		if len(children) == writeGroup {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return out, err
	}
	if total > 0 && out.Total != total {
		return out, contract.NonRetryable(contract.ErrTypeInvalidInput,
			fmt.Sprintf("ligands.json holds %d ligands, batch_config says %d", out.Total, total), nil)
	}
	cached.finish(&out, info.Attempt)
	// Record the children on the parent, unless it was cancelled while
	// they were being created (its final record must not be overwritten).
	if _, err := o.Jobs.Update(ctx, spec.JobID, func(cur *omtx.Job) (*omtx.Job, error) {
		if cur == nil || cur.Status.Terminal() {
			return nil, nil
		}
		cur.UpdatedAt = now
		cur.Progress = &omtx.Progress{Total: out.Total, Completed: out.CacheHits, Failed: out.Invalid, Filtered: filtered,
			Pending: out.Total - out.Invalid - out.CacheHits - filtered}
		if out.Total <= MaxChildIDsInParent {
			cur.ChildJobIDs = omtx.BatchChildJobIDs(spec.JobID, 0, out.Total, out.Total)
		}
		return cur, nil
	}); err != nil {
		return out, storeErr("prepare batch", err)
	}
	metrics.JobEnded(omtx.JobTypeBatchChild, omtx.StatusFailed, omtx.CauseUserInput, out.Invalid)
	metrics.JobEnded(omtx.JobTypeBatchChild, omtx.StatusCompleted, "", out.CacheHits)
	logFor(ctx, o.Logger, "batch_id", spec.JobID).Info("batch prepared", "ligands", out.Total, "invalid", out.Invalid, "cache_hits", out.CacheHits)
	return out, nil
}

// MaxLibraryFileBytes bounds the ligands.json that PrepareBatch reads: the
// API's limits (ligands per batch, bytes per row) keep every library far
// below it.
const MaxLibraryFileBytes = 256 << 20

// ReadLibrary streams a stored ligands.json (a JSON array of
// omtx.LibraryEntry) entry by entry into fn. PrepareBatch and reconcile
// read a batch's ligands with it.
func ReadLibrary(ctx context.Context, blobs BlobStore, name string, fn func(omtx.LibraryEntry) error) error {
	r, err := openBlob(ctx, blobs, name)
	if err != nil {
		return storeErr("read ligands", err)
	}
	defer r.Close()
	lr := &io.LimitedReader{R: r, N: MaxLibraryFileBytes + 1}
	dec := json.NewDecoder(lr)
	bad := func(err error) error {
		if lr.N <= 0 {
			return contract.NonRetryable(contract.ErrTypePermanent, fmt.Sprintf("ligands.json is over %d bytes", MaxLibraryFileBytes), nil)
		}
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		if errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, io.ErrUnexpectedEOF) {
			return contract.NonRetryable(contract.ErrTypeInvalidInput, "ligands.json is not a ligand list: "+err.Error(), err)
		}
		return fmt.Errorf("read ligands: %w", err) // a broken connection: retried
	}
	tok, err := dec.Token()
	if err != nil {
		return bad(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return contract.NonRetryable(contract.ErrTypeInvalidInput, "ligands.json is not a ligand list", nil)
	}
	for dec.More() {
		var e omtx.LibraryEntry
		if err := dec.Decode(&e); err != nil {
			return bad(err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return bad(err)
	}
	return nil
}

// Opener is implemented by blob stores that stream reads (store.Blobs);
// others are read whole.
type Opener interface {
	Open(ctx context.Context, name string) (io.ReadCloser, error)
}

func openBlob(ctx context.Context, blobs BlobStore, name string) (io.ReadCloser, error) {
	if o, ok := blobs.(Opener); ok {
		return o.Open(ctx, name)
	}
	data, err := blobs.Read(ctx, name)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// NewChild is the document PrepareBatch creates for ligand e of the batch
// parent (of total ligands): pending, failed with the reason for a row
// that failed validation, or filtered (final: no GPU activity runs it)
// with the rule for a row the batch's filters held back. Reconcile
// rebuilds lost children with it.
func NewChild(parent *contract.JobSpec, e omtx.LibraryEntry, total int, now time.Time) *omtx.Job {
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
			ModelledSMILES:  modelledSMILES(e),
			LigandName:      e.Name,
			Parameters:      parent.InputData.Parameters,
			TargetID:        parent.InputData.TargetID,
			TargetHash:      parent.InputData.TargetHash,
		},
		LigandMetadata: e.Metadata,
		Warnings:       e.Warnings,
	}
	switch {
	case e.Error != "":
		c.Status, c.Error, c.CompletedAt = omtx.StatusFailed, "invalid input (row "+fmt.Sprint(e.Row)+"): "+e.Error, &now
		c.FailureCause = omtx.CauseUserInput
	case e.FilterRule != "":
		c.Status, c.FilterRule, c.CompletedAt = omtx.StatusFiltered, e.FilterRule, &now
	}
	return c
}

// FinishChildren gives every listed child that is not yet terminal the
// status, and counts all of them by final status. A chunk whose GPU work
// failed for good, or was cancelled, ends this way.
func (o *Orchestration) FinishChildren(ctx context.Context, in contract.FinishChildrenInput) (contract.ChunkCounts, error) {
	docs, err := o.Jobs.GetMany(ctx, in.JobIDs)
	if err != nil {
		return contract.ChunkCounts{}, storeErr("finish children", err)
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
		return contract.ChunkCounts{}, storeErr("finish children", err)
	}
	metrics.JobEnded(omtx.JobTypeBatchChild, in.Status, causeOf(in.Status, ""), len(change))
	return contract.CountsOf(omtx.CountJobs(docs)), nil
}

// CancelBatchRemainder gives every child of a batch that never finished
// the status (cancelled by default: the batch was cancelled; failed: it
// cannot run, e.g. without its MSA), page by page, and counts them.
func (o *Orchestration) CancelBatchRemainder(ctx context.Context, in contract.CancelBatchRemainderInput) (contract.CancelBatchRemainderResult, error) {
	if in.Status == "" {
		in.Status, in.Error = omtx.StatusCancelled, "batch cancelled"
	}
	var out contract.CancelBatchRemainderResult
	for {
		docs, err := o.Jobs.ListChildren(ctx, omtx.ChildFilter{
			BatchID: in.BatchID, AfterIndex: -1, Limit: writeGroup,
			Statuses: []omtx.JobStatus{omtx.StatusPending, omtx.StatusQueued, omtx.StatusRunning},
		})
		if err != nil {
			return out, storeErr("cancel remainder", err)
		}
		if len(docs) == 0 {
			return out, nil
		}
		now := o.now()
		for _, d := range docs {
			d.Status, d.Error, d.UpdatedAt, d.CompletedAt = in.Status, in.Error, now, &now
		}
		if err := o.Jobs.SetMany(ctx, docs); err != nil {
			return out, storeErr("cancel remainder", err)
		}
		metrics.JobEnded(omtx.JobTypeBatchChild, in.Status, causeOf(in.Status, ""), len(docs))
		out.Marked += len(docs)
		activity.RecordHeartbeat(ctx, out.Marked)
	}
}

// UpdateBatchProgress writes the parent's progress and updated_at. The
// workflow calls it at a bounded rate, not once per ligand.
func (o *Orchestration) UpdateBatchProgress(ctx context.Context, in contract.BatchProgressInput) (contract.BatchProgressResult, error) {
	if err := o.Jobs.SetProgress(ctx, in.BatchID, in.Progress, o.now()); err != nil {
		return contract.BatchProgressResult{}, storeErr("update batch progress", err)
	}
	return contract.BatchProgressResult{}, nil
}

// modelledSMILES is the molecule a valid library row's model runs: its
// ModelledSMILES, or its SMILES as written when that is empty.
func modelledSMILES(e omtx.LibraryEntry) string {
	if e.Error != "" || e.ModelledSMILES != "" {
		return e.ModelledSMILES
	}
	return e.SMILES
}
