package omtx

import (
	"fmt"
	"strings"
)

// Task queues. Orchestration activities and workflows run on
// TaskQueueOrchestration; GPU activities run on one queue per GPU class.
const (
	TaskQueueOrchestration = "omtx-orchestration"
	// TaskQueueMSA serves MSA computations, rate limited fleet-wide.
	TaskQueueMSA   = "omtx-msa"
	GPUQueuePrefix = "omtx-gpu-"

	GPUClassL4      = "l4"
	GPUClassA100x80 = "a100-80g"
	DefaultGPUClass = GPUClassL4
)

// GPUTaskQueue names the task queue served by workers of one GPU class.
func GPUTaskQueue(class string) string { return GPUQueuePrefix + class }

// Workflow type names, registered by the worker and started by the API.
const (
	PredictionWorkflowName = "PredictionWorkflow"
	BatchWorkflowName      = "BatchWorkflow"
)

// Query, signal and update names.
const (
	QueryStatus   = "status"
	QueryProgress = "progress"
)

// PredictionWorkflowID is the workflow ID of an individual or child job.
func PredictionWorkflowID(jobID string) string { return "prediction-" + jobID }

// BatchWorkflowID is the workflow ID of a batch.
func BatchWorkflowID(batchID string) string { return "batch-" + batchID }

// Firestore collection and GCS layout (seed 1.3).
const (
	JobsCollection = "jobs"
)

// JobPrefix is the GCS folder of an individual job's files.
func JobPrefix(jobID string) string { return "jobs/" + jobID + "/" }

// BatchPrefix is the GCS folder of a batch's files.
func BatchPrefix(batchID string) string { return "batches/" + batchID + "/" }

// BatchChildPrefix is the GCS folder of one batch child's files.
func BatchChildPrefix(batchID, jobID string) string {
	return BatchPrefix(batchID) + "jobs/" + jobID + "/"
}

// File names inside a job folder.
const (
	FileInput        = "input.json"
	FileResults      = "results.json"
	FileStructureCIF = "structure.cif"
	FileStructurePDB = "structure.pdb"
	FileLogs         = "logs.txt"
)

// Search attributes registered on the Temporal server (make dev) and set by
// the workflows, for filtering lists in the Web UI.
const (
	SearchAttrUserID   = "UserId"
	SearchAttrBatchID  = "BatchId"
	SearchAttrJobType  = "JobType"
	SearchAttrModel    = "Model"
	SearchAttrGPUClass = "GpuClass"
)

// Batch names.
const (
	BatchChunkWorkflowName = "BatchChunkWorkflow"
)

// BatchChunkWorkflowID is the workflow ID of one chunk of a batch. It
// derives from the batch's workflow ID, so replaying a batch history needs
// the original execution (see the README).
func BatchChunkWorkflowID(batchID string, chunk int) string {
	return fmt.Sprintf("%s-chunk-%05d", BatchWorkflowID(batchID), chunk)
}

// BatchChildJobID is the job id of a batch's ligand at index (seed 1.2:
// job_{batch_id}_{idx:04d}; wider for batches of 10,000 or more).
func BatchChildJobID(batchID string, index, total int) string {
	width := 4
	for n := 10000; total > n; n *= 10 {
		width++
	}
	return fmt.Sprintf("job_%s_%0*d", batchID, width, index)
}

// Files in a batch folder (seed 1.3).
const (
	FileBatchConfig      = "batch_config.json"
	FileLigands          = "ligands.json"
	FileBatchResultsCSV  = "batch_results.csv"
	FileBatchResultsJSON = "batch_results.json"
	FileSummary          = "summary.json"
	FileHistogram        = "analysis/affinity_distribution.png"
	FileTopStructures    = "analysis/top_10_structures.zip"
)

// BatchFiles are the files a batch folder may hold, for the API.
var BatchFiles = []string{FileBatchConfig, FileLigands, FileBatchResultsCSV, FileBatchResultsJSON, FileSummary, FileHistogram, FileTopStructures}

// ObjectOf returns the object name of a gs:// address ("" stays "").
func ObjectOf(uri string) string {
	rest, ok := strings.CutPrefix(uri, "gs://")
	if !ok {
		return uri
	}
	_, obj, _ := strings.Cut(rest, "/")
	return obj
}

// JobFolder is the GCS folder of a job's files (seed 1.3).
func JobFolder(j *Job) string {
	if j.JobType == JobTypeBatchChild && j.BatchParentID != "" {
		return BatchChildPrefix(j.BatchParentID, j.JobID)
	}
	return JobPrefix(j.JobID)
}
