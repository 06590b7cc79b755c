package integration

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// The Boltz stand-in's timings in these tests, scaled down from Boltz-2's
// (a ligand takes 20-60 s on an L4): a ligand takes 2 s and a group of 4
// takes 8 s, longer than the stop grace the SIGTERM test gives (1 s), as a
// real group of minutes is longer than a spot node's 15-30 s.
const (
	preemptLigands = 8
	preemptLigand  = "FAKE_BOLTZ_LIGAND_SLEEP=2s"
)

// TestPreemptionSIGKILLMidGroupLosesOnlyTheLigandsInFlight: a GPU worker
// killed outright mid-group (a spot VM gone before the worker could say
// anything), with a second worker up. The ligands the killed worker had
// finished were stored as they finished and never run again; the rest run
// on the second worker; every ligand finishes exactly once; and the lost
// attempt, which had made progress, counts as an interruption: the model's
// attempt budget is untouched (every ligand stored by attempt 1).
func TestPreemptionSIGKILLMidGroupLosesOnlyTheLigandsInFlight(t *testing.T) {
	preemptionCase(t, "preempt_kill", 4, func(a *process) {
		a.kill()
	})
}

// TestPreemptionSIGTERMGraceShorterThanGroup: SIGTERM with a stop grace
// (1 s) shorter than the group (8 s): the worker kills its model call when
// the grace runs out, the ligands finished until then are stored, and the
// rest run on the second worker, without spending a model attempt.
func TestPreemptionSIGTERMGraceShorterThanGroup(t *testing.T) {
	preemptionCase(t, "preempt_term", 4, func(a *process) {
		require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
		select {
		case <-a.done:
		case <-time.After(60 * time.Second):
			t.Fatal("worker A did not stop after its stop grace")
		}
	}, "OMTX_WORKER_STOP_TIMEOUT=1s")
}

// TestPreemptionDisruptedPodKillsTheGroupAtOnce: SIGTERM to a worker whose
// pod has the DisruptionTarget condition (a spot node shutting down), read
// from a stand-in Kubernetes API with the worker's own credentials. The
// stop timeout (60 s) would let the group (8 ligands, 16 s) finish, as a
// drain does; the disrupted worker kills it instead, keeps what finished,
// and hands the rest back as an interruption.
func TestPreemptionDisruptedPodKillsTheGroupAtOnce(t *testing.T) {
	var gets atomic.Int32
	kube := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/namespaces/omtx-hub/pods/gpu-pa" || r.Header.Get("Authorization") != "Bearer sa-token" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		if r.Method == http.MethodGet {
			gets.Add(1)
		}
		// A PATCH (the deletion cost) gets the pod back too, as the API does.
		_, _ = io.WriteString(w, `{"metadata":{"name":"gpu-pa"},"status":{"conditions":[`+
			`{"type":"Ready","status":"True"},{"type":"DisruptionTarget","status":"True","reason":"TerminationByKubelet"}]}}`)
	}))
	t.Cleanup(kube.Close)
	sa := t.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: kube.Certificate().Raw})
	require.NoError(t, os.WriteFile(filepath.Join(sa, "ca.crt"), ca, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(sa, "namespace"), []byte("omtx-hub"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(sa, "token"), []byte("sa-token"), 0o600))
	u, err := url.Parse(kube.URL)
	require.NoError(t, err)

	preemptionCase(t, "preempt_disrupted", 8, func(a *process) {
		require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
		select {
		case <-a.done:
		case <-time.After(60 * time.Second):
			t.Fatal("worker A did not stop")
		}
		assert.Positive(t, gets.Load(), "worker A read its pod")
	}, "OMTX_WORKER_STOP_TIMEOUT=60s", "KUBERNETES_SERVICE_HOST="+u.Hostname(), "KUBERNETES_SERVICE_PORT="+u.Port(),
		"OMTX_SERVICE_ACCOUNT_DIR="+sa, "POD_NAME=gpu-pa")
	data, err := os.ReadFile(filepath.Join(env.stateDir, "gpu-worker.log"))
	require.NoError(t, err)
	assert.Contains(t, string(data), "stopping: the pod is being disrupted; killing running model calls now")
}

// preemptionCase runs a boltz2 batch of preemptLigands in one chunk, in
// groups of group ligands, on worker A (gpu-pa), starts worker B (gpu-pb)
// once the stand-in on A has finished two ligands of A's first group, ends
// A with stop, and checks what the tests above promise.
func preemptionCase(t *testing.T, name string, group int, stop func(a *process), extraA ...string) {
	groupEnv := fmt.Sprintf("OMTX_CHUNK_GROUP=%d", group)
	base := boltzAPI(t)
	record := filepath.Join(t.TempDir(), "record.jsonl")
	finished := filepath.Join(t.TempDir(), "finished.jsonl")
	a := boltzWorker(t, record, append([]string{"OMTX_WORKER_ID=gpu-pa", groupEnv, preemptLigand, "FAKE_BOLTZ_FINISHED=" + finished}, extraA...)...)

	var ligands []string
	smiles := map[string]string{} // SMILES → ligand name
	for i := range preemptLigands {
		s := strings.Repeat("C", i+1) + "O"
		n := fmt.Sprintf("%s_%02d", name, i)
		smiles[s] = n
		ligands = append(ligands, fmt.Sprintf(`{"name":%q,"smiles":%q}`, n, s))
	}
	body := `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK",` +
		`"ligands":[` + strings.Join(ligands, ",") + fmt.Sprintf(`],"max_concurrent":%d,"chunk_size":%d}`, preemptLigands, preemptLigands)
	// A loaded machine can make the emulator answer late: the API then
	// says 503, try again.
	var code int
	var resp []byte
	for try := 0; try < 5; try++ {
		if code, resp = callAt(t, base, "POST", "/api/v1/predict/batch", body); code != http.StatusServiceUnavailable {
			break
		}
		time.Sleep(2 * time.Second)
	}
	require.Equal(t, http.StatusAccepted, code, string(resp))
	batchID := decode[api.BatchSubmitResponse](t, resp).BatchID

	// The stand-in on A has finished two ligands of A's first group, not
	// the group: these must be kept.
	var finishedOnA []string
	require.Eventually(t, func() bool {
		finishedOnA = standInFinished(t, finished, smiles)
		return len(finishedOnA) >= 2
	}, 2*time.Minute, 20*time.Millisecond, "the stand-in on worker A never finished two ligands")
	startedB := time.Now()
	boltzWorker(t, record, "OMTX_WORKER_ID=gpu-pb", groupEnv, preemptLigand)
	finishedOnA = standInFinished(t, finished, smiles)
	stop(a)

	done := waitBatch(t, batchID, 4*time.Minute)
	require.Equal(t, omtx.StatusCompleted, done.Status, done.Error)
	require.Equal(t, preemptLigands, done.Progress.Completed, "every ligand completed")
	t.Logf("batch done %s after worker B started", time.Since(startedB).Round(time.Second))

	kids := children(t, batchID)
	require.Len(t, kids, preemptLigands)
	byWorker := map[string][]string{}
	for _, k := range kids {
		require.Equal(t, omtx.StatusCompleted, k.Status, k.JobID)
		require.NotNil(t, k.Results, k.JobID)
		require.NotNil(t, k.Temporal, k.JobID)
		assert.Equal(t, int32(1), k.Temporal.Attempt, "%s: the preemption spent no model attempt", k.JobID)
		byWorker[k.Temporal.Worker] = append(byWorker[k.Temporal.Worker], k.InputData.LigandName)
	}
	require.NotEmpty(t, byWorker["gpu-pa"], "worker A stored what it finished before it was stopped: %v", byWorker)
	require.NotEmpty(t, byWorker["gpu-pb"], "worker B ran the rest: %v", byWorker)
	assert.Less(t, len(byWorker["gpu-pa"]), group, "A was stopped mid-group: %v", byWorker)

	// How often the stand-in was given each ligand: a ligand A stored
	// ran once; the others at most twice (in flight on A, then on B). Of
	// the ligands the stand-in had finished on A when A was stopped, at
	// most one ran again: the one A's harvest (every 100 ms) may not have
	// seen yet.
	runs := standInRuns(t, record, smiles)
	for _, n := range byWorker["gpu-pa"] {
		assert.Equal(t, 1, runs[n], "%s finished on A and did not run again", n)
	}
	for _, n := range byWorker["gpu-pb"] {
		assert.GreaterOrEqual(t, runs[n], 1, n)
		assert.LessOrEqual(t, runs[n], 2, n)
	}
	var rerun []string
	for _, n := range finishedOnA {
		if runs[n] > 1 {
			rerun = append(rerun, n)
		}
	}
	assert.LessOrEqual(t, len(rerun), 1, "ligands finished on A before it stopped ran again: %v (finished on A: %v, stored by A: %v)", rerun, finishedOnA, byWorker["gpu-pa"])

	// Each ligand was stored exactly once, by the worker its document
	// names.
	stored := storedLog(t, batchID)
	for _, k := range kids {
		assert.Equal(t, []string{k.Temporal.Worker}, stored[k.JobID], "%s stored once", k.JobID)
	}

	// The chunk's history: the lost or stopped run ended WorkerInterrupted
	// and a fresh activity finished the chunk.
	ev := chunkActivityEvents(t, batchID)
	assert.Equal(t, 1, ev.interrupted, "one interruption")
	assert.Zero(t, ev.failed, "no model attempt failed")
	assert.Equal(t, 1, ev.completed)
	assert.Zero(t, ev.timedOut, "no activity ran out of attempts")
}

// smilesLine is the ligand line of a Boltz input YAML.
var smilesLine = regexp.MustCompile(`smiles:\s*['"]?([^'"\s]+)`)

// standInRuns counts, per ligand name, the stand-in runs whose inputs
// held the ligand (by its SMILES, from the stand-in's record).
func standInRuns(t *testing.T, record string, names map[string]string) map[string]int {
	t.Helper()
	runs := map[string]int{}
	for _, y := range recordedInputs(t, record) {
		m := smilesLine.FindStringSubmatch(y)
		require.NotNil(t, m, "no smiles in %s", y)
		if n, ok := names[m[1]]; ok {
			runs[n]++
		}
	}
	return runs
}

// standInFinished reads the stand-in's record of finished ligands and
// returns their names.
func standInFinished(t *testing.T, path string, names map[string]string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var rec struct{ Input string }
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue // a line being written
		}
		if m := smilesLine.FindStringSubmatch(rec.Input); m != nil && names[m[1]] != "" {
			out = append(out, names[m[1]])
		}
	}
	return out
}

// storedLog reads the GPU workers' "ligand stored" lines of batchID: the
// workers that stored each job.
func storedLog(t *testing.T, batchID string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(env.stateDir, "gpu-worker.log"))
	require.NoError(t, err)
	out := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		var rec struct {
			Msg     string `json:"msg"`
			BatchID string `json:"batch_id"`
			JobID   string `json:"job_id"`
			Worker  string `json:"worker"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil || rec.BatchID != batchID || rec.Msg != "ligand stored" {
			continue
		}
		out[rec.JobID] = append(out[rec.JobID], rec.Worker)
	}
	return out
}

// TestPreemptionTwoPassResumesStructures: Boltz-2's two passes, where a
// ligand is finished only in the affinity pass after the whole group's
// structures. Worker A's pod is preempted (SIGTERM, DisruptionTarget)
// during the structure pass of an 8-ligand group, after some structures
// were written. Each written structure's checkpoint was stored as Boltz
// wrote it, so worker B runs the structure pass only for the ligands A had
// not finished: no structure is computed twice, every ligand finishes
// once, and no model attempt is spent.
func TestPreemptionTwoPassResumesStructures(t *testing.T) {
	twoPassPreemption(t, func(a *process) {
		require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
		select {
		case <-a.done:
		case <-time.After(60 * time.Second):
			t.Fatal("worker A did not stop")
		}
	}, append(disruptedPods(t), "POD_NAME=gpu-ta", "OMTX_WORKER_STOP_TIMEOUT=60s")...)
}

// TestPreemptionTwoPassSIGKILL: the same, but worker A and its model call
// are killed outright (a spot VM gone without notice). A stored no ligand,
// only structure checkpoints, so only they show its progress: its lost
// attempt is an interruption all the same, and B resumes them.
func TestPreemptionTwoPassSIGKILL(t *testing.T) {
	twoPassPreemption(t, func(a *process) {
		children := childPIDs(a.cmd.Process.Pid)
		a.kill()
		killGroups(children)
	})
}

// twoPassPreemption runs a two-pass boltz2 batch of preemptLigands in one
// group on worker A, starts worker B once A has stored three structure
// checkpoints, ends A with stop, and checks what the tests above promise.
func twoPassPreemption(t *testing.T, stop func(a *process), extraA ...string) {
	base := boltzAPI(t)
	dir := t.TempDir()
	record, timing := filepath.Join(dir, "record.jsonl"), filepath.Join(dir, "timing.jsonl")
	passes := []string{"OMTX_CHUNK_GROUP=8", "FAKE_BOLTZ_LIGAND_SLEEP=1500ms", "FAKE_BOLTZ_AFFINITY_SLEEP=300ms", "FAKE_BOLTZ_TIMING=" + timing}
	a := boltzWorker(t, record, append(append([]string{"OMTX_WORKER_ID=gpu-ta"}, extraA...), passes...)...)

	var ligands []string
	for i := range preemptLigands {
		ligands = append(ligands, fmt.Sprintf(`{"name":"two_pass_%02d","smiles":%q}`, i, strings.Repeat("C", i+1)+"N"))
	}
	body := `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK",` +
		`"ligands":[` + strings.Join(ligands, ",") + fmt.Sprintf(`],"max_concurrent":%d,"chunk_size":%d,"cache":false}`, preemptLigands, preemptLigands)
	code, resp := callAt(t, base, "POST", "/api/v1/predict/batch", body)
	require.Equal(t, http.StatusAccepted, code, string(resp))
	batchID := decode[api.BatchSubmitResponse](t, resp).BatchID

	// Three structures written and their checkpoints stored: A is in its
	// structure pass, nothing is finished.
	manifests := func() []string {
		names, err := env.deps.Blobs.List(ctxT(t), omtx.CheckpointChunkPrefix(batchID, 0))
		require.NoError(t, err)
		return names
	}
	require.Eventually(t, func() bool { return len(manifests()) >= 3 }, 2*time.Minute, 50*time.Millisecond,
		"worker A stored no structure checkpoints")
	boltzWorker(t, record, append([]string{"OMTX_WORKER_ID=gpu-tb"}, passes...)...)
	stop(a)
	checkpointed := len(manifests())

	done := waitBatch(t, batchID, 4*time.Minute)
	require.Equal(t, omtx.StatusCompleted, done.Status, done.Error)
	kids := children(t, batchID)
	require.Len(t, kids, preemptLigands)
	for _, k := range kids {
		require.Equal(t, omtx.StatusCompleted, k.Status, k.JobID)
		require.NotNil(t, k.Temporal, k.JobID)
		assert.Equal(t, int32(1), k.Temporal.Attempt, "%s: the preemption spent no model attempt", k.JobID)
		assert.Equal(t, "gpu-tb", k.Temporal.Worker, "%s: A finished nothing; B stored every ligand", k.JobID)
	}

	// The stand-in's timing log: one structure per ligand, over both
	// workers; A's last structure (in flight) never completed.
	structures := map[string]int{}
	onA := 0
	for _, l := range readTimings(t, timing) {
		if l.Phase == "ligand" {
			structures[strings.Join(l.SMILES, ".")]++
			if l.Worker == "gpu-ta" {
				onA++
			}
		}
	}
	require.Len(t, structures, preemptLigands, "every ligand's structure was made")
	for s, n := range structures {
		assert.Equal(t, 1, n, "%s: its structure was made %d times", s, n)
	}
	assert.GreaterOrEqual(t, checkpointed, 3)
	assert.Equal(t, onA, checkpointed, "every structure A made was checkpointed")

	data, err := os.ReadFile(filepath.Join(env.stateDir, "gpu-worker.log"))
	require.NoError(t, err)
	assert.Contains(t, string(data), "resuming ligands from structure checkpoints")
	ev := chunkActivityEvents(t, batchID)
	assert.Equal(t, 1, ev.interrupted, "one interruption")
	assert.Zero(t, ev.failed, "no model attempt failed")
	assert.Zero(t, ev.timedOut, "no activity ran out of attempts")
}
