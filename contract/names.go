package contract

import (
	"fmt"
	"strconv"
	"strings"

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
	WorkflowTargetMSA  = "TargetMSAWorkflow"
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
	ActivityRecordTargetMSA      = "RecordTargetMSA"
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
		ActivityRecordTargetMSA,
		ActivityLookupResult,
	}
	MSAActivities = []string{ActivityEnsureMSA}
	GPUActivities = []string{ActivityPredict, ActivityPredictChunk}
	Workflows     = []string{WorkflowPrediction, WorkflowBatch, WorkflowBatchChunk, WorkflowNotify, WorkflowTargetMSA}
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

// TargetMSAWorkflowID is the workflow id that computes a target's MSAs at
// its creation: one per target, so creating it again starts none.
func TargetMSAWorkflowID(targetID string) string { return "target-msa-" + targetID }

// WorkflowIDOf returns the workflow id that runs a job document: a batch's
// BatchWorkflow, or an individual job's PredictionWorkflow. Batch children
// run inside their batch's chunk workflows and have none of their own.
func WorkflowIDOf(jobType omtx.JobType, jobID string) string {
	if jobType == omtx.JobTypeBatchParent {
		return BatchWorkflowID(jobID)
	}
	return PredictionWorkflowID(jobID)
}

// RequeueWorkflowID is the workflow id of the n-th requeue (n > 0) of
// the job or batch whose first workflow has the id base
// (WorkflowIDOf). It is deterministic, so `omtx-worker requeue` run again
// after a crash between its record write and its start starts the same
// workflow, once.
func RequeueWorkflowID(base string, n int) string {
	if n <= 0 {
		return base
	}
	return base + requeueInfix + strconv.Itoa(n)
}

// SplitRequeue splits a workflow id made by RequeueWorkflowID into the
// first workflow's id and the requeue generation (0 for a first
// workflow's own id).
func SplitRequeue(workflowID string) (base string, n int) {
	i := strings.LastIndex(workflowID, requeueInfix)
	if i < 0 {
		return workflowID, 0
	}
	n, err := strconv.Atoi(workflowID[i+len(requeueInfix):])
	if err != nil || n <= 0 || strconv.Itoa(n) != workflowID[i+len(requeueInfix):] {
		return workflowID, 0
	}
	return workflowID[:i], n
}

const requeueInfix = "-requeue-"

// WorkflowOf returns the id of the workflow that runs a job or batch
// record now: its first (WorkflowIDOf), or its latest requeue's.
func WorkflowOf(j *omtx.Job) string {
	return RequeueWorkflowID(WorkflowIDOf(j.JobType, j.JobID), j.Requeues)
}

// PriorityKeys are the Temporal priority keys (1 is served first) that
// workflows start with, by their spec's priority: single predictions
// ("interactive") before every batch, so a user's one prediction never
// waits behind another user's screen; batches by their own priority.
// Within a level the fairness key (the user) shares the GPUs between users.
var PriorityKeys = map[string]int{"interactive": 1, "high": 2, "normal": 3, "low": 4}
