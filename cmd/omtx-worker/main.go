// Command omtx-worker runs OMTX-Hub's orchestration worker: the workflows,
// the activities that write job documents and aggregate batches, and the
// rate-limited MSA queue.
//
// `omtx-worker reconcile [--since DURATION] [--dry-run] [--start-missing]`
// instead repairs job records that disagree with Temporal, once, and exits
// (reconcile.Command; deploy/RUNBOOK.md says when to run it).
package main

import (
	"os"

	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/reconcile"
	"github.com/omtx-hub/omtx-hub/worker"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "reconcile" {
		os.Exit(reconcile.Command(os.Args[2:], os.Stdout, os.Stderr))
	}
	app.Main(config.ProcessWorker, worker.Orchestration)
}
