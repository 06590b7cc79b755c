package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeAPI is a stand-in API: a batch that advances one step per poll.
type fakeAPI struct {
	mu      sync.Mutex
	polls   int
	steps   []string // batch progress per poll: "completed,failed,running,pending"
	final   string
	cancels int
	queries []string // of GET .../results
	reruns  []string // the which and Idempotency-Key of each rerun
	cache   []string // the cache field of each batch submitted
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("X-Request-Id", "req-1")
	if r.Header.Get("Authorization") != "Bearer good-key-0123456789" {
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":{"code":"unauthorized","message":"unknown API key","field":"Authorization","request_id":"req-1"}}`)
		return
	}
	switch {
	case r.Method == "POST" && r.URL.Path == "/api/v1/predict/batch":
		if !strings.Contains(r.Header.Get("Content-Type"), "multipart/form-data") {
			w.WriteHeader(415)
			return
		}
		_ = r.ParseMultipartForm(1 << 20)
		f.cache = append(f.cache, r.FormValue("cache"))
		if r.FormValue("protein_sequence") == "BAD" {
			w.WriteHeader(422)
			fmt.Fprint(w, `{"error":{"code":"invalid","message":"not an amino-acid sequence","field":"protein_sequence","request_id":"req-1"}}`)
			return
		}
		w.WriteHeader(202)
		fmt.Fprint(w, `{"batch_id":"batch_x","job_id":"batch_x","status":"pending","model":"m","total_ligands":4,"invalid_ligands":0,"renamed_ligands":0,"max_concurrent":2,"chunk_size":2,"url":"/api/v1/batches/batch_x"}`)
	case r.URL.Path == "/api/v1/batches/batch_x":
		step := f.steps[min(f.polls, len(f.steps)-1)]
		f.polls++
		var c, fl, run, pend int
		fmt.Sscanf(step, "%d,%d,%d,%d", &c, &fl, &run, &pend)
		status := "running"
		if f.polls >= len(f.steps) {
			status = f.final
		}
		doc := map[string]any{"job_id": "batch_x", "job_type": "BATCH_PARENT", "status": status, "model": "m",
			"progress": map[string]int{"total": 4, "completed": c, "failed": fl, "running": run, "pending": pend}}
		if status == "completed" {
			line := "completed"
			if fl > 0 {
				line = fmt.Sprintf("completed with %d failed", fl)
			}
			doc["batch_results"] = map[string]any{"best_ligand": "b", "status_line": line}
		}
		_ = json.NewEncoder(w).Encode(doc)
	case r.URL.Path == "/api/v1/batches/batch_x/results":
		// Ranked as the API ranks: failures (the last step's failed count)
		// listed with their reasons; the query's rule echoed.
		var c, fl int
		fmt.Sscanf(f.steps[len(f.steps)-1], "%d,%d", &c, &fl)
		status := f.final
		if f.polls < len(f.steps) {
			status = "running"
		}
		mode := r.URL.Query().Get("ranking")
		if mode == "" {
			mode = "hit_discovery"
		}
		f.queries = append(f.queries, r.URL.RawQuery)
		failures := []map[string]any{}
		for i := range fl {
			failures = append(failures, map[string]any{"job_id": fmt.Sprintf("j%d", 10+i), "batch_index": 10 + i, "ligand_name": "bad", "status": "failed", "reason": "invalid SMILES at position 3"})
		}
		line := "completed"
		if fl > 0 {
			line = fmt.Sprintf("completed with %d failed", fl)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"batch_id": "batch_x", "status": status, "partial": status == "running",
			"ranking": map[string]any{"mode": mode, "binder_threshold": 0.5, "description": "Rule " + mode + "."},
			"summary": map[string]any{"status_line": line, "failed": fl, "failures": failures, "completed_with_failures": fl > 0,
				"total": 4, "cache_hits": 3, "gpu_seconds_saved": 60, "cost_usd_saved": 0.02,
				"models": []string{"descriptor-baseline-v1"}, "model_note": "ligand-only descriptor model; ignores the protein"},
			"total_ranked": 2, "offset": 0, "page_size": 500,
			"results": []map[string]any{
				{"rank": 1, "job_id": "j2", "batch_index": 2, "ligand_name": "-b", "ligand_smiles": "CC", "affinity_pred_value": 0.5, "pic50": 5.5,
					"delta_g_kcal_mol": -7.5, "affinity_probability_binary": 0.9, "confidence": 0.6, "model": "m", "predicted_binder": true,
					"results_url": "/api/v1/jobs/j2/files/results.json", "ligand_metadata": map[string]string{"class": "sulfonamide"}},
				{"rank": 2, "job_id": "j0", "batch_index": 0, "ligand_name": "a", "ligand_smiles": "C", "affinity_pred_value": 1.0, "pic50": 5.0,
					"delta_g_kcal_mol": -6.82, "affinity_probability_binary": 0.4, "confidence": 0.5, "model": "m", "below_confidence_floor": []string{"ligand_iptm"},
					"results_url": "/api/v1/jobs/j0/files/results.json", "ligand_metadata": map[string]string{"class": "=1+1"}},
			},
		})
	case r.URL.Path == "/api/v1/batches/batch_x/files/batch_results.csv":
		w.Header().Set("Content-Type", "text/csv")
		fmt.Fprint(w, "rank,batch_index,job_id,ligand_name,smiles,status,affinity_pred_value_log10_ic50_um,pic50,delta_g_kcal_mol,affinity_probability_binary,confidence,model\n"+
			"2,0,j0,a,C,completed,1.0,5.0,-6.82,0.4,0.5,m\n"+
			",1,j1,bad,X,failed,,,,,,m\n"+
			"1,2,j2,'-b,CC,completed,0.5,5.5,-7.50,0.9,0.6,m\n")
	case strings.HasPrefix(r.URL.Path, "/api/v1/batches/batch_x/files/"):
		name := strings.TrimPrefix(r.URL.Path, "/api/v1/batches/batch_x/files/")
		if name == "summary.json" {
			fmt.Fprint(w, `{"total":4}`)
			return
		}
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":{"code":"not_found","message":"no such file","request_id":"req-1"}}`)
	case r.Method == "POST" && r.URL.Path == "/api/v1/batches/batch_old/rerun":
		var body struct{ Which string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.reruns = append(f.reruns, body.Which+" "+r.Header.Get("Idempotency-Key"))
		w.WriteHeader(202)
		fmt.Fprint(w, `{"batch_id":"batch_x","job_id":"batch_x","status":"pending","model":"m","total_ligands":2,"invalid_ligands":0,"renamed_ligands":0,"max_concurrent":2,"chunk_size":2,"url":"/api/v1/batches/batch_x","rerun_of":"batch_old"}`)
	case r.URL.Path == "/api/v1/batches/batch_x/cancel":
		f.cancels++
		w.WriteHeader(202)
		fmt.Fprint(w, `{"job_id":"batch_x","status":"cancelling"}`)
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":{"code":"not_found","message":"no route","request_id":"req-1"}}`)
	}
}

func newFake(t *testing.T, final string, steps ...string) (*fakeAPI, string) {
	f := &fakeAPI{steps: steps, final: final}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func omtxRun(t *testing.T, url string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"OMTX_API_URL": url, "OMTX_API_KEY": "good-key-0123456789"}
	code := run(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

func writeFiles(t *testing.T) (fasta, lib string) {
	dir := t.TempDir()
	fasta, lib = filepath.Join(dir, "p.fasta"), filepath.Join(dir, "l.smi")
	require.NoError(t, os.WriteFile(fasta, []byte(">target\nMKTAYIAKQR\nQISFVKSHFS\n"), 0o644))
	require.NoError(t, os.WriteFile(lib, []byte("C a\nCC b\n"), 0o644))
	return fasta, lib
}

func TestScreenWaitResultsAndExitCodes(t *testing.T) {
	t.Parallel()
	fasta, lib := writeFiles(t)
	t.Run("a finished screen exits 0 with the link and ranked hits", func(t *testing.T) {
		t.Parallel()
		_, url := newFake(t, "completed", "0,0,2,2", "2,0,2,0", "4,0,0,0")
		code, out, errOut := omtxRun(t, url, "screen", "--protein", "@"+fasta, "--library", lib, "--wait", "--interval", "1ms")
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, errOut, "batch_x: completed\n")
		assert.NotContains(t, errOut, "failed:")
		assert.Contains(t, out, "Results page: "+url+"/ui/#/batches/batch_x\n")
	})
	t.Run("a screen with failed ligands exits 4 and lists them with reasons", func(t *testing.T) {
		t.Parallel()
		_, url := newFake(t, "completed", "0,0,2,2", "2,0,2,0", "3,1,0,0")
		code, out, errOut := omtxRun(t, url, "screen", "--protein", "@"+fasta, "--library", lib, "--wait", "--interval", "1ms")
		require.Equal(t, 4, code, errOut)
		assert.Contains(t, errOut, "batch_x: completed with 1 failed\n")
		assert.Contains(t, errOut, "\nbatch_x completed with 1 failed\n", "watch ends on the status line")
		assert.Contains(t, errOut, "1 failed:\n  #10 bad (j10): invalid SMILES at position 3\n")
		assert.Contains(t, errOut, "Re-run them as a new batch: omtx rerun batch_x --failed\n")
		assert.Contains(t, errOut, "Ranking: Rule hit_discovery.")
		assert.Contains(t, errOut, "ligand-only descriptor model; ignores the protein")
		assert.Contains(t, out, "Results page: "+url+"/ui/#/batches/batch_x\n")
		assert.NotContains(t, out, "key=", "the link carries no key unless asked")
		// Without a terminal: one plain line per poll.
		assert.Equal(t, 3, strings.Count(errOut, "batch_x running")+strings.Count(errOut, "batch_x completed: "), errOut)
		assert.Contains(t, errOut, "completed 3, failed 1, running 0, pending 0")
		// Ranked rows in rank order, failed ones left out, the CSV's
		// formula guard undone.
		ib, ia := strings.Index(out, "  -b  "), strings.Index(out, "  a (below ligand_iptm floor)  ")
		assert.True(t, ib > 0 && ia > ib, out)
		assert.NotContains(t, out, "bad")
		assert.Contains(t, out, "affinity_pred_value log10(IC50/µM)")
		code, _, _ = omtxRun(t, url, "results", "batch_x")
		assert.Equal(t, 4, code, "omtx results exits 4 too")
	})
	t.Run("screen --wait -o json prints one object that names the batch", func(t *testing.T) {
		t.Parallel()
		_, url := newFake(t, "completed", "0,0,2,2", "2,0,2,0", "4,0,0,0")
		code, out, errOut := omtxRun(t, url, "-o", "json", "screen", "--protein", "@"+fasta, "--library", lib, "--wait", "--interval", "1ms")
		require.Equal(t, 0, code, errOut)
		var got ResultsOutput
		require.NoError(t, json.Unmarshal([]byte(out), &got), "stdout must be one JSON object: %s", out)
		assert.Equal(t, "batch_x", got.BatchID)
		assert.Equal(t, "completed", got.Status)
		assert.Equal(t, url+"/ui/#/batches/batch_x", got.Link)
		assert.NotEmpty(t, got.Results)
		require.NotNil(t, got.Ranking)
	})
	t.Run("a cancelled batch exits 1", func(t *testing.T) {
		t.Parallel()
		_, url := newFake(t, "cancelled", "0,0,2,2", "1,0,0,0")
		code, _, _ := omtxRun(t, url, "watch", "batch_x", "--interval", "1ms")
		assert.Equal(t, 1, code)
	})
	t.Run("input the API refuses is a usage error with its message and field", func(t *testing.T) {
		t.Parallel()
		_, url := newFake(t, "completed", "0,0,0,4")
		code, _, errOut := omtxRun(t, url, "screen", "--protein", "BAD", "--library", lib)
		assert.Equal(t, 2, code)
		assert.Contains(t, errOut, "not an amino-acid sequence")
		assert.Contains(t, errOut, "field: protein_sequence")
	})
	t.Run("a refused key and an unreachable API exit 3", func(t *testing.T) {
		t.Parallel()
		_, url := newFake(t, "completed", "0,0,0,4")
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"jobs"}, nil, &out, &errb, func(k string) string {
			return map[string]string{"OMTX_API_URL": url, "OMTX_API_KEY": "wrong-key-0123456789"}[k]
		})
		assert.Equal(t, 3, code)
		assert.Contains(t, errb.String(), "refuses the key")
	})
	t.Run("bad flags exit 2", func(t *testing.T) {
		t.Parallel()
		code, _, _ := omtxRun(t, "http://127.0.0.1:1", "screen", "--max-concurrent", "many")
		assert.Equal(t, 2, code)
	})
	t.Run("--link-with-key puts the key after the route", func(t *testing.T) {
		t.Parallel()
		_, url := newFake(t, "completed", "0,0,0,4")
		code, out, _ := omtxRun(t, url, "screen", "--protein", "@"+fasta, "--library", lib, "--link-with-key")
		require.Equal(t, 0, code)
		assert.Contains(t, out, url+"/ui/#/batches/batch_x?key=good-key-0123456789\n")
	})
}

func TestResultsRankingAndCSV(t *testing.T) {
	t.Parallel()
	f, url := newFake(t, "completed", "4,0,0,0")
	code, out, errOut := omtxRun(t, url, "results", "batch_x", "--ranking", "lead_optimization", "--binder-threshold", "0.7", "--min-ligand-iptm", "0.5", "--format", "csv")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, []string{"binder_threshold=0.7&min_ligand_iptm=0.5&page_size=10&ranking=lead_optimization"}, f.queries)
	assert.Contains(t, errOut, "Ranking: Rule lead_optimization.")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, "rank,job_id,ligand_name,smiles,affinity_probability_binary,predicted_binder,affinity_pred_value_log10_ic50_um,"+
		"pic50,delta_g_kcal_mol,confidence,below_confidence_floor,model,model_note,status,results_url,warnings,class", lines[0])
	assert.Equal(t, "1,j2,'-b,CC,0.9000,true,0.5000,5.5000,-7.5000,0.6000,,m,,completed,/api/v1/jobs/j2/files/results.json,,sulfonamide", lines[1])
	assert.Equal(t, "2,j0,a,C,0.4000,false,1.0000,5.0000,-6.8200,0.5000,ligand_iptm,m,,completed,/api/v1/jobs/j0/files/results.json,,'=1+1", lines[2])

	code, _, _ = omtxRun(t, url, "results", "batch_x", "--ranking", "best")
	assert.Equal(t, 2, code)
}

func TestDownloadSkipsCompleteFiles(t *testing.T) {
	t.Parallel()
	_, url := newFake(t, "completed", "4,0,0,0")
	dir := t.TempDir()
	code, out, errOut := omtxRun(t, url, "-o", "json", "download", "batch_x", "--out", dir, "--children=false")
	require.Equal(t, 0, code, errOut)
	var got []fetched
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	require.Len(t, got, 2, "the two files that exist")
	for _, f := range got {
		assert.False(t, f.Skipped)
	}
	code, out, _ = omtxRun(t, url, "-o", "json", "download", "batch_x", "--out", dir, "--children=false")
	require.Equal(t, 0, code)
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	for _, f := range got {
		assert.True(t, f.Skipped, "%s is complete", f.File)
	}
	// A local file of the wrong size is fetched again.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "summary.json"), []byte("{"), 0o644))
	_, out, _ = omtxRun(t, url, "-o", "json", "download", "batch_x", "--out", dir, "--children=false")
	require.NoError(t, json.Unmarshal([]byte(out), &got))
	data, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	assert.Equal(t, `{"total":4}`, string(data))
}

// TestWatchRedrawsInPlaceOnATerminal runs the built command on a
// pseudo-terminal: the bar is redrawn with carriage returns on one line,
// not printed as new lines.
func TestWatchRedrawsInPlaceOnATerminal(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "omtx")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())
	_, url := newFake(t, "completed", "0,0,2,2", "1,0,2,1", "2,0,2,0", "3,0,1,0", "4,0,0,0")

	cmd := exec.Command(bin, "watch", "batch_x", "--interval", "1ms")
	cmd.Env = append(os.Environ(), "OMTX_API_URL="+url, "OMTX_API_KEY=good-key-0123456789")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 160})
	require.NoError(t, err)
	defer tty.Close()
	var screen bytes.Buffer
	_, _ = io.Copy(&screen, tty) // until the command exits (EIO)
	require.NoError(t, cmd.Wait())
	s := screen.String()

	bar := s[:strings.LastIndex(s, "batch_x completed")]
	assert.GreaterOrEqual(t, strings.Count(bar, "\r"), 5, "redrawn at least once per poll: %q", s)
	assert.LessOrEqual(t, strings.Count(bar, "\n"), 1, "not a new line per poll: %q", s)
	for _, want := range []string{"completed 0, failed 0, running 2, pending 2", "completed 4, failed 0, running 0, pending 0", "/min, ETA", "4/4"} {
		assert.Contains(t, s, want)
	}
}

// TestProteinFileNameHint: a FASTA file named without @ gets a hint, not
// "invalid residue".
func TestProteinFileNameHint(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"ca2.fasta", "data/ca2", "./ca2.fa"} {
		f := inputFlags{protein: v}
		_, err := f.proteinSequence()
		require.Error(t, err, v)
		assert.Contains(t, err.Error(), "--protein @"+v, v)
	}
	f := inputFlags{protein: "MKTAYIAKQR"}
	seq, err := f.proteinSequence()
	require.NoError(t, err)
	assert.Equal(t, "MKTAYIAKQR", seq)
}

// TestEstimateSaysWhenItPricesASubstitute: an estimate served by the
// baseline in place of boltz2 says so, and what the baseline is; counts
// are in the right number.
func TestEstimateSaysWhenItPricesASubstitute(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"model":"descriptor-baseline-v1","requested_model":"boltz2","gpu_class":"l4","routing_reason":"r",`+
			`"tokens":20,"ligands":1,"chunks":1,"gpu_seconds":1,"cost_usd":0.0001,"cost_per_ligand_usd":0.0001,"wall_seconds":2,"basis":"b"}`)
	}))
	t.Cleanup(srv.Close)
	code, out, errOut := omtxRun(t, srv.URL, "estimate", "--protein", "MKTAYIAKQR", "--ligand", "CCO")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Substitute: boltz2 is not served here; this prices descriptor-baseline-v1, the model that would run (ligand-only descriptor model; ignores the protein)\n")
	assert.Contains(t, out, "1 ligand in 1 chunk:")
}
