package api

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// DefaultDependencyTimeout bounds each call the API makes to Firestore,
// Cloud Storage or Temporal. A frozen dependency (a stalled emulator, a
// blackholed connection) then costs a request this long, and the client
// gets a 503 with Retry-After, instead of hanging until it gives up.
// 10 s, not less: a quota's count query over a user's jobs is the API's
// slowest call, and on a saturated 2-core machine the Firestore emulator
// took over 5 s to answer one.
const DefaultDependencyTimeout = 10 * time.Second

// RetryAfterSeconds is what a 503 tells the client to wait.
const RetryAfterSeconds = 5

// withDeadline runs call under ctx bounded by d. Every dependency call of
// the API goes through one of the wrappers below, so none can outlive d.
func withDeadline[T any](ctx context.Context, d time.Duration, call func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return call(ctx)
}

func withDeadline0(ctx context.Context, d time.Duration, call func(context.Context) error) error {
	_, err := withDeadline(ctx, d, func(ctx context.Context) (struct{}, error) { return struct{}{}, call(ctx) })
	return err
}

// deadlineJobs bounds every job-store call.
type deadlineJobs struct {
	JobStore
	d time.Duration
}

func (j deadlineJobs) Create(ctx context.Context, job *omtx.Job) error {
	return withDeadline0(ctx, j.d, func(ctx context.Context) error { return j.JobStore.Create(ctx, job) })
}

func (j deadlineJobs) Get(ctx context.Context, id string) (*omtx.Job, error) {
	return withDeadline(ctx, j.d, func(ctx context.Context) (*omtx.Job, error) { return j.JobStore.Get(ctx, id) })
}

func (j deadlineJobs) Delete(ctx context.Context, id string) error {
	return withDeadline0(ctx, j.d, func(ctx context.Context) error { return j.JobStore.Delete(ctx, id) })
}

func (j deadlineJobs) List(ctx context.Context, f omtx.ListFilter) ([]*omtx.Job, error) {
	return withDeadline(ctx, j.d, func(ctx context.Context) ([]*omtx.Job, error) { return j.JobStore.List(ctx, f) })
}

func (j deadlineJobs) ListChildren(ctx context.Context, f omtx.ChildFilter) ([]*omtx.Job, error) {
	return withDeadline(ctx, j.d, func(ctx context.Context) ([]*omtx.Job, error) { return j.JobStore.ListChildren(ctx, f) })
}

func (j deadlineJobs) Update(ctx context.Context, id string, fn func(*omtx.Job) (*omtx.Job, error)) (*omtx.Job, error) {
	return withDeadline(ctx, j.d, func(ctx context.Context) (*omtx.Job, error) { return j.JobStore.Update(ctx, id, fn) })
}

func (j deadlineJobs) ActiveOf(ctx context.Context, user string) (int, []*omtx.Job, error) {
	type active struct {
		n  int
		bs []*omtx.Job
	}
	a, err := withDeadline(ctx, j.d, func(ctx context.Context) (active, error) {
		n, bs, err := j.JobStore.ActiveOf(ctx, user)
		return active{n, bs}, err
	})
	return a.n, a.bs, err
}

func (j deadlineJobs) Ping(ctx context.Context) error {
	return withDeadline0(ctx, j.d, j.JobStore.Ping)
}

// deadlineBlobs bounds every file-store call. A stream opened with Open
// is bounded while it is idle: each Read must make progress within d, so
// a store that freezes mid-download ends the response instead of holding
// it open, while a large file that keeps flowing is never cut.
type deadlineBlobs struct {
	BlobStore
	d time.Duration
}

func (b deadlineBlobs) Get(ctx context.Context, name string) (*omtx.Object, error) {
	return withDeadline(ctx, b.d, func(ctx context.Context) (*omtx.Object, error) { return b.BlobStore.Get(ctx, name) })
}

func (b deadlineBlobs) Put(ctx context.Context, name, contentType string, data []byte) error {
	return withDeadline0(ctx, b.d, func(ctx context.Context) error { return b.BlobStore.Put(ctx, name, contentType, data) })
}

func (b deadlineBlobs) PutIfAbsent(ctx context.Context, name, contentType string, data []byte) (bool, error) {
	return withDeadline(ctx, b.d, func(ctx context.Context) (bool, error) {
		return b.BlobStore.PutIfAbsent(ctx, name, contentType, data)
	})
}

func (b deadlineBlobs) Ping(ctx context.Context) error {
	return withDeadline0(ctx, b.d, b.BlobStore.Ping)
}

func (b deadlineBlobs) Open(ctx context.Context, name string) (io.ReadCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	idle := time.AfterFunc(b.d, cancel)
	rc, err := b.BlobStore.Open(ctx, name)
	if err != nil || !idle.Stop() {
		cancel()
		if err == nil {
			rc.Close()
			err = context.DeadlineExceeded
		}
		return nil, err
	}
	return &idleReader{rc: rc, idle: idle, d: b.d, cancel: cancel}, nil
}

func (b deadlineBlobs) CreateIfAbsent(ctx context.Context, name, contentType string) io.WriteCloser {
	ctx, cancel := context.WithCancel(ctx)
	idle := time.AfterFunc(b.d, cancel)
	idle.Stop() // armed by each Write and by Close
	return &idleWriter{wc: b.BlobStore.CreateIfAbsent(ctx, name, contentType), idle: idle, d: b.d, cancel: cancel}
}

// idleReader cancels its stream's context when one Read waits longer than d.
type idleReader struct {
	rc     io.ReadCloser
	idle   *time.Timer
	d      time.Duration
	cancel context.CancelFunc
	once   sync.Once
}

func (r *idleReader) Read(p []byte) (int, error) {
	r.idle.Reset(r.d)
	n, err := r.rc.Read(p)
	r.idle.Stop()
	return n, err
}

func (r *idleReader) Close() error {
	err := r.rc.Close()
	r.once.Do(r.cancel)
	return err
}

// idleWriter cancels its upload's context when one Write or the final
// Close waits longer than d.
type idleWriter struct {
	wc     io.WriteCloser
	idle   *time.Timer
	d      time.Duration
	cancel context.CancelFunc
	once   sync.Once
}

func (w *idleWriter) Write(p []byte) (int, error) {
	w.idle.Reset(w.d)
	n, err := w.wc.Write(p)
	w.idle.Stop()
	return n, err
}

func (w *idleWriter) Close() error {
	w.idle.Reset(w.d)
	err := w.wc.Close()
	w.idle.Stop()
	w.once.Do(w.cancel)
	return err
}

// Abort passes an abort through to a writer that has one (the store's
// object writer discards a half-written object).
func (w *idleWriter) Abort() {
	if a, ok := w.wc.(interface{ Abort() }); ok {
		a.Abort()
	}
	w.once.Do(w.cancel)
}

// deadlineScheduler bounds every Temporal call. A submit whose start times
// out removes its record and answers 503 (submit's own rule), so Temporal
// being down never leaves a half-written job.
type deadlineScheduler struct {
	Scheduler
	d time.Duration
}

func (s deadlineScheduler) Start(ctx context.Context, req StartRequest) (string, error) {
	return withDeadline(ctx, s.d, func(ctx context.Context) (string, error) { return s.Scheduler.Start(ctx, req) })
}

func (s deadlineScheduler) Cancel(ctx context.Context, id string) error {
	return withDeadline0(ctx, s.d, func(ctx context.Context) error { return s.Scheduler.Cancel(ctx, id) })
}

func (s deadlineScheduler) BatchProgress(ctx context.Context, id string) (omtx.Progress, error) {
	return withDeadline(ctx, s.d, func(ctx context.Context) (omtx.Progress, error) { return s.Scheduler.BatchProgress(ctx, id) })
}

func (s deadlineScheduler) Ping(ctx context.Context) error {
	return withDeadline0(ctx, s.d, s.Scheduler.Ping)
}
