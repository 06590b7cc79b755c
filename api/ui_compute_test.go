package api

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestUIComputeLine drives a job's page in headless Chromium: a result
// whose model ran on the CPU says so, with no GPU class or price; one on a
// GPU names its class and cost; the protein is named as its FASTA header
// named it. It is skipped where no Chromium is
// installed, and under -short.
func TestUIComputeLine(t *testing.T) {
	t.Parallel()
	ctx := chromiumTab(t)
	f := newFixture(t)
	put := func(id, class string, cost float64) {
		f.jobs.Put(&omtx.Job{JobID: id, JobType: omtx.JobTypeIndividual, UserID: "u1", Status: omtx.StatusCompleted, Model: omtx.BaselineModel,
			InputData: omtx.InputData{LigandName: "L", LigandSMILES: "CCO", ProteinSequence: "MKTAYIAKQR", ProteinName: "CA2"},
			Results: &omtx.Results{Model: omtx.BaselineModel, AffinityPredValue: -1, GPUClass: class, GPUSeconds: 0.4, CostUSD: cost,
				PricePerGPUHour: 0.65}})
	}
	put("job_on_cpu", omtx.DeviceCPU, 0)
	put("job_on_gpu", omtx.GPUClassL4, 0.00007)
	srv := httptest.NewServer(f.srv.Handler())
	t.Cleanup(srv.Close)

	line := func(id string) string {
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/ui#/jobs/"+id+"?key="+key1),
			chromedp.WaitVisible(chromedp.CSS(`#compute`)),
		))
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#compute`)))
		require.NoError(t, err)
		return text
	}
	assert.Equal(t, "CPU, no GPU cost", line("job_on_cpu"))
	protein, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#protein`)))
	require.NoError(t, err)
	assert.Equal(t, "CA2 (10 residues)", protein, "the FASTA header names the protein")
	gpu := line("job_on_gpu")
	assert.Contains(t, gpu, "l4 GPU, 0.4 GPU s, $0.00007")
}

// TestUIDownloadsTheSDF: a finished batch's page offers results.sdf (and
// no poses.sdf when the model wrote no structures), and its button
// fetches the file from the API.
func TestUIDownloadsTheSDF(t *testing.T) {
	t.Parallel()
	ctx := chromiumTab(t)
	f := newFixture(t)
	id := resultsBatch(t, f, omtx.StatusCompleted, nil)
	parent, err := f.jobs.Get(t.Context(), id)
	require.NoError(t, err)
	parent.BatchResults = &omtx.BatchResults{Completed: 4, Failed: 1, StatusLine: "completed with 1 failed"}
	f.jobs.Put(parent)
	var mu sync.Mutex
	var asked []string
	h := f.srv.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path)
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	sdButton := `button[data-file="results.sdf"]`
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/ui#/batches/"+id+"?key="+key1),
		chromedp.WaitVisible(chromedp.CSS(sdButton)),
	))
	poses, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('button[data-file="poses.sdf"]') !== null`))
	require.NoError(t, err)
	assert.False(t, poses, "no structures, no poses.sdf")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sdButton))))
	assert.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.Contains(asked, "/api/v1/batches/"+id+"/results.sdf")
	}, 10*time.Second, 50*time.Millisecond)
}
