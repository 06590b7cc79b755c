package workflows_test

import (
	"io/fs"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/worker"
	"github.com/omtx-hub/omtx-hub/workflows"
)

// history is one captured history file:
// testdata/histories/<release>/{workflow_id}__{run_id}.json.
type history struct {
	path, release string
	exec          workflow.Execution
}

func histories(t *testing.T) []history {
	t.Helper()
	var out []history
	err := filepath.WalkDir("testdata/histories", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".json" {
			return err
		}
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		wid, rid, ok := strings.Cut(name, "__")
		require.True(t, ok, "history file %s is not {workflow_id}__{run_id}.json", path)
		rel, _ := filepath.Rel("testdata/histories", filepath.Dir(path))
		require.NotEqual(t, ".", rel, "history %s must sit in its release's folder", path)
		out = append(out, history{path: path, release: rel, exec: workflow.Execution{ID: wid, RunID: rid}})
		return nil
	})
	require.NoError(t, err)
	require.NotEmpty(t, out, "no captured histories; run make histories")
	return out
}

// TestReplayCapturedHistories replays every history captured from real
// runs of every released shape (make histories adds the current one)
// against the current workflow code: a change that would break workflows
// still running fails here.
func TestReplayCapturedHistories(t *testing.T) {
	t.Parallel()
	kinds := map[string]map[string]bool{}
	for _, h := range histories(t) {
		if kinds[h.release] == nil {
			kinds[h.release] = map[string]bool{}
		}
		kinds[h.release][strings.SplitN(h.exec.ID, "-", 2)[0]] = true
		t.Run(h.release+"/"+h.exec.ID, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, worker.ReplayFile(h.path, h.exec))
		})
	}
	for rel, k := range kinds {
		assert.True(t, k["prediction"] && k["batch"], "release %s needs PredictionWorkflow and BatchWorkflow histories, has %v", rel, k)
	}
}

// incompatible is PredictionWorkflow with a change that is not behind
// GetVersion: a timer before its first activity.
func incompatible(ctx workflow.Context, in contract.PredictionInput) (contract.PredictionResult, error) {
	if err := workflow.Sleep(ctx, time.Second); err != nil {
		return contract.PredictionResult{}, err
	}
	return workflows.PredictionWorkflow(ctx, in)
}

// guarded is the same change behind GetVersion, as the README's policy
// says: histories that predate it replay the old path.
func guarded(ctx workflow.Context, in contract.PredictionInput) (contract.PredictionResult, error) {
	if workflow.GetVersion(ctx, "gate-test-timer", workflow.DefaultVersion, 1) == 1 {
		if err := workflow.Sleep(ctx, time.Second); err != nil {
			return contract.PredictionResult{}, err
		}
	}
	return workflows.PredictionWorkflow(ctx, in)
}

// TestReplayGateCatchesIncompatibleChanges proves the gate: a copy of
// PredictionWorkflow changed without GetVersion fails to replay every
// captured prediction history with a non-determinism error, and the same
// change behind GetVersion replays them all.
func TestReplayGateCatchesIncompatibleChanges(t *testing.T) {
	t.Parallel()
	n := 0
	for _, h := range histories(t) {
		if !strings.HasPrefix(h.exec.ID, "prediction-") {
			continue
		}
		n++
		t.Run(h.release+"/"+h.exec.ID, func(t *testing.T) {
			t.Parallel()
			with := func(fn any) map[string]any {
				m := maps.Clone(worker.Workflows())
				m[contract.WorkflowPrediction] = fn
				return m
			}
			err := worker.Replay(h.path, h.exec, with(incompatible))
			require.Error(t, err, "an incompatible change must fail replay")
			assert.Contains(t, err.Error(), "[TMPRL1100]", "the failure is a non-determinism error")
			require.NoError(t, worker.Replay(h.path, h.exec, with(guarded)), "the change behind GetVersion replays")
		})
	}
	require.NotZero(t, n, "no prediction history to test the gate on")
}
