package storetest

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Targets is an in-memory target-document store, with store.Targets's
// contracts: copies in and out, EConflict on Create of an existing id,
// ENotFound on Get of a missing one, newest-first lists.
type Targets struct {
	mu   sync.Mutex
	docs map[string]*omtx.TargetRecord
	// Fail, when set, is returned by every write (a store outage).
	Fail error
}

// NewTargets returns an empty store.
func NewTargets() *Targets { return &Targets{docs: map[string]*omtx.TargetRecord{}} }

// Len is the number of documents.
func (s *Targets) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.docs)
}

// Create writes a new document, or fails with EConflict.
func (s *Targets) Create(_ context.Context, t *omtx.TargetRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	if _, ok := s.docs[t.TargetID]; ok {
		return omtx.Errorf(omtx.EConflict, "target_id", "target %s already exists", t.TargetID)
	}
	s.docs[t.TargetID] = cloneDoc(t)
	return nil
}

// Get reads a document, or fails with ENotFound.
func (s *Targets) Get(_ context.Context, id string) (*omtx.TargetRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.docs[id]
	if !ok {
		return nil, omtx.Errorf(omtx.ENotFound, "target_id", "target %s not found", id)
	}
	return cloneDoc(t), nil
}

// UpdateMSA changes a document under the store's lock, or fails with
// ENotFound.
func (s *Targets) UpdateMSA(_ context.Context, id string, update func(*omtx.TargetRecord)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	t, ok := s.docs[id]
	if !ok {
		return omtx.Errorf(omtx.ENotFound, "target_id", "target %s not found", id)
	}
	c := cloneDoc(t)
	update(c)
	s.docs[id] = cloneDoc(c)
	return nil
}

// Delete removes a document; a missing one is not an error.
func (s *Targets) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	delete(s.docs, id)
	return nil
}

// List returns a user's documents newest first (ties by id, descending),
// after the filter's cursor.
func (s *Targets) List(_ context.Context, f omtx.TargetFilter) ([]*omtx.TargetRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*omtx.TargetRecord
	for _, t := range s.docs {
		if t.UserID == f.UserID {
			out = append(out, cloneDoc(t))
		}
	}
	slices.SortFunc(out, func(a, b *omtx.TargetRecord) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.TargetID, a.TargetID)
	})
	if f.AfterTargetID != "" {
		i := slices.IndexFunc(out, func(t *omtx.TargetRecord) bool {
			c := f.AfterCreatedAt.Compare(t.CreatedAt)
			return c > 0 || (c == 0 && t.TargetID < f.AfterTargetID)
		})
		if i < 0 {
			i = len(out)
		}
		out = out[i:]
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}

// Ping always succeeds.
func (s *Targets) Ping(context.Context) error { return nil }
