package api

import (
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestUIRanksAndNamesFailures drives the results page in headless
// Chromium against the fixture: a finished batch shows its status line
// and its failures under "Failure reason", and the ranking control
// re-ranks through GET .../results. It is skipped where no Chromium is
// installed, and under -short.
func TestUIRanksAndNamesFailures(t *testing.T) {
	t.Parallel()
	ctx := chromiumTab(t, chromedp.WindowSize(1280, 1400))
	f := newFixture(t)
	id := resultsBatch(t, f, omtx.StatusCompleted, nil)
	// The page reads the parent's batch_results and batch_results.csv;
	// give it the aggregation's, as the worker writes them.
	parent, err := f.jobs.Get(t.Context(), id)
	require.NoError(t, err)
	parent.BatchResults = &omtx.BatchResults{Completed: 4, Failed: 1, StatusLine: "completed with 1 failed", CompletedWithFailures: true,
		RankingRule: omtx.RankingOptions{}.Describe(), ModelNote: omtx.BaselineNote, BestLigand: "L1", BestJobID: omtx.BatchChildJobID(id, 1, 5)}
	f.jobs.Put(parent)
	require.NoError(t, f.blobs.Put(t.Context(), omtx.BatchPrefix(id)+omtx.FileBatchResultsCSV, "text/csv",
		[]byte("rank,batch_index,job_id,ligand_name,smiles,status,affinity_probability_binary,delta_g_kcal_mol,failure_reason,warnings,class\n"+
			"1,1,"+omtx.BatchChildJobID(id, 1, 5)+",L1,CCO,completed,0.99,-9,,,c1\n"+
			",3,"+omtx.BatchChildJobID(id, 3, 5)+",L3,CCO,failed,,,boltz: out of memory,,c3\n")))
	srv := httptest.NewServer(f.srv.Handler())
	t.Cleanup(srv.Close)

	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/ui#/batches/"+id+"?key="+key1),
		chromedp.WaitVisible(chromedp.CSS(`table.ligands tbody tr`)),
	))
	run := func(a chromedp.Action[string]) string {
		v, err := chromedp.Run(ctx, a)
		require.NoError(t, err)
		return v
	}
	assert.Equal(t, "completed with 1 failed", run(chromedp.Text(chromedp.CSS(`#status-line`))))
	assert.Contains(t, run(chromedp.Text(chromedp.CSS(`#model-note`))), omtx.BaselineNote)
	headers := `Array.from(document.querySelectorAll('table.ligands th')).map(h => h.textContent).join('|')`
	assert.Contains(t, run(chromedp.Evaluate[string](headers)), "Failure reason")
	assert.NotContains(t, run(chromedp.Evaluate[string](headers)), "|Warnings|Warnings")
	assert.Contains(t, run(chromedp.Evaluate[string](headers)), "|class", "the user's own column")
	reason := `document.querySelector('tr[data-job="` + omtx.BatchChildJobID(id, 3, 5) + `"] [data-k=reason]').textContent`
	assert.Equal(t, "boltz: out of memory", run(chromedp.Evaluate[string](reason)))

	// Lead optimization with a ligand_iptm floor: L1 (p 0.99) is the only
	// binder but sits below the floor, so it ranks last.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#ranking`), "lead_optimization"),
		chromedp.SetValue(chromedp.CSS(`#binder-threshold`), "0.6"),
		chromedp.SetValue(chromedp.CSS(`#min-ligand-iptm`), "0.5"),
		chromedp.Click(chromedp.CSS(`#ranking-control button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#ranking-applied`)),
	))
	order := `Array.from(document.querySelectorAll('table.ligands tbody tr')).map(r => r.querySelector('[data-k=rank]').textContent + ':' + r.querySelector('[data-k=name]').textContent).join(' ')`
	assert.Equal(t, "1:L2 2:L0 3:L4 4:L1 —:L3", run(chromedp.Evaluate[string](order)))
	assert.Contains(t, run(chromedp.Text(chromedp.CSS(`#ranking-applied`))), "Lead optimization")
	floor := `document.querySelector('tr[data-job="` + omtx.BatchChildJobID(id, 1, 5) + `"] [data-k=floor]').textContent`
	assert.Equal(t, "ligand_iptm", run(chromedp.Evaluate[string](floor)))
}
