package activities

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/omtx"
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
func (m *MSA) EnsureMSA(ctx context.Context, in contract.EnsureMSAInput) (contract.EnsureMSAResult, error) {
	if in.Uploaded != "" {
		return omtx.MSARef{Mode: omtx.MSAUploaded, Object: in.Uploaded}, nil
	}
	obj := m.Spec.CacheObject(in.Protein)
	ok, err := m.Blobs.Exists(ctx, obj)
	if err != nil {
		return omtx.MSARef{}, fmt.Errorf("msa cache: %w", err)
	}
	if ok {
		return omtx.MSARef{Mode: omtx.MSAServer, Object: obj}, nil
	}
	if m.Server == nil {
		return omtx.MSARef{}, contract.NonRetryable(contract.ErrTypeInvalidInput,
			"use_msa is true but no MSA server is configured (OMTX_MSA_URL); upload an MSA or set use_msa to false", nil)
	}
	stop := heartbeat(ctx, 0)
	a3m, err := m.Server.Compute(ctx, in.Protein)
	stop()
	if err != nil {
		if msa.IsRetryable(err) {
			return omtx.MSARef{}, fmt.Errorf("msa server: %w", err)
		}
		return omtx.MSARef{}, contract.NonRetryable(contract.ErrTypeInvalidInput, "msa server: "+err.Error(), err)
	}
	if _, err := msa.ValidateA3M(a3m, in.Protein); err != nil {
		return omtx.MSARef{}, fmt.Errorf("msa server returned an unusable alignment: %w", err)
	}
	if err := m.Blobs.Put(ctx, obj, "text/plain; charset=utf-8", a3m); err != nil {
		return omtx.MSARef{}, fmt.Errorf("msa cache: %w", err)
	}
	if m.Logger != nil {
		m.Logger.InfoContext(ctx, "msa computed and cached", "object", obj, "bytes", len(a3m))
	}
	return omtx.MSARef{Mode: omtx.MSAServer, Object: obj}, nil
}
