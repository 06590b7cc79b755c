package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/client"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// browser starts headless Chromium (Debian's chromium package) with a new
// empty profile, and any extra options, and returns a tab's context.
func browser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Fatal("no chromium: apt-get install chromium (.ci/run installs it)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 1400),
	}
	opts = append(opts, extra...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")), "start chromium")
	return ctx
}

// do runs browser steps with a deadline.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// get runs one browser action that returns a value, with a deadline.
func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	require.NoError(t, err)
	return v
}

type css = chromedp.CSS

// artifact writes a test artifact under $OMTX_ARTIFACTS, or the test's
// temporary folder, and returns its path.
func artifact(t *testing.T, name string, data []byte) string {
	t.Helper()
	dir := os.Getenv("OMTX_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o644))
	t.Logf("artifact: %s", p)
	return p
}

func apiClient(t *testing.T, base string) *client.Client {
	t.Helper()
	cl, err := client.New(base, testKey)
	require.NoError(t, err)
	return cl
}

func TestBrowserSignIn(t *testing.T) {
	ctx := browser(t)
	require.NoError(t, do(t, ctx,
		chromedp.Navigate(env.api.URL+"/ui/"),
		chromedp.WaitVisible(css(`#signin`)),
		chromedp.SendKeys(css(`#api-key`), "not-a-key-0123456789"),
		chromedp.Click(css(`#signin button[type=submit]`)),
		chromedp.WaitVisible(css(`#signin .error`)),
	), "a wrong key is refused on the form")
	require.NoError(t, do(t, ctx,
		chromedp.SendKeys(css(`#api-key`), testKey),
		chromedp.Click(css(`#signin button[type=submit]`)),
		chromedp.WaitVisible(css(`table#jobs`)),
	))
	assert.Equal(t, "Signed in", get(t, ctx, chromedp.Text(css(`#who`))))
}

func TestBrowserBatchView(t *testing.T) {
	startGPUWorker(t)
	cl := apiClient(t, env.api.URL)
	var req client.BatchRequest
	require.NoError(t, jsonUnmarshal(seedBatchBody, &req))
	sub, err := cl.SubmitBatch(ctxT(t), req)
	require.NoError(t, err)
	b := waitBatch(t, sub.BatchID, 2*time.Minute)
	require.Equal(t, omtx.StatusCompleted, b.Status, b.Error)

	// The ranked order, from batch_results.csv.
	var want []string
	rows := readCSV(t, b.JobID)
	byRank := map[int]string{}
	for _, r := range rows[1:] {
		if n, err := strconv.Atoi(r[0]); err == nil {
			byRank[n] = r[2]
		}
	}
	for i := 1; i <= len(byRank); i++ {
		want = append(want, byRank[i])
	}
	require.NotEmpty(t, want)

	ctx := browser(t)
	require.NoError(t, do(t, ctx,
		chromedp.Navigate(env.api.URL+"/ui/#/batches/"+b.JobID+"?key="+testKey),
		chromedp.WaitVisible(css(`table.ligands tbody tr`)),
		chromedp.WaitVisible(css(`#histogram img`)),
	))
	href := get(t, ctx, chromedp.Evaluate[string](`location.href`))
	got := get(t, ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('table.ligands tbody tr')).filter(r => r.querySelector('[data-k=rank]').textContent !== '—').map(r => r.dataset.job)`))
	width := get(t, ctx, chromedp.Poll[int](`document.querySelector('#histogram img').complete && document.querySelector('#histogram img').naturalWidth`))
	artifact(t, "batch-view.png", get(t, ctx, chromedp.FullScreenshot(100)))
	assert.NotContains(t, href, "key=", "the key leaves the address bar")
	assert.Contains(t, href, "#/batches/"+b.JobID)
	assert.Equal(t, want, got, "ranked rows in rank order")
	assert.Greater(t, width, 100, "the histogram image loaded")

	t.Run("a column sorts from the keyboard", func(t *testing.T) {
		names := `Array.from(document.querySelectorAll('table.ligands tbody [data-k=name]')).map(c => c.textContent)`
		require.NoError(t, do(t, ctx,
			chromedp.Focus(css(`th button[data-k="name"]`)),
			chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(css(`th[aria-sort="ascending"] button[data-k="name"]`)),
		))
		first := get(t, ctx, chromedp.Evaluate[[]string](names))
		require.NoError(t, do(t, ctx,
			chromedp.KeyEvent("\r"),
			chromedp.WaitVisible(css(`th[aria-sort="descending"] button[data-k="name"]`)),
		))
		second := get(t, ctx, chromedp.Evaluate[[]string](names))
		require.Len(t, first, 10)
		assert.Equal(t, "Aspirin", first[0])
		assert.Equal(t, "Salicylic acid", second[0])
	})

	t.Run("a child's link opens its job view", func(t *testing.T) {
		require.NoError(t, do(t, ctx,
			chromedp.Click(css(`tr[data-job="`+want[0]+`"] [data-k=name] a`)),
			chromedp.WaitVisible(css(`#results`)),
		))
		assert.Equal(t, omtx.BaselineModel, get(t, ctx, chromedp.Text(css(`#model-served`))))
	})
}

func TestBrowserJobStructureViewer(t *testing.T) {
	// The Boltz job first, with only the stand-in Boltz worker on the
	// queue; then the baseline job on a baseline worker.
	boltz := boltzAPI(t)
	bw := boltzWorker(t, filepath.Join(t.TempDir(), "record.jsonl"))
	ctx0 := ctxT(t)
	var req client.PredictRequest
	require.NoError(t, jsonUnmarshal(seedBody, &req))
	withStructure, err := apiClient(t, boltz).Predict(ctx0, req)
	require.NoError(t, err)
	waitJob(t, withStructure.JobID, omtx.StatusCompleted, 2*time.Minute)
	bw.stop()
	startGPUWorker(t)
	baseline, err := apiClient(t, env.api.URL).Predict(ctx0, req)
	require.NoError(t, err)
	waitJob(t, baseline.JobID, omtx.StatusCompleted, 2*time.Minute)

	ctx := browser(t)
	require.NoError(t, do(t, ctx,
		chromedp.Navigate(boltz+"/ui/#/jobs/"+withStructure.JobID+"?key="+testKey),
		chromedp.WaitVisible(css(`#viewer[data-state="ready"]`)),
		chromedp.WaitVisible(css(`#viewer canvas`)),
	))
	// WebGL presents its frame asynchronously: poll the screenshot.
	var inked int
	var shot []byte
	for i := 0; i < 20 && inked <= 1000; i++ {
		shot = get(t, ctx, chromedp.Screenshot(css(`#viewer`)))
		img, err := png.Decode(bytes.NewReader(shot))
		require.NoError(t, err)
		inked = inkedPixels(img)
		if inked <= 1000 {
			require.NoError(t, do(t, ctx, chromedp.Sleep(250*time.Millisecond)))
		}
	}
	artifact(t, "job-structure.png", shot)
	assert.Greater(t, inked, 1000, "the viewer's canvas shows the complex")

	require.NoError(t, do(t, ctx,
		chromedp.Navigate(env.api.URL+"/ui/#/jobs/"+baseline.JobID+"?key="+testKey), // another origin: sign in there too
		chromedp.WaitVisible(css(`#no-structure`)),
	))
	assert.Contains(t, get(t, ctx, chromedp.Text(css(`#no-structure`))), "produced no 3D structure")
	assert.Zero(t, get(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#viewer').length`)))
}

// inkedPixels counts pixels that are not (near) white.
func inkedPixels(img image.Image) int {
	n := 0
	bnd := img.Bounds()
	for y := bnd.Min.Y; y < bnd.Max.Y; y++ {
		for x := bnd.Min.X; x < bnd.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r < 0xE000 || g < 0xE000 || b < 0xE000 {
				n++
			}
		}
	}
	return n
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
