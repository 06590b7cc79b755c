package integration

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// screenProtein is the sequence the New screen tests paste.
const screenProtein = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK"

// libraryFile writes a library for the page to upload and returns its path.
func libraryFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

// newScreenForm signs in on the form, opens the New screen view from the
// navigation, and fills in a pasted target and a library.
func newScreenForm(t *testing.T, ctx context.Context, targetName, lib string) {
	t.Helper()
	require.NoError(t, do(t, ctx,
		chromedp.Navigate(env.api.URL+"/ui/"),
		chromedp.WaitVisible(css(`#signin`)),
		chromedp.SendKeys(css(`#api-key`), testKey),
		chromedp.Click(css(`#signin button[type=submit]`)),
		chromedp.WaitVisible(css(`table#jobs`)),
		chromedp.Click(css(`#nav-new`)),
		chromedp.WaitVisible(css(`form#new-screen`)),
		chromedp.Click(css(`#source-sequence`)),
		chromedp.WaitVisible(css(`#sequence`)),
		chromedp.SendKeys(css(`#target-name`), targetName),
		chromedp.SendKeys(css(`#sequence`), screenProtein),
		// The local stack has no MSA server.
		chromedp.SetValue(css(`#msa-mode`), "empty"),
		chromedp.SetUploadFiles(css(`#library`), []string{lib}),
	))
}

// TestBrowserNewScreen drives the whole flow: sign in, paste a sequence,
// upload a CSV library, see the estimate (with the substitute that would
// run) before Submit is enabled, submit, and land on the batch's live view,
// which runs to completion.
func TestBrowserNewScreen(t *testing.T) {
	startGPUWorker(t)
	ctx := browser(t)
	lib := libraryFile(t, "screen.csv", "name,smiles,vendor\nAspirin,CC(=O)OC1=CC=CC=C1C(=O)O,enamine\nCaffeine,CN1C=NC2=C1C(=O)N(C(=O)N2C)C,mcule\nParacetamol,CC(=O)Nc1ccc(O)cc1,enamine\n")
	newScreenForm(t, ctx, "Page kinase", lib)
	require.NoError(t, do(t, ctx, chromedp.SendKeys(css(`#batch-name`), "Screen from the page")))
	assert.True(t, get(t, ctx, chromedp.Evaluate[bool](`document.querySelector('#submit').disabled`)), "no Submit before an estimate")

	require.NoError(t, do(t, ctx,
		chromedp.Click(css(`#estimate`)),
		chromedp.WaitVisible(css(`#estimate [data-k=ligands]`)),
		chromedp.WaitEnabled(css(`#submit`)),
	))
	assert.Equal(t, "3", get(t, ctx, chromedp.Text(css(`#estimate [data-k=ligands]`))))
	artifact(t, "new-screen-estimate.png", get(t, ctx, chromedp.FullScreenshot(100)))
	assert.Contains(t, get(t, ctx, chromedp.Text(css(`#estimate [data-k=model]`))), omtx.BaselineModel+" (asked for boltz2)")
	assert.Contains(t, get(t, ctx, chromedp.Text(css(`#estimate-substitution`))), "not installed on this deployment")
	for _, k := range []string{"gpu_hours", "cost_usd", "wall_seconds"} {
		assert.NotEmpty(t, get(t, ctx, chromedp.Text(css(`#estimate [data-k=`+k+`]`))), k)
	}
	// The target was stored and is now the form's selected target.
	targetID := get(t, ctx, chromedp.Evaluate[string](`document.querySelector('#target-id').value`))
	assert.Regexp(t, `^tgt_[0-9a-f]{16}$`, targetID)
	assert.True(t, get(t, ctx, chromedp.Evaluate[bool](`document.querySelector('#source-saved').checked`)))

	t.Run("a change after the estimate asks for a new one", func(t *testing.T) {
		require.NoError(t, do(t, ctx, chromedp.SendKeys(css(`#batch-name`), "!")))
		assert.True(t, get(t, ctx, chromedp.Evaluate[bool](`document.querySelector('#submit').disabled`)))
		require.NoError(t, do(t, ctx,
			chromedp.Click(css(`#estimate`)),
			chromedp.WaitEnabled(css(`#submit`)),
		))
	})

	require.NoError(t, do(t, ctx, chromedp.Click(css(`#submit`))))
	hash := get(t, ctx, chromedp.Poll[string](`location.hash.indexOf('#/batches/') === 0 && location.hash`))
	batchID := strings.TrimPrefix(hash, "#/batches/")
	require.NoError(t, do(t, ctx, chromedp.WaitVisible(css(`#progress`))))
	// The live view refreshes until the batch ends.
	status := get(t, ctx, chromedp.Poll[string](`(function () {
		var b = document.querySelector('h1 [data-status]');
		return b && ['completed', 'failed', 'cancelled'].indexOf(b.dataset.status) >= 0 && b.dataset.status;
	})()`))
	assert.Equal(t, "completed", status, get(t, ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`)))
	assert.Contains(t, get(t, ctx, chromedp.Text(css(`h1`))), "Screen from the page!")
	artifact(t, "new-screen-batch.png", get(t, ctx, chromedp.FullScreenshot(100)))

	b := waitBatch(t, batchID, time.Minute)
	assert.Equal(t, omtx.StatusCompleted, b.Status, b.Error)
	assert.Equal(t, 3, b.BatchConfig.TotalLigands)
	assert.Equal(t, targetID, b.InputData.TargetID, "the batch runs on the stored target")
	assert.NotEmpty(t, b.IdempotencyKey, "the page sent an idempotency key")
	code, body := call(t, "GET", "/api/v1/targets/"+targetID, testKey, "")
	require.Equal(t, http.StatusOK, code, string(body))
	assert.Contains(t, string(body), `"name":"Page kinase"`)
}

// TestBrowserNewScreenRefusedLibrary: a library with invalid rows, with
// skip_invalid off, is refused at the estimate; the page lists each row's
// number and field as the API reports them, and Submit stays disabled.
// With skip_invalid on, the valid rows are priced.
func TestBrowserNewScreenRefusedLibrary(t *testing.T) {
	ctx := browser(t)
	lib := libraryFile(t, "bad.csv", "name,smiles\nA,CCO\nB,C1CC\nC,CCN\nD,not-a-smiles\n")
	newScreenForm(t, ctx, "Page kinase", lib)
	require.NoError(t, do(t, ctx,
		chromedp.Click(css(`#estimate`)),
		chromedp.WaitVisible(css(`#error-list li.row-error`)),
	))
	type rowError struct {
		Row, Field, Text string
	}
	got := get(t, ctx, chromedp.Evaluate[[]rowError](`Array.from(document.querySelectorAll('#error-list li.row-error')).map(li => ({Row: li.dataset.row, Field: li.dataset.field, Text: li.textContent}))`))
	require.Len(t, got, 2)
	assert.Equal(t, "3", got[0].Row)
	assert.Equal(t, "5", got[1].Row)
	for _, r := range got {
		assert.Equal(t, "smiles", r.Field)
		assert.Contains(t, r.Text, "Row "+r.Row+", smiles: invalid SMILES")
	}
	assert.Equal(t, "ligands", get(t, ctx, chromedp.Evaluate[string](`document.querySelector('#error-list li:not(.row-error)').dataset.field`)))
	assert.True(t, get(t, ctx, chromedp.Evaluate[bool](`document.querySelector('#submit').disabled`)), "a refused library cannot be submitted")
	artifact(t, "new-screen-refused.png", get(t, ctx, chromedp.FullScreenshot(100)))

	t.Run("skip_invalid prices the valid rows", func(t *testing.T) {
		require.NoError(t, do(t, ctx,
			chromedp.Click(css(`#skip-invalid`)),
			chromedp.Click(css(`#estimate`)),
			chromedp.WaitVisible(css(`#estimate [data-k=ligands]`)),
			chromedp.WaitEnabled(css(`#submit`)),
		))
		assert.Equal(t, "2 (and 2 invalid rows, kept as failed)", get(t, ctx, chromedp.Text(css(`#estimate [data-k=ligands]`))))
		assert.Empty(t, get(t, ctx, chromedp.Text(css(`#screen-errors`))))
	})
}

// TestBrowserNewScreenTargetFiles makes targets from files on the page: a
// FASTA, whose header names the target, and one of Boltz's own example
// YAMLs, refused without the A3M it names (the field as the API names
// it), then stored with it.
func TestBrowserNewScreenTargetFiles(t *testing.T) {
	ctx := browser(t)
	lib := libraryFile(t, "lib.smi", "CCO ethanol\nCC(=O)Nc1ccc(O)cc1 paracetamol\n")
	examples := filepath.Join(env.root, "target", "testdata", "boltz-examples")
	fasta := libraryFile(t, "ca2.fasta", ">sp|P00918|CAH2_HUMAN Carbonic anhydrase 2\nMSHHWGYGKHNGPEHWHKDFPIAKGERQSPVDIDTHTAKYDPSLKPLSVSYDQATSLRILNNGHAFNVEFDDSQDKAVLKGGPLDGTYRLIQFHFHWGS\nLDGQGSEHTVDKKKYAAELHLVHWNTKYGDFGKAVQQPDGLAVLGIFLKVGSAKPGLQKVVDVLDSIKTKGKSADFTNFDPRGLLPESLDYWTYPGSLTTPP\n")
	estimate := func(t *testing.T) string {
		t.Helper()
		require.NoError(t, do(t, ctx,
			chromedp.Click(css(`#estimate`)),
			chromedp.WaitVisible(css(`#estimate [data-k=ligands]`)),
			chromedp.WaitEnabled(css(`#submit`)),
		))
		assert.Equal(t, "2", get(t, ctx, chromedp.Text(css(`#estimate [data-k=ligands]`))))
		return get(t, ctx, chromedp.Evaluate[string](`document.querySelector('#target-id').value`))
	}
	target := func(t *testing.T, id string) omtx.TargetRecord {
		t.Helper()
		code, body := call(t, "GET", "/api/v1/targets/"+id, testKey, "")
		require.Equal(t, http.StatusOK, code, string(body))
		return decode[omtx.TargetRecord](t, body)
	}
	require.NoError(t, do(t, ctx,
		chromedp.Navigate(env.api.URL+"/ui/#/new?key="+testKey),
		chromedp.WaitVisible(css(`form#new-screen`)),
		chromedp.SetUploadFiles(css(`#library`), []string{lib}),
		chromedp.SetValue(css(`#model`), omtx.BaselineModel),
	))

	t.Run("a FASTA's header names the target", func(t *testing.T) {
		require.NoError(t, do(t, ctx,
			chromedp.Click(css(`#source-fasta`)),
			chromedp.WaitVisible(css(`#fasta`)),
			chromedp.SetUploadFiles(css(`#fasta`), []string{fasta}),
			chromedp.SetValue(css(`#msa-mode`), "empty"),
		))
		tr := target(t, estimate(t))
		assert.Equal(t, "sp|P00918|CAH2_HUMAN Carbonic anhydrase 2", tr.Name)
		require.Len(t, tr.Chains, 1)
		assert.Equal(t, 201, tr.Chains[0].Length, "the two sequence lines, one chain")
		assert.Equal(t, "empty", tr.Chains[0].MSAMode)
	})

	t.Run("a Boltz YAML needs the A3M it names", func(t *testing.T) {
		require.NoError(t, do(t, ctx,
			chromedp.Click(css(`#source-yaml`)),
			chromedp.WaitVisible(css(`#yaml`)),
			chromedp.SetUploadFiles(css(`#yaml`), []string{filepath.Join(examples, "ligand.yaml")}),
			chromedp.Click(css(`#estimate`)),
			chromedp.WaitVisible(css(`#error-list li`)),
		))
		assert.Equal(t, "sequences[0].protein.msa", get(t, ctx, chromedp.Evaluate[string](`document.querySelector('#error-list li').dataset.field`)))
		assert.Contains(t, get(t, ctx, chromedp.Text(css(`#screen-errors`))), "Storing the target was refused")

		// With its A3M the target is stored; the baseline, the one model
		// here, then refuses its second copy of chain A, naming the field.
		require.NoError(t, do(t, ctx,
			chromedp.SetUploadFiles(css(`#a3m`), []string{filepath.Join(examples, "msa", "seq1.a3m")}),
			chromedp.Click(css(`#estimate`)),
			chromedp.WaitVisible(css(`#source-saved:checked`)),
		))
		get(t, ctx, chromedp.Poll[bool](`/The estimate was refused/.test(document.querySelector('#screen-errors').textContent)`))
		assert.Equal(t, "target.chains[0].id", get(t, ctx, chromedp.Evaluate[string](`document.querySelector('#error-list li').dataset.field`)))
		assert.True(t, get(t, ctx, chromedp.Evaluate[bool](`document.querySelector('#submit').disabled`)))
		tr := target(t, get(t, ctx, chromedp.Evaluate[string](`document.querySelector('#target-id').value`)))
		assert.Equal(t, "ligand", tr.Name, "named by the file")
		require.NotEmpty(t, tr.Chains)
		assert.Equal(t, "file", tr.Chains[0].MSAMode)
	})

	t.Run("the filters block is sent only where set", func(t *testing.T) {
		// Record the string fields of each form the page posts.
		require.NoError(t, do(t, ctx, chromedp.Evaluate[chromedp.Void](`(function () {
			window.sentForms = [];
			var f = window.fetch;
			window.fetch = function (url, opts) {
				if (opts && opts.body instanceof FormData) {
					var fields = {};
					opts.body.forEach(function (v, k) { if (typeof v === 'string') fields[k] = v; });
					window.sentForms.push(fields);
				}
				return f.apply(this, arguments);
			};
		})()`)))
		sent := func(n int) map[string]string {
			t.Helper()
			get(t, ctx, chromedp.Poll[bool](`window.sentForms.length >= `+strconv.Itoa(n)))
			return get(t, ctx, chromedp.Evaluate[map[string]string](`window.sentForms[`+strconv.Itoa(n-1)+`]`))
		}
		require.NoError(t, do(t, ctx, chromedp.Click(css(`#estimate`))))
		assert.NotContains(t, sent(1), "filters")
		assert.Equal(t, omtx.BaselineModel, sent(1)["model"])

		require.NoError(t, do(t, ctx,
			chromedp.Click(css(`#catalog-pains_a`)),
			chromedp.Click(css(`#catalog-reactive`)),
			chromedp.SendKeys(css(`#filter-molecular-weight-max`), "500"),
			chromedp.SendKeys(css(`#filter-heavy-atoms-min`), "5"),
			chromedp.SendKeys(css(`#filter-smarts`), "[N+](=O)[O-]\n\nC#N\n"),
			chromedp.Click(css(`#estimate`)),
		))
		assert.JSONEq(t, `{"catalogs":["pains_a","reactive"],"molecular_weight":{"max":500},"heavy_atoms":{"min":5},"smarts":["[N+](=O)[O-]","C#N"]}`, sent(2)["filters"])
	})
}
