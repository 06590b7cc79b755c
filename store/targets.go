package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Targets stores target documents (omtx.TargetRecord) in Firestore, one
// per target id. Listing a user's targets newest first needs the
// composite index (user_id ASC, created_at DESC, target_id DESC) on the
// targets collection.
type Targets struct {
	client *firestore.Client
	coll   *firestore.CollectionRef
}

// NewTargets wraps a Firestore client. The client is owned by the caller.
func NewTargets(client *firestore.Client) *Targets {
	return &Targets{client: client, coll: client.Collection(omtx.TargetsCollection)}
}

// UpdateMSA changes a target document in a transaction: update gets the
// document as stored and its result is written back. A missing document
// is an omtx ENotFound error.
func (s *Targets) UpdateMSA(ctx context.Context, id string, update func(*omtx.TargetRecord)) error {
	defer metrics.ObserveStoreOp("update", time.Now())
	ref := s.coll.Doc(id)
	err := s.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if status.Code(err) == codes.NotFound {
			return omtx.Errorf(omtx.ENotFound, "target_id", "target %s not found", id)
		}
		if err != nil {
			return err
		}
		var t omtx.TargetRecord
		if err := snap.DataTo(&t); err != nil {
			return fmt.Errorf("decode target %s: %w", id, err)
		}
		update(&t)
		return tx.Set(ref, &t)
	})
	metrics.FirestoreWrites.Add(1)
	if err != nil {
		if omtx.ErrorCode(err) == omtx.ENotFound {
			return err
		}
		return storeError("update target "+id, err)
	}
	return nil
}

// Create writes a new target document, or fails with an omtx EConflict
// error when one exists (the same content, created before).
func (s *Targets) Create(ctx context.Context, t *omtx.TargetRecord) error {
	defer metrics.ObserveStoreOp("create", time.Now())
	_, err := s.coll.Doc(t.TargetID).Create(ctx, t)
	metrics.FirestoreWrites.Add(1)
	if status.Code(err) == codes.AlreadyExists {
		return omtx.Errorf(omtx.EConflict, "target_id", "target %s already exists", t.TargetID)
	}
	if err != nil {
		return storeError("create target "+t.TargetID, err)
	}
	return nil
}

// Get reads a target document; a missing one is an omtx ENotFound error.
func (s *Targets) Get(ctx context.Context, id string) (*omtx.TargetRecord, error) {
	defer metrics.ObserveStoreOp("get", time.Now())
	snap, err := s.coll.Doc(id).Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, omtx.Errorf(omtx.ENotFound, "target_id", "target %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get target %s: %w", id, err)
	}
	var t omtx.TargetRecord
	if err := snap.DataTo(&t); err != nil {
		return nil, fmt.Errorf("decode target %s: %w", id, err)
	}
	return &t, nil
}

// Delete removes a target document; a missing one is not an error.
func (s *Targets) Delete(ctx context.Context, id string) error {
	defer metrics.ObserveStoreOp("delete", time.Now())
	if _, err := s.coll.Doc(id).Delete(ctx); err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("delete target %s: %w", id, err)
	}
	return nil
}

// List returns a user's targets, newest first, after the filter's cursor.
func (s *Targets) List(ctx context.Context, f omtx.TargetFilter) ([]*omtx.TargetRecord, error) {
	defer metrics.ObserveStoreOp("list", time.Now())
	q := s.coll.Where("user_id", "==", f.UserID).
		OrderBy("created_at", firestore.Desc).OrderBy("target_id", firestore.Desc)
	if f.AfterTargetID != "" {
		q = q.StartAfter(f.AfterCreatedAt, f.AfterTargetID)
	}
	if f.Limit > 0 {
		q = q.Limit(f.Limit)
	}
	it := q.Documents(ctx)
	defer it.Stop()
	var out []*omtx.TargetRecord
	for {
		snap, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list targets: %w", err)
		}
		t := new(omtx.TargetRecord)
		if err := snap.DataTo(t); err != nil {
			return nil, fmt.Errorf("decode target %s: %w", snap.Ref.ID, err)
		}
		out = append(out, t)
	}
}
