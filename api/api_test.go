package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/keys"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store/storetest"
)

// fakeSched records started workflows; err makes starts fail.
type fakeSched struct {
	mu        sync.Mutex
	started   []StartRequest
	cancelled []string
	err       error
}

func (f *fakeSched) Start(_ context.Context, req StartRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	f.started = append(f.started, req)
	return "run-1", nil
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

func (f *fakeSched) Ping(context.Context) error { return f.err }

// predictions returns the PredictionWorkflow inputs started so far.
func (f *fakeSched) predictions() []contract.PredictionInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []contract.PredictionInput
	for _, r := range f.started {
		if in, ok := r.Input.(contract.PredictionInput); ok {
			out = append(out, in)
		}
	}
	return out
}

// batches returns the BatchWorkflow inputs started so far.
func (f *fakeSched) batches() []contract.BatchInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []contract.BatchInput
	for _, r := range f.started {
		if in, ok := r.Input.(contract.BatchInput); ok {
			out = append(out, in)
		}
	}
	return out
}

const (
	key1 = "key-for-user-one-000"
	key2 = "key-for-user-two-000"
)

type fixture struct {
	srv     *Server
	jobs    *storetest.Jobs
	sched   *fakeSched
	blobs   *storetest.Blobs
	targets *storetest.Targets
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	set, err := keys.Parse(key1+"=u1,"+key2+"=u2", []byte("test-deployment-secret"))
	require.NoError(t, err)
	f := &fixture{jobs: storetest.NewJobs(), sched: &fakeSched{}, blobs: storetest.NewBlobs(), targets: storetest.NewTargets()}
	f.srv = New(Config{
		Keys: set,
		Models: omtx.ModelCatalog{
			Available:   map[string]string{omtx.BaselineModel: omtx.GPUClassL4},
			Substitutes: map[string]string{omtx.ModelBoltz2: omtx.BaselineModel},
		},
		Now:     func() time.Time { return time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC) },
		Targets: f.targets,
	}, f.jobs, f.blobs, f.sched)
	return f
}

// refused posts body to path and checks the refusal: its status, the
// field it names, a message, and no decoder text.
func (f *fixture) refused(t *testing.T, path, body string, code int, field string) {
	t.Helper()
	w := f.do("POST", path, key1, body)
	require.Equal(t, code, w.Code, w.Body.String())
	var e ErrorBody
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
	assert.Equal(t, field, e.Error.Field, w.Body.String())
	assert.NotEmpty(t, e.Error.Message)
	assert.NotContains(t, w.Body.String(), "json:", "decoder text leaked")
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
		RequestID            string `json:"request_id"`
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
		require.Len(t, f.sched.predictions(), 1)
		in := f.sched.predictions()[0]
		assert.Equal(t, got.JobID, in.Job.JobID)
		assert.Equal(t, omtx.GPUClassL4, in.GPUClass)
		assert.Equal(t, 1, f.sched.started[0].Priority, "single predictions come first")
		assert.Equal(t, "u1", f.sched.started[0].FairnessKey)
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
		f.sched.err = errors.New("dial tcp 10.4.2.7:7233: connection refused")
		w := f.do("POST", "/api/v1/predict", key1, good)
		assert.Equal(t, http.StatusServiceUnavailable, w.Code)
		assert.Zero(t, f.jobs.Len(), "the record of a job that did not start is removed")
		assert.NotContains(t, w.Body.String(), "10.4.2.7", "no internal detail reaches the client")
		var e errResp
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
		assert.Equal(t, w.Header().Get(RequestIDHeader), e.Error.RequestID)
		assert.NotEmpty(t, e.Error.RequestID)
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
			f.refused(t, "/api/v1/predict", c.body, c.code, c.field)
			assert.Empty(t, f.sched.started)
			assert.Zero(t, f.jobs.Len())
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
	require.NoError(t, f.blobs.Put(context.Background(), "jobs/"+sub.JobID+"/results.json", "application/json", []byte(`{"ok":true}`)))

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

// boltzFixture serves boltz2 itself (not a substitute), so Boltz-2's own
// limits apply.
func boltzFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.srv.models = omtx.ModelCatalog{Available: map[string]string{omtx.ModelBoltz2: omtx.GPUClassL4}}
	return f
}

func TestBoltzLimitsBeforeTheGPU(t *testing.T) {
	t.Parallel()
	big := func(n int) string { return strings.Repeat("C", n) }
	body := func(smiles string, msa bool) string {
		return fmt.Sprintf(`{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligand_smiles":%q,"parameters":{"use_msa":%t}}`, smiles, msa)
	}

	t.Run("over 128 heavy atoms is refused, naming the ligand", func(t *testing.T) {
		t.Parallel()
		f := boltzFixture(t)
		w := f.do("POST", "/api/v1/predict", key1, body(big(129), false))
		require.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
		var e errResp
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
		assert.Equal(t, "ligand_smiles", e.Error.Field)
		assert.Contains(t, e.Error.Message, "129 heavy atoms")
		assert.Zero(t, f.jobs.Len())
		assert.Empty(t, f.sched.started)

		bw := f.do("POST", "/api/v1/predict/batch", key1, fmt.Sprintf(
			`{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligands":[{"name":"ok","smiles":"CCO"},{"name":"huge","smiles":%q}]}`, big(200)))
		require.Equal(t, http.StatusUnprocessableEntity, bw.Code, bw.Body.String())
		assert.Contains(t, bw.Body.String(), `"row":2`)
		assert.Contains(t, bw.Body.String(), "200 heavy atoms")
	})

	t.Run("57 to 128 heavy atoms runs with a warning on the ligand", func(t *testing.T) {
		t.Parallel()
		f := boltzFixture(t)
		w := f.do("POST", "/api/v1/predict", key1, body(big(60), true))
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		var got SubmitResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		require.Len(t, got.Warnings, 1)
		assert.Contains(t, got.Warnings[0], "ligand_smiles has 60 heavy atoms")
		doc, err := f.jobs.Get(t.Context(), got.JobID)
		require.NoError(t, err)
		assert.Equal(t, got.Warnings, doc.Warnings, "the warning is on the job document")
		assert.Equal(t, got.Warnings, f.sched.predictions()[0].Job.Warnings, "and in the spec, for results.json")

		bw := f.do("POST", "/api/v1/predict/batch", key1, fmt.Sprintf(
			`{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","parameters":{"use_msa":true},"ligands":[{"name":"ok","smiles":"CCO"},{"name":"large","smiles":%q}]}`, big(100)))
		require.Equal(t, http.StatusAccepted, bw.Code, bw.Body.String())
		var lib []omtx.LibraryEntry
		require.NoError(t, json.Unmarshal(mustRead(t, f.blobs, "batches/"+f.sched.batches()[0].Parent.JobID+"/ligands.json"), &lib))
		assert.Empty(t, lib[0].Warnings)
		require.Len(t, lib[1].Warnings, 1, "the warning follows the ligand to its child and the CSV")
		assert.Contains(t, lib[1].Warnings[0], "row 2 smiles has 100 heavy atoms")
	})

	t.Run("single-sequence mode is announced", func(t *testing.T) {
		t.Parallel()
		f := boltzFixture(t)
		w := f.do("POST", "/api/v1/predict", key1, body("CCO", false))
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		var got SubmitResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		require.Len(t, got.Warnings, 1)
		assert.Contains(t, got.Warnings[0], "single-sequence mode")
	})

	t.Run("the baseline has none of Boltz-2's limits", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		w := f.do("POST", "/api/v1/predict", key1, strings.Replace(body(big(200), false), "boltz2", omtx.BaselineModel, 1))
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	})
}

// TestCacheHitFiles: a job completed from the result cache wrote no
// folder of its own; its results.json is its own results, its structure
// the source's, and its log says where the results came from.
func TestCacheHitFiles(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w := f.do("POST", "/api/v1/predict", key1, good)
	require.Equal(t, http.StatusAccepted, w.Code)
	var sub SubmitResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &sub))
	ctx := context.Background()
	require.NoError(t, f.blobs.Put(ctx, "jobs/job_src/structure.cif", "chemical/x-mmcif", []byte("data_src\n")))
	_, err := f.jobs.Update(ctx, sub.JobID, func(j *omtx.Job) (*omtx.Job, error) {
		j.Status = omtx.StatusCompleted
		j.Results = &omtx.Results{CacheHit: true, CacheSourceJobID: "job_src", AffinityPredValue: -1.5,
			StructureAvailable: true, StructureFile: "gs://bucket/jobs/job_src/structure.cif", ResultsFile: "gs://bucket/jobs/job_src/results.json"}
		return j, nil
	})
	require.NoError(t, err)
	get := func(name string) *httptest.ResponseRecorder {
		return f.do("GET", "/api/v1/jobs/"+sub.JobID+"/files/"+name, key1, "")
	}
	w = get("results.json")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"record"`, "a source file that is gone leaves the record")
	assert.NotContains(t, w.Body.String(), `"prediction"`)
	require.NoError(t, f.blobs.Put(ctx, "jobs/job_src/results.json", "application/json",
		[]byte(`{"job_id":"job_src","prediction":{"affinity_pred_value":-1.5},"record":{"affinity_pred_value":-1.5}}`)))
	w = get("results.json")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var file struct {
		JobID      string         `json:"job_id"`
		Prediction map[string]any `json:"prediction"`
		Record     omtx.Results   `json:"record"`
		CacheHit   bool           `json:"cache_hit"`
		Source     string         `json:"cache_source_job_id"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &file))
	assert.Equal(t, sub.JobID, file.JobID, "this job's file")
	assert.Equal(t, -1.5, file.Prediction["affinity_pred_value"], "the source's model outputs")
	assert.True(t, file.CacheHit)
	assert.Equal(t, "job_src", file.Source)
	assert.True(t, file.Record.CacheHit, "this job's record")
	assert.Equal(t, "job_src", file.Record.CacheSourceJobID)
	w = get("structure.cif")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "data_src\n", w.Body.String())
	w = get("logs.txt")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), "job_src")
	assert.Equal(t, http.StatusNotFound, get("structure.pdb").Code, "the source wrote none")
}
