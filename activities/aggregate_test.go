package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store/storetest"
)

// TestAggregateABatchCancelledBeforeItWasPrepared: a batch cancelled before
// PrepareBatch created its children aggregates as cancelled, every ligand
// counted cancelled, instead of failing on the missing children for the
// whole store budget (the batch would read "pending" for hours). A batch
// that was not cancelled still needs every child.
func TestAggregateABatchCancelledBeforeItWasPrepared(t *testing.T) {
	t.Parallel()
	for _, cancelled := range []bool{true, false} {
		jobs, blobs := storetest.NewJobs(), storetest.NewBlobs()
		now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
		require.NoError(t, jobs.Create(context.Background(), &omtx.Job{
			JobID: "batch_c", JobType: omtx.JobTypeBatchParent, UserID: "u", Status: omtx.StatusPending,
			CreatedAt: now, UpdatedAt: now, BatchConfig: &omtx.BatchConfig{TotalLigands: 3, MaxConcurrent: 1, ChunkSize: 1},
		}))
		o := &Orchestration{Jobs: jobs, Blobs: blobs}
		var s testsuite.WorkflowTestSuite
		env := s.NewTestActivityEnvironment()
		env.RegisterActivity(o.AggregateBatch)
		val, err := env.ExecuteActivity(o.AggregateBatch, contract.AggregateBatchInput{BatchID: "batch_c", Cancelled: cancelled})
		if !cancelled {
			require.Error(t, err, "a batch that ran needs every child")
			continue
		}
		require.NoError(t, err)
		var out contract.AggregateBatchResult
		require.NoError(t, val.Get(&out))
		assert.Equal(t, omtx.StatusCancelled, out.Status)
		assert.Equal(t, 3, out.Progress.Cancelled)
		doc, err := jobs.Get(context.Background(), "batch_c")
		require.NoError(t, err)
		assert.Equal(t, omtx.StatusCancelled, doc.Status)
	}
}
