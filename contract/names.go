package contract

import (
	"fmt"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Task queues. Workflows and orchestration activities run on
// TaskQueueOrchestration; MSA computations on TaskQueueMSA, rate limited
// fleet-wide; model activities on one queue per GPU class
// (GPUTaskQueue(class)).
const (
	TaskQueueOrchestration = "omtx-orchestration"
	TaskQueueMSA           = "omtx-msa"
	GPUQueuePrefix         = "omtx-gpu-"
)

// GPUTaskQueue names the task queue served by workers of one GPU class.
func GPUTaskQueue(class string) string { return GPUQueuePrefix + class }

// Workflow types.
const (
	WorkflowPrediction = "PredictionWorkflow"
	WorkflowBatch      = "BatchWorkflow"
	WorkflowBatchChunk = "BatchChunkWorkflow"
	WorkflowNotify     = "NotifyWorkflow"
)

// Activity types. The workers register each function under its name here,
// and the workflows call activities by these names only, so renaming a Go
// method changes nothing that a history records.
const (
	// Orchestration queue.
	ActivityAcceptJob            = "AcceptJob"
	ActivityFinalizeJob          = "FinalizeJob"
	ActivityFailJob              = "FailJob"
	ActivityRecordRouting        = "RecordRouting"
	ActivityPrepareBatch         = "PrepareBatch"
	ActivityFinishChildren       = "FinishChildren"
	ActivityCancelBatchRemainder = "CancelBatchRemainder"
	ActivityUpdateBatchProgress  = "UpdateBatchProgress"
	ActivityAggregateBatch       = "AggregateBatch"
	ActivityNotify               = "Notify"
	ActivityLookupResult         = "LookupResult"
	// MSA queue.
	ActivityEnsureMSA = "EnsureMSA"
	// GPU queues.
	ActivityPredict      = "Predict"
	ActivityPredictChunk = "PredictChunk"
)

// OrchestrationActivities, MSAActivities and GPUActivities list the
// activity types each kind of worker registers (a test holds the workers
// to these lists).
var (
	OrchestrationActivities = []string{
		ActivityAcceptJob, ActivityFinalizeJob, ActivityFailJob, ActivityRecordRouting,
		ActivityPrepareBatch, ActivityFinishChildren, ActivityCancelBatchRemainder,
		ActivityUpdateBatchProgress, ActivityAggregateBatch, ActivityNotify,
		ActivityLookupResult,
	}
	MSAActivities = []string{ActivityEnsureMSA}
	GPUActivities = []string{ActivityPredict, ActivityPredictChunk}
	Workflows     = []string{WorkflowPrediction, WorkflowBatch, WorkflowBatchChunk, WorkflowNotify}
)

// Query names.
const (
	// QueryStatus answers a PredictionWorkflow's PredictionState.
	QueryStatus = "status"
	// QueryProgress answers a BatchWorkflow's omtx.Progress.
	QueryProgress = "progress"
)

// PredictionWorkflowID is the workflow id of an individual job.
func PredictionWorkflowID(jobID string) string { return "prediction-" + jobID }

// BatchWorkflowID is the workflow id of a batch.
func BatchWorkflowID(batchID string) string { return "batch-" + batchID }

// BatchChunkWorkflowID is the workflow id of one chunk of a batch. It
// derives from the batch's workflow id, so replaying a batch history needs
// its original execution (worker.ReplayFile takes it).
func BatchChunkWorkflowID(batchID string, chunk int) string {
	return fmt.Sprintf("%s-chunk-%05d", BatchWorkflowID(batchID), chunk)
}

// NotifyWorkflowID is the workflow id of a job's or batch's completion
// webhook.
func NotifyWorkflowID(jobID string) string { return "notify-" + jobID }

// WorkflowIDOf returns the workflow id that runs a job document: a batch's
// BatchWorkflow, or an individual job's PredictionWorkflow. Batch children
// run inside their batch's chunk workflows and have none of their own.
func WorkflowIDOf(jobType omtx.JobType, jobID string) string {
	if jobType == omtx.JobTypeBatchParent {
		return BatchWorkflowID(jobID)
	}
	return PredictionWorkflowID(jobID)
}

// PriorityKeys are the Temporal priority keys (1 is served first) that
// workflows start with, by their spec's priority: single predictions
// ("interactive") before every batch, so a user's one prediction never
// waits behind another user's screen; batches by their own priority.
// Within a level the fairness key (the user) shares the GPUs between users.
var PriorityKeys = map[string]int{"interactive": 1, "high": 2, "normal": 3, "low": 4}
