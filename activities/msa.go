package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// MSAService computes a protein's MSA (msa.Client, a ColabFold-compatible
// MMseqs2 server).
type MSAService interface {
	Compute(ctx context.Context, sequence string) ([]byte, error)
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
}

// Activities maps the MSA queue's activity types to their functions.
func (m *MSA) Activities() map[string]any {
	return map[string]any{contract.ActivityEnsureMSA: m.EnsureMSA}
}

// EnsureMSA returns the protein's MSA, computing it at most once per
// sequence and way of computing it: an uploaded MSA first, else the cache
// object m.Spec.CacheObject(sequence) (sequence, server, pairing,
// environmental databases, database version), else the MSA server (then
// cached). Rate
// limits and server errors are retried by Temporal with backoff.
//
// For a target (in.TargetID), each protein chain whose MSA comes from the
// server gets its own MSA, cached by its own sequence, in Chains by the
// chain's first id (copies share it). Pairing, where it differs from
// Boltz: Boltz asks the server once per protein entity whose MSA is
// missing (src/boltz/main.py L568-577 at commit 832486d), and only when
// there is more than one such entity does it also ask for paired
// alignments, writing each entity's MSA as a CSV whose `key` column
// matches the paired rows across chains (L469-522). So a monomer or a
// homomer gets exactly what Boltz would get; a heteromer with two or more
// server chains gets each chain's unpaired A3M, without the paired rows,
// because OMTX-Hub's MSA client asks for unpaired alignments only. A user
// who needs paired MSAs uploads Boltz's CSV per chain (docs/prediction.md:
// "If you have more than one protein chain, use a CSV format").
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
		if c.Type != target.Protein {
			continue
		}
		switch {
		case c.MSA != nil && c.MSA.Mode == target.MSAEmpty:
		case c.MSA != nil && c.MSA.Mode == target.MSAFile:
			if ref.Mode == omtx.MSASingleSequence {
				ref.Mode = omtx.MSAUploaded
			}
		default:
			obj, err := m.ensureCached(ctx, c.Sequence)
			if err != nil {
				return omtx.MSARef{}, fmt.Errorf("chain %s: %w", c.IDs[0], err)
			}
			if ref.Chains == nil {
				ref.Mode, ref.Object, ref.Chains = omtx.MSAServer, obj, map[string]string{}
			}
			ref.Chains[c.IDs[0]] = obj
		}
	}
	return ref, nil
}

// ensureCached returns the cache object of a sequence's MSA, asking the
// server only when it is not cached.
func (m *MSA) ensureCached(ctx context.Context, sequence string) (string, error) {
	obj := m.Spec.CacheObject(sequence)
	ok, err := m.Blobs.Exists(ctx, obj)
	if err != nil {
		return "", fmt.Errorf("msa cache: %w", err)
	}
	if ok {
		return obj, nil
	}
	if m.Server == nil {
		return "", contract.NonRetryable(contract.ErrTypeInvalidInput,
			"use_msa is true but no MSA server is configured (OMTX_MSA_URL); upload an MSA or set use_msa to false", nil)
	}
	stop := heartbeat(ctx, 0, nil)
	a3m, err := m.Server.Compute(ctx, sequence)
	stop()
	if err != nil {
		if msa.IsRetryable(err) {
			return "", fmt.Errorf("msa server: %w", err)
		}
		return "", contract.NonRetryable(contract.ErrTypeInvalidInput, "msa server: "+err.Error(), err)
	}
	if _, err := msa.ValidateA3M(a3m, sequence); err != nil {
		return "", fmt.Errorf("msa server returned an unusable alignment: %w", err)
	}
	if err := m.Blobs.Put(ctx, obj, "text/plain; charset=utf-8", a3m); err != nil {
		return "", fmt.Errorf("msa cache: %w", err)
	}
	if m.Logger != nil {
		m.Logger.InfoContext(ctx, "msa computed and cached", "object", obj, "bytes", len(a3m))
	}
	return obj, nil
}
