// Command omtx-worker runs OMTX-Hub's orchestration worker: the workflows,
// the activities that write job documents and aggregate batches, and the
// rate-limited MSA queue.
//
// `omtx-worker reconcile [--since DURATION] [--dry-run] [--start-missing]`
// instead repairs job records that disagree with Temporal, once, and exits
// (reconcile.Command; deploy/RUNBOOK.md says when to run it).
//
// `omtx-worker requeue (--ids ID,... | --status failed --since T ...)
// [--dry-run]` sets failed records back to pending and starts fresh
// workflows for them, and exits (requeue.Command): the runbook's bulk
// re-run.
package main

import (
	"os"

	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/reconcile"
	"github.com/omtx-hub/omtx-hub/requeue"
	"github.com/omtx-hub/omtx-hub/worker"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "reconcile":
			os.Exit(reconcile.Command(os.Args[2:], os.Stdout, os.Stderr))
		case "requeue":
			os.Exit(requeue.Command(os.Args[2:], os.Stdout, os.Stderr))
		}
	}
	app.Main(config.ProcessWorker, worker.Orchestration)
}
