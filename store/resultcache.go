package store

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// ResultCache stores the result cache's documents: one omtx.CacheEntry per
// key hash (collection result_cache) and one omtx.ModelRuns per model
// (collection model_runs).
type ResultCache struct {
	client  *firestore.Client
	entries *firestore.CollectionRef
	models  *firestore.CollectionRef
}

// NewResultCache wraps a Firestore client. The client is owned by the
// caller.
func NewResultCache(client *firestore.Client) *ResultCache {
	return &ResultCache{
		client:  client,
		entries: client.Collection(omtx.ResultCacheCollection),
		models:  client.Collection(omtx.ModelRunsCollection),
	}
}

// GetEntries reads entries by key hash, in order; a missing one is nil.
func (s *ResultCache) GetEntries(ctx context.Context, keys []string) ([]*omtx.CacheEntry, error) {
	defer metrics.ObserveStoreOp("get_many", time.Now())
	if len(keys) == 0 {
		return nil, nil
	}
	refs := make([]*firestore.DocumentRef, len(keys))
	for i, k := range keys {
		refs[i] = s.entries.Doc(k)
	}
	snaps, err := s.client.GetAll(ctx, refs)
	if err != nil {
		return nil, fmt.Errorf("get cache entries: %w", err)
	}
	out := make([]*omtx.CacheEntry, len(snaps))
	for i, snap := range snaps {
		if !snap.Exists() {
			continue
		}
		out[i] = new(omtx.CacheEntry)
		if err := snap.DataTo(out[i]); err != nil {
			return nil, fmt.Errorf("decode cache entry %s: %w", keys[i], err)
		}
	}
	return out, nil
}

// PutEntry writes an entry, replacing one with the same key: the newest
// result of a key is as good as any.
func (s *ResultCache) PutEntry(ctx context.Context, e *omtx.CacheEntry) error {
	defer metrics.ObserveStoreOp("set", time.Now())
	_, err := s.entries.Doc(e.Key).Set(ctx, e)
	metrics.FirestoreWrites.Add(1)
	if err != nil {
		return storeError("write cache entry "+e.Key, err)
	}
	return nil
}

// ModelRuns reads a model's runs; nil when no worker has recorded any.
func (s *ResultCache) ModelRuns(ctx context.Context, model string) (*omtx.ModelRuns, error) {
	defer metrics.ObserveStoreOp("get", time.Now())
	snap, err := s.models.Doc(model).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get model runs %s: %w", model, err)
	}
	var m omtx.ModelRuns
	if err := snap.DataTo(&m); err != nil {
		return nil, fmt.Errorf("decode model runs %s: %w", model, err)
	}
	return &m, nil
}

// RecordModelRun adds (or refreshes) one run of a model under id, leaving
// the model's other runs as they are.
func (s *ResultCache) RecordModelRun(ctx context.Context, model, id string, r omtx.ModelRun) error {
	defer metrics.ObserveStoreOp("set", time.Now())
	_, err := s.models.Doc(model).Set(ctx, map[string]any{
		"model": model,
		"runs":  map[string]any{id: r},
	}, firestore.MergeAll)
	metrics.FirestoreWrites.Add(1)
	if err != nil {
		return storeError("record model run "+model, err)
	}
	return nil
}
