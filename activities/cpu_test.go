package activities

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestResultsOnCPURecordNoGPUCost: a worker whose models run on the CPU
// (the local stack) records the CPU as the device and no GPU cost, not
// the class it serves at that class's price.
func TestResultsOnCPURecordNoGPUCost(t *testing.T) {
	t.Parallel()
	acts, jobs, _, in := chunkFixture(t, "batch_cpu", 2, &flaky{}, 2)
	acts.OnCPU = true
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts.PredictChunk)
	_, err := env.ExecuteActivity(acts.PredictChunk, in)
	require.NoError(t, err)
	for _, id := range in.JobIDs {
		r := jobs.Doc(id).Results
		require.NotNil(t, r)
		assert.Equal(t, omtx.DeviceCPU, r.GPUClass)
		assert.Zero(t, r.CostUSD)
		assert.Zero(t, r.PricePerGPUHour)
	}
}
