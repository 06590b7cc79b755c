package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"cloud.google.com/go/firestore"
	firestorepb "cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Jobs stores job documents in Firestore.
type Jobs struct {
	client *firestore.Client
	coll   *firestore.CollectionRef
}

// NewJobs wraps a Firestore client. The client is owned by the caller.
func NewJobs(client *firestore.Client) *Jobs {
	return &Jobs{client: client, coll: client.Collection(omtx.JobsCollection)}
}

// OpenFirestore opens a client for project and database ("(default)" when
// empty). It honours FIRESTORE_EMULATOR_HOST.
func OpenFirestore(ctx context.Context, project, database string) (*firestore.Client, error) {
	if database == "" {
		database = firestore.DefaultDatabaseID
	}
	c, err := firestore.NewClientWithDatabase(ctx, project, database)
	if err != nil {
		return nil, fmt.Errorf("open firestore: %w", err)
	}
	return c, nil
}

// Create writes a new job document. It fails with an omtx EConflict error if
// the document exists.
func (s *Jobs) Create(ctx context.Context, job *omtx.Job) error {
	defer metrics.ObserveStoreOp("create", time.Now())
	_, err := s.coll.Doc(job.JobID).Create(ctx, derive(job))
	metrics.FirestoreWrites.Add(1)
	if status.Code(err) == codes.AlreadyExists {
		return omtx.Errorf(omtx.EConflict, "job_id", "job %s already exists", job.JobID)
	}
	if err != nil {
		return storeError("create job "+job.JobID, err)
	}
	return nil
}

// Get reads a job document; a missing one is an omtx ENotFound error.
func (s *Jobs) Get(ctx context.Context, jobID string) (*omtx.Job, error) {
	defer metrics.ObserveStoreOp("get", time.Now())
	snap, err := s.coll.Doc(jobID).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, omtx.Errorf(omtx.ENotFound, "job_id", "job %s not found", jobID)
	}
	if err != nil {
		return nil, fmt.Errorf("get job %s: %w", jobID, err)
	}
	var j omtx.Job
	if err := snap.DataTo(&j); err != nil {
		return nil, fmt.Errorf("decode job %s: %w", jobID, err)
	}
	return &j, nil
}

// Update reads the job in a transaction, applies fn and writes what fn
// returns. fn receives nil when the document does not exist, and returns nil
// to write nothing; Update then returns the document as it was. fn may run
// more than once when transactions contend, so it must only change the job
// it is given.
func (s *Jobs) Update(ctx context.Context, jobID string, fn func(j *omtx.Job) (*omtx.Job, error)) (*omtx.Job, error) {
	defer metrics.ObserveStoreOp("update", time.Now())
	ref := s.coll.Doc(jobID)
	var out *omtx.Job
	wrote := false
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		out, wrote = nil, false
		var cur *omtx.Job
		snap, err := tx.Get(ref)
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return err
		default:
			cur = new(omtx.Job)
			if err := snap.DataTo(cur); err != nil {
				return fmt.Errorf("decode: %w", err)
			}
		}
		next, err := fn(cur)
		if err != nil {
			return err
		}
		if next == nil {
			out = cur
			return nil
		}
		out, wrote = next, true
		return tx.Set(ref, derive(next))
	})
	if err == nil && wrote {
		metrics.FirestoreWrites.Add(1)
	}
	if err != nil {
		var de *omtx.Error
		if errors.As(err, &de) {
			return nil, err
		}
		return nil, storeError("update job "+jobID, err)
	}
	return out, nil
}

// List returns the user's jobs, newest first.
func (s *Jobs) List(ctx context.Context, f omtx.ListFilter) ([]*omtx.Job, error) {
	defer metrics.ObserveStoreOp("list", time.Now())
	q := s.coll.Where("user_id", "==", f.UserID)
	if len(f.JobTypes) > 0 {
		types := make([]string, len(f.JobTypes))
		for i, t := range f.JobTypes {
			types[i] = string(t)
		}
		q = q.Where("job_type", "in", types)
	}
	if f.Status != "" {
		q = q.Where("status", "==", string(f.Status))
	}
	q = q.OrderBy("created_at", firestore.Desc).OrderBy("job_id", firestore.Desc)
	if f.AfterJobID != "" {
		q = q.StartAfter(f.AfterCreatedAt, f.AfterJobID)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	out, err := collect(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return out, nil
}

// collect runs a query and decodes every document.
func collect(ctx context.Context, q firestore.Query) ([]*omtx.Job, error) {
	it := q.Documents(ctx)
	defer it.Stop()
	var out []*omtx.Job
	for {
		snap, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		j := new(omtx.Job)
		if err := snap.DataTo(j); err != nil {
			return nil, fmt.Errorf("decode job %s: %w", snap.Ref.ID, err)
		}
		out = append(out, j)
	}
}

// Ping checks that Firestore answers.
func (s *Jobs) Ping(ctx context.Context) error {
	_, err := s.coll.Doc("_readyz").Get(ctx)
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("firestore: %w", err)
	}
	return nil
}

// CreateMany creates job documents, leaving any that already exist as they
// are, so a retried call creates each document once. existed says, for
// each job, that its document was there already (and was left alone).
func (s *Jobs) CreateMany(ctx context.Context, jobs []*omtx.Job) (existed []bool, err error) {
	defer metrics.ObserveStoreOp("create_many", time.Now())
	return s.bulk(ctx, jobs, (*firestore.BulkWriter).Create, codes.AlreadyExists)
}

// bulk writes jobs through one bulk writer (which paces writes as
// Firestore advises), each on its own; errors with code ignore count as
// success.
func (s *Jobs) bulk(ctx context.Context, jobs []*omtx.Job,
	write func(*firestore.BulkWriter, *firestore.DocumentRef, interface{}) (*firestore.BulkWriterJob, error),
	ignore codes.Code) (ignored []bool, err error) {
	if len(jobs) == 0 {
		return nil, nil
	}
	bw := s.client.BulkWriter(ctx)
	ops := make([]*firestore.BulkWriterJob, 0, len(jobs))
	for _, j := range jobs {
		op, err := write(bw, s.coll.Doc(j.JobID), derive(j))
		if err != nil {
			bw.End()
			return nil, fmt.Errorf("write jobs: %w", err)
		}
		ops = append(ops, op)
	}
	bw.End()
	metrics.FirestoreWrites.Add(float64(len(jobs)))
	ignored = make([]bool, len(jobs))
	for i, op := range ops {
		_, err := op.Results()
		switch {
		case err == nil:
		case status.Code(err) == ignore:
			ignored[i] = true
		default:
			return nil, storeError("write job "+jobs[i].JobID, err)
		}
	}
	return ignored, nil
}

// GetMany reads job documents by id, in order; a missing one is nil.
func (s *Jobs) GetMany(ctx context.Context, ids []string) ([]*omtx.Job, error) {
	defer metrics.ObserveStoreOp("get_many", time.Now())
	refs := make([]*firestore.DocumentRef, len(ids))
	for i, id := range ids {
		refs[i] = s.coll.Doc(id)
	}
	snaps, err := s.client.GetAll(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("get jobs: %w", err)
	}
	out := make([]*omtx.Job, len(snaps))
	for i, snap := range snaps {
		if !snap.Exists() {
			continue
		}
		out[i] = new(omtx.Job)
		if err := snap.DataTo(out[i]); err != nil {
			return nil, fmt.Errorf("decode job %s: %w", ids[i], err)
		}
	}
	return out, nil
}

// SetMany writes whole job documents through the bulk writer. Each
// document is written on its own (not atomically with the others); callers
// write documents whose updates are independent and idempotent.
func (s *Jobs) SetMany(ctx context.Context, jobs []*omtx.Job) error {
	defer metrics.ObserveStoreOp("set_many", time.Now())
	set := func(bw *firestore.BulkWriter, ref *firestore.DocumentRef, v interface{}) (*firestore.BulkWriterJob, error) {
		return bw.Set(ref, v)
	}
	_, err := s.bulk(ctx, jobs, set, codes.OK)
	return err
}

// SetProgress writes a batch parent's progress and updated_at without
// reading it.
func (s *Jobs) SetProgress(ctx context.Context, batchID string, p omtx.Progress, now time.Time) error {
	defer metrics.ObserveStoreOp("set_progress", time.Now())
	_, err := s.coll.Doc(batchID).Update(ctx, []firestore.Update{
		{Path: "progress", Value: p}, {Path: "updated_at", Value: now},
	})
	metrics.FirestoreWrites.Add(1)
	if err != nil {
		return storeError("set progress of "+batchID, err)
	}
	return nil
}

// Delete removes a document; a missing one is not an error.
func (s *Jobs) Delete(ctx context.Context, jobID string) error {
	defer metrics.ObserveStoreOp("delete", time.Now())
	if _, err := s.coll.Doc(jobID).Delete(ctx); err != nil {
		return storeError("delete job "+jobID, err)
	}
	return nil
}

// ListChildren returns a batch's children ordered by batch_index.
func (s *Jobs) ListChildren(ctx context.Context, f omtx.ChildFilter) ([]*omtx.Job, error) {
	defer metrics.ObserveStoreOp("list_children", time.Now())
	q := s.coll.Where("batch_parent_id", "==", f.BatchID)
	switch len(f.Statuses) {
	case 0:
	case 1:
		q = q.Where("status", "==", string(f.Statuses[0]))
	default:
		ss := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			ss[i] = string(st)
		}
		q = q.Where("status", "in", ss)
	}
	q = q.OrderBy("batch_index", firestore.Asc)
	if f.AfterIndex >= 0 {
		q = q.StartAfter(f.AfterIndex)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	out, err := collect(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list children of %s: %w", f.BatchID, err)
	}
	return out, nil
}

// derive sets the fields the store derives from a document before it
// writes it whole (Job.Active).
func derive(j *omtx.Job) *omtx.Job {
	j.Active = omtx.Counts(j.JobType, j.Status)
	return j
}

// ActiveOf counts a user's active individual jobs and returns the user's
// active batches (omtx.Job.Active): one aggregation and one small query.
func (s *Jobs) ActiveOf(ctx context.Context, userID string) (int, []*omtx.Job, error) {
	defer metrics.ObserveStoreOp("active_of", time.Now())
	base := s.coll.Where("user_id", "==", userID).Where("active", "==", true)
	singles := base.Where("job_type", "==", string(omtx.JobTypeIndividual))
	res, err := singles.NewAggregationQuery().WithCount("n").Get(ctx)
	if err != nil {
		return 0, nil, storeError("count active jobs of "+userID, err)
	}
	n := 0
	if v, ok := res["n"].(*firestorepb.Value); ok {
		n = int(v.GetIntegerValue())
	}
	batches, err := collect(ctx, base.Where("job_type", "==", string(omtx.JobTypeBatchParent)))
	if err != nil {
		return 0, nil, storeError("list active batches of "+userID, err)
	}
	return n, batches, nil
}

// ListUnfinished returns every job and batch (not batch children) that
// has not reached a final status (omtx.Job.Active), oldest first: the
// records reconcile checks for a workflow. One equality query on active,
// which the automatic single-field index serves; it reads the work in
// flight, which the quotas bound.
func (s *Jobs) ListUnfinished(ctx context.Context) ([]*omtx.Job, error) {
	defer metrics.ObserveStoreOp("list_unfinished", time.Now())
	out, err := collect(ctx, s.coll.Where("active", "==", true))
	if err != nil {
		return nil, storeError("list unfinished jobs", err)
	}
	slices.SortFunc(out, func(a, b *omtx.Job) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.JobID, b.JobID))
	})
	return out, nil
}

// ListFailed returns up to limit failed documents (jobs and batch
// children alike) last updated at or after since, oldest update first:
// the records `omtx-worker requeue` selects by query. It needs the
// composite index status, updated_at (deploy/firestore).
func (s *Jobs) ListFailed(ctx context.Context, since time.Time, limit int) ([]*omtx.Job, error) {
	defer metrics.ObserveStoreOp("list_failed", time.Now())
	q := s.coll.Where("status", "==", string(omtx.StatusFailed)).Where("updated_at", ">=", since).
		OrderBy("updated_at", firestore.Asc)
	if limit > 0 {
		q = q.Limit(limit)
	}
	out, err := collect(ctx, q)
	if err != nil {
		return nil, storeError("list failed jobs", err)
	}
	return out, nil
}

// storeError wraps a Firestore error. Errors that no retry can fix (the
// document is refused: too large, a reserved field name, an invalid value)
// become omtx EInvalid errors carrying Firestore's own short message, so
// activities can fail the job at once instead of retrying; the rest stay
// plain errors, to be retried.
//
// A call that ended because its context did (gRPC Canceled or
// DeadlineExceeded) also wraps context.Canceled or
// context.DeadlineExceeded, so errors.Is sees it: an activity cancelled by
// its workflow then reports a cancellation, which the workflow reads as
// the batch being cancelled, not as a store failure.
func storeError(op string, err error) error {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.OutOfRange:
		return omtx.Errorf(omtx.EInvalid, "", "%s: refused by Firestore: %s", op, status.Convert(err).Message())
	case codes.Canceled:
		if !errors.Is(err, context.Canceled) {
			return fmt.Errorf("%s: %w", op, errors.Join(context.Canceled, err))
		}
	case codes.DeadlineExceeded:
		if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s: %w", op, errors.Join(context.DeadlineExceeded, err))
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}
