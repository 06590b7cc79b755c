package integration

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// rescreenRun is what one screen of BenchmarkRescreen measured.
type rescreenRun struct {
	wall time.Duration
	// gpuChunks counts the GPU activities (PredictChunk) that ran ligands,
	// gpuLigands the ligands they ran: each child a GPU activity touched
	// records its chunk workflow (Temporal.WorkflowID).
	gpuChunks, gpuLigands int
	hits                  int
	savedGPUSeconds       float64
}

// BenchmarkRescreen screens a library of BENCH_LIGANDS (default 1,000)
// against one target three times on the benchmark's own stack
// (startBenchStack): first with an empty cache, then the same screen again
// (every ligand a cache hit), then again with cache false. It prints each
// screen's wall time and the GPU activities it ran. The target is new on
// each run of the benchmark, so the first screen always misses.
func BenchmarkRescreen(b *testing.B) {
	n := 1000
	if v := os.Getenv("BENCH_LIGANDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	const maxConc = 64
	base, _ := startBenchStack(b, 4)
	for i := 0; i < b.N; i++ {
		// A protein of its own: the base sequence and a tail from the clock.
		const aa = "ACDEFGHIKLMNPQRSTVWY"
		tail := []byte{}
		for v := time.Now().UnixNano(); v > 0; v /= 20 {
			tail = append(tail, aa[v%20])
		}
		protein := "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK" + string(tail)
		body := func(cache string) string {
			return fmt.Sprintf(`{"model":"%s","protein_sequence":"%s","ligands":[%s],"max_concurrent":%d%s}`,
				omtx.BaselineModel, protein, benchLigands(n), maxConc, cache)
		}
		runs := []struct {
			name string
			run  rescreenRun
		}{
			{name: "first screen (cache empty)", run: rescreen(b, base, body(""))},
			{name: "same screen again (cache on)", run: rescreen(b, base, body(""))},
			{name: "same screen again, cache false", run: rescreen(b, base, body(`,"cache":false`))},
		}
		fmt.Printf("\nre-screen of %d ligands against one target (chunk 16, max_concurrent %d, 4 GPU slots)\n", n, maxConc)
		fmt.Printf("  %-32s %10s %14s %12s %10s %18s\n", "screen", "wall time", "GPU activities", "GPU ligands", "cache hits", "GPU seconds saved")
		for _, r := range runs {
			fmt.Printf("  %-32s %9.2fs %14d %12d %10d %18.3f\n", r.name, r.run.wall.Seconds(), r.run.gpuChunks, r.run.gpuLigands, r.run.hits, r.run.savedGPUSeconds)
		}
		b.ReportMetric(runs[1].run.wall.Seconds(), "rescreen-s")
		b.ReportMetric(float64(runs[1].run.gpuChunks), "rescreen-gpu-activities")
	}
}

// rescreen submits one batch to the benchmark's API, waits for it to end
// and counts what ran on the GPU.
func rescreen(b *testing.B, base, body string) rescreenRun {
	sub, parent, _, wall := runBenchBatch(b, base, body)
	out := rescreenRun{wall: wall}
	if parent.Status != omtx.StatusCompleted {
		b.Fatalf("batch %s ended %s: %s", sub.BatchID, parent.Status, parent.Error)
	}
	if parent.BatchResults != nil {
		out.hits, out.savedGPUSeconds = parent.BatchResults.CacheHits, parent.BatchResults.GPUSecondsSaved
	}
	chunks := map[string]bool{}
	eachChild(b, sub.BatchID, func(k *omtx.Job) {
		if k.Temporal != nil && k.Temporal.WorkflowID != "" {
			chunks[k.Temporal.WorkflowID] = true
			out.gpuLigands++
		}
	})
	out.gpuChunks = len(chunks)
	return out
}
