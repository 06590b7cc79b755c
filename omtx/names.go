package omtx

import (
	"fmt"
	"strings"
)

// GPU classes of the default fleet (see Fleet).
const (
	GPUClassL4      = "l4"
	GPUClassA100x80 = "a100-80g"
	DefaultGPUClass = GPUClassL4
)

// DeviceCPU is the GPU class a result records when its model ran on the
// CPU (a worker with OMTX_ORT_PROVIDER=cpu): no GPU, no GPU cost.
const DeviceCPU = "cpu"

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

// BatchChildJobID is the job id of a batch's ligand at index (seed 1.2:
// job_{batch_id}_{idx:04d}; wider for batches of 10,000 or more).
func BatchChildJobID(batchID string, index, total int) string {
	width := 4
	for n := 10000; total > n; n *= 10 {
		width++
	}
	return fmt.Sprintf("job_%s_%0*d", batchID, width, index)
}

// BatchGroupLog is the object of the log of one model run of a batch: the
// ligands [lo, hi] by batch_index, which point at it from their
// documents' logs_file.
func BatchGroupLog(batchID string, lo, hi int) string {
	return fmt.Sprintf("%slogs/ligands-%06d-%06d.txt", BatchPrefix(batchID), lo, hi)
}

// CheckpointPrefix is the GCS folder of a batch's structure checkpoints
// (Checkpoint): scratch that matters only while the batch runs, which the
// bucket's lifecycle deletes after 7 days (deploy/gcs/lifecycle.json).
func CheckpointPrefix(batchID string) string { return "checkpoints/" + batchID + "/" }

// CheckpointChunkPrefix holds the manifests of a chunk's ligands, one
// object each (CheckpointManifest), so that one listing finds them all.
func CheckpointChunkPrefix(batchID string, chunk int) string {
	return fmt.Sprintf("%schunks/%06d/", CheckpointPrefix(batchID), chunk)
}

// CheckpointManifest is the object naming one ligand's checkpoint files
// by digest; CheckpointBlob holds one file's content, under its SHA-256,
// shared by the ligands whose files are the same (an MSA's).
func CheckpointManifest(batchID string, chunk int, jobID string) string {
	return CheckpointChunkPrefix(batchID, chunk) + jobID + ".json"
}

// CheckpointBlob: see CheckpointManifest.
func CheckpointBlob(batchID, digest string) string {
	return CheckpointPrefix(batchID) + "blobs/" + digest
}

// BatchChildJobIDs lists the job ids of a batch's ligands [lo, hi).
func BatchChildJobIDs(batchID string, lo, hi, total int) []string {
	ids := make([]string, 0, max(hi-lo, 0))
	for i := lo; i < hi; i++ {
		ids = append(ids, BatchChildJobID(batchID, i, total))
	}
	return ids
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

// TargetPrefix is the GCS folder of a target: target.json (the immutable
// target, as package target encodes it) and the files it names (uploaded
// A3M and template files, under files/).
func TargetPrefix(targetID string) string { return "targets/" + targetID + "/" }

// TargetObject is the object that holds a target.
func TargetObject(targetID string) string { return TargetPrefix(targetID) + "target.json" }

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
