package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/filters"
	"github.com/omtx-hub/omtx-hub/omtx"
)

const (
	rhodanineEne = "O=C1NC(=S)SC1=Cc1ccccc1" // PAINS A ene_rhod_A(235)
	stearicAcid  = "CCCCCCCCCCCCCCCCCC(=O)O" // 284.48 g/mol
	ruleEne      = "pains_a:ene_rhod_A(235)"
	ruleMW       = "molecular_weight: 284.48 is outside [-inf, 250]"
)

// filterBody is a batch (or estimate) of four ligands, two of which the
// filters {"catalogs":["pains_a"],"molecular_weight":{"max":250}} hold
// back, with extra JSON fields spliced in.
func filterBody(filtersJSON, extra string) string {
	return `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ",` + extra + `"ligands":[
		{"name":"ethanol","smiles":"CCO"},{"name":"ene","smiles":"` + rhodanineEne + `"},
		{"name":"stearic","smiles":"` + stearicAcid + `"},{"name":"phenol","smiles":"c1ccccc1O"}],
		"filters":` + filtersJSON + `}`
}

const painsAndMW = `{"catalogs":["pains_a"],"molecular_weight":{"max":250}}`

func TestBatchFilters(t *testing.T) {
	t.Parallel()

	t.Run("filtered entries carry their rule; the filters are recorded", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		w := f.do("POST", "/api/v1/predict/batch", key1, filterBody(painsAndMW, ""))
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		var got BatchSubmitResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		assert.Equal(t, 4, got.TotalLigands)
		assert.Equal(t, 2, got.FilteredLigands)
		assert.Equal(t, []omtx.FilterHit{{Rule: ruleMW, Ligands: 1}, {Rule: ruleEne, Ligands: 1}}, got.FilterHits)

		var lib []omtx.LibraryEntry
		require.NoError(t, json.Unmarshal(mustRead(t, f.blobs, "batches/"+got.BatchID+"/ligands.json"), &lib))
		rules := []string{}
		for _, e := range lib {
			rules = append(rules, e.FilterRule)
		}
		assert.Equal(t, []string{"", ruleEne, ruleMW, ""}, rules)

		cfg := f.sched.batches()[0].Parent.BatchConfig
		require.NotNil(t, cfg.Filters)
		assert.Equal(t, []string{"pains_a"}, cfg.Filters.Catalogs)
		assert.Equal(t, 250.0, *cfg.Filters.MolecularWeight.Max)
		assert.Equal(t, 2, cfg.FilteredLigands)
		doc, err := f.jobs.Get(t.Context(), got.BatchID)
		require.NoError(t, err)
		require.NotNil(t, doc.BatchConfig.Filters, "the job document records the filters")
	})

	t.Run("no filters: nothing filtered, nothing recorded", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		w := f.do("POST", "/api/v1/predict/batch", key1, filterBody("null", ""))
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		cfg := f.sched.batches()[0].Parent.BatchConfig
		assert.Nil(t, cfg.Filters)
		assert.Zero(t, cfg.FilteredLigands)
	})

	t.Run("the same key with other filters is a conflict", func(t *testing.T) {
		t.Parallel()
		// pains_b holds back none of these ligands: ligands.json is the
		// same, and only the filters tell the two requests apart.
		f := newFixture(t)
		w := f.do("POST", "/api/v1/predict/batch", key1, filterBody(painsAndMW, ""), IdempotencyHeader, "k-filters")
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		w = f.do("POST", "/api/v1/predict/batch", key1, filterBody(`{"catalogs":["pains_a","pains_b"],"molecular_weight":{"max":250}}`, ""), IdempotencyHeader, "k-filters")
		require.Equal(t, http.StatusConflict, w.Code, w.Body.String())
	})

	long := `"C` + strings.Repeat("C", filters.MaxUserSMARTSLength) + `"`
	many := strings.TrimSuffix(strings.Repeat(`"C",`, filters.MaxUserSMARTS+1), ",")
	for _, tc := range []struct{ name, filters, field string }{
		{"bad SMARTS", `{"smarts":["C","C(=O"]}`, "filters.smarts[1]"},
		{"SMARTS too long", `{"smarts":[` + long + `]}`, "filters.smarts[0]"},
		{"too many SMARTS", `{"smarts":[` + many + `]}`, "filters.smarts"},
		{"unknown catalog", `{"catalogs":["pains_a","pains_z"]}`, "filters.catalogs[1]"},
		{"window upside down", `{"heavy_atoms":{"min":50,"max":10}}`, "filters.heavy_atoms"},
		{"negative count", `{"hbd":{"max":-1}}`, "filters.hbd"},
		{"unknown key", `{"mw":{"max":500}}`, "filters.mw"},
		{"not a number", `{"rotatable_bonds":{"max":"ten"}}`, "filters.rotatable_bonds.max"},
		{"every ligand filtered", `{"heavy_atoms":{"max":1}}`, "filters"},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.refused(t, "/api/v1/predict/batch", filterBody(tc.filters, ""), http.StatusUnprocessableEntity, tc.field)
			assert.Empty(t, f.sched.batches())
			names, _ := f.blobs.List(t.Context(), "")
			assert.Empty(t, names, "nothing stored")
			// The estimate checks the same block the same way.
			f.refused(t, "/api/v1/estimate", filterBody(tc.filters, ""), http.StatusUnprocessableEntity, tc.field)
		})
	}

	t.Run("the filters are checked before the library", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		body := strings.Replace(filterBody(`{"smarts":["[Q]"]}`, ""), `"CCO"`, `"C1CC"`, 1)
		f.refused(t, "/api/v1/predict/batch", body, http.StatusUnprocessableEntity, "filters.smarts[0]")
	})

	t.Run("multipart: the filters field is JSON", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		lib := fmt.Sprintf("name,smiles\nethanol,CCO\nene,%s\nstearic,%s\n", rhodanineEne, stearicAcid)
		w := postForm(t, f, painsAndMW, lib)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		var got BatchSubmitResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		assert.Equal(t, 2, got.FilteredLigands)
		assert.Equal(t, []string{"pains_a"}, f.sched.batches()[0].Parent.BatchConfig.Filters.Catalogs)

		w = postForm(t, f, `{"smarts":["C","C(=O"]}`, lib)
		wantRefusal(t, w, http.StatusUnprocessableEntity, "filters.smarts[1]")
		w = postForm(t, f, `{"hbd":{"max":"five"}}`, lib)
		wantRefusal(t, w, http.StatusUnprocessableEntity, "filters.hbd.max")
	})
}

// postForm submits lib as a multipart batch with the filters field.
func postForm(t *testing.T, f *fixture, filtersJSON, lib string) *httptest.ResponseRecorder {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	require.NoError(t, mw.WriteField("model", "boltz2"))
	require.NoError(t, mw.WriteField("protein_sequence", "MKTAYIAKQRQISFVKSHFSRQ"))
	require.NoError(t, mw.WriteField("filters", filtersJSON))
	fw, err := mw.CreateFormFile("library", "lib.csv")
	require.NoError(t, err)
	_, err = fw.Write([]byte(lib))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	req := httptest.NewRequest("POST", "/api/v1/predict/batch", &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+key1)
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, req)
	return w
}

func TestEstimateFilters(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.runtimes = map[string]Runtime{omtx.BaselineModel + "@" + omtx.GPUClassL4: {SecondsPerLigand: 10, LoadSeconds: 30}}
	est := func(body string) EstimateResponse {
		t.Helper()
		w := f.do("POST", "/api/v1/estimate", key1, body)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var got EstimateResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		return got
	}
	got := est(filterBody(painsAndMW, `"chunk_size":1,"max_concurrent":4,`))
	assert.Equal(t, 4, got.Ligands)
	assert.Equal(t, 2, got.FilteredLigands)
	assert.Equal(t, []omtx.FilterHit{{Rule: ruleMW, Ligands: 1}, {Rule: ruleEne, Ligands: 1}}, got.FilterHits)
	assert.Equal(t, 2, got.Chunks, "only the ligands that would run are priced")
	unfiltered := est(filterBody("null", `"chunk_size":1,"max_concurrent":4,`))
	assert.Zero(t, unfiltered.FilteredLigands)
	assert.Equal(t, 4, unfiltered.Chunks)
	assert.InDelta(t, unfiltered.GPUSeconds/2, got.GPUSeconds, 1e-6)

	f.refused(t, "/api/v1/estimate", `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","num_ligands":10,"filters":`+painsAndMW+`}`,
		http.StatusUnprocessableEntity, "filters")
}

// TestFilteredLigandsAreNotInFlight: a running batch's filtered children
// do not count against the user's in-flight ligands.
func TestFilteredLigandsAreNotInFlight(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.jobs.Put(&omtx.Job{JobID: "batch_run", JobType: omtx.JobTypeBatchParent, UserID: "u1", Status: omtx.StatusRunning,
		Progress: &omtx.Progress{Total: 10, Completed: 2, Running: 1, Pending: 2, Filtered: 5}})
	u, err := f.srv.readUsage(t.Context(), "u1")
	require.NoError(t, err)
	assert.Equal(t, Usage{Ligands: 3, Batches: 1}, u)
}
