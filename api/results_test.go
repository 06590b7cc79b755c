package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// resultsBatch stores a batch parent of user u1 in status st and its
// children: the pair (index 0: p 0.51, value -1.0; index 1: p
// 0.99, value -0.9), a non-binder, a failed ligand, and, while the batch
// runs, a running one.
func resultsBatch(t *testing.T, f *fixture, st omtx.JobStatus, cfg *omtx.BatchConfig) string {
	t.Helper()
	id := "batch_results_" + string(st)
	f.jobs.Put(&omtx.Job{JobID: id, JobType: omtx.JobTypeBatchParent, UserID: "u1", Status: st, BatchName: "CA II", BatchConfig: cfg, Model: omtx.BaselineModel})
	kid := func(i int, status omtx.JobStatus, value, prob, ligandIPTM float64) {
		j := &omtx.Job{
			JobID: omtx.BatchChildJobID(id, i, 5), JobType: omtx.JobTypeBatchChild, UserID: "u1", Status: status,
			BatchParentID: id, BatchIndex: &i, Model: omtx.BaselineModel,
			InputData:      omtx.InputData{LigandName: fmt.Sprintf("L%d", i), LigandSMILES: "CCO"},
			LigandMetadata: map[string]string{"class": fmt.Sprintf("c%d", i)},
		}
		switch status {
		case omtx.StatusCompleted:
			j.Results = &omtx.Results{
				Model: omtx.BaselineModel, AffinityPredValue: value, AffinityProbabilityBinary: prob,
				PIC50: omtx.PIC50FromPredValue(value), DeltaGKcalMol: omtx.DeltaGFromPredValue(value),
				Affinity: omtx.DeltaGFromPredValue(value), Confidence: 0.7, ResultsFile: "gs://bucket/x/results.json",
				Metrics: map[string]float64{omtx.MetricLigandIPTM: ligandIPTM},
			}
		case omtx.StatusFailed:
			j.Error = "boltz: out of memory"
		}
		f.jobs.Put(j)
	}
	kid(0, omtx.StatusCompleted, -1.0, 0.51, 0.9)
	kid(1, omtx.StatusCompleted, -0.9, 0.99, 0.3)
	kid(2, omtx.StatusCompleted, -3.0, 0.20, 0.9)
	kid(3, omtx.StatusFailed, 0, 0, 0)
	if st == omtx.StatusRunning {
		kid(4, omtx.StatusRunning, 0, 0, 0)
	} else {
		kid(4, omtx.StatusCompleted, 1.0, 0.10, 0.9)
	}
	return id
}

// getResults calls the endpoint, checks the answer against the OpenAPI
// contract, and decodes it.
func getResults(t *testing.T, f *fixture, path string) RankedResults {
	t.Helper()
	w := f.do("GET", path, key1, "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	validateResponse(t, path, w)
	var out RankedResults
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
	return out
}

// validateResponse checks a response against api/openapi.yaml with
// kin-openapi, whose closed schemas fail on any undocumented field.
func validateResponse(t *testing.T, path string, w *httptest.ResponseRecorder) {
	t.Helper()
	doc := loadSpec(t)
	doc.Servers = nil
	openapi3filter.RegisterBodyDecoder("chemical/x-mdl-sdfile", openapi3filter.PlainBodyDecoder)
	router, err := gorillamux.NewRouter(doc)
	require.NoError(t, err)
	req := httptest.NewRequest("GET", path, nil)
	route, params, err := router.FindRoute(req)
	require.NoError(t, err)
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 w.Code,
		Header:                 w.Header(),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(w.Body.Bytes())
	require.NoError(t, openapi3filter.ValidateResponse(context.Background(), in), w.Body.String())
}

func rowIDs(r RankedResults) []int {
	var out []int
	for _, row := range r.Results {
		out = append(out, row.BatchIndex)
	}
	return out
}

func TestBatchResultsReRanks(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := resultsBatch(t, f, omtx.StatusCompleted, &omtx.BatchConfig{TotalLigands: 5, Ranking: omtx.RankingLeadOptimization})
	base := "/api/v1/batches/" + id + "/results"

	t.Run("the batch's own rule by default", func(t *testing.T) {
		t.Parallel()
		got := getResults(t, f, base)
		assert.Equal(t, omtx.RankingLeadOptimization, got.Ranking.Mode)
		assert.Equal(t, []int{0, 1, 2, 4}, rowIDs(got), "binders by value, then the rest by value")
		assert.False(t, got.Partial)
		assert.Equal(t, 4, got.TotalRanked)
		assert.Equal(t, "completed with 1 failed", got.Summary.StatusLine)
		assert.True(t, got.Summary.CompletedWithFailures)
		require.Len(t, got.Summary.Failures, 1)
		assert.Equal(t, "boltz: out of memory", got.Summary.Failures[0].Reason)
	})

	t.Run("hit discovery from the query: the near-certain binder first", func(t *testing.T) {
		t.Parallel()
		got := getResults(t, f, base+"?ranking=hit_discovery")
		assert.Equal(t, []int{1, 0, 2, 4}, rowIDs(got))
		assert.Equal(t, omtx.RankingHitDiscovery, got.Summary.Ranking.Mode)
		assert.Contains(t, got.Ranking.Description, "Hit discovery")
		first := got.Results[0]
		assert.Equal(t, "/api/v1/jobs/"+first.JobID+"/files/results.json", first.ResultsURL)
		assert.Equal(t, map[string]string{"class": "c1"}, first.LigandMetadata)
		assert.Equal(t, omtx.BaselineNote, first.ModelNote)
		assert.True(t, first.PredictedBinder)
		assert.InDelta(t, omtx.DeltaGFromPredValue(-0.9), first.DeltaGKcalMol, 1e-12)
		assert.Equal(t, omtx.BaselineNote, got.Summary.ModelNote)
	})

	t.Run("threshold and floor from the query", func(t *testing.T) {
		t.Parallel()
		got := getResults(t, f, base+"?binder_threshold=0.6&min_ligand_iptm=0.5")
		// Lead optimization at 0.6: index 1 is the only binder but below
		// the floor, so it ranks last; then 2, 0, 4 by value.
		assert.Equal(t, []int{2, 0, 4, 1}, rowIDs(got))
		assert.Equal(t, []string{"ligand_iptm"}, got.Results[3].BelowConfidenceFloor)
		assert.InDelta(t, 0.6, got.Ranking.BinderThreshold, 1e-12)
		require.NotNil(t, got.Ranking.MinLigandIPTM)
		assert.Equal(t, 1, got.Summary.BelowConfidenceFloor)
	})

	t.Run("pages", func(t *testing.T) {
		t.Parallel()
		got := getResults(t, f, base+"?ranking=hit_discovery&page_size=2")
		assert.Equal(t, []int{1, 0}, rowIDs(got))
		require.NotNil(t, got.NextOffset)
		assert.Equal(t, 2, *got.NextOffset)
		got = getResults(t, f, base+"?ranking=hit_discovery&page_size=2&offset=2")
		assert.Equal(t, []int{2, 4}, rowIDs(got))
		assert.Equal(t, 3, got.Results[0].Rank)
		assert.Nil(t, got.NextOffset)
	})

	t.Run("refusals name the field", func(t *testing.T) {
		t.Parallel()
		for q, field := range map[string]string{
			"ranking=best": "ranking", "binder_threshold=2": "binder_threshold", "binder_threshold=x": "binder_threshold",
			"min_iptm=-1": "min_iptm", "min_ligand_iptm=a": "min_ligand_iptm", "page_size=501": "page_size",
			"offset=-1": "offset", "offset=9990&page_size=20": "offset",
		} {
			w := f.do("GET", base+"?"+q, key1, "")
			require.Equal(t, http.StatusUnprocessableEntity, w.Code, q)
			var e ErrorBody
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
			assert.Equal(t, field, e.Error.Field, q)
		}
	})

	t.Run("another user's batch is not found", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, http.StatusNotFound, f.do("GET", base, key2, "").Code)
	})
}

func TestBatchResultsPartial(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := resultsBatch(t, f, omtx.StatusRunning, nil)
	got := getResults(t, f, "/api/v1/batches/"+id+"/results")
	assert.True(t, got.Partial)
	assert.Equal(t, omtx.StatusRunning, got.Status)
	assert.Equal(t, []int{1, 0, 2}, rowIDs(got), "the finished ligands, hit discovery by default")
	assert.Equal(t, "partial: 4 of 5 ligands finished, 1 failed", got.Summary.StatusLine)
}
