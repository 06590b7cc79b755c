package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// MSAService computes a protein's MSA (msa.Client, a ColabFold-compatible
// MMseqs2 server): unpaired, and paired for a heteromer's distinct
// sequences (each one's paired A3M, in order).
type MSAService interface {
	Compute(ctx context.Context, sequence string) ([]byte, error)
	ComputePaired(ctx context.Context, sequences []string) ([][]byte, error)
}

// MSA holds the MSA activity. It runs on omtx.TaskQueueMSA, whose workers
// are rate limited fleet-wide (TaskQueueActivitiesPerSecond) to keep under
// the MSA server's limits.
type MSA struct {
	Server MSAService // nil: no server configured
	// Spec says how Server computes MSAs (msa.Client.KeySpec, with the
	// operator's OMTX_MSA_DB_VERSION); it is part of the cache key, so an
	// MSA made another way is never reused.
	Spec   msa.KeySpec
	Blobs  BlobStore
	Logger *slog.Logger
	// Lease and WaitEvery tune the cache's in-flight markers (once):
	// how long a computation holds its marker between renewals, and how
	// often a run that waits for another's MSA looks for it. Zero means
	// DefaultMSALease and DefaultMSAWaitEvery.
	Lease     time.Duration
	WaitEvery time.Duration
}

// Activities maps the MSA queue's activity types to their functions.
func (m *MSA) Activities() map[string]any {
	return map[string]any{contract.ActivityEnsureMSA: m.EnsureMSA}
}

// EnsureMSA returns the protein's MSA, computing it at most once per
// sequence and way of computing it: an uploaded MSA first, else the cache
// object m.Spec.CacheObject(sequence) (sequence, server, pairing,
// environmental databases, database version), else the MSA server (then
// cached). A run that finds the MSA being computed by another (a
// target's TargetMSAWorkflow, or a job beside it) waits for it rather
// than asking the server again (once). Rate limits and server errors are
// retried by Temporal with backoff.
//
// For a target (in.TargetID), each protein chain whose MSA comes from the
// server gets its own MSA, in Chains by the chain's first id (copies
// share it). As Boltz does (src/boltz/main.py L469-522 at commit
// 832486d), a target with one distinct server sequence (a monomer or a
// homomer) gets the unpaired A3M, cached by its sequence; a heteromer,
// with two or more distinct server sequences, also gets paired
// alignments, and each chain's MSA is then Boltz's key,sequence CSV
// (msa.PairedCSV), cached as m.Spec.PairedCacheObject.
func (m *MSA) EnsureMSA(ctx context.Context, in contract.EnsureMSAInput) (contract.EnsureMSAResult, error) {
	if in.TargetID != "" {
		return m.ensureTarget(ctx, in.TargetID)
	}
	if in.Uploaded != "" {
		return omtx.MSARef{Mode: omtx.MSAUploaded, Object: in.Uploaded}, nil
	}
	obj, err := m.ensureCached(ctx, in.Protein)
	if err != nil {
		return omtx.MSARef{}, err
	}
	return omtx.MSARef{Mode: omtx.MSAServer, Object: obj}, nil
}

// ensureTarget ensures the server MSA of each of a target's protein
// chains whose MSA mode is the server's. The result's Mode and Object are
// the first such chain's; a target with none is uploaded (when a chain's
// A3M was sent) or single-sequence.
func (m *MSA) ensureTarget(ctx context.Context, targetID string) (omtx.MSARef, error) {
	raw, err := m.Blobs.Read(ctx, omtx.TargetObject(targetID))
	if err != nil {
		return omtx.MSARef{}, fmt.Errorf("read target %s: %w", targetID, err)
	}
	var t target.Target
	if err := json.Unmarshal(raw, &t); err != nil {
		return omtx.MSARef{}, contract.NonRetryable(contract.ErrTypeInvalidInput, fmt.Sprintf("target %s: %v", targetID, err), err)
	}
	ref := omtx.MSARef{Mode: omtx.MSASingleSequence}
	for _, c := range t.Chains {
		if c.Type == target.Protein && c.MSA != nil && c.MSA.Mode == target.MSAFile {
			ref.Mode = omtx.MSAUploaded
		}
	}
	server := t.ServerChains()
	if len(server) == 0 {
		return ref, nil
	}
	objects := m.Spec.ServerObjects(server)
	if seqs := msa.ServerSequences(server); len(seqs) > 1 {
		if _, err := m.ensurePaired(ctx, seqs); err != nil {
			return omtx.MSARef{}, fmt.Errorf("paired msa of chains %s: %w", chainList(server), err)
		}
	} else if _, err := m.ensureCached(ctx, seqs[0]); err != nil {
		return omtx.MSARef{}, fmt.Errorf("chain %s: %w", server[0].IDs[0], err)
	}
	ref.Mode, ref.Object, ref.Chains = omtx.MSAServer, objects[server[0].IDs[0]], objects
	return ref, nil
}

func chainList(chains []target.Chain) string {
	ids := make([]string, len(chains))
	for i, c := range chains {
		ids[i] = c.IDs[0]
	}
	return strings.Join(ids, ",")
}

// ensurePaired returns the cache objects of the Boltz CSVs of a
// heteromer's distinct sequences, in order, computing them at most once:
// each sequence's unpaired A3M (ensureCached), then one paired submission
// of all of them, combined per chain by msa.PairedCSV. The first CSV is
// written last, so that its presence means all are there.
func (m *MSA) ensurePaired(ctx context.Context, seqs []string) ([]string, error) {
	objs := make([]string, len(seqs))
	for i := range seqs {
		objs[i] = m.Spec.PairedCacheObject(seqs, i)
	}
	err := m.once(ctx, objs[0], func() ([]byte, error) {
		unpaired := make([][]byte, len(seqs))
		for i, s := range seqs {
			obj, err := m.ensureCached(ctx, s)
			if err != nil {
				return nil, err
			}
			if unpaired[i], err = m.Blobs.Read(ctx, obj); err != nil {
				return nil, fmt.Errorf("msa cache: %w", err)
			}
		}
		if m.Server == nil {
			return nil, errNoMSAServer()
		}
		paired, err := m.Server.ComputePaired(ctx, seqs)
		if err != nil {
			return nil, serverErr(err)
		}
		if len(paired) != len(seqs) {
			return nil, fmt.Errorf("msa server: %d paired alignments for %d sequences", len(paired), len(seqs))
		}
		csvs := make([][]byte, len(seqs))
		for i := range seqs {
			if csvs[i], err = msa.PairedCSV(paired[i], unpaired[i]); err != nil {
				return nil, fmt.Errorf("msa server returned an unusable paired alignment: %w", err)
			}
		}
		for i := len(seqs) - 1; i > 0; i-- {
			if err := m.Blobs.Put(ctx, objs[i], "text/csv; charset=utf-8", csvs[i]); err != nil {
				return nil, fmt.Errorf("msa cache: %w", err)
			}
		}
		m.log(ctx, "paired msa computed and cached", "objects", objs)
		return csvs[0], nil
	})
	if err != nil {
		return nil, err
	}
	return objs, nil
}

// ensureCached returns the cache object of a sequence's MSA, asking the
// server only when it is not cached and no other run is computing it.
func (m *MSA) ensureCached(ctx context.Context, sequence string) (string, error) {
	obj := m.Spec.CacheObject(sequence)
	err := m.once(ctx, obj, func() ([]byte, error) {
		if m.Server == nil {
			return nil, errNoMSAServer()
		}
		a3m, err := m.Server.Compute(ctx, sequence)
		if err != nil {
			return nil, serverErr(err)
		}
		if _, err := msa.ValidateA3M(a3m, sequence); err != nil {
			return nil, fmt.Errorf("msa server returned an unusable alignment: %w", err)
		}
		m.log(ctx, "msa computed and cached", "object", obj, "bytes", len(a3m))
		return a3m, nil
	})
	if err != nil {
		return "", err
	}
	return obj, nil
}

func errNoMSAServer() error {
	return contract.NonRetryable(contract.ErrTypeInvalidInput,
		"use_msa is true but no MSA server is configured (OMTX_MSA_URL); upload an MSA or set use_msa to false", nil)
}

// serverErr wraps an MSA server's error: retryable ones for Temporal's
// backoff, the others non-retryable.
func serverErr(err error) error {
	if msa.IsRetryable(err) {
		return fmt.Errorf("msa server: %w", err)
	}
	return contract.NonRetryable(contract.ErrTypeInvalidInput, "msa server: "+err.Error(), err)
}
