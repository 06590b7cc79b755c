package workflows

import (
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestTargetMSAWorkflow: the target's MSAs are computed by the jobs' own
// MSA activity, for the target, and what it computed (or why it could
// not) is recorded on the target's document.
func TestTargetMSAWorkflow(t *testing.T) {
	t.Parallel()

	t.Run("ready", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		ref := omtx.MSARef{Mode: omtx.MSAServer, Object: "msa/v2/a.csv", Chains: map[string]string{"A": "msa/v2/a.csv", "B": "msa/v2/b.csv"}}
		e.OnActivity(contract.ActivityEnsureMSA, mock.Anything, contract.EnsureMSAInput{TargetID: "tgt_1"}).Return(ref, nil).Once()
		e.OnActivity(contract.ActivityRecordTargetMSA, mock.Anything, contract.RecordTargetMSAInput{TargetID: "tgt_1", MSA: ref}).
			Return(contract.RecordTargetMSAResult{}, nil).Once()
		e.ExecuteWorkflow(TargetMSAWorkflow, contract.TargetMSAInput{TargetID: "tgt_1"})
		require.NoError(t, e.GetWorkflowError())
		var got contract.TargetMSAResult
		require.NoError(t, e.GetWorkflowResult(&got))
		require.Equal(t, omtx.TargetMSAReady, got.Status)
	})

	t.Run("failed is recorded, not returned", func(t *testing.T) {
		t.Parallel()
		e := env(t)
		e.OnActivity(contract.ActivityEnsureMSA, mock.Anything, mock.Anything).
			Return(omtx.MSARef{}, temporal.NewNonRetryableApplicationError("msa server: invalid sequence", contract.ErrTypeInvalidInput, nil)).Once()
		e.OnActivity(contract.ActivityRecordTargetMSA, mock.Anything, mock.MatchedBy(func(in contract.RecordTargetMSAInput) bool {
			return in.TargetID == "tgt_1" && in.Failure != "" && len(in.MSA.Chains) == 0
		})).Return(contract.RecordTargetMSAResult{}, nil).Once()
		e.ExecuteWorkflow(TargetMSAWorkflow, contract.TargetMSAInput{TargetID: "tgt_1"})
		require.NoError(t, e.GetWorkflowError())
		var got contract.TargetMSAResult
		require.NoError(t, e.GetWorkflowResult(&got))
		require.Equal(t, omtx.TargetMSAFailed, got.Status)
	})
}
