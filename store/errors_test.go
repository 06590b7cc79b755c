package store

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestStoreErrorKeepsContextEnds: a Firestore call that ended with its
// context is recognisable as such (an activity cancelled by its workflow
// then reports a cancellation, not a store failure); refusals stay
// EInvalid; other errors stay plain.
func TestStoreErrorKeepsContextEnds(t *testing.T) {
	t.Parallel()
	cancelled := storeError("update job j1", status.Error(codes.Canceled, "context canceled"))
	assert.True(t, errors.Is(cancelled, context.Canceled), "%v", cancelled)
	late := storeError("get job j1", status.Error(codes.DeadlineExceeded, "context deadline exceeded"))
	assert.True(t, errors.Is(late, context.DeadlineExceeded), "%v", late)
	assert.False(t, errors.Is(late, context.Canceled))
	refused := storeError("create job j1", status.Error(codes.InvalidArgument, "too big"))
	assert.Equal(t, omtx.EInvalid, omtx.ErrorCode(refused))
	plain := storeError("get job j1", status.Error(codes.Unavailable, "down"))
	assert.False(t, errors.Is(plain, context.Canceled))
	assert.Contains(t, plain.Error(), "get job j1")
}
