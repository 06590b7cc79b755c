package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/app/apiapp"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// gpuEfficiencyConfigs are the group and chunk sizes the benchmark
// compares by default: a model call (its loads) per group, one GPU
// activity per chunk. twoPass runs Boltz-2's two passes as it runs them
// with affinity, each with its own model load and share of the ligand's
// time (the stand-in's FAKE_BOLTZ_TWO_PASS): a ligand is finished, and
// stored, only in the affinity pass, and a killed group resumes from the
// structure checkpoints stored meanwhile. One pass is the simpler model
// the earlier rows used. OMTX_BENCH_GPU_CONFIGS picks others:
// "group/chunk/passes,…", e.g. "32/64/2,64/64/2".
var gpuEfficiencyConfigs = []gpuConfig{
	{8, 32, false},
	{8, 32, true},
	{32, 64, true},
	{64, 64, true},
}

type gpuConfig struct {
	group, chunk int
	twoPass      bool
}

// gpuConfigs reads OMTX_BENCH_GPU_CONFIGS, else the defaults.
func gpuConfigs(b *testing.B) []gpuConfig {
	v := os.Getenv("OMTX_BENCH_GPU_CONFIGS")
	if v == "" {
		return gpuEfficiencyConfigs
	}
	var out []gpuConfig
	for _, f := range strings.Split(v, ",") {
		var c gpuConfig
		var passes int
		if _, err := fmt.Sscanf(strings.TrimSpace(f), "%d/%d/%d", &c.group, &c.chunk, &passes); err != nil || c.group < 1 || c.chunk < 1 || (passes != 1 && passes != 2) {
			b.Fatalf("OMTX_BENCH_GPU_CONFIGS: %q is not group/chunk/passes (passes 1 or 2)", f)
		}
		c.twoPass = passes == 2
		out = append(out, c)
	}
	return out
}

// gpuPositions is how many GPUs the screen runs on.
const gpuPositions = 3

// BenchmarkGPUEfficiency runs a boltz2 screen of OMTX_BENCH_GPU_LIGANDS
// ligands (default 300) on 3 GPU workers through the Boltz stand-in at
// Boltz-2's timings divided by OMTX_BENCH_GPU_SCALE (default 50): a 40 s
// model load per model call and 20-60 s per ligand. Every
// OMTX_BENCH_GPU_PREEMPT_EVERY simulated seconds (default 300; 0: none) one worker,
// in turn, is preempted as GKE preempts a spot pod: SIGTERM to a pod with
// the DisruptionTarget condition (the worker kills its model call at once
// and hands the chunk back), SIGKILL of whatever is left after a real
// 15 s; a replacement (a new worker id) starts 60 simulated seconds
// later. For each configuration it prints and reports each GPU's
// model-busy and model-load fractions of the time a worker was up on it
// (from the stand-in's own timing log), over the whole run and at steady
// state (until the first GPU runs out of work), the ligands the model ran
// again, the attempts the chunk activities and children spent, and the
// wall time against the ideal (summed ligand model time / GPUs). It
// asserts nothing about timings; BENCHMARKS.md has the figures.
func BenchmarkGPUEfficiency(b *testing.B) {
	n := benchEnvInt(b, "OMTX_BENCH_GPU_LIGANDS", 300)
	scale := float64(benchEnvInt(b, "OMTX_BENCH_GPU_SCALE", 50))
	every := time.Duration(float64(benchEnvNonNegative(b, "OMTX_BENCH_GPU_PREEMPT_EVERY", 300)) * float64(time.Second) / scale)
	sim := func(d time.Duration) time.Duration { return time.Duration(float64(d) / scale) }

	cfg := env.cfg
	cfg.Models = omtx.ModelCatalog{Available: map[string]string{omtx.BaselineModel: omtx.GPUClassL4, omtx.ModelBoltz2: omtx.GPUClassL4}}
	srv, err := apiapp.New(cfg, env.deps, env.log)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	b.Cleanup(ts.Close)

	for _, c := range gpuConfigs(b) {
		name := fmt.Sprintf("group%d_chunk%d", c.group, c.chunk)
		if c.twoPass {
			name += "_two_pass"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				gpuEfficiencyRun(b, ts.URL, n, c.group, c.chunk, c.twoPass, scale, every, sim)
			}
		})
	}
}

// gpuEfficiencyRun runs one screen and reports it.
func gpuEfficiencyRun(b *testing.B, base string, n, group, chunk int, twoPass bool, scale float64, every time.Duration, sim func(time.Duration) time.Duration) {
	dir := b.TempDir()
	record, finished, timingLog := filepath.Join(dir, "record.jsonl"), filepath.Join(dir, "finished.jsonl"), filepath.Join(dir, "timing.jsonl")
	workerEnv := append(disruptedPods(b), []string{
		"OMTX_BOLTZ_BIN=" + env.boltzBin,
		"BOLTZ_CACHE=" + filepath.Join(dir, "cache"),
		"FAKE_BOLTZ_FIXTURE=" + filepath.Join(env.root, "boltz", "testdata", "fixture"),
		"FAKE_BOLTZ_RECORD=" + record,
		"FAKE_BOLTZ_FINISHED=" + finished,
		"FAKE_BOLTZ_TIMING=" + timingLog,
		"FAKE_BOLTZ_TIME_SCALE=" + strconv.FormatFloat(scale, 'f', -1, 64),
		fmt.Sprintf("OMTX_CHUNK_GROUP=%d", group),
	}...)
	if twoPass {
		workerEnv = append(workerEnv, "FAKE_BOLTZ_TWO_PASS=1")
	}
	gens := make([]int, gpuPositions)
	// down holds each GPU's spans without a worker (preempted, its
	// replacement not yet up), as Unix seconds.
	down := make([][2]float64, 0)
	downPos := make([]int, 0)
	start := func(pos int) *process {
		id := fmt.Sprintf("gpu-e%d-%d", pos, gens[pos])
		gens[pos]++
		p, err := startProcess(env.gpuBin, "gpu-worker.log", append(append([]string(nil), workerEnv...), "OMTX_WORKER_ID="+id, "POD_NAME="+id)...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { p.stop(); killGroups(childPIDs(p.cmd.Process.Pid)) })
		return p
	}
	workers := make([]*process, gpuPositions)
	for pos := range workers {
		workers[pos] = start(pos)
	}

	body := fmt.Sprintf(`{"model":"boltz2","batch_name":"gpu efficiency","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK","ligands":[%s],"max_concurrent":%d,"chunk_size":%d}`,
		uniqueLigands(n), min(n, 500), chunk)
	t0 := time.Now()
	code, resp := benchCallKey(b, testKey, "POST", base+"/api/v1/predict/batch", body)
	if code != http.StatusAccepted {
		b.Fatalf("submit: %d %s", code, resp)
	}
	var sub api.BatchSubmitResponse
	if err := json.Unmarshal(resp, &sub); err != nil {
		b.Fatal(err)
	}

	// Preempt one worker every `every` (0: never), in turn, until the
	// batch ends.
	preemptions := 0
	next := t0.Add(every)
	var parent omtx.Job
	for {
		_, got := benchCallKey(b, testKey, "GET", base+"/api/v1/batches/"+sub.BatchID, "")
		parent = omtx.Job{}
		_ = json.Unmarshal(got, &parent)
		if parent.Status.Terminal() {
			break
		}
		if time.Since(t0) > 30*time.Minute {
			b.Fatalf("batch %s is %q after 30 minutes", sub.BatchID, parent.Status)
		}
		if every > 0 && time.Now().After(next) {
			pos := preemptions % gpuPositions
			gone := unix(time.Now())
			preempt(b, workers[pos], spotGrace)
			preemptions++
			time.Sleep(sim(60 * time.Second)) // the spot replacement comes up
			workers[pos] = start(pos)
			down, downPos = append(down, [2]float64{gone, unix(time.Now())}), append(downPos, pos)
			next = time.Now().Add(every)
		}
		time.Sleep(100 * time.Millisecond)
	}
	wall := time.Since(t0)
	end := time.Now()
	if parent.Status != omtx.StatusCompleted {
		b.Fatalf("batch %s ended %s: %s", sub.BatchID, parent.Status, parent.Error)
	}

	phases := readTimings(b, timingLog)
	runs := recordRuns(b, record)
	fin := finishedRuns(b, finished)
	var givenAgain, finishedAgain int
	for _, r := range runs {
		givenAgain += r - 1
	}
	for _, r := range fin {
		finishedAgain += r - 1
	}
	ligandTime := map[string]float64{}       // by phase and ligand
	structuresAgain, affinitiesAgain := 0, 0 // ligand model phases that completed before
	for _, p := range phases {
		if p.Phase == "ligand" || p.Phase == "affinity" {
			k := p.Phase + " " + strings.Join(p.SMILES, ".")
			if _, again := ligandTime[k]; again {
				if p.Phase == "ligand" {
					structuresAgain++
				} else {
					affinitiesAgain++
				}
			}
			ligandTime[k] = p.Seconds
		}
	}
	var ideal float64
	for _, s := range ligandTime {
		ideal += s
	}
	ideal /= gpuPositions

	// Steady state: from the submit until the first GPU has no more work
	// (its last model phase ends).
	lastEnd := make([]float64, gpuPositions)
	for _, p := range phases {
		pos := p.position()
		lastEnd[pos] = math.Max(lastEnd[pos], p.At)
	}
	steadyEnd := unix(end)
	for _, e := range lastEnd {
		if e > 0 {
			steadyEnd = math.Min(steadyEnd, e)
		}
	}
	from, to := unix(t0), unix(end)
	type share struct{ busy, load, steadyBusy, steadyLoad, up, steadyUp float64 }
	shares := make([]share, gpuPositions)
	for pos := range shares {
		shares[pos].up, shares[pos].steadyUp = to-from, steadyEnd-from
	}
	for i, d := range down {
		shares[downPos[i]].up -= overlap(d[0], d[1], from, to)
		shares[downPos[i]].steadyUp -= overlap(d[0], d[1], from, steadyEnd)
	}
	for _, p := range phases {
		s := &shares[p.position()]
		whole, steady := overlap(p.At-p.Seconds, p.At, from, to), overlap(p.At-p.Seconds, p.At, from, steadyEnd)
		if p.Phase == "load" || p.Phase == "affinity-load" {
			s.load += whole
			s.steadyLoad += steady
		} else {
			s.busy += whole
			s.steadyBusy += steady
		}
	}

	ev := chunkHistories(b, sub.BatchID, (n+chunk-1)/chunk)
	kids, err := env.deps.Jobs.ListChildren(context.Background(), omtx.ChildFilter{BatchID: sub.BatchID, AfterIndex: -1})
	if err != nil {
		b.Fatal(err)
	}
	var childAttempts, maxAttempt int32
	for _, k := range kids {
		if k.Temporal != nil {
			childAttempts += k.Temporal.Attempt
			maxAttempt = max(maxAttempt, k.Temporal.Attempt)
		}
	}

	steadySpan := steadyEnd - from
	var minSteady, meanBusy, meanLoad float64 = 1, 0, 0
	fmt.Printf("\nGPU efficiency: %d ligands, %d GPUs, group %d, chunk %d, two passes %v, time scale %.0f (1 s here = %.0f s on an L4), a preemption every %.0f simulated s, replacement after 60 simulated s\n",
		n, gpuPositions, group, chunk, twoPass, scale, scale, every.Seconds()*scale)
	fmt.Printf("  GPU   model-busy  model-load  steady busy  steady load   (of the time a worker was up on the GPU; steady state: the first %.1f s of %.1f s)\n", steadySpan, wall.Seconds())
	for pos, s := range shares {
		busy, load := s.busy/s.up, s.load/s.up
		sb, sl := s.steadyBusy/s.steadyUp, s.steadyLoad/s.steadyUp
		fmt.Printf("  %d     %6.1f %%    %6.1f %%     %6.1f %%     %6.1f %%\n", pos, 100*busy, 100*load, 100*sb, 100*sl)
		minSteady = math.Min(minSteady, sb)
		meanBusy += busy / gpuPositions
		meanLoad += load / gpuPositions
	}
	fmt.Printf("  preemptions                          %d\n", preemptions)
	rerun := structuresAgain + affinitiesAgain + ev.interrupted
	fmt.Printf("  finished ligands run again           %d  (all files written, not yet stored when the worker went)\n", finishedAgain)
	fmt.Printf("  ligand model runs repeated           %d structure, %d affinity  (a pass's model time spent again, whole)\n", structuresAgain, affinitiesAgain)
	fmt.Printf("  ligands rerun (upper bound)          %d  (%.2f per preemption: the above, plus at most one ligand in flight per interrupted activity)\n", rerun, perPreemption(rerun, preemptions))
	fmt.Printf("  ligands given to a model call again  %d  (the rest of each cut group too, which the model had not reached: no model time lost)\n", givenAgain)
	fmt.Printf("  chunk activities                     %d scheduled for %d chunks, %d attempts started, %d interrupted, %d failed, %d timed out\n",
		ev.scheduled, (n+chunk-1)/chunk, ev.attempts, ev.interrupted, ev.failed, ev.timedOut)
	fmt.Printf("  model attempts of the children       %d for %d ligands (highest %d)\n", childAttempts, len(kids), maxAttempt)
	fmt.Printf("  wall time                            %.1f s (%.0f simulated min); ideal %.1f s (summed ligand time / %d GPUs): %.2f x ideal\n",
		wall.Seconds(), wall.Seconds()*scale/60, ideal, gpuPositions, wall.Seconds()/ideal)

	b.ReportMetric(100*meanBusy, "%busy")
	b.ReportMetric(100*minSteady, "%steady-busy-min")
	b.ReportMetric(100*meanLoad, "%load")
	b.ReportMetric(float64(preemptions), "preemptions")
	b.ReportMetric(perPreemption(rerun, preemptions), "reruns/preemption")
	b.ReportMetric(float64(ev.attempts), "chunk-attempts")
	b.ReportMetric(wall.Seconds()/ideal, "x-ideal")
}

// spotGrace is GKE's grace for a preempted spot pod, unscaled: what the
// worker does in it (report to Temporal, exit) takes real time.
const spotGrace = 15 * time.Second

// disruptedPods serves the Kubernetes API a GPU worker reads on SIGTERM,
// saying of every pod that it has the DisruptionTarget condition (a spot
// node going away), as in TestPreemptionDisruptedPodKillsTheGroupAtOnce,
// and returns the worker environment that points at it.
func disruptedPods(b testing.TB) []string {
	kube := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"metadata":{"name":"gpu"},"status":{"conditions":[`+
			`{"type":"Ready","status":"True"},{"type":"DisruptionTarget","status":"True","reason":"TerminationByKubelet"}]}}`)
	}))
	b.Cleanup(kube.Close)
	sa := b.TempDir()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: kube.Certificate().Raw})
	for name, data := range map[string][]byte{"ca.crt": ca, "namespace": []byte("omtx-hub"), "token": []byte("sa-token")} {
		if err := os.WriteFile(filepath.Join(sa, name), data, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	u, err := url.Parse(kube.URL)
	if err != nil {
		b.Fatal(err)
	}
	return []string{"KUBERNETES_SERVICE_HOST=" + u.Hostname(), "KUBERNETES_SERVICE_PORT=" + u.Port(), "OMTX_SERVICE_ACCOUNT_DIR=" + sa}
}

// preempt ends a worker as GKE ends a preempted spot pod: SIGTERM (the
// worker sees its pod's DisruptionTarget and kills its model call at
// once), then, after the grace, SIGKILL to it and to the model call it
// started.
func preempt(b *testing.B, w *process, grace time.Duration) {
	kids := childPIDs(w.cmd.Process.Pid)
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	select {
	case <-w.done:
	case <-time.After(grace):
		kids = append(kids, childPIDs(w.cmd.Process.Pid)...)
		w.kill()
	}
	// The VM is gone: nothing it ran goes on.
	killGroups(kids)
}

// childPIDs lists the processes whose parent is pid. Each thread lists
// the children it forked (proc(5)), and Go forks from whichever thread
// runs the goroutine, so every thread is read.
func childPIDs(pid int) []int {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, task := range tasks {
		data, err := os.ReadFile(task)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(data)) {
			if p, err := strconv.Atoi(f); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// killGroups SIGKILLs the process groups the runner starts its model
// calls in (one per call, led by the call's process).
func killGroups(pids []int) {
	for _, p := range pids {
		_ = syscall.Kill(-p, syscall.SIGKILL)
	}
}

// timingLine is one line of the stand-in's FAKE_BOLTZ_TIMING log.
type timingLine struct {
	Worker  string   `json:"worker"`
	Phase   string   `json:"phase"`
	Record  string   `json:"record"`
	SMILES  []string `json:"smiles"`
	Seconds float64  `json:"seconds"`
	At      float64  `json:"at"`
}

// position is the GPU a worker id gpu-e<position>-<generation> ran on.
func (l timingLine) position() int {
	var pos, gen int
	_, _ = fmt.Sscanf(l.Worker, "gpu-e%d-%d", &pos, &gen)
	return pos
}

func readTimings(b testing.TB, path string) []timingLine {
	var out []timingLine
	eachLine(b, path, func(line []byte) {
		var l timingLine
		if json.Unmarshal(line, &l) == nil {
			out = append(out, l)
		}
	})
	return out
}

// recordRuns counts how often the stand-in was given each ligand, by
// SMILES (record names are indexes within a model call).
func recordRuns(b *testing.B, path string) map[string]int {
	runs := map[string]int{}
	eachLine(b, path, func(line []byte) {
		var rec struct{ Inputs map[string]string }
		if json.Unmarshal(line, &rec) == nil {
			for _, in := range rec.Inputs {
				if m := smilesLine.FindStringSubmatch(in); m != nil {
					runs[m[1]]++
				}
			}
		}
	})
	return runs
}

// finishedRuns counts how often the stand-in finished each ligand, by
// SMILES.
func finishedRuns(b *testing.B, path string) map[string]int {
	runs := map[string]int{}
	eachLine(b, path, func(line []byte) {
		var rec struct{ Input string }
		if json.Unmarshal(line, &rec) == nil {
			if m := smilesLine.FindStringSubmatch(rec.Input); m != nil {
				runs[m[1]]++
			}
		}
	})
	return runs
}

func eachLine(b testing.TB, path string, f func([]byte)) {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		f(sc.Bytes())
	}
}

// unix is t in Unix seconds.
func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// overlap is the length of [a0, a1] within [b0, b1].
func overlap(a0, a1, b0, b1 float64) float64 {
	return math.Max(0, math.Min(a1, b1)-math.Max(a0, b0))
}

func perPreemption(n, preemptions int) float64 {
	if preemptions == 0 {
		return 0
	}
	return float64(n) / float64(preemptions)
}

// chunkEvents sums the activity events of a batch's chunk workflows.
type chunkEvents struct {
	scheduled, attempts, interrupted, failed, timedOut int
}

// chunkHistories reads the histories of batchID's chunks 0..n-1: each
// activity's attempts are its started event's attempt number.
func chunkHistories(b *testing.B, batchID string, n int) chunkEvents {
	var c chunkEvents
	for i := 0; i < n; i++ {
		it := env.deps.Temporal.GetWorkflowHistory(context.Background(), contract.BatchChunkWorkflowID(batchID, i), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				b.Fatal(err)
			}
			switch {
			case ev.GetActivityTaskScheduledEventAttributes() != nil:
				c.scheduled++
			case ev.GetActivityTaskStartedEventAttributes() != nil:
				c.attempts += int(ev.GetActivityTaskStartedEventAttributes().GetAttempt())
			case ev.GetActivityTaskFailedEventAttributes() != nil:
				if ev.GetActivityTaskFailedEventAttributes().GetFailure().GetApplicationFailureInfo().GetType() == contract.ErrTypeInterrupted {
					c.interrupted++
				} else {
					c.failed++
				}
			case ev.GetActivityTaskTimedOutEventAttributes() != nil:
				c.timedOut++
			}
		}
	}
	return c
}

// uniqueLigands is a library of n ligands with distinct SMILES (so the
// stand-in's per-ligand time, a hash of the SMILES, differs by ligand).
func uniqueLigands(n int) string {
	cores := []string{"c1ccccc1", "c1ccncc1", "C1CCNCC1", "c1ccc2ccccc2c1", "C1CCOC1", "c1cc[nH]c1"}
	tails := []string{"C(=O)O", "CO", "CN", "C(=O)N", "OC", "F", "Cl", "C#N"}
	parts := make([]string, n)
	for i := range parts {
		smi := strings.Repeat("C", 1+i/48) + cores[i%6] + tails[(i/6)%8]
		parts[i] = fmt.Sprintf(`{"name":"lig_%05d","smiles":"%s"}`, i, smi)
	}
	return strings.Join(parts, ",")
}

// benchEnvInt reads a positive integer from env, else def.
// benchEnvNonNegative is benchEnvInt that takes 0 too.
func benchEnvNonNegative(b *testing.B, name string, def int) int {
	if os.Getenv(name) == "0" {
		return 0
	}
	return benchEnvInt(b, name, def)
}

func benchEnvInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s: %q is not a positive integer", name, v)
	}
	return n
}
