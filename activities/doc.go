// Package activities holds OMTX-Hub's Temporal activities. They are methods
// on structs that hold their dependencies (job store, blob store,
// predictors), built once in the worker's entrypoint; tests swap the
// dependencies, not the code. Their inputs, results, names and error types
// are in package contract; each struct's Activities method maps the names
// to its methods, and the worker registers exactly those.
//
//   - Orchestration activities run on contract.TaskQueueOrchestration and
//     move job documents through their statuses.
//   - The MSA activity runs on contract.TaskQueueMSA.
//   - GPU activities run on a GPU class's queue (contract.GPUTaskQueue)
//     and run the model, writing each result's files to GCS.
package activities

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// JobStore is the job-document storage the activities need. store.Jobs
// implements it (and storetest.Jobs, in tests).
type JobStore interface {
	Get(ctx context.Context, jobID string) (*omtx.Job, error)
	// Update applies fn in a transaction; fn gets nil for a missing
	// document and returns nil to write nothing.
	Update(ctx context.Context, jobID string, fn func(*omtx.Job) (*omtx.Job, error)) (*omtx.Job, error)
	// CreateMany creates documents, leaving existing ones as they are,
	// and says which existed.
	CreateMany(ctx context.Context, jobs []*omtx.Job) (existed []bool, err error)
	// GetMany reads documents in order; a missing one is nil.
	GetMany(ctx context.Context, ids []string) ([]*omtx.Job, error)
	SetMany(ctx context.Context, jobs []*omtx.Job) error
	SetProgress(ctx context.Context, batchID string, p omtx.Progress, now time.Time) error
	ListChildren(ctx context.Context, f omtx.ChildFilter) ([]*omtx.Job, error)
}

// BlobStore is the file storage the activities need.
type BlobStore interface {
	Put(ctx context.Context, name, contentType string, data []byte) error
	// Create streams an object; it exists once Close returns nil.
	Create(ctx context.Context, name, contentType string) io.WriteCloser
	Read(ctx context.Context, name string) ([]byte, error)
	Exists(ctx context.Context, name string) (bool, error)
	// List names the objects under prefix.
	List(ctx context.Context, prefix string) ([]string, error)
	URI(name string) string
}

// Predictor runs a model. gpu.ONNXPredictor and boltz.Runner implement it.
type Predictor interface {
	Info() omtx.ModelInfo
	// Predict returns exactly one prediction per ligand, in order. A
	// ligand that fails alone has Prediction.Error set; an error return
	// means the whole call failed and may be retried (one wrapping
	// omtx.ErrOutOfMemory is rerouted to a larger GPU class instead).
	Predict(ctx context.Context, req omtx.PredictRequest) ([]omtx.Prediction, error)
}

// storeErr wraps a store error for an activity's return: a document or
// file that no retry can store or read (omtx EInvalid or ETooLarge from
// the store) fails the job at once, non-retryable; anything else is
// retried under the activity's retry policy.
func storeErr(op string, err error) error {
	switch omtx.ErrorCode(err) {
	case omtx.EInvalid, omtx.ETooLarge:
		return contract.NonRetryable(contract.ErrTypePermanent, op+": "+err.Error(), err)
	}
	return fmt.Errorf("%s: %w", op, err)
}
