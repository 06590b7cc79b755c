// Package worker builds and runs OMTX-Hub's Temporal workers from a
// config.Config: the orchestration worker (every workflow, the activities
// that write job documents, and the rate-limited MSA queue) and the GPU
// worker of one GPU class (the model activities). It registers exactly the
// names in package contract. It links no cgo; the GPU worker's predictors,
// which link ONNX Runtime, are built by its subpackage gpuworker, which only
// GPU entrypoints import.
//
// The package is named worker, as the SDK's go.temporal.io/sdk/worker is:
// the folder is a fixed top-level name, and the package is what it holds.
// So this package, and any file that imports both, imports the SDK's as
// tworker; the bare name worker is always this one.
package worker

import (
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	tworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/workflows"
)

// WorkflowRegistry is what registers workflows: a worker, or a replayer.
type WorkflowRegistry interface {
	RegisterWorkflowWithOptions(any, workflow.RegisterOptions)
}

// ActivityRegistry is what registers activities: a worker, or a test
// environment.
type ActivityRegistry interface {
	RegisterActivityWithOptions(any, activity.RegisterOptions)
}

// Workflows maps every workflow type to its function.
func Workflows() map[string]any {
	return map[string]any{
		contract.WorkflowPrediction: workflows.PredictionWorkflow,
		contract.WorkflowBatch:      workflows.BatchWorkflow,
		contract.WorkflowBatchChunk: workflows.BatchChunkWorkflow,
		contract.WorkflowNotify:     workflows.NotifyWorkflow,
		contract.WorkflowTargetMSA:  workflows.TargetMSAWorkflow,
	}
}

// RegisterWorkflows registers every workflow type with r under its
// contract name. ReplayFile (cmd/replay and the replay tests in
// workflows/) registers through the same function, registerWorkflows,
// with the same map, so a history replays against exactly what the worker
// runs.
func RegisterWorkflows(r WorkflowRegistry) {
	registerWorkflows(r, Workflows())
}

// registerWorkflows registers each workflow function of fns under its
// name: the one registration of workers and replayers.
func registerWorkflows(r WorkflowRegistry, fns map[string]any) {
	for name, fn := range fns {
		r.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: name})
	}
}

// RegisterActivities registers each activity function of acts under its
// contract name.
func RegisterActivities(r ActivityRegistry, acts map[string]any) {
	for name, fn := range acts {
		r.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}

// Limits bound what one worker process runs at once: the memory of the
// orchestration worker, and the GPU of a GPU worker.
type Limits struct {
	// ActivitySlots bounds concurrent activities, and apart from them
	// concurrent local activities (orchestration worker); or concurrent
	// model activities (GPU worker).
	ActivitySlots int
	// WorkflowTaskSlots bounds concurrent workflow tasks.
	WorkflowTaskSlots int
}

// NewOrchestration builds the worker of the orchestration task queue.
func NewOrchestration(c client.Client, acts *activities.Orchestration, lim Limits) tworker.Worker {
	w := tworker.New(c, contract.TaskQueueOrchestration, tworker.Options{
		MaxConcurrentActivityExecutionSize: max(lim.ActivitySlots, 1),
		// A prediction's job-document writes run as local activities
		// (workflows/versions.go): bounded like the others.
		MaxConcurrentLocalActivityExecutionSize: max(lim.ActivitySlots, 1),
		MaxConcurrentWorkflowTaskExecutionSize:  max(lim.WorkflowTaskSlots, 2),
	})
	RegisterWorkflows(w)
	RegisterActivities(w, acts.Activities())
	return w
}

// GPUOptions tune a GPU worker.
type GPUOptions struct {
	// Slots is how many model activities run at once on this worker.
	Slots int
	// StopTimeout is how long a stopping worker lets running model
	// activities go on (they stop at the next group boundary when they
	// can, and are killed when it runs out): the pod's grace period less a
	// margin for the process to exit.
	StopTimeout time.Duration
}

// NewGPU builds the worker of one GPU class's task queue.
func NewGPU(c client.Client, acts *activities.GPU, opts GPUOptions) tworker.Worker {
	w := tworker.New(c, contract.GPUTaskQueue(acts.GPUClass), tworker.Options{
		MaxConcurrentActivityExecutionSize: max(opts.Slots, 1),
		WorkerStopTimeout:                  opts.StopTimeout,
	})
	RegisterActivities(w, acts.Activities())
	return w
}

// NewMSA builds the worker of the MSA queue. ratePerSecond caps MSA
// activities across every worker of the queue (the server's rate limit).
func NewMSA(c client.Client, acts *activities.MSA, ratePerSecond float64) tworker.Worker {
	w := tworker.New(c, contract.TaskQueueMSA, tworker.Options{
		TaskQueueActivitiesPerSecond:       ratePerSecond,
		MaxConcurrentActivityExecutionSize: 4,
	})
	RegisterActivities(w, acts.Activities())
	return w
}
