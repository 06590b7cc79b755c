package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// checkpoints keeps a batch's structure checkpoints (omtx.Checkpoint) in
// GCS while the batch runs, so that a ligand whose model call was killed
// after its structure pass runs only its affinity pass next time, on any
// worker. Each file is stored once under its SHA-256
// (omtx.CheckpointBlob), then the ligand's manifest names them
// (omtx.CheckpointManifest, under its chunk's folder, so that one listing
// finds a chunk's): a manifest that exists names only files that do. The
// bucket's lifecycle deletes them after 7 days.
type checkpoints struct {
	blobs   BlobStore
	batchID string
	chunk   int

	mu     sync.Mutex
	stored map[string]bool   // blobs this attempt stored
	read   map[string][]byte // blobs this attempt read, by digest
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
	return c.blobs.Put(ctx, omtx.CheckpointManifest(c.batchID, c.chunk, jobID), "application/json", js)
}

// manifests reads the manifests stored for the chunk's ligands, by job id:
// one listing, then one read per manifest found.
func (c *checkpoints) manifests(ctx context.Context) (map[string]checkpointManifest, error) {
	prefix := omtx.CheckpointChunkPrefix(c.batchID, c.chunk)
	names, err := c.blobs.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	out := map[string]checkpointManifest{}
	for _, name := range names {
		jobID, ok := strings.CutSuffix(strings.TrimPrefix(name, prefix), ".json")
		if !ok {
			continue
		}
		js, err := c.blobs.Read(ctx, name)
		if err != nil {
			return nil, err
		}
		var m checkpointManifest
		if err := json.Unmarshal(js, &m); err != nil {
			return nil, fmt.Errorf("checkpoint manifest %s: %w", name, err)
		}
		out[jobID] = m
	}
	return out, nil
}

// load reads the checkpoint m names, for record, made by model: ok is
// false when it is another record's or another model's. A file whose
// content does not match its digest is an error. A file that several
// ligands share (their MSA's) is read once.
func (c *checkpoints) load(ctx context.Context, m checkpointManifest, record, model string) (cp omtx.Checkpoint, ok bool, err error) {
	if m.Record != record || m.Model != model {
		return omtx.Checkpoint{}, false, nil
	}
	cp = omtx.Checkpoint{Record: m.Record, Files: map[string][]byte{}}
	for rel, d := range m.Files {
		c.mu.Lock()
		b, cached := c.read[d]
		c.mu.Unlock()
		if !cached {
			if b, err = c.blobs.Read(ctx, omtx.CheckpointBlob(c.batchID, d)); err != nil {
				return omtx.Checkpoint{}, false, err
			}
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != d {
				return omtx.Checkpoint{}, false, fmt.Errorf("checkpoint file %s of record %s does not match its digest", rel, record)
			}
			c.mu.Lock()
			if c.read == nil {
				c.read = map[string][]byte{}
			}
			c.read[d] = b
			c.mu.Unlock()
		}
		cp.Files[rel] = b
	}
	return cp, true, nil
}

// storedBy counts the checkpoints among found that the attempt prev (of
// the workflow run runID) stored for the ligands of docs that are not
// finished: the progress of an attempt that was lost in Boltz's structure
// pass, which no document shows. Its heartbeats may not say (the SDK
// sends them at intervals); the manifests do.
func storedBy(found map[string]checkpointManifest, docs []*omtx.Job, prev chunkBeat, runID string) int {
	n := 0
	for _, d := range docs {
		if d == nil || d.Status.Terminal() {
			continue
		}
		m, ok := found[d.JobID]
		if ok && m.RunID == runID && m.Worker == prev.Worker && m.Attempt == prev.Attempt && !m.Stored.Before(prev.Start) {
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
