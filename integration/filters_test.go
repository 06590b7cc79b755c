package integration

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/aggregate/ranking"
	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// filterScreen is a small library with a PAINS compound (a 5-benzylidene
// rhodanine, PAINS A's ene_rhod_A) and a molecule over 500 g/mol
// (octatriacontanoic acid, 565 g/mol), screened with those two filters.
const (
	filterLigands = `[
		{"name":"ethanol","smiles":"CCO"},
		{"name":"rhodanine ene","smiles":"O=C1NC(=S)SC1=Cc1ccccc1"},
		{"name":"ibuprofen","smiles":"CC(C)Cc1ccc(cc1)C(C)C(=O)O"},
		{"name":"too heavy","smiles":"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC(=O)O"}]`
	filterBlock = `{"catalogs":["pains_a"],"molecular_weight":{"max":500}}`
	ruleEne     = "pains_a:ene_rhod_A(235)"
	ruleHeavy   = "molecular_weight: 565.02 is outside [-inf, 500]"
)

// TestFiltersBeforeTheGPU screens the library through REST: the estimate
// says two ligands would be filtered, the batch holds both back as
// filtered children with their rules, the stand-in model never runs them,
// and the results (endpoint, CSV, summary.json) show them apart from
// failures, in a batch that completed.
func TestFiltersBeforeTheGPU(t *testing.T) {
	protein := `"protein_sequence":"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK"`
	code, resp := call(t, "POST", "/api/v1/estimate", testKey,
		`{"model":"boltz2",`+protein+`,"ligands":`+filterLigands+`,"filters":`+filterBlock+`}`)
	require.Equal(t, http.StatusOK, code, string(resp))
	est := decode[api.EstimateResponse](t, resp)
	assert.Equal(t, 4, est.Ligands)
	assert.Equal(t, 2, est.FilteredLigands)
	assert.ElementsMatch(t, []omtx.FilterHit{{Rule: ruleEne, Ligands: 1}, {Rule: ruleHeavy, Ligands: 1}}, est.FilterHits)

	startGPUWorker(t)
	// A 503 (the store slow under load) is retried with the same key, as
	// any client does.
	for try := 0; ; try++ {
		code, resp = call(t, "POST", "/api/v1/predict/batch", testKey,
			`{"model":"boltz2","batch_name":"filtered screen",`+protein+`,"ligands":`+filterLigands+`,"filters":`+filterBlock+`,"max_concurrent":4,"cache":false}`,
			api.IdempotencyHeader, "filters-before-the-gpu-"+t.Name())
		if code != http.StatusServiceUnavailable || try == 3 {
			break
		}
		time.Sleep(2 * time.Second)
	}
	require.Contains(t, []int{http.StatusAccepted, http.StatusOK}, code, string(resp)) // 200: a retry found the first
	sub := decode[api.BatchSubmitResponse](t, resp)
	assert.Equal(t, 2, sub.FilteredLigands)

	b := waitBatch(t, sub.BatchID, 2*time.Minute)
	require.Equal(t, omtx.StatusCompleted, b.Status, b.Error)
	assert.Equal(t, omtx.Progress{Total: 4, Completed: 2, Filtered: 2}, *b.Progress)
	require.NotNil(t, b.BatchConfig.Filters, "the batch records its filters")
	assert.Equal(t, []string{"pains_a"}, b.BatchConfig.Filters.Catalogs)

	rules := map[string]string{}
	for _, k := range children(t, sub.BatchID) {
		if k.Status != omtx.StatusFiltered {
			assert.Equal(t, omtx.StatusCompleted, k.Status, k.JobID)
			continue
		}
		rules[k.InputData.LigandName] = k.FilterRule
		assert.Nil(t, k.Results, "%s has no results", k.JobID)
		assert.Nil(t, k.StartedAt, "%s never started", k.JobID)
		assert.Empty(t, k.LogsFile, "%s is in no model run's log", k.JobID)
		assert.Empty(t, k.Error, "%s has not failed", k.JobID)
	}
	assert.Equal(t, map[string]string{"rhodanine ene": ruleEne, "too heavy": ruleHeavy}, rules)

	t.Run("the stand-in model never saw them", func(t *testing.T) {
		// Every model run logs the ligands it was given, group by group.
		names, err := env.deps.Blobs.List(ctxT(t), omtx.BatchPrefix(sub.BatchID)+"logs/")
		require.NoError(t, err)
		require.NotEmpty(t, names)
		var logs strings.Builder
		for _, n := range names {
			data, err := env.deps.Blobs.Read(ctxT(t), n)
			require.NoError(t, err)
			logs.Write(data)
		}
		assert.Contains(t, logs.String(), "(ethanol)")
		assert.Contains(t, logs.String(), "(ibuprofen)")
		assert.NotContains(t, logs.String(), "rhodanine ene")
		assert.NotContains(t, logs.String(), "too heavy")
	})

	t.Run("results show them with their rules, not as failures", func(t *testing.T) {
		code, body := call(t, "GET", "/api/v1/batches/"+sub.BatchID+"/results", testKey, "")
		require.Equal(t, http.StatusOK, code, string(body))
		res := decode[api.RankedResults](t, body)
		assert.Equal(t, 2, res.TotalRanked)
		assert.Equal(t, "completed, 2 filtered", res.Summary.StatusLine)
		assert.False(t, res.Summary.CompletedWithFailures)
		assert.Zero(t, res.Summary.Failed)
		assert.Equal(t, 2, res.Summary.Filtered)
		require.Len(t, res.Summary.FilteredLigands, 2)
		assert.Equal(t, ranking.FilteredLigand{JobID: res.Summary.FilteredLigands[0].JobID, BatchIndex: 1, LigandName: "rhodanine ene",
			LigandSMILES: "O=C1NC(=S)SC1=Cc1ccccc1", Rule: ruleEne}, res.Summary.FilteredLigands[0])

		code, body = call(t, "GET", "/api/v1/batches/"+sub.BatchID+"/files/summary.json", testKey, "")
		require.Equal(t, http.StatusOK, code)
		sum := decode[ranking.Summary](t, body)
		assert.Equal(t, 2, sum.Filtered)
		require.NotNil(t, sum.Filters, "summary.json records the filters applied")
		assert.Equal(t, 500.0, *sum.Filters.MolecularWeight.Max)

		rows := readCSV(t, sub.BatchID)
		require.Len(t, rows, 5)
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		got := map[string][2]string{}
		for _, r := range rows[1:] {
			got[r[col["ligand_name"]]] = [2]string{r[col["status"]], r[col["filter_rule"]]}
		}
		assert.Equal(t, [2]string{"filtered", ruleEne}, got["rhodanine ene"])
		assert.Equal(t, [2]string{"filtered", ruleHeavy}, got["too heavy"])
		assert.Equal(t, [2]string{"completed", ""}, got["ethanol"])

		code, body = call(t, "GET", "/api/v1/batches/"+sub.BatchID+"/jobs?status=filtered", testKey, "")
		require.Equal(t, http.StatusOK, code, string(body))
		assert.Len(t, decode[api.JobList](t, body).Jobs, 2)
	})
}
