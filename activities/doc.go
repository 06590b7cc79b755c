// Package activities holds OMTX-Hub's Temporal activities. They are methods
// on structs that hold their dependencies (job store, blob store,
// predictor), built once in the worker's entrypoint; tests swap the
// dependencies, not the code.
//
//   - Orchestration activities run on omtx.TaskQueueOrchestration and move
//     job documents through their statuses.
//   - GPU activities run on a GPU class's queue (omtx.GPUTaskQueue) and run
//     the model, writing each result's files to GCS.
package activities

import (
	"context"

	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store"
)

// JobStore is the job-document storage the activities need.
type JobStore interface {
	Get(ctx context.Context, jobID string) (*omtx.Job, error)
	// Update applies fn in a transaction; fn gets nil for a missing
	// document and returns nil to write nothing.
	Update(ctx context.Context, jobID string, fn func(*omtx.Job) (*omtx.Job, error)) (*omtx.Job, error)
	// CreateMany creates documents, leaving existing ones as they are.
	CreateMany(ctx context.Context, jobs []*omtx.Job) error
	// GetMany reads documents in order; a missing one is nil.
	GetMany(ctx context.Context, ids []string) ([]*omtx.Job, error)
	SetMany(ctx context.Context, jobs []*omtx.Job) error
	Patch(ctx context.Context, jobID string, fields map[string]any) error
	ListChildren(ctx context.Context, f store.ChildFilter) ([]*omtx.Job, error)
}

// BlobStore is the file storage the activities need.
type BlobStore interface {
	Put(ctx context.Context, name, contentType string, data []byte) error
	Read(ctx context.Context, name string) ([]byte, error)
	Exists(ctx context.Context, name string) (bool, error)
	URI(name string) string
}

// Predictor runs a model. gpu.ONNXPredictor implements it.
type Predictor interface {
	Info() omtx.ModelInfo
	// Predict returns exactly one prediction per ligand, in order. A
	// ligand that fails alone has Prediction.Error set; an error return
	// means the whole call failed and may be retried (one wrapping
	// omtx.ErrOutOfMemory is rerouted to a larger GPU class instead).
	Predict(ctx context.Context, req omtx.PredictRequest) ([]omtx.Prediction, error)
}

// Error types of non-retryable application errors.
const (
	ErrTypeInvalidInput = "InvalidInput"
	ErrTypeCancelled    = "JobCancelled"
	ErrTypeNoModel      = "ModelUnavailable"
	ErrTypeOutOfMemory  = "OutOfMemory"
)
