package store_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/devstack"
	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store"
)

// The store's tests run against the Firestore emulator and fake-gcs-server
// that devstack starts (with OMTX_INTEGRATION=1, as the integration tests);
// without it they skip.
var (
	jobs        *store.Jobs
	blobs       *store.Blobs
	resultCache *store.ResultCache
)

const project = "omtx-store-test"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("OMTX_INTEGRATION") != "1" {
		return m.Run() // each test skips
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "omtx-store-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, _ := filepath.Abs("..")
	stack, err := devstack.Start(ctx, devstack.Options{Dir: dir, ToolsDir: filepath.Join(root, ".tools"), Project: project, Headless: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the emulators:", err)
		return 1
	}
	defer stack.Stop()
	stack.SetEnv()
	fs, err := store.OpenFirestore(ctx, project, "")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer fs.Close()
	gcs, err := store.OpenStorage(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer gcs.Close()
	jobs, blobs, resultCache = store.NewJobs(fs), store.NewBlobs(gcs, "store-test"), store.NewResultCache(fs)
	if err := blobs.EnsureBucket(ctx, project); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func needStack(t *testing.T) {
	t.Helper()
	if jobs == nil {
		t.Skip("set OMTX_INTEGRATION=1 to run against the Firestore emulator and fake-gcs-server")
	}
}

// unique makes ids that no other test, or earlier run, uses.
func unique(prefix string) string {
	return fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func job(id, user string, created time.Time) *omtx.Job {
	return &omtx.Job{JobID: id, JobType: omtx.JobTypeIndividual, UserID: user, Model: omtx.BaselineModel,
		Status: omtx.StatusPending, CreatedAt: created, UpdatedAt: created}
}

func children(batchID string, n int) []*omtx.Job {
	out := make([]*omtx.Job, n)
	for i := range out {
		idx := i
		out[i] = &omtx.Job{JobID: fmt.Sprintf("%s_%05d", batchID, i), JobType: omtx.JobTypeBatchChild, UserID: "u",
			BatchParentID: batchID, BatchIndex: &idx, Status: omtx.StatusPending, CreatedAt: t0, UpdatedAt: t0}
	}
	return out
}

// TestCreateIsCreateIfAbsent: the API's submit lock. A second Create of one
// id is refused with EConflict and leaves the first document as it was;
// CreateMany leaves an existing document as it is.
func TestCreateIsCreateIfAbsent(t *testing.T) {
	needStack(t)
	t.Parallel()
	ctx := t.Context()
	id := unique("job_create")
	first := job(id, "u1", t0)
	first.RequestHash = "first"
	require.NoError(t, jobs.Create(ctx, first))
	second := job(id, "u1", t0)
	second.RequestHash = "second"
	err := jobs.Create(ctx, second)
	require.Error(t, err)
	assert.Equal(t, omtx.EConflict, omtx.ErrorCode(err))
	got, err := jobs.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "first", got.RequestHash, "the refused create changed nothing")

	batch := unique("batch_cm")
	kids := children(batch, 3)
	done := *kids[1]
	done.Status = omtx.StatusCompleted
	require.NoError(t, jobs.Create(ctx, &done))
	existed, err := jobs.CreateMany(ctx, kids)
	require.NoError(t, err, "an existing document is not an error")
	assert.Equal(t, []bool{false, true, false}, existed, "CreateMany says which existed")
	docs, err := jobs.GetMany(ctx, []string{kids[0].JobID, kids[1].JobID, kids[2].JobID, batch + "_missing"})
	require.NoError(t, err)
	require.Len(t, docs, 4)
	assert.Equal(t, omtx.StatusPending, docs[0].Status)
	assert.Equal(t, omtx.StatusCompleted, docs[1].Status, "CreateMany never overwrites")
	assert.Equal(t, omtx.StatusPending, docs[2].Status)
	assert.Nil(t, docs[3], "a missing document reads as nil")

	_, err = jobs.Get(ctx, batch+"_missing")
	assert.Equal(t, omtx.ENotFound, omtx.ErrorCode(err))
}

// TestUpdate: the transaction's function sees the document (nil when
// missing), its nil writes nothing, and its error comes back as it is.
func TestUpdate(t *testing.T) {
	needStack(t)
	t.Parallel()
	ctx := t.Context()
	id := unique("job_update")
	out, err := jobs.Update(ctx, id, func(cur *omtx.Job) (*omtx.Job, error) {
		assert.Nil(t, cur)
		return job(id, "u", t0), nil
	})
	require.NoError(t, err)
	assert.Equal(t, id, out.JobID)
	_, err = jobs.Update(ctx, id, func(cur *omtx.Job) (*omtx.Job, error) {
		require.NotNil(t, cur)
		cur.Status = omtx.StatusRunning
		return cur, nil
	})
	require.NoError(t, err)
	mine := omtx.Errorf(omtx.EConflict, "status", "no")
	_, err = jobs.Update(ctx, id, func(*omtx.Job) (*omtx.Job, error) { return nil, mine })
	assert.Equal(t, mine, err)
	got, err := jobs.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, omtx.StatusRunning, got.Status)
	assert.True(t, got.Active, "the store derives active from the status")
}

// TestCursorPagesCoverEveryDocumentOnce: paging a batch's children by
// batch_index, and a user's jobs by (created_at, job_id) including jobs
// created at the same instant, returns each document once, in order.
func TestCursorPagesCoverEveryDocumentOnce(t *testing.T) {
	needStack(t)
	t.Parallel()
	ctx := t.Context()

	t.Run("children", func(t *testing.T) {
		batch := unique("batch_pages")
		const n = 23
		_, err := jobs.CreateMany(ctx, children(batch, n))
		require.NoError(t, err)
		var seen []int
		for after, pages := -1, 0; ; pages++ {
			require.Less(t, pages, n, "paging does not end")
			page, err := jobs.ListChildren(ctx, omtx.ChildFilter{BatchID: batch, AfterIndex: after, Limit: 5})
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			assert.LessOrEqual(t, len(page), 5)
			for _, k := range page {
				seen = append(seen, *k.BatchIndex)
			}
			after = *page[len(page)-1].BatchIndex
		}
		want := make([]int, n)
		for i := range want {
			want[i] = i
		}
		assert.Equal(t, want, seen)
	})

	t.Run("a user's jobs", func(t *testing.T) {
		user := unique("pager")
		var want []string
		for i := 0; i < 11; i++ {
			created := t0.Add(time.Duration(i/3) * time.Minute) // three jobs share each instant
			id := fmt.Sprintf("%s_job_%02d", user, i)
			require.NoError(t, jobs.Create(ctx, job(id, user, created)))
			want = append([]string{id}, want...) // newest first; job_id breaks ties, descending
		}
		var got []string
		f := omtx.ListFilter{UserID: user, Limit: 4}
		for pages := 0; ; pages++ {
			require.Less(t, pages, 11, "paging does not end")
			page, err := jobs.List(ctx, f)
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			for _, j := range page {
				got = append(got, j.JobID)
			}
			last := page[len(page)-1]
			f.AfterCreatedAt, f.AfterJobID = last.CreatedAt, last.JobID
		}
		assert.Equal(t, want, got)
	})
}

// writes reads the Firestore write counter the benchmarks report
// (metrics.FirestoreWrites), as /metrics serves it.
func writes(t *testing.T) float64 {
	t.Helper()
	_ = metrics.FirestoreWrites // the counter below, registered by package metrics
	families, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == "omtx_firestore_document_writes_total" {
			require.Len(t, f.GetMetric(), 1)
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("omtx_firestore_document_writes_total is not registered")
	return 0
}

// TestWriteCounts: each store method counts the writes it makes, as
// BENCHMARKS.md's "Firestore writes per ligand" reads them. A batch's
// ligand costs two: its child is created (CreateMany) and its result
// written (SetMany). Not parallel: the counter is the process's.
func TestWriteCounts(t *testing.T) {
	needStack(t)
	ctx := t.Context()
	counted := func(name string, want float64, op func() error) {
		t.Helper()
		before := writes(t)
		require.NoError(t, op(), name)
		assert.Equal(t, want, writes(t)-before, name)
	}
	id := unique("job_writes")
	counted("Create", 1, func() error { return jobs.Create(ctx, job(id, "u", t0)) })
	counted("Update that writes", 1, func() error {
		_, err := jobs.Update(ctx, id, func(cur *omtx.Job) (*omtx.Job, error) { cur.Status = omtx.StatusRunning; return cur, nil })
		return err
	})
	counted("Update that changes nothing", 0, func() error {
		_, err := jobs.Update(ctx, id, func(*omtx.Job) (*omtx.Job, error) { return nil, nil })
		return err
	})
	counted("SetProgress", 1, func() error { return jobs.SetProgress(ctx, id, omtx.Progress{Total: 1}, t0) })
	counted("reads", 0, func() error {
		_, err := jobs.Get(ctx, id)
		if err == nil {
			_, err = jobs.GetMany(ctx, []string{id})
		}
		return err
	})

	const n = 40
	batch := unique("batch_writes")
	kids := children(batch, n)
	before := writes(t)
	counted("CreateMany", n, func() error { _, err := jobs.CreateMany(ctx, kids); return err })
	for _, k := range kids {
		k.Status, k.Results = omtx.StatusCompleted, &omtx.Results{}
	}
	counted("SetMany", n, func() error { return jobs.SetMany(ctx, kids) })
	assert.Equal(t, 2.0, (writes(t)-before)/n, "Firestore writes per ligand")
	counted("CreateMany and SetMany of nothing", 0, func() error {
		if _, err := jobs.CreateMany(ctx, nil); err != nil {
			return err
		}
		return jobs.SetMany(ctx, nil)
	})
}

// TestBlobPreconditions: PutIfAbsent and CreateIfAbsent publish an object
// only when none exists, and leave the existing one as it was.
func TestBlobPreconditions(t *testing.T) {
	needStack(t)
	t.Parallel()
	ctx := t.Context()
	name := unique("jobs/preconditions") + "/results.json"
	created, err := blobs.PutIfAbsent(ctx, name, "application/json", []byte(`{"v":1}`))
	require.NoError(t, err)
	assert.True(t, created)
	created, err = blobs.PutIfAbsent(ctx, name, "application/json", []byte(`{"v":2}`))
	require.NoError(t, err)
	assert.False(t, created, "the second write finds the object")

	w := blobs.CreateIfAbsent(ctx, name, "application/json")
	_, err = io.WriteString(w, `{"v":3}`)
	require.NoError(t, err)
	err = w.Close()
	require.Error(t, err)
	assert.Equal(t, omtx.EConflict, omtx.ErrorCode(err))

	got, err := blobs.Read(ctx, name)
	require.NoError(t, err)
	assert.JSONEq(t, `{"v":1}`, string(got), "the first write stays")

	_, err = blobs.Read(ctx, name+".missing")
	assert.Equal(t, omtx.ENotFound, omtx.ErrorCode(err))
	names, err := blobs.List(ctx, filepath.Dir(name)+"/")
	require.NoError(t, err)
	assert.Equal(t, []string{name}, names)
}
