package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// latencies summarises one load step.
type latencies struct {
	rate          int
	n, errors     int
	p50, p99, max time.Duration
}

func summarise(rate int, op func() ([]time.Duration, int)) latencies {
	ds, errors := op()
	slices.Sort(ds)
	l := latencies{rate: rate, n: len(ds), errors: errors}
	if len(ds) > 0 {
		l.p50 = ds[len(ds)/2]
		l.p99 = ds[min(len(ds)-1, len(ds)*99/100)]
		l.max = ds[len(ds)-1]
	}
	return l
}

// openLoop calls op rate times a second for d, each call on its own, not
// waiting for the last (as independent clients would), and returns each
// call's latency and the failures.
func openLoop(rate int, d time.Duration, op func(i int) error) ([]time.Duration, int) {
	var mu sync.Mutex
	var ds []time.Duration
	errors := 0
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
				errors++
				return
			}
			ds = append(ds, el)
		}()
	}
	wg.Wait()
	return ds, errors
}

// BenchmarkSubmitLatency loads an omtx-api process, on the local stack
// with its workers running, with single predictions at 50 per second for
// BENCH_SECONDS (default 60), each with its own Idempotency-Key, and
// reports p50, p99 and errors; then steps the rate up to find the highest
// at which p99 stays under 100 ms. Beside it, in the same run and at the
// same rate, it measures the floor: a bare StartWorkflow plus one Firestore
// create, from this process.
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
	submit := func(i int) error {
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
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	floor := func(i int) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		id := fmt.Sprintf("floor-%s-%d", run, i)
		// A workflow type no worker runs, timing out by itself.
		if _, err := env.deps.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: id, TaskQueue: "omtx-latency-floor", WorkflowExecutionTimeout: time.Minute,
		}, "LatencyFloor", i); err != nil {
			return err
		}
		return env.deps.Jobs.Create(ctx, &omtx.Job{JobID: "job_floor_" + run + "_" + strconv.Itoa(i), JobType: omtx.JobTypeIndividual,
			UserID: "floor", Status: omtx.StatusPending, CreatedAt: time.Now().UTC()})
	}
	// Warm both paths (connections, the API's usage cache).
	openLoop(10, 2*time.Second, submit)
	openLoop(10, 2*time.Second, floor)

	for i := 0; i < b.N; i++ {
		d := time.Duration(secs) * time.Second
		api := summarise(50, func() ([]time.Duration, int) { return openLoop(50, d, submit) })
		fl := summarise(50, func() ([]time.Duration, int) { return openLoop(50, d, floor) })
		fmt.Printf("\nsingle predictions through the REST API, %d/s for %s, each with its own Idempotency-Key\n", 50, d)
		fmt.Printf("  %-34s %6s %8s %8s %8s %7s\n", "", "calls", "p50", "p99", "max", "errors")
		show := func(name string, l latencies) {
			fmt.Printf("  %-34s %6d %8s %8s %8s %7d\n", name, l.n, l.p50.Round(100*time.Microsecond), l.p99.Round(100*time.Microsecond), l.max.Round(time.Millisecond), l.errors)
		}
		show("POST /api/v1/predict", api)
		show("floor: StartWorkflow + 1 create", fl)
		fmt.Printf("  p50 ratio to the floor             %.2f\n", float64(api.p50)/float64(fl.p50))

		best := 0
		fmt.Printf("  stepping the rate (%s each):\n", d/3)
		for _, rate := range []int{50, 75, 100, 150, 200} {
			l := summarise(rate, func() ([]time.Duration, int) { return openLoop(rate, d/3, submit) })
			show(fmt.Sprintf("  %d/s", rate), l)
			if l.p99 >= 100*time.Millisecond || l.errors > 0 {
				break
			}
			best = rate
		}
		fmt.Printf("  highest rate with p99 < 100 ms and no errors: %d/s\n", best)
		b.ReportMetric(float64(api.p99.Microseconds())/1000, "p99-ms")
	}
}
