package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store"
	"github.com/omtx-hub/omtx-hub/workflows/wfinput"
)

// fakeJobs is an in-memory JobStore.
type fakeJobs struct {
	mu   sync.Mutex
	jobs map[string]*omtx.Job
}

func (f *fakeJobs) Create(_ context.Context, j *omtx.Job) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.jobs[j.JobID]; ok {
		return omtx.Errorf(omtx.EConflict, "job_id", "exists")
	}
	c := *j
	f.jobs[j.JobID] = &c
	return nil
}

func (f *fakeJobs) Get(_ context.Context, id string) (*omtx.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[id]
	if !ok {
		return nil, omtx.Errorf(omtx.ENotFound, "job_id", "job %s not found", id)
	}
	c := *j
	return &c, nil
}

func (f *fakeJobs) List(_ context.Context, lf store.ListFilter) ([]*omtx.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*omtx.Job
	for _, j := range f.jobs {
		if j.UserID == lf.UserID {
			out = append(out, j)
		}
	}
	return out, nil
}

func (f *fakeJobs) ListChildren(_ context.Context, cf store.ChildFilter) ([]*omtx.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*omtx.Job
	for _, j := range f.jobs {
		if j.BatchParentID == cf.BatchID {
			out = append(out, j)
		}
	}
	return out, nil
}

func (f *fakeJobs) Ping(context.Context) error { return nil }

type fakeBlobs struct{ objects map[string]string }

func (f fakeBlobs) Put(_ context.Context, name, _ string, data []byte) error {
	f.objects[name] = string(data)
	return nil
}

func (fakeBlobs) URI(name string) string { return "gs://test/" + name }

func (f fakeBlobs) PutIfAbsent(ctx context.Context, name, ct string, data []byte) (bool, error) {
	if _, ok := f.objects[name]; ok {
		return false, nil
	}
	return true, f.Put(ctx, name, ct, data)
}

func (f fakeBlobs) Get(_ context.Context, name string) (*store.Object, error) {
	d, ok := f.objects[name]
	if !ok {
		return nil, omtx.Errorf(omtx.ENotFound, "name", "file %s not found", name)
	}
	return &store.Object{Name: name, ContentType: "application/json", Data: []byte(d)}, nil
}

func (fakeBlobs) Ping(context.Context) error { return nil }

// fakeSched records started workflows; err makes starts fail.
type fakeSched struct {
	mu        sync.Mutex
	started   []wfinput.Prediction
	batches   []wfinput.Batch
	cancelled []string
	err       error
}

func (f *fakeSched) StartBatch(_ context.Context, in wfinput.Batch, _ int) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	f.batches = append(f.batches, in)
	return "run-b", nil
}

func (f *fakeSched) Cancel(_ context.Context, wid string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancelled = append(f.cancelled, wid)
	return f.err
}

func (f *fakeSched) BatchProgress(context.Context, string) (omtx.Progress, error) {
	return omtx.Progress{Total: 3, Running: 3}, nil
}

func (f *fakeSched) StartPrediction(_ context.Context, in wfinput.Prediction) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	f.started = append(f.started, in)
	return "run-1", nil
}

func (f *fakeSched) Ping(context.Context) error { return f.err }

const (
	key1 = "key-for-user-one-000"
	key2 = "key-for-user-two-000"
)

type fixture struct {
	srv   *Server
	jobs  *fakeJobs
	sched *fakeSched
	blobs fakeBlobs
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	keys, err := ParseKeys(key1 + "=u1," + key2 + "=u2")
	require.NoError(t, err)
	f := &fixture{jobs: &fakeJobs{jobs: map[string]*omtx.Job{}}, sched: &fakeSched{}, blobs: fakeBlobs{objects: map[string]string{}}}
	f.srv = New(Config{
		Keys: keys,
		Models: omtx.ModelCatalog{
			Available:   map[string]string{omtx.BaselineModel: omtx.GPUClassL4},
			Substitutes: map[string]string{omtx.ModelBoltz2: omtx.BaselineModel},
		},
		Now: func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) },
	}, f.jobs, f.blobs, f.sched)
	return f
}

func (f *fixture) do(method, path, key, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, req)
	return w
}

type errResp struct {
	Error struct {
		Code, Message, Field string
	}
}

const good = `{"model":"descriptor-baseline-v1","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligand_smiles":"CC(=O)OC1=CC=CC=C1C(=O)O","ligand_name":"Aspirin","parameters":{"num_samples":5}}`

func TestPredict(t *testing.T) {
	t.Parallel()

	t.Run("accepted: writes the pending record and starts the workflow", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		w := f.do("POST", "/api/v1/predict", key1, good)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		var got SubmitResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		assert.Equal(t, omtx.StatusPending, got.Status)
		assert.True(t, strings.HasPrefix(got.JobID, "job_"))
		require.Len(t, f.sched.started, 1)
		in := f.sched.started[0]
		assert.Equal(t, got.JobID, in.Job.JobID)
		assert.Equal(t, omtx.GPUClassL4, in.GPUClass)
		assert.Equal(t, 5, in.Job.InputData.Parameters.NumSamples)
		job, err := f.jobs.Get(context.Background(), got.JobID)
		require.NoError(t, err)
		assert.Equal(t, omtx.StatusPending, job.Status)
		assert.Equal(t, "u1", job.UserID)
		assert.Equal(t, omtx.JobTypeIndividual, job.JobType)
		assert.Equal(t, "prediction-"+got.JobID, job.Temporal.WorkflowID)
	})

	t.Run("a substituted model is announced and recorded", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		w := f.do("POST", "/api/v1/predict", key1, strings.Replace(good, omtx.BaselineModel, "boltz2", 1))
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		var got SubmitResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		assert.Equal(t, omtx.BaselineModel, got.Model)
		assert.Equal(t, "boltz2", got.RequestedModel)
		require.Len(t, got.Warnings, 1)
		assert.Contains(t, got.Warnings[0], "not boltz2")
	})

	t.Run("idempotency key maps to one job", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		w1 := f.do("POST", "/api/v1/predict", key1, good, IdempotencyHeader, "k1")
		w2 := f.do("POST", "/api/v1/predict", key1, good, IdempotencyHeader, "k1")
		require.Equal(t, http.StatusAccepted, w1.Code)
		require.Equal(t, http.StatusOK, w2.Code)
		var a, b SubmitResponse
		require.NoError(t, json.Unmarshal(w1.Body.Bytes(), &a))
		require.NoError(t, json.Unmarshal(w2.Body.Bytes(), &b))
		assert.Equal(t, a.JobID, b.JobID)
		assert.True(t, b.Duplicate)

		w3 := f.do("POST", "/api/v1/predict", key1, strings.Replace(good, "Aspirin", "Other", 1), IdempotencyHeader, "k1")
		assert.Equal(t, http.StatusConflict, w3.Code)

		w4 := f.do("POST", "/api/v1/predict", key2, good, IdempotencyHeader, "k1")
		require.Equal(t, http.StatusAccepted, w4.Code, "keys are per user")
	})

	t.Run("temporal down: 503 and no record", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.sched.err = &omtx.Error{Code: omtx.EUnavailable, Message: "could not schedule the job"}
		w := f.do("POST", "/api/v1/predict", key1, good)
		assert.Equal(t, http.StatusServiceUnavailable, w.Code)
		assert.Empty(t, f.jobs.jobs)
	})

	bad := []struct {
		name, body, field string
		code              int
	}{
		{"invalid smiles", `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligand_smiles":"c1ccccc"}`, "ligand_smiles", 422},
		{"bad residue", `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQB*","ligand_smiles":"CCO"}`, "protein_sequence", 422},
		{"too short", `{"model":"boltz2","protein_sequence":"MKT","ligand_smiles":"CCO"}`, "protein_sequence", 422},
		{"missing protein", `{"model":"boltz2","ligand_smiles":"CCO"}`, "protein_sequence", 422},
		{"num_samples range", `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligand_smiles":"CCO","parameters":{"num_samples":1000}}`, "parameters.num_samples", 422},
		{"unknown model", `{"model":"nope","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligand_smiles":"CCO"}`, "model", 422},
		{"empty body", ``, "", 400},
		{"two values", `{} {}`, "", 400},
		{"array", `[]`, "", 422},
		{"wrong user", `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligand_smiles":"CCO","user_id":"u2"}`, "user_id", 422},
	}
	for _, c := range bad {
		t.Run("refused: "+c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			w := f.do("POST", "/api/v1/predict", key1, c.body)
			require.Equal(t, c.code, w.Code, w.Body.String())
			var e errResp
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
			assert.Equal(t, c.field, e.Error.Field)
			assert.NotEmpty(t, e.Error.Message)
			assert.Empty(t, f.sched.started)
			assert.Empty(t, f.jobs.jobs)
		})
	}

	t.Run("refused: wrong content type", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		req := httptest.NewRequest("POST", "/api/v1/predict", strings.NewReader(good))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("Authorization", "Bearer "+key1)
		w := httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(w, req)
		assert.Equal(t, http.StatusUnsupportedMediaType, w.Code)
	})
}

func TestAuthAndScoping(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w := f.do("POST", "/api/v1/predict", key1, good)
	require.Equal(t, http.StatusAccepted, w.Code)
	var sub SubmitResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &sub))
	f.blobs.objects["jobs/"+sub.JobID+"/results.json"] = `{"ok":true}`

	cases := []struct {
		name, method, path, key string
		want                    int
	}{
		{"no key", "GET", "/api/v1/jobs/" + sub.JobID, "", 401},
		{"bad key", "GET", "/api/v1/jobs/" + sub.JobID, "not-a-key-at-all-000", 401},
		{"owner reads", "GET", "/api/v1/jobs/" + sub.JobID, key1, 200},
		{"other user gets 404", "GET", "/api/v1/jobs/" + sub.JobID, key2, 404},
		{"unknown job", "GET", "/api/v1/jobs/job_nope", key1, 404},
		{"not an id", "GET", "/api/v1/jobs/__x__", key1, 404},
		{"owner reads file", "GET", "/api/v1/jobs/" + sub.JobID + "/files/results.json", key1, 200},
		{"other user file 404", "GET", "/api/v1/jobs/" + sub.JobID + "/files/results.json", key2, 404},
		{"missing file", "GET", "/api/v1/jobs/" + sub.JobID + "/files/structure.cif", key1, 404},
		{"not a job file", "GET", "/api/v1/jobs/" + sub.JobID + "/files/..%2f..%2fsecret", key1, 404},
		{"bad page size", "GET", "/api/v1/jobs?page_size=0", key1, 422},
		{"bad status", "GET", "/api/v1/jobs?status=done", key1, 422},
		{"bad token", "GET", "/api/v1/jobs?page_token=zzz", key1, 422},
		{"health needs no key", "GET", "/healthz", "", 200},
		{"unknown route", "GET", "/api/v1/nope", key1, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := f.do(c.method, c.path, c.key, "")
			assert.Equal(t, c.want, w.Code, w.Body.String())
		})
	}
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	for _, spec := range []string{"", "short=u", "novalue", "=u", "abcdefghijklmnopq="} {
		t.Run(spec, func(t *testing.T) {
			t.Parallel()
			_, err := ParseKeys(spec)
			assert.Error(t, err)
		})
	}
	k, err := ParseKeys("# comment\nabcdefghijklmnopq=u1\nrstuvwxyzabcdefgh=u2")
	require.NoError(t, err)
	got, ok := k.User("rstuvwxyzabcdefgh")
	assert.True(t, ok)
	assert.Equal(t, "u2", got)
}
