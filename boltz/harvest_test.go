package boltz

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// finished collects what a request's Finished hears.
type finished struct {
	mu    sync.Mutex
	preds map[int][]omtx.Prediction
}

func (f *finished) hear(i int, p omtx.Prediction) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.preds == nil {
		f.preds = map[int][]omtx.Prediction{}
	}
	f.preds[i] = append(f.preds[i], p)
}

func (f *finished) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.preds)
}

// TestPredictHandsOverEachLigandAsItFinishes: while boltz runs, each
// ligand whose files Boltz has written is handed to Finished at once, so
// a call killed mid-group has handed over every finished ligand.
func TestPredictHandsOverEachLigandAsItFinishes(t *testing.T) {
	t.Parallel()
	var aff map[string]any
	readJSON(t, "affinity.json", &aff)

	t.Run("a killed call has handed over the ligands finished before the kill", func(t *testing.T) {
		t.Parallel()
		// The third ligand never finishes: the stand-in hangs before it.
		f := newFake(t, "FAKE_BOLTZ_HANG=l0002")
		r := f.runner(t, Config{})
		var got finished
		req := request(t, ligands("CCO", "c1ccccc1O", "CC(=O)O", "CCN"))
		req.Finished = got.hear
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := r.Predict(ctx, req)
			done <- err
		}()
		require.Eventually(t, func() bool { return got.count() == 2 }, 60*time.Second, 10*time.Millisecond, "the two finished ligands were not handed over while boltz ran")
		cancel()
		select {
		case err := <-done:
			require.ErrorIs(t, err, context.Canceled)
		case <-time.After(30 * time.Second):
			t.Fatal("Predict did not return after the cancel")
		}
		require.Len(t, got.preds, 2)
		for i := range 2 {
			require.Len(t, got.preds[i], 1, "ligand %d handed over once", i)
			p := got.preds[i][0]
			assert.Equal(t, req.Ligands[i].Name, p.LigandName)
			assert.Empty(t, p.Error)
			assert.Equal(t, aff["affinity_pred_value"], p.AffinityPredValue)
			assert.Contains(t, p.StructureCIF, "data_"+recordName(i)+"\n")
			require.NotNil(t, p.Settings, "a harvested ligand records the settings that ran")
			assert.NotEmpty(t, p.Settings.Args)
		}
	})

	t.Run("a whole call hands a ligand over once and returns the same", func(t *testing.T) {
		t.Parallel()
		// Two passes, as Boltz runs them; the first ligand's affinity is
		// written two seconds before the run ends. The last ligand may
		// finish too close to the end to be seen during the run: Predict
		// returns it either way.
		f := newFake(t, "FAKE_BOLTZ_AFFINITY_SLEEP=1s", "FAKE_BOLTZ_FAIL=l0001")
		r := f.runner(t, Config{})
		var got finished
		req := request(t, ligands("CCO", "c1ccccc1O", "CC(=O)O"))
		req.Finished = got.hear
		preds, err := r.Predict(context.Background(), req)
		require.NoError(t, err)
		require.Len(t, preds, 3)
		assert.NotEmpty(t, preds[1].Error, "a ligand Boltz skipped is judged after the run")
		assert.NotContains(t, got.preds, 1, "a skipped ligand is never handed over")
		require.Contains(t, got.preds, 0, "the first ligand was handed over while boltz ran")
		for i, ps := range got.preds {
			require.Len(t, ps, 1, "ligand %d handed over once", i)
			assert.Equal(t, preds[i], ps[0], "the call returns what it handed over")
		}
	})
}
