package storetest

import (
	"context"
	"encoding/json"
	"maps"
	"sync"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// ResultCache is an in-memory result cache, with store.ResultCache's
// contracts: copies in and out, nil for a missing entry or model.
type ResultCache struct {
	mu      sync.Mutex
	entries map[string]*omtx.CacheEntry
	models  map[string]*omtx.ModelRuns
	// Fail, when set, is returned by every call (a store outage).
	Fail error
}

// NewResultCache returns an empty cache.
func NewResultCache() *ResultCache {
	return &ResultCache{entries: map[string]*omtx.CacheEntry{}, models: map[string]*omtx.ModelRuns{}}
}

// cloneDoc deep-copies a document through JSON, as a round trip through
// Firestore would.
func cloneDoc[T any](v *T) *T {
	if v == nil {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	c := new(T)
	if err := json.Unmarshal(raw, c); err != nil {
		panic(err)
	}
	return c
}

// ForgetModelRuns drops every recorded model run and keeps the entries,
// as a fleet whose record of what ran was lost.
func (s *ResultCache) ForgetModelRuns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.models = map[string]*omtx.ModelRuns{}
}

// Entries is the number of entries.
func (s *ResultCache) Entries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// GetEntries reads entries by key hash, in order.
func (s *ResultCache) GetEntries(_ context.Context, keys []string) ([]*omtx.CacheEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return nil, s.Fail
	}
	out := make([]*omtx.CacheEntry, len(keys))
	for i, k := range keys {
		out[i] = cloneDoc(s.entries[k])
	}
	return out, nil
}

// PutEntry writes an entry.
func (s *ResultCache) PutEntry(_ context.Context, e *omtx.CacheEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	s.entries[e.Key] = cloneDoc(e)
	return nil
}

// ModelRuns reads a model's runs.
func (s *ResultCache) ModelRuns(_ context.Context, model string) (*omtx.ModelRuns, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return nil, s.Fail
	}
	return cloneDoc(s.models[model]), nil
}

// RecordModelRun adds or refreshes one run of a model.
func (s *ResultCache) RecordModelRun(_ context.Context, model, id string, r omtx.ModelRun) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	m := s.models[model]
	if m == nil {
		m = &omtx.ModelRuns{Model: model, Runs: map[string]omtx.ModelRun{}}
		s.models[model] = m
	}
	runs := maps.Clone(m.Runs)
	runs[id] = r
	m.Runs = runs
	return nil
}
