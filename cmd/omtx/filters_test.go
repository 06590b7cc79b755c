package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

func TestFilterFlags(t *testing.T) {
	t.Parallel()
	f64 := func(v float64) *float64 { return &v }
	t.Run("parsed into the API's block", func(t *testing.T) {
		t.Parallel()
		ff := filterFlags{
			catalogs: []string{"pains", "Reactive"},
			windows:  []string{"mw<=500", "heavy_atoms = 10..50", "hbd>=1", "hbd<=5", "charge=0", "rotb<=10", "hba<=10"},
			smarts:   []string{"C(=O)Cl"},
		}
		got, err := ff.filters()
		require.NoError(t, err)
		assert.Equal(t, &omtx.Filters{
			Catalogs:        []string{"pains_a", "pains_b", "pains_c", "reactive"},
			MolecularWeight: &omtx.FilterRange{Max: f64(500)},
			HeavyAtoms:      &omtx.FilterRange{Min: f64(10), Max: f64(50)},
			HBondDonors:     &omtx.FilterRange{Min: f64(1), Max: f64(5)},
			HBondAcceptors:  &omtx.FilterRange{Max: f64(10)},
			FormalCharge:    &omtx.FilterRange{Min: f64(0), Max: f64(0)},
			RotatableBonds:  &omtx.FilterRange{Max: f64(10)},
			SMARTS:          []string{"C(=O)Cl"},
		}, got)
	})
	t.Run("no flags: no block", func(t *testing.T) {
		t.Parallel()
		got, err := (&filterFlags{}).filters()
		require.NoError(t, err)
		assert.Nil(t, got)
	})
	for _, tc := range []struct{ window, want string }{
		{"mw<500", "use <= or >="},
		{"mw", "no comparison"},
		{"logp<=5", `unknown property "logp"`},
		{"mw<=five", `"five" is not a number`},
		{"ha=10..", `"" is not a number`},
	} {
		t.Run("refused: "+tc.window, func(t *testing.T) {
			t.Parallel()
			_, err := (&filterFlags{windows: []string{tc.window}}).filters()
			var ue *usageError
			require.ErrorAs(t, err, &ue)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestScreenAndEstimateSendFilters: the flags reach the API (the screen's
// multipart field, the estimate's JSON), and what the API says it held
// back is printed.
func TestScreenAndEstimateSendFilters(t *testing.T) {
	t.Parallel()
	var sent []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		hits := `"filtered_ligands":2,"filter_hits":[{"rule":"pains_a:ene_rhod_A(235)","ligands":1},{"rule":"molecular_weight: 612.70 is outside [-inf, 500]","ligands":1}]`
		switch r.URL.Path {
		case "/api/v1/predict/batch":
			require.NoError(t, r.ParseMultipartForm(1<<20))
			sent = append(sent, r.FormValue("filters"))
			w.WriteHeader(202)
			fmt.Fprint(w, `{"batch_id":"batch_x","job_id":"batch_x","status":"pending","model":"m","total_ligands":4,"invalid_ligands":0,`+
				hits+`,"renamed_ligands":0,"max_concurrent":2,"chunk_size":2,"url":"/api/v1/batches/batch_x"}`)
		case "/api/v1/estimate":
			body, _ := io.ReadAll(r.Body)
			var req struct {
				Filters json.RawMessage `json:"filters"`
			}
			require.NoError(t, json.Unmarshal(body, &req))
			sent = append(sent, string(req.Filters))
			fmt.Fprint(w, `{"model":"m","gpu_class":"l4","routing_reason":"r","tokens":20,"ligands":4,`+hits+
				`,"chunks":1,"gpu_seconds":1,"cost_usd":0.0001,"cost_per_ligand_usd":0.0001,"wall_seconds":2,"basis":"b"}`)
		}
	}))
	t.Cleanup(srv.Close)
	fasta, lib := writeFiles(t)
	flags := []string{"--protein", "@" + fasta, "--library", lib, "--filter-catalog", "pains_a", "--filter", "mw<=500", "--filter-smarts", "[N+](=O)[O-]"}
	want := `{"molecular_weight":{"max":500},"catalogs":["pains_a"],"smarts":["[N+](=O)[O-]"]}`

	code, out, errOut := omtxRun(t, srv.URL, append([]string{"screen"}, flags...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Filters held back 2 ligands before the GPU:\n       1  pains_a:ene_rhod_A(235)\n       1  molecular_weight: 612.70 is outside [-inf, 500]\n")

	code, out, errOut = omtxRun(t, srv.URL, append([]string{"estimate"}, flags...)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Filters would hold back 2 ligands before the GPU:")
	assert.Contains(t, out, "2 ligands in 1 chunk:", "the GPU figures are for the ligands that would run")
	require.Len(t, sent, 2)
	assert.JSONEq(t, want, sent[0])
	assert.JSONEq(t, want, sent[1])
}

// TestResultsListFilteredLigands: results lists the filtered ligands with
// their rules, apart from failures, and a batch of completed and filtered
// ligands exits 0.
func TestResultsListFilteredLigands(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"batch_id":"batch_f","status":"completed","partial":false,
			"ranking":{"mode":"hit_discovery","binder_threshold":0.5,"description":"Rule."},
			"summary":{"status_line":"completed, 1 filtered","filtered":1,"failures":[],
				"filtered_ligands":[{"job_id":"batch_f-1","batch_index":1,"ligand_name":"ene","ligand_smiles":"O=C1NC(=S)SC1=Cc1ccccc1","rule":"pains_a:ene_rhod_A(235)"}]},
			"total_ranked":1,"offset":0,"page_size":500,
			"results":[{"rank":1,"job_id":"batch_f-0","batch_index":0,"ligand_name":"a","ligand_smiles":"CCO","affinity_pred_value":0.5,
				"affinity_probability_binary":0.9,"model":"m","predicted_binder":true}]}`)
	}))
	t.Cleanup(srv.Close)
	code, _, errOut := omtxRun(t, srv.URL, "results", "batch_f")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "batch_f: completed, 1 filtered\n")
	assert.Contains(t, errOut, "1 filtered before the GPU (not failures):\n  #1 ene (batch_f-1): pains_a:ene_rhod_A(235)\n")
}

func TestWatchDescribesFiltered(t *testing.T) {
	t.Parallel()
	got := describe(omtx.Progress{Total: 4, Completed: 1, Running: 1, Filtered: 2}, 0, 0, false)
	assert.Equal(t, "completed 1, failed 0, running 1, pending 0, filtered 2 | rate —, ETA —", got)
}
