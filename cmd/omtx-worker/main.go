// Command omtx-worker runs OMTX-Hub's orchestration worker: the workflows,
// the activities that write job documents and aggregate batches, and the
// rate-limited MSA queue.
package main

import (
	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/worker"
)

func main() { app.Main("worker", worker.Orchestration) }
