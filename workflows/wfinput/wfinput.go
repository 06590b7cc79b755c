// Package wfinput holds the inputs of OMTX-Hub's workflows: plain data
// that the API sends and the workflows receive. It depends only on the
// domain, so the API can start workflows (by their registered names)
// without linking the workflows, the activities or what they import.
package wfinput

import (
	"time"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Prediction is PredictionWorkflow's input: the job document as the API
// wrote it (status pending), and the GPU class to run on.
type Prediction struct {
	Job      omtx.Job
	GPUClass string
	// Fleet lists the GPU classes, smallest first, for out-of-memory
	// reroutes; empty means no reroute.
	Fleet omtx.Fleet
}

// Batch is BatchWorkflow's input.
type Batch struct {
	// Parent is the parent document as the API wrote it; its batch_config
	// holds the chunk size and max_concurrent.
	Parent   omtx.Job
	GPUClass string
	// Fleet lists the GPU classes for out-of-memory reroutes.
	Fleet omtx.Fleet
	// ChunksPerRun and ProgressEvery override the defaults (tests use
	// small values).
	ChunksPerRun  int
	ProgressEvery time.Duration
	// State carries progress across continue-as-new.
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
	Runs      int
	// MSA is the protein's MSA, computed once for the whole batch.
	MSA *omtx.MSARef
}
