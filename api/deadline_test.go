package api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store/storetest"
)

// frozenJobs is a job store that never answers, as a stalled Firestore
// emulator (SIGSTOP) or a blackholed connection does: each call waits
// until its context ends.
type frozenJobs struct{ *storetest.Jobs }

func (frozenJobs) List(ctx context.Context, _ omtx.ListFilter) ([]*omtx.Job, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (frozenJobs) Ping(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// frozenBlobs is a file store whose downloads stall after the first bytes.
type frozenBlobs struct{ *storetest.Blobs }

func (frozenBlobs) Open(ctx context.Context, _ string) (io.ReadCloser, error) {
	return &stallingReader{ctx: ctx, first: []byte("{\"partial\":")}, nil
}

type stallingReader struct {
	ctx   context.Context
	first []byte
}

func (r *stallingReader) Read(p []byte) (int, error) {
	if len(r.first) > 0 {
		n := copy(p, r.first)
		r.first = r.first[n:]
		return n, nil
	}
	<-r.ctx.Done()
	return 0, r.ctx.Err()
}

func (r *stallingReader) Close() error { return nil }

// TestFrozenDependencyAnswers503: a dependency that stops answering costs
// a request the dependency timeout, and the answer is a 503 with
// Retry-After that names no internal detail. Without the deadline the
// request would wait for the client to give up, which the test's own
// guard turns into a failure.
func TestFrozenDependencyAnswers503(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv = New(Config{Keys: f.srv.keys, Models: f.srv.models, DependencyTimeout: 50 * time.Millisecond},
		frozenJobs{f.jobs}, f.blobs, f.sched)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w := f.do("GET", "/api/v1/jobs", key1, "")
		assert.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
		assert.Equal(t, "5", w.Header().Get("Retry-After"))
		assert.NotContains(t, w.Body.String(), "deadline")
		w = f.do("GET", "/readyz", "", "")
		assert.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
		assert.Contains(t, w.Body.String(), `"firestore":"unavailable"`)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("a request to a frozen store did not answer")
	}
}

// TestFrozenDownloadEnds: a file store that freezes mid-download ends the
// response instead of holding it open.
func TestFrozenDownloadEnds(t *testing.T) {
	t.Parallel()
	blobs := frozenBlobs{storetest.NewBlobs()}
	b := deadlineBlobs{blobs, 50 * time.Millisecond}
	rc, err := b.Open(context.Background(), "jobs/x/results.json")
	require.NoError(t, err)
	defer rc.Close()
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(rc); done <- err }()
	select {
	case err := <-done:
		assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("a frozen download never ended")
	}
}

// TestTemporalIsASoftDependency: with Temporal down the API stays ready,
// reads keep serving, and a submit answers 503 with Retry-After and leaves
// no record behind.
func TestTemporalIsASoftDependency(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.sched.err = errors.New("dial tcp 10.4.2.7:7233: connect: connection refused")

	w := f.do("GET", "/readyz", "", "")
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"temporal":"unavailable"`)
	assert.NotContains(t, w.Body.String(), "10.4.2.7")

	w = f.do("GET", "/api/v1/jobs", key1, "")
	assert.Equal(t, http.StatusOK, w.Code, w.Body.String())

	w = f.do("POST", "/api/v1/predict", key1, `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligand_smiles":"CCO"}`)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, w.Body.String())
	assert.Equal(t, "5", w.Header().Get("Retry-After"))
	assert.NotContains(t, w.Body.String(), "10.4.2.7")
	jobs, err := f.jobs.List(context.Background(), omtx.ListFilter{UserID: "u1", Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, jobs, "a submit that could not start left a record")
}
