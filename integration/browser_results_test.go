package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/app/apiapp"
	"github.com/omtx-hub/omtx-hub/client"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// offline makes Chromium resolve no host but the loopback the test stack
// listens on, so nothing the page shows can come from the internet.
var offline = chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1")

// requests records URLs: those a tab asks for, or those an API serves.
type requests struct {
	mu   sync.Mutex
	urls []string
}

func (r *requests) add(u string) {
	r.mu.Lock()
	r.urls = append(r.urls, u)
	r.mu.Unlock()
}

// listen records the requests of the tab's page. A worker's requests are
// not among them (the worker is a target of its own).
func (r *requests) listen(t *testing.T, ctx context.Context) {
	t.Helper()
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			r.add(e.Request.URL)
		}
	}))
}

// recordingAPI serves the API as env.api does, recording each request's
// path and query: the server's side of what the page and its workers ask.
func recordingAPI(t *testing.T) (string, *requests) {
	t.Helper()
	srv, err := apiapp.New(env.cfg, env.deps, env.log)
	require.NoError(t, err)
	h := srv.Handler()
	rec := &requests{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(r.URL.RequestURI())
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts.URL, rec
}

func (r *requests) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.urls...)
}

// A library as a chemist uploads it: a metadata column (class), one row
// RDKit cannot read (kept as a failed ligand with skip_invalid).
const resultsLibrary = "name,smiles,class\n" +
	"Aspirin,CC(=O)Oc1ccccc1C(=O)O,NSAID\n" +
	"Caffeine,CN1C=NC2=C1C(=O)N(C(=O)N2C)C,stimulant\n" +
	"Ibuprofen,CC(C)Cc1ccc(cc1)C(C)C(=O)O,NSAID\n" +
	"Broken,C1CC,unknown\n" +
	"Paracetamol,CC(=O)Nc1ccc(O)cc1,analgesic\n"

// TestBrowserBatchResults opens a finished batch with a failed ligand in
// a browser that can reach nothing but the test stack: each visible
// ligand has its 2D depiction as an SVG drawn by the vendored RDKit, every
// request stays on the API's origin, the user's metadata column is a
// column, the filter box narrows the rows, the failure reason has its
// column, and "Re-run failed" posts {"which":"failed"} with an
// Idempotency-Key to the rerun route and opens the batch it answers with.
func TestBrowserBatchResults(t *testing.T) {
	startGPUWorker(t)
	cl := apiClient(t, env.api.URL)
	sub, err := cl.UploadBatch(ctxT(t), client.BatchUpload{Filename: "library.csv", Library: []byte(resultsLibrary),
		Model: "boltz2", BatchName: "results page", ProteinSequence: abuseProtein, SkipInvalid: true})
	require.NoError(t, err)
	b := waitBatch(t, sub.BatchID, 2*time.Minute)
	require.Equal(t, omtx.StatusCompleted, b.Status, b.Error)
	require.Equal(t, 1, b.Progress.Failed)

	base, served := recordingAPI(t)
	ctx := browser(t, offline)
	var seen requests
	seen.listen(t, ctx)
	// A short window (200 px): the table starts below it, and its five
	// rows (100 px depictions) do not fit in it.
	depictions := `Array.from(document.querySelectorAll('table.ligands tbody .depiction')).map(d => d.dataset.state)`
	require.NoError(t, do(t, ctx,
		chromedp.EmulateViewport(1280, 200),
		chromedp.Navigate(base+"/ui/#/batches/"+b.JobID+"?key="+testKey),
		chromedp.WaitVisible(css(`table.ligands tbody tr`)),
		chromedp.Sleep(time.Second),
	))
	assert.Equal(t, []string{"waiting", "waiting", "waiting", "waiting", "waiting"}, get(t, ctx, chromedp.Evaluate[[]string](depictions)),
		"no depiction is drawn before its row is in view")
	require.NoError(t, do(t, ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('table.ligands tbody tr').scrollIntoView()`)))

	t.Run("each visible ligand is drawn, offline", func(t *testing.T) {
		// Rows in the window, or within the 100 px the page draws ahead:
		// drawn, or said to be unreadable; rows further down wait.
		states := get(t, ctx, chromedp.Poll[map[string]string](`(() => {
			const out = {};
			for (const tr of document.querySelectorAll('table.ligands tbody tr')) {
				const d = tr.querySelector('.depiction'), r = tr.getBoundingClientRect();
				const visible = r.bottom > -100 && r.top < innerHeight + 100;
				if (visible && (d.dataset.state === 'waiting' || d.dataset.state === 'drawing')) return null;
				out[tr.querySelector('[data-k=name]').textContent] = (visible ? '' : 'hidden:') + d.dataset.state + (d.querySelector('svg path') ? '+svg' : '');
			}
			return out;
		})()`))
		artifact(t, "batch-results.png", get(t, ctx, chromedp.FullScreenshot(100)))
		assert.Len(t, states, 5)
		hidden := 0
		for name, state := range states {
			if strings.HasPrefix(state, "hidden:") {
				hidden++
			}
			switch {
			case name == "Broken":
				assert.Contains(t, []string{"invalid", "hidden:waiting"}, state, "RDKit cannot read C1CC")
			case strings.HasPrefix(state, "hidden:"):
				assert.Equal(t, "hidden:waiting", state, name)
			default:
				assert.Equal(t, "drawn+svg", state, name)
			}
		}
		assert.GreaterOrEqual(t, hidden, 2, "rows below the window stay undrawn")
		for _, u := range seen.all() {
			if strings.HasPrefix(u, "blob:") || strings.HasPrefix(u, "data:") {
				continue
			}
			assert.True(t, strings.HasPrefix(u, base+"/"), "a request outside the API's origin: %s", u)
		}
		// The depiction worker's requests: RDKit and its WebAssembly came
		// from the API, under their locked version (the browser can
		// resolve no other host).
		assert.Subset(t, served.all(), []string{"/ui/assets/depict-worker.js",
			"/ui/assets/vendor/RDKit_minimal.js?v=2026.9.1", "/ui/assets/vendor/RDKit_minimal.wasm?v=2026.9.1"})
	})

	t.Run("SMILES on one line, whole in the cell", func(t *testing.T) {
		cell := get(t, ctx, chromedp.Evaluate[map[string]any](`(() => {
			const s = document.querySelector('tr [data-k=smiles] .smi');
			return { text: s.textContent, title: s.title, wrap: getComputedStyle(s).whiteSpace, overflow: getComputedStyle(s).textOverflow };
		})()`))
		assert.NotEmpty(t, cell["text"])
		assert.Equal(t, cell["text"], cell["title"], "the tooltip holds the whole SMILES")
		assert.Equal(t, "nowrap", cell["wrap"])
		assert.Equal(t, "ellipsis", cell["overflow"])
	})

	t.Run("the metadata column and the failure reason", func(t *testing.T) {
		heads := get(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('table.ligands thead th')).map(h => h.textContent.trim())`))
		assert.Contains(t, heads, "class")
		assert.Contains(t, heads, "Failure reason")
		assert.Contains(t, heads, "affinity_pred_value log10(IC50 / µM)")
		tips := get(t, ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries(Array.from(document.querySelectorAll('table.ligands thead th[title]')).map(h => [h.textContent.trim(), h.title]))`))
		assert.Contains(t, tips["affinity_pred_value log10(IC50 / µM)"], "log10 of the predicted IC50 in µM", "each affinity header's tooltip names its quantity")
		assert.Contains(t, tips["pIC50"], "6 − affinity_pred_value")
		assert.Contains(t, tips["ΔG (kcal/mol)"], "kcal/mol")
		class := get(t, ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries(Array.from(document.querySelectorAll('table.ligands tbody tr')).map(r => [r.querySelector('[data-k=name]').textContent, r.querySelector('[data-k="meta:class"]').textContent]))`))
		assert.Equal(t, map[string]string{"Aspirin": "NSAID", "Caffeine": "stimulant", "Ibuprofen": "NSAID", "Broken": "unknown", "Paracetamol": "analgesic"}, class)
		assert.Contains(t, get(t, ctx, chromedp.Text(css(`tr:has([data-status=failed]) [data-k=reason]`))), "invalid")
	})

	t.Run("the filter box narrows the rows", func(t *testing.T) {
		names := `Array.from(document.querySelectorAll('table.ligands tbody [data-k=name]')).map(c => c.textContent).sort()`
		for _, c := range []struct {
			query string
			want  []string
		}{
			{"nsaid", []string{"Aspirin", "Ibuprofen"}}, // metadata, any case
			{"CN1C=N", []string{"Caffeine"}},            // part of a SMILES
			{"failed", []string{"Broken"}},              // status
			{"PARACET", []string{"Paracetamol"}},        // name
			{"", []string{"Aspirin", "Broken", "Caffeine", "Ibuprofen", "Paracetamol"}},
		} {
			q, _ := json.Marshal(c.query)
			require.NoError(t, do(t, ctx, chromedp.Evaluate[chromedp.Void](`(f => { f.value = `+string(q)+`; f.dispatchEvent(new Event('input')); })(document.querySelector('#ligand-filter'))`)))
			assert.Equal(t, c.want, get(t, ctx, chromedp.Evaluate[[]string](names)), "filter %q", c.query)
		}
		// A re-rank redraws the table under the same filter.
		require.NoError(t, do(t, ctx,
			chromedp.Evaluate[chromedp.Void](`(f => { f.value = 'nsaid'; f.dispatchEvent(new Event('input')); })(document.querySelector('#ligand-filter'))`),
			chromedp.Click(css(`#ranking-control button[type=submit]`)),
			chromedp.WaitVisible(css(`#ranking-applied`)),
		))
		assert.Equal(t, "nsaid", get(t, ctx, chromedp.Evaluate[string](`document.querySelector('#ligand-filter').value`)))
		assert.Equal(t, []string{"Aspirin", "Ibuprofen"}, get(t, ctx, chromedp.Evaluate[[]string](names)), "after a re-rank")
	})

	t.Run("re-run failed posts to the rerun route and opens the new batch", func(t *testing.T) {
		// The route answers here as it is specified (202 and the new
		// batch, as POST /predict/batch does), from the browser's side.
		const next = "batch_rerun_of_failed"
		_, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/rerun"}}})
		require.NoError(t, err)
		events := chromedp.Events(ctx, fetch.RequestPaused)
		paused := make(chan fetch.EventRequestPaused, 4)
		go func() {
			for ev, err := range events {
				if err != nil {
					return
				}
				body, _ := json.Marshal(map[string]any{"batch_id": next, "status": "pending", "duplicate": false})
				_, _ = chromedp.Call(ctx, fetch.FulfillRequest, fetch.FulfillRequestParams{RequestID: ev.RequestID, ResponseCode: 202,
					ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}}, Body: body})
				paused <- ev
			}
		}()
		assert.Contains(t, get(t, ctx, chromedp.Text(css(`#rerun-failed`))), "Re-run failed (1)")
		assert.Zero(t, get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#rerun-cancelled').length`)), "nothing was cancelled")
		require.NoError(t, do(t, ctx, chromedp.Click(css(`#rerun-failed`))))
		var ev fetch.EventRequestPaused
		select {
		case ev = <-paused:
		case <-time.After(30 * time.Second):
			t.Fatal("the page sent no request to the rerun route")
		}
		u, err := url.Parse(ev.Request.URL)
		require.NoError(t, err)
		assert.Equal(t, "POST", ev.Request.Method)
		assert.Equal(t, "/api/v1/batches/"+b.JobID+"/rerun", u.Path)
		var body []byte
		for _, e := range ev.Request.PostDataEntries {
			body = append(body, e.Bytes...)
		}
		assert.JSONEq(t, `{"which":"failed"}`, string(body))
		assert.NotEmpty(t, ev.Request.Headers["Idempotency-Key"])
		assert.Equal(t, "Bearer "+testKey, ev.Request.Headers["Authorization"])
		hash := get(t, ctx, chromedp.Poll[string](`location.hash.startsWith('#/batches/`+next+`') && location.hash`))
		assert.Equal(t, "#/batches/"+next, hash)
	})
}

// TestBrowserTargetCofactorInViews runs a Boltz job on a target with a
// Mg²⁺ cofactor (through the stand-in, with a structure that has the
// cofactor on chain M and the ligand on chain L, as Boltz names chains
// by their ids), and opens it: the job view lists the cofactor, draws the
// ligand, and the 3D view shows the cofactor as a labelled sphere apart
// from the ligand's sticks. A batch on the target shows the target too.
func TestBrowserTargetCofactorInViews(t *testing.T) {
	base := boltzAPI(t)
	boltzWorker(t, filepath.Join(t.TempDir(), "record.jsonl"),
		"FAKE_BOLTZ_CIF="+filepath.Join(env.root, "integration", "testdata", "cofactor_model_0.cif"))
	cl := apiClient(t, base)
	ctx0 := ctxT(t)
	targetsReady(t, cl)
	tg := &target.Target{
		Chains: []target.Chain{{Type: target.Protein, IDs: target.ChainIDs{"A"},
			Sequence: "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK", MSA: &target.MSA{Mode: target.MSAEmpty}}},
		Ligands:     []target.FixedLigand{{IDs: target.ChainIDs{"M"}, CCD: "MG"}},
		LigandChain: "L",
	}
	tr, err := cl.CreateTarget(ctx0, "protein + Mg", tg, nil)
	require.NoError(t, err)
	job, err := cl.Predict(ctx0, client.PredictRequest{Model: "boltz2", TargetID: tr.TargetID, LigandSMILES: "CCO", LigandName: "ethanol"})
	require.NoError(t, err)
	waitJob(t, job.JobID, omtx.StatusCompleted, 2*time.Minute)

	ctx := browser(t, offline)
	require.NoError(t, do(t, ctx,
		chromedp.Navigate(base+"/ui/#/jobs/"+job.JobID+"?key="+testKey),
		chromedp.WaitVisible(css(`#target-parts li[data-cofactor="MG"]`)),
		chromedp.WaitVisible(css(`#viewer[data-state="ready"]`)),
		chromedp.WaitVisible(css(`#viewer-legend li`)),
	))
	assert.Contains(t, get(t, ctx, chromedp.Text(css(`#target-parts`))), "cofactor M · CCD MG")
	legend := get(t, ctx, chromedp.Evaluate[[]map[string]string](`Array.from(document.querySelectorAll('#viewer-legend li')).map(li => Object.assign({}, li.dataset))`))
	assert.ElementsMatch(t, []map[string]string{
		{"role": "cofactor", "chain": "M", "resn": "MG", "atoms": "1", "style": "sphere"},
		{"role": "ligand", "chain": "L", "resn": "LIG", "atoms": "3", "style": "sticks"},
	}, legend, "the cofactor and the screened ligand, each styled apart")
	labels := get(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('#viewer-legend li')).map(li => li.textContent)`))
	assert.Contains(t, labels, "Cofactor MG, chain M: sphere (1 atom)")
	assert.Equal(t, "drawn", get(t, ctx, chromedp.Poll[string](`(s => s === 'drawn' || s === 'error' || s === 'invalid' ? s : null)(document.querySelector('#main .depiction').dataset.state)`)),
		"the job view draws the ligand")
	artifact(t, "job-cofactor.png", get(t, ctx, chromedp.FullScreenshot(100)))

	// A batch on the same target: its view shows the target as well.
	sub, err := cl.SubmitBatch(ctx0, client.BatchRequest{Model: "boltz2", TargetID: tr.TargetID,
		Ligands: []client.Ligand{{Name: "ethanol", SMILES: "CCO"}, {Name: "phenol", SMILES: "c1ccccc1O"}}})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = cl.CancelBatch(ctxT(t), sub.BatchID) })
	require.NoError(t, do(t, ctx,
		chromedp.Navigate(base+"/ui/#/batches/"+sub.BatchID),
		chromedp.WaitVisible(css(`#target-parts li[data-cofactor="MG"]`)),
	))
	parts := get(t, ctx, chromedp.Text(css(`#target-parts`)))
	assert.Contains(t, parts, "protein A · 53 residues · MSA: none (single-sequence mode)")
	assert.Contains(t, parts, "cofactor M · CCD MG")
	assert.Contains(t, parts, "screened ligand: chain L")
}
