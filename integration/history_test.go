package integration

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
)

// captureHistory writes a finished workflow's history under
// OMTX_CAPTURE_HISTORIES (make histories), named so the replay test knows
// the original execution: {workflow_id}__{run_id}.json.
func captureHistory(t *testing.T, workflowID, runID string) {
	t.Helper()
	dir := os.Getenv("OMTX_CAPTURE_HISTORIES")
	if dir == "" {
		return
	}
	if runID == "" {
		desc, err := env.deps.Temporal.DescribeWorkflow(ctxT(t), workflowID, "")
		require.NoError(t, err)
		runID = desc.RawResponse.WorkflowExecutionInfo.Execution.RunId
	}
	it := env.deps.Temporal.GetWorkflowHistory(ctxT(t), workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var hist historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		hist.Events = append(hist.Events, ev)
	}
	data, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(&hist)
	require.NoError(t, err)
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(env.root, dir)
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, workflowID+"__"+runID+".json"), data, 0o644))
	t.Logf("captured %s (%d events)", workflowID, len(hist.Events))
}
