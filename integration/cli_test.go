package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/client"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// omtxCLI builds cmd/omtx once per test.
func omtxCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "omtx")
	build := exec.Command("go", "build", "-o", bin, "./cmd/omtx")
	build.Dir, build.Stderr = env.root, os.Stderr
	require.NoError(t, build.Run())
	return bin
}

// runCLI runs the CLI in dir without a terminal and returns its exit code,
// stdout and stderr.
func runCLI(t *testing.T, bin, dir, key string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OMTX_API_URL="+env.api.URL, "OMTX_API_KEY="+key)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String(), errb.String()
	}
	require.NoError(t, err)
	return 0, out.String(), errb.String()
}

func TestCLIScreenWatchResults(t *testing.T) {
	bin := omtxCLI(t)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "p.fasta"), []byte(">target\nMKTAYIAKQRQISFVKSHFSRQLEERLGL\nIEVQAPILSRVGDGTQDNLSGAEK\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ligands.csv"), []byte(
		"name,smiles,vendor\nAspirin,CC(=O)OC1=CC=CC=C1C(=O)O,a\nIbuprofen,CC(C)CC1=CC=C(C=C1)C(C)C(=O)O,b\nCaffeine,CN1C=NC2=C1C(=O)N(C(=O)N2C)C,c\nBenzene,c1ccccc1,d\n"), 0o644))

	t.Run("an invalid library is a usage error listing its rows", func(t *testing.T) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.csv"), []byte("name,smiles\nx,C1CC\ny,CCO\n"), 0o644))
		code, _, errOut := runCLI(t, bin, dir, testKey, "screen", "--protein", "@p.fasta", "--library", "bad.csv")
		assert.Equal(t, 2, code, errOut)
		assert.Contains(t, errOut, "field: ligands")
		assert.Contains(t, errOut, "row 2")
	})
	t.Run("a refused key exits 3", func(t *testing.T) {
		code, _, errOut := runCLI(t, bin, dir, "not-a-key-0123456789", "jobs")
		assert.Equal(t, 3, code, errOut)
	})

	// Ctrl-C while watching stops the watch, never the batch: no GPU
	// worker runs yet, so the batch waits.
	code, out, errOut := runCLI(t, bin, dir, testKey, "-o", "json", "screen", "--protein", "@p.fasta", "--library", "ligands.csv", "--name", "cli screen", "--max-concurrent", "2")
	require.Equal(t, 0, code, errOut)
	var sub struct {
		Submission client.BatchSubmitResponse
		Link       string
	}
	require.NoError(t, json.Unmarshal([]byte(out), &sub), out)
	id := sub.Submission.BatchID
	assert.Equal(t, env.api.URL+"/ui/#/batches/"+id, sub.Link)

	t.Run("Ctrl-C stops watching and leaves the batch running", func(t *testing.T) {
		cmd := exec.Command(bin, "watch", id, "--interval", "100ms")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "OMTX_API_URL="+env.api.URL, "OMTX_API_KEY="+testKey)
		var errb syncBuffer
		cmd.Stderr = &errb
		require.NoError(t, cmd.Start())
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(errb.String(), id+" ") && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		err := cmd.Wait()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, 130, ee.ExitCode(), errb.String())
		assert.Contains(t, errb.String(), "keeps running")
		b := decode[omtx.Job](t, func() []byte { _, body := call(t, "GET", "/api/v1/batches/"+id, testKey, ""); return body }())
		assert.NotEqual(t, omtx.StatusCancelled, b.Status)
	})

	startGPUWorker(t)
	code, _, errOut = runCLI(t, bin, dir, testKey, "watch", id, "--interval", "200ms")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, id+" running", "one plain line per poll without a terminal")
	assert.Contains(t, errOut, id+" completed")

	t.Run("results are the ranked hits with units and the model served", func(t *testing.T) {
		code, out, errOut := runCLI(t, bin, dir, testKey, "results", id, "--format", "json")
		require.Equal(t, 0, code, errOut)
		var got struct {
			BatchID string `json:"batch_id"`
			Status  string `json:"status"`
			Results []struct {
				Rank      int     `json:"rank"`
				Ligand    string  `json:"ligand_name"`
				PIC50     float64 `json:"pic50"`
				PredValue float64 `json:"affinity_pred_value"`
				Units     string  `json:"affinity_pred_value_units"`
				Model     string  `json:"model"`
			} `json:"results"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &got), out)
		assert.Equal(t, id, got.BatchID, "a script finds the batch again by the id it prints")
		assert.Equal(t, "completed", got.Status)
		hits := got.Results
		require.Len(t, hits, 4)
		rows := readCSV(t, id)
		for i, h := range hits {
			assert.Equal(t, i+1, h.Rank)
			assert.Equal(t, omtx.BaselineModel, h.Model)
			assert.Equal(t, omtx.UnitsLog10IC50uM, h.Units)
			assert.InDelta(t, 6-h.PredValue, h.PIC50, 1e-3)
			for _, r := range rows[1:] {
				if r[0] == strconv.Itoa(h.Rank) {
					assert.Equal(t, r[3], h.Ligand, "rank %d", h.Rank)
				}
			}
		}
		code, table, _ := runCLI(t, bin, dir, testKey, "results", id, "--top", "2")
		require.Equal(t, 0, code)
		assert.Contains(t, table, "ΔG kcal/mol")
		assert.Equal(t, 3, strings.Count(strings.TrimSpace(table), "\n")+1, "a header and two rows: %s", table)
	})

	t.Run("download fetches every file once", func(t *testing.T) {
		out := filepath.Join(dir, "hits")
		code, _, errOut := runCLI(t, bin, dir, testKey, "download", id, "--out", out)
		require.Equal(t, 0, code, errOut)
		csv, err := os.ReadFile(filepath.Join(out, "batch_results.csv"))
		require.NoError(t, err)
		_, body := call(t, "GET", "/api/v1/batches/"+id+"/files/batch_results.csv", testKey, "")
		assert.Equal(t, body, csv)
		assert.FileExists(t, filepath.Join(out, "analysis", "affinity_distribution.png"))
		kids := children(t, id)
		require.Len(t, kids, 4)
		assert.FileExists(t, filepath.Join(out, "jobs", kids[0].JobID, "results.json"))
		code, again, _ := runCLI(t, bin, dir, testKey, "-o", "json", "download", id, "--out", out)
		require.Equal(t, 0, code)
		var got []struct{ Skipped bool }
		require.NoError(t, json.Unmarshal([]byte(again), &got))
		require.NotEmpty(t, got)
		for _, f := range got {
			assert.True(t, f.Skipped)
		}
	})

	t.Run("cancelling a finished batch is refused", func(t *testing.T) {
		code, _, errOut := runCLI(t, bin, dir, testKey, "cancel", id)
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "already completed")
	})

	t.Run("predict --wait prints the link and the result", func(t *testing.T) {
		code, out, errOut := runCLI(t, bin, dir, testKey, "predict", "--protein", "@p.fasta", "--ligand", "CCO", "--name", "ethanol", "--wait")
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, out, env.api.URL+"/ui/#/jobs/job_")
		assert.Contains(t, out, "ethanol")
		assert.Contains(t, out, "warning:", "the boltz2 substitution is said")
	})

	t.Run("jobs and batches list newest first", func(t *testing.T) {
		code, out, _ := runCLI(t, bin, dir, testKey, "batches", "--limit", "1")
		require.Equal(t, 0, code)
		assert.Contains(t, out, id)
		code, out, _ = runCLI(t, bin, dir, testKey, "jobs", "--status", "completed", "--limit", "3")
		require.Equal(t, 0, code)
		assert.Contains(t, out, "completed")
		code, _, _ = runCLI(t, bin, dir, testKey, "jobs", "--status", "done")
		assert.Equal(t, 2, code)
	})

	t.Run("estimate takes the screen's flags", func(t *testing.T) {
		code, out, errOut := runCLI(t, bin, dir, testKey, "-o", "json", "estimate", "--protein", "@p.fasta", "--library", "ligands.csv", "--max-concurrent", "2")
		require.Equal(t, 0, code, errOut)
		var est client.EstimateResponse
		require.NoError(t, json.Unmarshal([]byte(out), &est))
		assert.Equal(t, 4, est.Ligands)
	})
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
