package contract

import (
	"time"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Field names of the structs below are their JSON keys (they carry no
// tags, as in the first release); TestPayloadShapes freezes them.

// ---- PredictionWorkflow ----

// PredictionInput is PredictionWorkflow's input.
type PredictionInput struct {
	Job JobSpec
	// GPUClass is the class to run on first; empty means the spec's.
	GPUClass string
	// Fleet lists the GPU classes, smallest first, for out-of-memory
	// reroutes; empty means no reroute.
	Fleet omtx.Fleet
}

// PredictionResult is PredictionWorkflow's result.
type PredictionResult struct {
	JobID   string
	Status  omtx.JobStatus
	Results *omtx.Results
	Error   string
}

// PredictionState answers QueryStatus.
type PredictionState struct {
	JobID    string         `json:"job_id"`
	Status   omtx.JobStatus `json:"status"`
	GPUClass string         `json:"gpu_class"`
	Error    string         `json:"error,omitempty"`
	Updated  time.Time      `json:"updated_at"`
}

// ---- BatchWorkflow ----

// BatchInput is BatchWorkflow's input, and what each run hands the next
// when it continues as new.
type BatchInput struct {
	Parent   JobSpec
	GPUClass string
	Fleet    omtx.Fleet
	// ChunksPerRun and ProgressEvery override the defaults (tests use
	// small values).
	ChunksPerRun  int
	ProgressEvery time.Duration
	// State carries progress across continue-as-new; nil in the first run.
	State *BatchState
}

// BatchState is what a batch run hands to the next one.
type BatchState struct {
	Prepared  bool
	Total     int
	NextChunk int
	Completed int
	Failed    int
	Cancelled int
	// Filtered counts children the batch's filters held back (zero in
	// states written before filters existed, which had none).
	Filtered int
	Runs     int
	// MSA is the protein's MSA, computed once for the whole batch.
	MSA *omtx.MSARef
	// Skip are the chunks not yet started whose children were all
	// terminal when PrepareBatch created them (counted already): they are
	// never started.
	Skip []ChunkRange `json:",omitempty"`
}

// BatchResult is BatchWorkflow's result.
type BatchResult struct {
	BatchID  string
	Status   omtx.JobStatus
	Progress omtx.Progress
}

// ChunkInput is BatchChunkWorkflow's input: a run of consecutive ligands
// of a batch, by child job id.
type ChunkInput struct {
	BatchID    string
	Chunk      int
	JobIDs     []string
	Model      string
	Protein    string
	Parameters omtx.Parameters
	GPUClass   string
	MSA        omtx.MSARef
	Fleet      omtx.Fleet
	// TargetID names the batch's target (omtx.TargetObject); empty for a
	// one-chain target given by Protein alone.
	TargetID string `json:",omitempty"`
}

// ChunkCounts counts a chunk's ligands by final status. It is the result
// of three things, BatchChunkWorkflow, PredictChunk and FinishChildren
// (see the package doc): a field added here is added to all three.
type ChunkCounts struct {
	Completed int
	Failed    int
	Cancelled int
	// Filtered counts children the batch's filters held back: final
	// before any GPU activity, counted by whoever counts the chunk.
	Filtered int
}

// CountsOf counts final statuses of a Progress.
func CountsOf(p omtx.Progress) ChunkCounts {
	return ChunkCounts{Completed: p.Completed, Failed: p.Failed, Cancelled: p.Cancelled, Filtered: p.Filtered}
}

// ---- NotifyWorkflow ----

// NotifyInput is NotifyWorkflow's and the Notify activity's input: one
// completion webhook.
type NotifyInput struct {
	JobID    string
	JobType  omtx.JobType
	UserID   string
	URL      string
	KeyID    string
	Status   omtx.JobStatus
	EndedAt  time.Time
	Error    string
	Progress *omtx.Progress
	Best     *omtx.RankedLigand
	Results  *omtx.Results
}

// NotifyResult is NotifyWorkflow's and Notify's result.
type NotifyResult struct {
	Delivered  bool
	StatusCode int
	Attempts   int32
	Error      string
}

// ---- Orchestration activities ----

// AcceptJobInput is AcceptJob's input.
type AcceptJobInput struct {
	Job       JobSpec
	TaskQueue string // the GPU queue it will run on
	GPUClass  string
}

// AcceptJobResult is the job's status after acceptance: queued, or a
// terminal status for the workflow to stop on.
type AcceptJobResult struct {
	Status omtx.JobStatus
}

// FinalizeJobInput is FinalizeJob's input. FinalizeJob records only a
// completed job, with its results; FailJob ends the others.
type FinalizeJobInput struct {
	JobID   string
	Results omtx.Results
}

// FinalizeJobResult is FinalizeJob's result (nothing yet).
type FinalizeJobResult struct{}

// FailJobInput is FailJob's input.
type FailJobInput struct {
	JobID  string
	Status omtx.JobStatus // failed or cancelled
	Error  string
	// Cause says whose failure it is (omtx.CauseUserInput or
	// omtx.CauseSystem); empty reads as system.
	Cause string
}

// FailJobResult is FailJob's result (nothing yet).
type FailJobResult struct{}

// RecordRoutingInput is RecordRouting's input.
type RecordRoutingInput struct {
	JobIDs []string
	Step   omtx.RoutingStep
}

// RecordRoutingResult is RecordRouting's result (nothing yet).
type RecordRoutingResult struct{}

// PrepareBatchInput is PrepareBatch's input.
type PrepareBatchInput struct {
	Parent JobSpec
}

// PrepareBatchResult reports what PrepareBatch found.
type PrepareBatchResult struct {
	Status  omtx.JobStatus // running, or terminal if it ended before it started
	Total   int
	Invalid int
	// CacheHits counts the children completed from the result cache.
	CacheHits int
	// TerminalChunks are the chunks (of batch_config.chunk_size) whose
	// children were all terminal when created (result-cache hits and
	// invalid rows), as sorted half-open ranges of chunk numbers; none
	// need the GPU. TerminalCompleted and TerminalFailed count their
	// children by status.
	TerminalChunks    []ChunkRange
	TerminalCompleted int
	TerminalFailed    int
}

// ChunkRange is the chunks From, From+1, ..., To-1.
type ChunkRange struct {
	From, To int
}

// LookupResultInput is LookupResult's input: the job whose result the
// cache may hold.
type LookupResultInput struct {
	Job JobSpec
}

// LookupResultResult is LookupResult's result: Hit, with the results the
// job completes with (copied from the source job), or a miss.
type LookupResultResult struct {
	Hit     bool
	Results omtx.Results
}

// FinishChildrenInput is FinishChildren's input.
type FinishChildrenInput struct {
	JobIDs []string
	Status omtx.JobStatus // failed or cancelled
	Error  string
}

// CancelBatchRemainderInput is CancelBatchRemainder's input. Despite its
// name, the activity ends every unfinished child of the batch with Status:
// cancelled when the batch was cancelled, failed when it cannot run.
type CancelBatchRemainderInput struct {
	BatchID string
	// Status is cancelled (the default) or failed; Error says why.
	Status omtx.JobStatus
	Error  string
}

// CancelBatchRemainderResult counts the children it marked.
type CancelBatchRemainderResult struct {
	Marked int
}

// BatchProgressInput is UpdateBatchProgress's input.
type BatchProgressInput struct {
	BatchID  string
	Progress omtx.Progress
}

// BatchProgressResult is UpdateBatchProgress's result (nothing yet).
type BatchProgressResult struct{}

// AggregateBatchInput is AggregateBatch's input.
type AggregateBatchInput struct {
	BatchID   string
	Cancelled bool
}

// AggregateBatchResult is the batch's final state.
type AggregateBatchResult struct {
	Status   omtx.JobStatus
	Progress omtx.Progress
	// Best is the top-ranked ligand, when one completed.
	Best *omtx.RankedLigand
}

// ---- MSA activity ----

// EnsureMSAInput is EnsureMSA's input.
type EnsureMSAInput struct {
	Protein string
	// Uploaded is the object name of an A3M the user sent; used as it is.
	Uploaded string
	// TargetID, when set, names the job's target: each of its protein
	// chains whose MSA comes from the server gets one, cached per
	// sequence (EnsureMSAResult.Chains); Protein and Uploaded are unused.
	TargetID string `json:",omitempty"`
}

// EnsureMSAResult is EnsureMSA's result: which MSA a prediction uses. It
// is an alias, not a struct of its own: its JSON is omtx.MSARef's, so a
// field added to MSARef is added to this result too.
type EnsureMSAResult = omtx.MSARef

// ---- Target MSAs ----

// TargetMSAInput is TargetMSAWorkflow's input.
type TargetMSAInput struct {
	TargetID string
}

// TargetMSAResult is TargetMSAWorkflow's result: the target's MSA status
// as recorded (omtx.TargetMSAReady or omtx.TargetMSAFailed).
type TargetMSAResult struct {
	Status string
}

// RecordTargetMSAInput is RecordTargetMSA's input: the MSAs EnsureMSA
// computed for the target, or Failure, why it could not.
type RecordTargetMSAInput struct {
	TargetID string
	MSA      omtx.MSARef
	Failure  string `json:",omitempty"`
}

// RecordTargetMSAResult is RecordTargetMSA's result.
type RecordTargetMSAResult struct{}

// ---- GPU activities ----

// PredictInput is Predict's input: one ligand against one protein.
type PredictInput struct {
	JobID      string
	Folder     string // GCS folder for the job's files
	Model      string
	Protein    string
	Ligand     omtx.Ligand
	Parameters omtx.Parameters
	MSA        omtx.MSARef
	// Warnings about the input, written into results.json.
	Warnings []string
	// TargetID names the job's target (omtx.TargetObject); empty for a
	// one-chain target given by Protein alone.
	TargetID string `json:",omitempty"`
}

// PredictResult is Predict's result: the job document's results block.
type PredictResult struct {
	Results omtx.Results
}

// PredictChunkInput is PredictChunk's input: ligands of one batch, all
// against the same protein.
type PredictChunkInput struct {
	BatchID    string
	Chunk      int
	JobIDs     []string
	Model      string
	Protein    string
	Parameters omtx.Parameters
	MSA        omtx.MSARef
	// TargetID names the batch's target (omtx.TargetObject); empty for a
	// one-chain target given by Protein alone.
	TargetID string `json:",omitempty"`
}
