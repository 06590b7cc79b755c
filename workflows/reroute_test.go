package workflows

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestOutOfMemoryReroutesBothWorkflows runs the one reroute loop
// (runRerouting) under both its callers: the GPU work that runs out of
// memory on l4 runs again on a100-80g's queue, with the decision recorded;
// out of memory on the largest class ends the job or the chunk's ligands
// failed.
func TestOutOfMemoryReroutesBothWorkflows(t *testing.T) {
	t.Parallel()
	fleet, err := omtx.ParseFleet(omtx.DefaultFleetSpec)
	require.NoError(t, err)
	oom := contract.NonRetryable(contract.ErrTypeOutOfMemory, "out of GPU memory", nil)
	callers := map[string]struct {
		activity string
		result   any
		run      func(e *testsuite.TestWorkflowEnvironment)
		failed   func(t *testing.T, e *testsuite.TestWorkflowEnvironment)
	}{
		"prediction": {
			activity: contract.ActivityPredict, result: contract.PredictResult{},
			run: func(e *testsuite.TestWorkflowEnvironment) {
				e.OnActivity(contract.ActivityAcceptJob, mock.Anything, mock.Anything).Return(contract.AcceptJobResult{Status: omtx.StatusQueued}, nil)
				e.OnActivity(contract.ActivityFinalizeJob, mock.Anything, mock.Anything).Return(contract.FinalizeJobResult{}, nil).Maybe()
				e.OnActivity(contract.ActivityFailJob, mock.Anything, mock.MatchedBy(func(in contract.FailJobInput) bool {
					return in.Status == omtx.StatusFailed && strings.Contains(in.Error, "no larger GPU class")
				})).Return(contract.FailJobResult{}, nil).Maybe()
				e.ExecuteWorkflow(PredictionWorkflow, contract.PredictionInput{Job: testJob(), GPUClass: omtx.GPUClassL4, Fleet: fleet})
			},
		},
		"chunk": {
			activity: contract.ActivityPredictChunk, result: contract.ChunkCounts{Completed: 1},
			run: func(e *testsuite.TestWorkflowEnvironment) {
				e.OnActivity(contract.ActivityFinishChildren, mock.Anything, mock.MatchedBy(func(in contract.FinishChildrenInput) bool {
					return in.Status == omtx.StatusFailed
				})).Return(contract.ChunkCounts{Failed: 1}, nil).Maybe()
				e.ExecuteWorkflow(BatchChunkWorkflow, contract.ChunkInput{
					BatchID: "batch_t", JobIDs: []string{"batch_t_00000"}, Model: omtx.BaselineModel, GPUClass: omtx.GPUClassL4, Fleet: fleet,
				})
			},
		},
	}
	for name, c := range callers {
		for _, oomOnLargest := range []bool{false, true} {
			t.Run(name+map[bool]string{false: "/rerouted", true: "/no larger class"}[oomOnLargest], func(t *testing.T) {
				t.Parallel()
				e := env(t)
				var queues []string
				e.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
					if info.ActivityType.Name == c.activity {
						queues = append(queues, info.TaskQueue)
					}
				})
				e.OnActivity(c.activity, mock.Anything, mock.Anything).Return(c.result, oom).Once()
				if oomOnLargest {
					e.OnActivity(c.activity, mock.Anything, mock.Anything).Return(c.result, oom).Once()
				} else {
					e.OnActivity(c.activity, mock.Anything, mock.Anything).Return(c.result, nil).Once()
				}
				e.OnActivity(contract.ActivityRecordRouting, mock.Anything, mock.MatchedBy(func(in contract.RecordRoutingInput) bool {
					return in.Step.GPUClass == omtx.GPUClassA100x80
				})).Return(contract.RecordRoutingResult{}, nil).Once()
				c.run(e)
				assert.Equal(t, []string{contract.GPUTaskQueue(omtx.GPUClassL4), contract.GPUTaskQueue(omtx.GPUClassA100x80)}, queues)
				if name == "prediction" {
					assert.Equal(t, oomOnLargest, e.GetWorkflowError() != nil, "%v", e.GetWorkflowError())
					return
				}
				require.NoError(t, e.GetWorkflowError())
				var counts contract.ChunkCounts
				require.NoError(t, e.GetWorkflowResult(&counts))
				assert.Equal(t, oomOnLargest, counts.Failed == 1, "%+v", counts)
			})
		}
	}
}
