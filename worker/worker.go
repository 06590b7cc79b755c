// Package worker builds OMTX-Hub's Temporal workers: the orchestration
// worker (workflows and the activities that write job documents), the MSA
// worker and the GPU worker of one GPU class (the model activities). It
// links no cgo; the GPU worker's predictors are built by its entrypoint.
package worker

import (
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/workflows"
)

// RegisterWorkflows registers every workflow type with w. The replay tests
// use it too, so they replay exactly what the worker runs.
func RegisterWorkflows(w interface {
	RegisterWorkflowWithOptions(any, workflow.RegisterOptions)
}) {
	w.RegisterWorkflowWithOptions(workflows.PredictionWorkflow, workflow.RegisterOptions{Name: omtx.PredictionWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.BatchWorkflow, workflow.RegisterOptions{Name: omtx.BatchWorkflowName})
	w.RegisterWorkflowWithOptions(workflows.BatchChunkWorkflow, workflow.RegisterOptions{Name: omtx.BatchChunkWorkflowName})
}

// NewOrchestration builds the worker of the orchestration task queue.
func NewOrchestration(c client.Client, acts *activities.Orchestration) worker.Worker {
	w := worker.New(c, omtx.TaskQueueOrchestration, worker.Options{})
	RegisterWorkflows(w)
	w.RegisterActivity(acts)
	return w
}

// GPUOptions tune a GPU worker.
type GPUOptions struct {
	// Slots is how many model activities run at once on this worker.
	Slots int
}

// NewGPU builds the worker of one GPU class's task queue.
func NewGPU(c client.Client, acts *activities.GPU, opts GPUOptions) worker.Worker {
	if opts.Slots <= 0 {
		opts.Slots = 1
	}
	w := worker.New(c, omtx.GPUTaskQueue(acts.GPUClass), worker.Options{
		MaxConcurrentActivityExecutionSize: opts.Slots,
		// Give a running model time to finish or heartbeat on shutdown.
		WorkerStopTimeout: 30 * time.Second,
	})
	w.RegisterActivity(acts)
	return w
}

// NewMSA builds the worker of the MSA queue. ratePerSecond caps MSA
// activities across every worker of the queue (the server's rate limit).
func NewMSA(c client.Client, acts *activities.MSA, ratePerSecond float64) worker.Worker {
	w := worker.New(c, omtx.TaskQueueMSA, worker.Options{
		TaskQueueActivitiesPerSecond:       ratePerSecond,
		MaxConcurrentActivityExecutionSize: 4,
	})
	w.RegisterActivity(acts)
	return w
}
