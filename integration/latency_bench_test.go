package integration

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// latencies summarises one load step.
type latencies struct {
	rate          int
	n, errors     int
	p50, p99, max time.Duration
	firstErr      error
}

func summarise(rate int, op func() ([]time.Duration, int, error)) latencies {
	ds, errors, first := op()
	slices.Sort(ds)
	l := latencies{rate: rate, n: len(ds), errors: errors, firstErr: first}
	if len(ds) > 0 {
		l.p50 = ds[len(ds)/2]
		l.p99 = ds[min(len(ds)-1, len(ds)*99/100)]
		l.max = ds[len(ds)-1]
	}
	return l
}

// openLoop calls op rate times a second for d, each call on its own, not
// waiting for the last (as independent clients would), and returns each
// call's latency, the number of failures and the first.
func openLoop(rate int, d time.Duration, op func(i int) error) ([]time.Duration, int, error) {
	var mu sync.Mutex
	var ds []time.Duration
	errors := 0
	var first error
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(d)
	for i := 0; time.Now().Before(end); i++ {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			err := op(i)
			el := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if errors++; first == nil {
					first = err
				}
				return
			}
			ds = append(ds, el)
		}()
	}
	wg.Wait()
	return ds, errors, first
}

// BenchmarkSubmitLatency loads an omtx-api process, on the local stack
// with its workers running, with single predictions at 50 per second for
// BENCH_SECONDS (default 60), each with its own Idempotency-Key, and
// reports p50, p99 and errors; then steps the rate up to find the highest
// at which p99 stays under 100 ms, each step from a drained stack. Beside
// the load, at the same moments, it samples the floor: a bare StartWorkflow
// plus one Firestore create, from this process; and before it, the floor on
// a quiet stack.
func BenchmarkSubmitLatency(b *testing.B) {
	secs := 60
	if v := os.Getenv("BENCH_SECONDS"); v != "" {
		var err error
		if secs, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	p, base := startBenchAPI(b, "omtx-api-latency.log")
	defer p.stop()
	gpu, err := startProcess(env.gpuBin, "gpu-worker-latency.log")
	if err != nil {
		b.Fatal(err)
	}
	defer gpu.stop()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512}, Timeout: 30 * time.Second}
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	// Every call, in every phase, has its own key (and the floor its own
	// workflow id): a reused one would be answered as a duplicate.
	var seq atomic.Int64
	submit := func(int) error {
		i := int(seq.Add(1))
		body := fmt.Sprintf(`{"model":"%s","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK","ligand_smiles":"%sCCO","ligand_name":"lat_%d"}`,
			omtx.BaselineModel, strings.Repeat("C", i%7), i)
		req, _ := http.NewRequest("POST", base+"/api/v1/predict", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+benchKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("lat-%s-%d", run, i))
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
			return fmt.Errorf("status %d: %s", resp.StatusCode, msg)
		}
		return nil
	}
	var floorMu sync.Mutex
	var floorIDs []string
	endFloors := func() {
		floorMu.Lock()
		ids := floorIDs
		floorIDs = nil
		floorMu.Unlock()
		ch := make(chan string)
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for id := range ch {
					_ = env.deps.Temporal.TerminateWorkflow(context.Background(), id, "", "latency floor measured")
				}
			}()
		}
		for _, id := range ids {
			ch <- id
		}
		close(ch)
		wg.Wait()
	}
	defer endFloors()
	floor := func(int) error {
		i := int(seq.Add(1))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		id := fmt.Sprintf("floor-%s-%d", run, i)
		// A workflow type no worker runs; terminated after the phase, so
		// that no timeout of its own lands in a measured one.
		if _, err := env.deps.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: id, TaskQueue: "omtx-latency-floor", WorkflowExecutionTimeout: time.Hour,
		}, "LatencyFloor", i); err != nil {
			return err
		}
		floorMu.Lock()
		floorIDs = append(floorIDs, id)
		floorMu.Unlock()
		return env.deps.Jobs.Create(ctx, &omtx.Job{JobID: "job_floor_" + run + "_" + strconv.Itoa(i), JobType: omtx.JobTypeIndividual,
			UserID: "floor", Status: omtx.StatusPending, CreatedAt: time.Now().UTC()})
	}
	// Warm both paths (connections, the API's usage cache).
	openLoop(10, 2*time.Second, submit)
	openLoop(10, 2*time.Second, floor)

	show := func(name string, l latencies) {
		fmt.Printf("  %-34s %6d %8s %8s %8s %7d\n", name, l.n, l.p50.Round(100*time.Microsecond), l.p99.Round(100*time.Microsecond), l.max.Round(time.Millisecond), l.errors)
		if l.firstErr != nil {
			fmt.Printf("  %-34s first error: %v\n", "", l.firstErr)
		}
	}
	procs := []benchProc{{name: "api", pid: p.cmd.Process.Pid}, {name: "gpu-worker", pid: gpu.cmd.Process.Pid},
		{name: "orchestration-worker", pid: env.orch.cmd.Process.Pid}, {name: "this test (load, floor)", pid: os.Getpid()}}
	for name, pid := range env.stack.PIDs() {
		procs = append(procs, benchProc{name: name, pid: pid})
	}
	for i := 0; i < b.N; i++ {
		d := time.Duration(secs) * time.Second
		drained := drainPredictions(b)
		cpu0 := cpuTimes(procs)
		quiet := summarise(50, func() ([]time.Duration, int, error) { return openLoop(50, d/3, floor) })
		endFloors()
		// The load, and beside it, at the same moments, the floor sampled
		// at 2/s: both see the same machine, busy with the predictions the
		// load starts.
		var fl latencies
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			fl = summarise(2, func() ([]time.Duration, int, error) { return openLoop(2, d, floor) })
		}()
		api := summarise(50, func() ([]time.Duration, int, error) { return openLoop(50, d, submit) })
		wg.Wait()
		fmt.Printf("\nsingle predictions through the REST API, %d/s for %s, each with its own Idempotency-Key (stack drained first in %s)\n", 50, d, drained.Round(time.Second))
		fmt.Printf("  %-34s %6s %8s %8s %8s %7s\n", "", "calls", "p50", "p99", "max", "errors")
		show("POST /api/v1/predict", api)
		show("floor, during the load (2/s)", fl)
		show("floor, quiet stack (50/s)", quiet)
		fmt.Printf("  p50 ratio to the floor beside it   %.2f\n", float64(api.p50)/float64(fl.p50))
		// What the predictions the load started cost, to the last.
		endFloors()
		drained = drainPredictions(b)
		cpu := cpuTimes(procs)
		fmt.Printf("  CPU per process for those %d predictions, run to the end (%s after the load):\n", api.n, drained.Round(time.Second))
		for _, pr := range procs {
			fmt.Printf("    %-30s %7.1f s  (%.1f ms/prediction)\n", pr.name, (cpu[pr.pid] - cpu0[pr.pid]).Seconds(), (cpu[pr.pid]-cpu0[pr.pid]).Seconds()*1000/float64(max(api.n, 1)))
		}

		best := 0
		fmt.Printf("  stepping the rate (%s each, from a drained stack):\n", d/3)
		for _, rate := range []int{50, 75, 100, 150, 200, 300} {
			drained := drainPredictions(b)
			l := summarise(rate, func() ([]time.Duration, int, error) { return openLoop(rate, d/3, submit) })
			show(fmt.Sprintf("  %d/s (drained in %s)", rate, drained.Round(time.Second)), l)
			if l.p99 >= 100*time.Millisecond || l.errors > 0 {
				break
			}
			best = rate
		}
		fmt.Printf("  highest rate with p99 < 100 ms and no errors: %d/s\n", best)
		b.ReportMetric(float64(api.p99.Microseconds())/1000, "p99-ms")
	}
}

// drainPredictions waits until no prediction workflow runs, so that a load
// step starts on a quiet stack, and says how long that took.
func drainPredictions(b *testing.B) time.Duration {
	t0 := time.Now()
	for {
		resp, err := env.deps.Temporal.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
			Query: fmt.Sprintf("WorkflowType = %q AND ExecutionStatus = 'Running'", contract.WorkflowPrediction),
		})
		if err != nil {
			b.Fatal(err)
		}
		if resp.Count == 0 {
			return time.Since(t0)
		}
		if time.Since(t0) > 15*time.Minute {
			b.Fatalf("%d predictions still running after 15 minutes", resp.Count)
		}
		time.Sleep(time.Second)
	}
}
