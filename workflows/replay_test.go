package workflows_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/worker"
)

// TestReplayCapturedHistories replays histories captured from real runs
// (make histories) against the current workflow code: a change that would
// break running workflows fails here. Files are named
// {workflow_id}__{run_id}.json.
func TestReplayCapturedHistories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/histories/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no captured histories; run make histories")
	kinds := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		wid, rid, ok := strings.Cut(name, "__")
		require.True(t, ok, "history file %s is not {workflow_id}__{run_id}.json", f)
		kinds[strings.SplitN(wid, "-", 2)[0]] = true
		t.Run(wid, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, worker.ReplayFile(f, workflow.Execution{ID: wid, RunID: rid}))
		})
	}
	require.True(t, kinds["prediction"] && kinds["batch"], "need PredictionWorkflow and BatchWorkflow histories, have %v", kinds)
}
