// Package storetest holds the one in-memory stand-in for package store's
// job and file stores, for unit tests of the API and the activities. It
// keeps the real stores' contracts that callers depend on: copies in and
// out (no aliasing), omtx ENotFound and EConflict errors, batch_index
// order for children, newest-first lists, and create-if-absent.
package storetest

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Jobs is an in-memory job-document store.
type Jobs struct {
	mu     sync.Mutex
	docs   map[string]*omtx.Job
	writes int64
	// Fail, when set, is returned by every write (a store outage).
	Fail error
}

// NewJobs returns an empty store.
func NewJobs() *Jobs { return &Jobs{docs: map[string]*omtx.Job{}} }

func clone(j *omtx.Job) *omtx.Job {
	if j == nil {
		return nil
	}
	c := *j
	return &c
}

// Writes counts document writes.
func (s *Jobs) Writes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writes
}

// Put stores a document as it is (test setup).
func (s *Jobs) Put(j *omtx.Job) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs[j.JobID] = clone(j)
}

// Doc returns a copy of a document, or nil.
func (s *Jobs) Doc(id string) *omtx.Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clone(s.docs[id])
}

// Len is the number of documents.
func (s *Jobs) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.docs)
}

// Create writes a new document, or fails with EConflict.
func (s *Jobs) Create(_ context.Context, j *omtx.Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	if _, ok := s.docs[j.JobID]; ok {
		return omtx.Errorf(omtx.EConflict, "job_id", "job %s already exists", j.JobID)
	}
	s.docs[j.JobID] = clone(j)
	s.writes++
	return nil
}

// Get reads a document, or fails with ENotFound.
func (s *Jobs) Get(_ context.Context, id string) (*omtx.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, ok := s.docs[id]
	if !ok {
		return nil, omtx.Errorf(omtx.ENotFound, "job_id", "job %s not found", id)
	}
	return clone(j), nil
}

// Delete removes a document; a missing one is not an error.
func (s *Jobs) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	delete(s.docs, id)
	return nil
}

// Update applies fn atomically, as store.Jobs.Update does.
func (s *Jobs) Update(_ context.Context, id string, fn func(*omtx.Job) (*omtx.Job, error)) (*omtx.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := clone(s.docs[id])
	next, err := fn(cur)
	if err != nil {
		return nil, err
	}
	if next == nil {
		return cur, nil
	}
	if s.Fail != nil {
		return nil, s.Fail
	}
	s.docs[id] = clone(next)
	s.writes++
	return next, nil
}

// CreateMany creates documents, leaving existing ones as they are, and
// says which existed.
func (s *Jobs) CreateMany(_ context.Context, jobs []*omtx.Job) ([]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil && len(jobs) > 0 {
		return nil, s.Fail
	}
	existed := make([]bool, len(jobs))
	for i, j := range jobs {
		if _, ok := s.docs[j.JobID]; !ok {
			s.docs[j.JobID] = clone(j)
		} else {
			existed[i] = true
		}
		s.writes++
	}
	return existed, nil
}

// GetMany reads documents in order; a missing one is nil.
func (s *Jobs) GetMany(_ context.Context, ids []string) ([]*omtx.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*omtx.Job, len(ids))
	for i, id := range ids {
		out[i] = clone(s.docs[id])
	}
	return out, nil
}

// SetMany writes whole documents.
func (s *Jobs) SetMany(_ context.Context, jobs []*omtx.Job) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil && len(jobs) > 0 {
		return s.Fail
	}
	for _, j := range jobs {
		s.docs[j.JobID] = clone(j)
		s.writes++
	}
	return nil
}

// SetProgress writes a batch parent's progress and updated_at.
func (s *Jobs) SetProgress(_ context.Context, batchID string, p omtx.Progress, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	j, ok := s.docs[batchID]
	if !ok {
		return omtx.Errorf(omtx.ENotFound, "job_id", "job %s not found", batchID)
	}
	j.Progress, j.UpdatedAt = &p, now
	s.writes++
	return nil
}

// List returns a user's jobs, newest first, as store.Jobs.List does.
func (s *Jobs) List(_ context.Context, f omtx.ListFilter) ([]*omtx.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*omtx.Job
	for _, j := range s.docs {
		if j.UserID != f.UserID || (len(f.JobTypes) > 0 && !slices.Contains(f.JobTypes, j.JobType)) ||
			(f.Status != "" && j.Status != f.Status) {
			continue
		}
		out = append(out, clone(j))
	}
	sort.Slice(out, func(a, b int) bool {
		if !out[a].CreatedAt.Equal(out[b].CreatedAt) {
			return out[a].CreatedAt.After(out[b].CreatedAt)
		}
		return out[a].JobID > out[b].JobID
	})
	if f.AfterJobID != "" {
		i := 0
		for i < len(out) && (out[i].CreatedAt.After(f.AfterCreatedAt) ||
			(out[i].CreatedAt.Equal(f.AfterCreatedAt) && out[i].JobID >= f.AfterJobID)) {
			i++
		}
		out = out[i:]
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// ListChildren returns a batch's children in batch_index order.
func (s *Jobs) ListChildren(_ context.Context, f omtx.ChildFilter) ([]*omtx.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*omtx.Job
	for _, j := range s.docs {
		if j.BatchParentID != f.BatchID || j.BatchIndex == nil || *j.BatchIndex <= f.AfterIndex ||
			(len(f.Statuses) > 0 && !slices.Contains(f.Statuses, j.Status)) {
			continue
		}
		out = append(out, clone(j))
	}
	slices.SortFunc(out, func(a, b *omtx.Job) int { return cmp.Compare(*a.BatchIndex, *b.BatchIndex) })
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// ActiveOf counts a user's jobs and lists the user's batches that are not
// final, as store.Jobs.ActiveOf does.
func (s *Jobs) ActiveOf(_ context.Context, userID string) (int, []*omtx.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	var batches []*omtx.Job
	for _, j := range s.docs {
		if j.UserID != userID || !omtx.Counts(j.JobType, j.Status) {
			continue
		}
		if j.JobType == omtx.JobTypeBatchParent {
			batches = append(batches, clone(j))
		} else {
			n++
		}
	}
	return n, batches, nil
}

// ListUnfinished returns the jobs and batches that are not final, oldest
// first, as store.Jobs.ListUnfinished does.
func (s *Jobs) ListUnfinished(context.Context) ([]*omtx.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*omtx.Job
	for _, j := range s.docs {
		if omtx.Counts(j.JobType, j.Status) {
			out = append(out, clone(j))
		}
	}
	slices.SortFunc(out, func(a, b *omtx.Job) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.JobID, b.JobID))
	})
	return out, nil
}

// ListFailed is store.Jobs.ListFailed: failed documents updated at or
// after since, oldest update first, at most limit (0: all).
func (s *Jobs) ListFailed(_ context.Context, since time.Time, limit int) ([]*omtx.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*omtx.Job
	for _, j := range s.docs {
		if j.Status == omtx.StatusFailed && !j.UpdatedAt.Before(since) {
			out = append(out, clone(j))
		}
	}
	slices.SortFunc(out, func(a, b *omtx.Job) int {
		return cmp.Or(a.UpdatedAt.Compare(b.UpdatedAt), cmp.Compare(a.JobID, b.JobID))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Ping answers.
func (s *Jobs) Ping(context.Context) error { return nil }

// Blobs is an in-memory file store.
type Blobs struct {
	mu      sync.Mutex
	objects map[string]omtx.Object
	writes  map[string]int
	// Fail, when set, is returned by every write.
	Fail error
}

// NewBlobs returns an empty store.
func NewBlobs() *Blobs { return &Blobs{objects: map[string]omtx.Object{}, writes: map[string]int{}} }

// URI is the gs:// address of name in bucket "test".
func (b *Blobs) URI(name string) string { return "gs://test/" + name }

// Put writes an object.
func (b *Blobs) Put(_ context.Context, name, contentType string, data []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Fail != nil {
		return b.Fail
	}
	b.objects[name] = omtx.Object{Name: name, ContentType: contentType, Data: bytes.Clone(data)}
	b.writes[name]++
	return nil
}

// PutIfAbsent writes an object only if none exists.
func (b *Blobs) PutIfAbsent(ctx context.Context, name, contentType string, data []byte) (bool, error) {
	b.mu.Lock()
	_, ok := b.objects[name]
	b.mu.Unlock()
	if ok {
		return false, nil
	}
	return true, b.Put(ctx, name, contentType, data)
}

// Create returns a writer whose bytes become the object on Close.
func (b *Blobs) Create(ctx context.Context, name, contentType string) io.WriteCloser {
	return &writer{b: b, ctx: ctx, name: name, ct: contentType}
}

// CreateIfAbsent is Create whose Close fails with EConflict when the
// object exists.
func (b *Blobs) CreateIfAbsent(ctx context.Context, name, contentType string) io.WriteCloser {
	return &writer{b: b, ctx: ctx, name: name, ct: contentType, ifAbsent: true}
}

type writer struct {
	b        *Blobs
	ctx      context.Context
	name, ct string
	ifAbsent bool
	buf      bytes.Buffer
}

func (w *writer) Write(p []byte) (int, error) { return w.buf.Write(p) }
func (w *writer) Close() error {
	if w.ifAbsent {
		created, err := w.b.PutIfAbsent(w.ctx, w.name, w.ct, w.buf.Bytes())
		if err == nil && !created {
			return omtx.Errorf(omtx.EConflict, "name", "file %s exists", w.name)
		}
		return err
	}
	return w.b.Put(w.ctx, w.name, w.ct, w.buf.Bytes())
}

// Open streams an object's bytes.
func (b *Blobs) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	data, err := b.Read(ctx, name)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// Get reads an object, or fails with ENotFound.
func (b *Blobs) Get(_ context.Context, name string) (*omtx.Object, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	o, ok := b.objects[name]
	if !ok {
		return nil, omtx.Errorf(omtx.ENotFound, "name", "file %s not found", name)
	}
	o.Data = bytes.Clone(o.Data)
	return &o, nil
}

// Read returns an object's bytes.
func (b *Blobs) Read(ctx context.Context, name string) ([]byte, error) {
	o, err := b.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	return o.Data, nil
}

// Exists reports whether an object exists.
func (b *Blobs) Exists(_ context.Context, name string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.objects[name]
	return ok, nil
}

// List returns the sorted names under prefix.
func (b *Blobs) List(_ context.Context, prefix string) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for n := range b.objects {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Writes counts the writes of one object.
func (b *Blobs) Writes(name string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.writes[name]
}

// Ping answers.
func (b *Blobs) Ping(context.Context) error { return nil }
