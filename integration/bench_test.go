package integration

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/worker"
	"github.com/omtx-hub/omtx-hub/worker/gpuworker"
)

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
		fmt.Fprintf(&b, `{"name":"cmpd_%05d","smiles":"%s"}`, i, smi)
	}
	return b.String()
}

// BenchmarkBatch runs one batch (BENCH_LIGANDS, default 1,000) through the
// real local stack with the baseline model: Temporal dev server, Firestore
// emulator, fake-gcs-server, the orchestration worker and one CPU GPU
// worker (in this process, so Firestore writes can be counted). It prints
// the figures kept in BENCHMARKS.md.
func BenchmarkBatch(b *testing.B) {
	n := 1000
	if v := os.Getenv("BENCH_LIGANDS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	maxConc := 64
	// The subprocess worker would hide its writes; run both workers here.
	env.orch.stop()
	defer func() {
		var err error
		if env.orch, err = startProcess(env.orchBin, "omtx-worker.log"); err != nil {
			b.Fatal(err)
		}
	}()
	cfg := env.cfg
	cfg.GPUSlots = 4
	cfg.ModelBundle = filepath.Join(env.root, cfg.ModelBundle)
	models, closeModels, err := gpuworker.Models(cfg, env.log)
	if err != nil {
		b.Fatal(err)
	}
	defer closeModels()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.RunRoles(ctx, cfg, env.deps, env.log, worker.Orchestration,
			func(ctx context.Context, cfg config.Config, d *app.Deps, log *slog.Logger) error {
				return worker.RunGPU(ctx, cfg, d, models, log)
			})
	}()
	defer func() { cancel(); <-done }()

	for i := 0; i < b.N; i++ {
		writes0 := env.deps.Jobs.Writes()
		body := fmt.Sprintf(`{"model":"%s","batch_name":"bench %d","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK","ligands":[%s],"max_concurrent":%d}`,
			omtx.BaselineModel, n, benchLigands(n), maxConc)
		start := time.Now()
		code, resp := callB(b, "POST", "/api/v1/predict/batch", body)
		if code != http.StatusAccepted {
			b.Fatalf("submit: %d %s", code, resp)
		}
		sub := decode[api.BatchSubmitResponse](&testing.T{}, resp)
		var parent omtx.Job
		for {
			_, body := callB(b, "GET", "/api/v1/batches/"+sub.BatchID, "")
			parent = decode[omtx.Job](&testing.T{}, body)
			if parent.Status.Terminal() {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		wall := time.Since(start)
		writes := env.deps.Jobs.Writes() - writes0

		var modelSeconds float64
		kids, err := env.deps.Jobs.ListChildren(context.Background(), childrenOf(sub.BatchID))
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range kids {
			if k.Results != nil {
				modelSeconds += k.Results.ModelSeconds
			}
		}
		h := historyEvents(b, sub.BatchID)
		b.ReportMetric(float64(n)/wall.Seconds(), "ligands/s")
		fmt.Printf("\nbatch of %d ligands (chunk %d, max_concurrent %d, %d GPU slots), status %s, progress %+v\n",
			n, sub.ChunkSize, maxConc, cfg.GPUSlots, parent.Status, *parent.Progress)
		fmt.Printf("  wall time                      %.2f s\n", wall.Seconds())
		fmt.Printf("  throughput                     %.1f ligands/s\n", float64(n)/wall.Seconds())
		fmt.Printf("  summed model time              %.3f s\n", modelSeconds)
		fmt.Printf("  orchestration overhead/ligand  %.2f ms  ((wall - model) / N)\n", (wall.Seconds()-modelSeconds)/float64(n)*1000)
		fmt.Printf("  Firestore writes/ligand        %.2f  (%d documents)\n", float64(writes)/float64(n), writes)
		fmt.Printf("  Temporal history events/ligand %.2f  (%d events: %d batch runs, %d chunk workflows)\n", float64(h.events)/float64(n), h.events, h.runs, h.chunks)
		fmt.Printf("  largest history                batch run %d events, chunk workflow %d events\n", h.maxRun, h.maxChunk)
	}
}

func callB(b *testing.B, method, path, body string) (int, []byte) {
	t := &testing.T{}
	code, resp := call(t, method, path, testKey, body)
	if t.Failed() {
		b.Fatal("request failed")
	}
	return code, resp
}

type history struct {
	events           int64
	runs, chunks     int
	maxRun, maxChunk int64
}

// historyEvents sums the history lengths of a batch's workflow runs and
// chunk workflows.
func historyEvents(b *testing.B, batchID string) (h history) {
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
