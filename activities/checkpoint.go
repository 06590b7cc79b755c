package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// checkpoints keeps a batch's structure checkpoints (omtx.Checkpoint) in
// GCS while the batch runs, so that a ligand whose model call was killed
// after its structure pass runs only its affinity pass next time, on any
// worker. Each file is stored once under its SHA-256
// (omtx.CheckpointBlob), then the ligand's manifest names them
// (omtx.CheckpointManifest): a manifest that exists names only files
// that do. The bucket's lifecycle deletes them after 7 days.
type checkpoints struct {
	blobs   BlobStore
	batchID string

	mu     sync.Mutex
	stored map[string]bool // blobs this attempt stored
}

// checkpointManifest is a stored checkpoint: the record, each file's
// digest by its path under Boltz's results folder, and the model that made
// it (modelKey).
type checkpointManifest struct {
	Record  string            `json:"record"`
	Model   string            `json:"model"`
	Files   map[string]string `json:"files"`
	Worker  string            `json:"worker"`
	RunID   string            `json:"run_id"`
	Attempt int32             `json:"attempt"`
	Stored  time.Time         `json:"stored"`
}

// modelKey names the model that makes a checkpoint: its version, the
// digests of its weights and of its deployment's defaults. A checkpoint is
// resumed only by the same model, so that no result pairs one version's
// structure with another's affinity (a deploy between the two calls).
func modelKey(m omtx.ModelInfo) string {
	return m.Name + "|" + m.Version + "|" + m.Checkpoint + "|" + m.Defaults
}

// save stores one ligand's checkpoint, made by model.
func (c *checkpoints) save(ctx context.Context, jobID string, by chunkBeat, runID string, now time.Time, model string, cp omtx.Checkpoint) error {
	m := checkpointManifest{Record: cp.Record, Model: model, Files: map[string]string{}, Worker: by.Worker, RunID: runID, Attempt: by.Attempt, Stored: now}
	for rel, b := range cp.Files {
		sum := sha256.Sum256(b)
		d := hex.EncodeToString(sum[:])
		m.Files[rel] = d
		c.mu.Lock()
		done := c.stored[d]
		c.mu.Unlock()
		if done {
			continue
		}
		if err := c.blobs.Put(ctx, omtx.CheckpointBlob(c.batchID, d), "application/octet-stream", b); err != nil {
			return err
		}
		c.mu.Lock()
		if c.stored == nil {
			c.stored = map[string]bool{}
		}
		c.stored[d] = true
		c.mu.Unlock()
	}
	js, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return c.blobs.Put(ctx, omtx.CheckpointManifest(c.batchID, jobID), "application/json", js)
}

// load reads one ligand's checkpoint, if one was stored for record by
// model: ok is false when there is none, or it is another record's or
// another model's. A file whose content does not match its digest is an
// error.
func (c *checkpoints) load(ctx context.Context, jobID, record, model string) (cp omtx.Checkpoint, ok bool, err error) {
	name := omtx.CheckpointManifest(c.batchID, jobID)
	if exists, err := c.blobs.Exists(ctx, name); err != nil || !exists {
		return omtx.Checkpoint{}, false, err
	}
	js, err := c.blobs.Read(ctx, name)
	if err != nil {
		return omtx.Checkpoint{}, false, err
	}
	var m checkpointManifest
	if err := json.Unmarshal(js, &m); err != nil {
		return omtx.Checkpoint{}, false, fmt.Errorf("checkpoint manifest %s: %w", name, err)
	}
	if m.Record != record || m.Model != model {
		return omtx.Checkpoint{}, false, nil
	}
	cp = omtx.Checkpoint{Record: m.Record, Files: map[string][]byte{}}
	for rel, d := range m.Files {
		b, err := c.blobs.Read(ctx, omtx.CheckpointBlob(c.batchID, d))
		if err != nil {
			return omtx.Checkpoint{}, false, err
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != d {
			return omtx.Checkpoint{}, false, fmt.Errorf("checkpoint file %s of %s does not match its digest", rel, jobID)
		}
		cp.Files[rel] = b
	}
	return cp, true, nil
}

// storedBy counts the checkpoints that the attempt prev (of the workflow
// run runID) stored for the ligands of docs that are not finished: the
// progress of an attempt that was lost in Boltz's structure pass, which no
// document shows. Its heartbeats may not say (the SDK sends them at
// intervals); the manifests do.
func (c *checkpoints) storedBy(ctx context.Context, docs []*omtx.Job, prev chunkBeat, runID string) int {
	n := 0
	for _, d := range docs {
		if d == nil || d.Status.Terminal() {
			continue
		}
		name := omtx.CheckpointManifest(c.batchID, d.JobID)
		if ok, err := c.blobs.Exists(ctx, name); err != nil || !ok {
			continue
		}
		js, err := c.blobs.Read(ctx, name)
		var m checkpointManifest
		if err != nil || json.Unmarshal(js, &m) != nil {
			continue
		}
		if m.RunID == runID && m.Worker == prev.Worker && m.Attempt == prev.Attempt && !m.Stored.Before(prev.Start) {
			n++
		}
	}
	return n
}

// recordOf is a batch child's model input name (omtx.PredictRequest's
// Records): its batch index, the same in every call that runs it.
func recordOf(d *omtx.Job) string {
	if d.BatchIndex == nil {
		return ""
	}
	return fmt.Sprintf("b%d", *d.BatchIndex)
}
