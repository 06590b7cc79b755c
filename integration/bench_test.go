package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/devstack"
	"github.com/omtx-hub/omtx-hub/omtx"
)

const benchKey = "bench-key-0123456789abcdef"

// benchKeys is the benchmark API's key: every quota far above the run.
var benchKeys = fmt.Sprintf("keys:\n  - key: %q\n    user: bench_user\n    priorities: [low, normal, high]\n"+
	"    submit_rate: 5000\n    submit_burst: 5000\n    max_concurrent_batches: 1000\n    max_inflight_ligands: 10000000\n", benchKey)

// benchLigands builds a library of n drug-like ligands (alkyl chains,
// rings and heteroatoms varied by index), all valid.
func benchLigands(n int) string {
	cores := []string{"c1ccccc1", "c1ccncc1", "C1CCNCC1", "c1ccc2ccccc2c1", "C1CCOC1", "c1cc[nH]c1"}
	tails := []string{"C(=O)O", "CO", "CN", "C(=O)N", "OC", "F", "Cl", "C#N"}
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		smi := strings.Repeat("C", i%5) + cores[i%len(cores)] + tails[(i/6)%len(tails)]
		fmt.Fprintf(&b, `{"name":"cmpd_%06d","smiles":"%s"}`, i, smi)
	}
	return b.String()
}

// benchProc is a process the benchmark measures.
type benchProc struct {
	name    string
	pid     int
	metrics string // its /metrics, when it has one
}

// BenchmarkBatch runs one batch (BENCH_LIGANDS, default 1,000) through the
// real local stack with the baseline model, every part its own process:
// the Temporal dev server, the Firestore emulator, fake-gcs-server, the
// API, the orchestration worker and one GPU worker on the CPU (4 slots).
// It prints wall time, throughput, the orchestration overhead per ligand,
// Firestore writes and history events per ligand, the largest histories,
// each process's peak memory and CPU time, and the essential floor: one
// Firestore document and one GCS object per ligand, written in the same run
// by the same clients.
func BenchmarkBatch(b *testing.B) {
	n := 1000
	if v := os.Getenv("BENCH_LIGANDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	const maxConc, slots = 64, 4
	base, procs := startBenchStack(b, slots)

	for i := 0; i < b.N; i++ {
		writes0 := scrapeWrites(b, procs)
		ops0 := scrapeOps(b, procs)
		cpu0 := cpuTimes(procs)
		body := fmt.Sprintf(`{"model":"%s","batch_name":"bench %d","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK","ligands":[%s],"max_concurrent":%d}`,
			omtx.BaselineModel, n, benchLigands(n), maxConc)
		sub, parent, submitted, wall := runBenchBatch(b, base, body)
		cpu := cpuTimes(procs)
		writes := scrapeWrites(b, procs) - writes0
		ops := scrapeOps(b, procs)

		var modelSeconds float64
		eachChild(b, sub.BatchID, func(k *omtx.Job) {
			if k.Results != nil {
				modelSeconds += k.Results.ModelSeconds
			}
		})
		h := historyEvents(b, sub.BatchID)
		floor := measureFloor(b, n)

		b.ReportMetric(float64(n)/wall.Seconds(), "ligands/s")
		fmt.Printf("\nbatch of %d ligands (chunk %d, max_concurrent %d, %d GPU slots), status %s, progress %+v\n",
			n, sub.ChunkSize, maxConc, slots, parent.Status, *parent.Progress)
		fmt.Printf("  submit (API answered 202)      %.2f s\n", submitted.Seconds())
		fmt.Printf("  wall time                      %.2f s\n", wall.Seconds())
		fmt.Printf("  throughput                     %.1f ligands/s\n", float64(n)/wall.Seconds())
		fmt.Printf("  summed model time              %.3f s\n", modelSeconds)
		fmt.Printf("  orchestration overhead/ligand  %.2f ms  ((wall - model) / N)\n", (wall.Seconds()-modelSeconds)/float64(n)*1000)
		fmt.Printf("  essential floor                %.2f s  (%.2f ms/ligand: one Firestore document and one GCS object per ligand)\n", floor.Seconds(), floor.Seconds()/float64(n)*1000)
		fmt.Printf("  ratio to the floor             %.2f\n", wall.Seconds()/floor.Seconds())
		fmt.Printf("  Firestore writes/ligand        %.2f  (%d documents, by the workers)\n", float64(writes)/float64(n), writes)
		fmt.Printf("  Temporal history events/ligand %.2f  (%d events: %d batch runs, %d chunk workflows)\n", float64(h.events)/float64(n), h.events, h.runs, h.chunks)
		fmt.Printf("  largest history                batch run %d events, chunk workflow %d events\n", h.maxRun, h.maxChunk)
		fmt.Printf("  Firestore calls by operation   calls      time (as the client saw it)\n")
		var names []string
		for k := range ops {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if d := ops[k].sub(ops0[k]); d.count > 0 {
				fmt.Printf("    %-28s %7d  %7.2f s\n", k, d.count, d.seconds)
			}
		}
		fmt.Printf("  per process                    peak RSS    CPU during the batch\n")
		for _, p := range procs {
			fmt.Printf("    %-28s %7.1f MiB  %7.1f s\n", p.name, float64(peakRSS(p.pid))/(1<<20), (cpu[p.pid] - cpu0[p.pid]).Seconds())
		}
	}
}

// startBenchStack runs the benchmark's own API (with benchKeys),
// orchestration worker and GPU worker (slots activity slots), each its own
// process, in place of the tests' orchestration worker until b ends. It
// returns the API's address and the processes to measure.
func startBenchStack(b *testing.B, slots int) (string, []benchProc) {
	env.orch.stop()
	b.Cleanup(func() {
		var err error
		if env.orch, err = startProcess(env.orchBin, "omtx-worker.log"); err != nil {
			b.Error(err)
		}
	})
	procs := []benchProc{}
	start := func(name, bin string, extra ...string) *process {
		port, err := devstack.FreePort()
		if err != nil {
			b.Fatal(err)
		}
		maddr := fmt.Sprintf("127.0.0.1:%d", port)
		p, err := startProcess(bin, name+".log", append(extra, "OMTX_METRICS_ADDR="+maddr)...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(p.stop)
		procs = append(procs, benchProc{name: name, pid: p.cmd.Process.Pid, metrics: "http://" + maddr + "/metrics"})
		return p
	}
	apiPort, err := devstack.FreePort()
	if err != nil {
		b.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", apiPort)
	start("api", env.apiBin, fmt.Sprintf("OMTX_API_ADDR=127.0.0.1:%d", apiPort), "OMTX_API_KEYS="+benchKeys)
	start("orchestration-worker", env.orchBin)
	start("gpu-worker", env.gpuBin, fmt.Sprintf("OMTX_GPU_SLOTS=%d", slots))
	for name, pid := range env.stack.PIDs() {
		procs = append(procs, benchProc{name: name, pid: pid})
	}
	procs = append(procs, benchProc{name: "this test (polling, floor)", pid: os.Getpid()})
	waitUp(b, base+"/healthz")
	for _, p := range procs {
		if p.metrics != "" && p.name != "api" {
			waitUp(b, strings.Replace(p.metrics, "/metrics", "/readyz", 1))
		}
	}
	return base, procs
}

// runBenchBatch submits a batch to the benchmark's API and polls it until
// it ends: its submission, its final document, how long the API took to
// answer 202, and the wall time to the end.
func runBenchBatch(b *testing.B, base, body string) (api.BatchSubmitResponse, omtx.Job, time.Duration, time.Duration) {
	t0 := time.Now()
	code, resp := benchCall(b, "POST", base+"/api/v1/predict/batch", body)
	if code != http.StatusAccepted {
		b.Fatalf("submit: %d %s", code, resp)
	}
	submitted := time.Since(t0)
	sub := decode[api.BatchSubmitResponse](&testing.T{}, resp)
	var parent omtx.Job
	for {
		_, body := benchCall(b, "GET", base+"/api/v1/batches/"+sub.BatchID, "")
		parent = decode[omtx.Job](&testing.T{}, body)
		if parent.Status.Terminal() {
			return sub, parent, submitted, time.Since(t0)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// eachChild calls fn with each child of a batch, in pages of 1,000.
func eachChild(b *testing.B, batchID string, fn func(*omtx.Job)) {
	after := -1
	for {
		page, err := env.deps.Jobs.ListChildren(context.Background(), omtx.ChildFilter{BatchID: batchID, AfterIndex: after, Limit: 1000})
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range page {
			fn(k)
		}
		if len(page) < 1000 {
			return
		}
		after = *page[len(page)-1].BatchIndex
	}
}

// measureFloor writes n Firestore documents (a child's, through the bulk
// writer, as PrepareBatch does) and n GCS objects (a results.json's size,
// 16 at a time), then deletes them: what any design must write per ligand.
func measureFloor(b *testing.B, n int) time.Duration {
	ctx := context.Background()
	id := fmt.Sprintf("batch_floor%d", time.Now().UnixNano()%1e9)
	var docs []*omtx.Job
	for i := 0; i < n; i++ {
		idx := i
		docs = append(docs, &omtx.Job{JobID: omtx.BatchChildJobID(id, i, n), JobType: omtx.JobTypeBatchChild, BatchParentID: id, BatchIndex: &idx,
			Status: omtx.StatusCompleted, UserID: "floor", InputData: omtx.InputData{ProteinSequence: "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK", LigandSMILES: "CCO"},
			Results: &omtx.Results{Model: omtx.BaselineModel, AffinityPredValue: 1}})
	}
	object := []byte(strings.Repeat("x", 2000))
	t0 := time.Now()
	for lo := 0; lo < n; lo += 400 {
		if _, err := env.deps.Jobs.CreateMany(ctx, docs[lo:min(lo+400, n)]); err != nil {
			b.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := env.deps.Blobs.Put(ctx, omtx.BatchChildPrefix(id, docs[i].JobID)+omtx.FileResults, "application/json", object); err != nil {
					b.Error(err)
				}
			}
		}()
	}
	for i := range docs {
		next <- i
	}
	close(next)
	wg.Wait()
	return time.Since(t0)
}

func benchCall(b *testing.B, method, url, body string) (int, []byte) {
	return benchCallKey(b, benchKey, method, url, body)
}

// benchCallKey calls url with the API key key.
func benchCallKey(b *testing.B, key, method, url, body string) (int, []byte) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return resp.StatusCode, data
}

func waitUp(b *testing.B, url string) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.Fatalf("%s never answered 200", url)
}

var writesLine = regexp.MustCompile(`(?m)^omtx_firestore_document_writes_total (\S+)$`)

// scrapeWrites sums the Firestore writes the processes report.
func scrapeWrites(b *testing.B, procs []benchProc) int64 {
	var total int64
	for _, p := range procs {
		if p.metrics == "" {
			continue
		}
		resp, err := http.Get(p.metrics)
		if err != nil {
			b.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := writesLine.FindSubmatch(data); m != nil {
			v, _ := strconv.ParseFloat(string(m[1]), 64)
			total += int64(v)
		}
	}
	return total
}

type opStat struct {
	count   int64
	seconds float64
}

func (a opStat) sub(b opStat) opStat { return opStat{a.count - b.count, a.seconds - b.seconds} }

var opLine = regexp.MustCompile(`(?m)^omtx_firestore_op_seconds_(sum|count)\{op="([^"]+)"\} (\S+)$`)

// scrapeOps sums the store's Firestore calls by operation over the
// processes, each as "process/op".
func scrapeOps(b *testing.B, procs []benchProc) map[string]opStat {
	out := map[string]opStat{}
	for _, p := range procs {
		if p.metrics == "" {
			continue
		}
		resp, err := http.Get(p.metrics)
		if err != nil {
			b.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, m := range opLine.FindAllSubmatch(data, -1) {
			k := p.name + "/" + string(m[2])
			v, _ := strconv.ParseFloat(string(m[3]), 64)
			st := out[k]
			if string(m[1]) == "sum" {
				st.seconds = v
			} else {
				st.count = int64(v)
			}
			out[k] = st
		}
	}
	return out
}

// peakRSS is a process's high-water resident memory, in bytes.
func peakRSS(pid int) int64 {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(data)
	if m == nil {
		return 0
	}
	kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return kb << 10
}

// cpuTimes is the CPU time (user + system) of each process and all its
// descendants, by the process's pid.
func cpuTimes(procs []benchProc) map[int]time.Duration {
	type stat struct {
		ppid int
		cpu  time.Duration
	}
	all := map[int]stat{}
	entries, _ := os.ReadDir("/proc")
	tick := time.Second / 100 // USER_HZ
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := os.Open(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		// Fields after the command name, which is in parentheses.
		rest := line[strings.LastIndexByte(line, ')')+2:]
		fs := strings.Fields(rest)
		if len(fs) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(fs[1])
		var ticks int64
		for _, i := range []int{11, 12, 13, 14} { // utime stime cutime cstime
			v, _ := strconv.ParseInt(fs[i], 10, 64)
			ticks += v
		}
		all[pid] = stat{ppid: ppid, cpu: time.Duration(ticks) * tick}
	}
	children := map[int][]int{}
	for pid, s := range all {
		children[s.ppid] = append(children[s.ppid], pid)
	}
	var sum func(pid int) time.Duration
	sum = func(pid int) time.Duration {
		t := all[pid].cpu
		for _, c := range children[pid] {
			t += sum(c)
		}
		return t
	}
	out := map[int]time.Duration{}
	for _, p := range procs {
		if p.pid == os.Getpid() {
			out[p.pid] = all[p.pid].cpu // not the test's own children: they are measured on their own
			continue
		}
		out[p.pid] = sum(p.pid)
	}
	return out
}

type historyStats struct {
	events           int64
	runs, chunks     int
	maxRun, maxChunk int64
}

// historyEvents sums the history lengths of a batch's workflow runs and
// chunk workflows.
func historyEvents(b *testing.B, batchID string) (h historyStats) {
	ctx := context.Background()
	var token []byte
	for {
		resp, err := env.deps.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: fmt.Sprintf(`BatchId = %q`, batchID), NextPageToken: token, PageSize: 1000,
		})
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range resp.Executions {
			h.events += e.HistoryLength
			if e.Type.Name == contract.WorkflowBatch {
				h.runs++
				h.maxRun = max(h.maxRun, e.HistoryLength)
			} else {
				h.chunks++
				h.maxChunk = max(h.maxChunk, e.HistoryLength)
			}
		}
		if token = resp.NextPageToken; len(token) == 0 {
			return h
		}
	}
}

// BenchmarkSubmitMemory measures what accepting one large library costs
// the API: the peak RSS of a fresh API process that answers one batch
// submission of 10,000 and one of 100,000 ligands (BENCH_LIGANDS instead
// of both, when set). The batch is cancelled once accepted; the figure is
// the API's alone.
func BenchmarkSubmitMemory(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if v := os.Getenv("BENCH_LIGANDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		sizes = []int{n}
	}
	for i := 0; i < b.N; i++ {
		for _, n := range sizes {
			p, base := startBenchAPI(b, "omtx-api-submit-memory.log")
			idle := peakRSS(p.cmd.Process.Pid)
			body := fmt.Sprintf(`{"model":"%s","batch_name":"submit memory %d","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK","ligands":[%s]}`,
				omtx.BaselineModel, n, benchLigands(n))
			t0 := time.Now()
			code, resp := benchCall(b, "POST", base+"/api/v1/predict/batch", body)
			took := time.Since(t0)
			if code != http.StatusAccepted {
				p.stop()
				b.Fatalf("submit: %d %s", code, resp)
			}
			peak := peakRSS(p.cmd.Process.Pid)
			sub := decode[api.BatchSubmitResponse](&testing.T{}, resp)
			benchCall(b, "POST", base+"/api/v1/batches/"+sub.BatchID+"/cancel", "")
			p.stop()
			fmt.Printf("\nsubmit of %d ligands (%.1f MiB of JSON): answered in %.2f s; API peak RSS %.1f MiB (%.1f MiB when idle)\n",
				n, float64(len(body))/(1<<20), took.Seconds(), float64(peak)/(1<<20), float64(idle)/(1<<20))
		}
	}
}

// startBenchAPI starts an API process with the benchmark's key on a free
// port, and waits until it answers.
func startBenchAPI(b *testing.B, logName string) (p *process, base string) {
	port, err := devstack.FreePort()
	if err != nil {
		b.Fatal(err)
	}
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	p, err = startProcess(env.apiBin, logName, fmt.Sprintf("OMTX_API_ADDR=127.0.0.1:%d", port), "OMTX_API_KEYS="+benchKeys)
	if err != nil {
		b.Fatal(err)
	}
	waitUp(b, base+"/healthz")
	return p, base
}
