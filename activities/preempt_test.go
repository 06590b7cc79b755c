package activities

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// halfway hands over the first `finish` ligands of each call through
// PredictRequest.Finished, as Boltz's runner does while Boltz runs, then
// blocks until the call is killed (its context ends), as a group cut
// short mid-run. It records the ligands it was asked for.
type halfway struct {
	finish int
	mu     sync.Mutex
	asked  []string
	// handed is closed once the first call has handed its ligands over.
	handed chan struct{}
	once   sync.Once
}

func (h *halfway) Info() omtx.ModelInfo { return (&flaky{}).Info() }

func (h *halfway) Predict(ctx context.Context, req omtx.PredictRequest) ([]omtx.Prediction, error) {
	h.mu.Lock()
	for _, l := range req.Ligands {
		h.asked = append(h.asked, l.Name)
	}
	h.mu.Unlock()
	for i := range min(h.finish, len(req.Ligands)) {
		l := req.Ligands[i]
		req.Finished(i, omtx.Prediction{LigandName: l.Name, LigandSMILES: l.SMILES, AffinityPredValue: 1, ModelSeconds: 0.01})
	}
	h.once.Do(func() { close(h.handed) })
	<-ctx.Done()
	return nil, ctx.Err()
}

// preemptOnce runs one attempt of PredictChunk whose pod is found
// preempted once handed is closed (the model has handed over what it
// finished), and checks that it ends as an interruption.
func preemptOnce(t *testing.T, acts *GPU, in contract.PredictChunkInput, handed <-chan struct{}) {
	t.Helper()
	preempted := make(chan struct{})
	acts.Preempted = preempted
	go func() {
		<-handed
		close(preempted)
	}()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(acts.PredictChunk)
	_, err := env.ExecuteActivity(acts.PredictChunk, in)
	require.Error(t, err)
	require.True(t, contract.IsType(err, contract.ErrTypeInterrupted), "a killed group is an interruption: %v", err)
	acts.Preempted = nil
}

// TestPredictChunkStoresEachLigandAsItFinishes: a group's model call that
// is killed mid-run (here: the pod is found preempted) leaves every ligand
// the model finished stored, with its results file and the group's log,
// and the chunk ends WorkerInterrupted at once; the retry runs only the
// rest.
func TestPredictChunkStoresEachLigandAsItFinishes(t *testing.T) {
	t.Parallel()
	model := &halfway{finish: 2, handed: make(chan struct{})}
	acts, jobs, blobs, in := chunkFixture(t, "batch_h", 4, model, 4)
	preemptOnce(t, acts, in, model.handed)

	for i, id := range in.JobIDs {
		d := jobs.Doc(id)
		if i < 2 {
			require.Equal(t, omtx.StatusCompleted, d.Status, "%s finished before the kill and was stored", id)
			require.NotNil(t, d.Results)
			ok, err := blobs.Exists(t.Context(), omtx.BatchChildPrefix("batch_h", id)+omtx.FileResults)
			require.NoError(t, err)
			assert.True(t, ok, "%s: results.json", id)
			require.NotEmpty(t, d.LogsFile)
			continue
		}
		assert.False(t, d.Status.Terminal(), "%s was in flight: not stored", id)
	}
	logs, err := blobs.Read(t.Context(), omtx.BatchGroupLog("batch_h", 0, 3))
	require.NoError(t, err, "the group's log exists though the call never ended")
	assert.Contains(t, string(logs), "job_batch_h_0001")

	model.asked = nil
	model.finish = 4
	acts.Models[omtx.BaselineModel] = &flaky{}
	counts := runChunk(t, acts, in)
	assert.Equal(t, 4, counts.Completed)
	assert.Equal(t, []string{"Lc", "Ld"}, acts.Models[omtx.BaselineModel].(*flaky).asked, "the stored ligands did not run again")
}

// TestPredictChunkLostAttemptIsAnInterruption: an attempt whose worker was
// lost (no error of its own, heartbeats timed out) after storing ligands
// is handed back as an interruption by the next attempt, which runs no
// model: the model's attempts are kept for real failures. An attempt that
// ended with its own error, or stored nothing, counts as before.
func TestPredictChunkLostAttemptIsAnInterruption(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 7, 5, 0, 0, 0, time.UTC)
	lost := chunkBeat{Attempt: 1, Worker: "gpu-a", Start: start}
	cases := []struct {
		name        string
		beat        *chunkBeat
		stored      int
		checkpoints *chunkBeat // who stored a structure checkpoint of the next two ligands
		interrupted bool
	}{
		{"lost after storing two ligands", &chunkBeat{Done: 1, Attempt: 1, Worker: "gpu-a", Start: start}, 2, nil, true},
		{"ended with its own error", &chunkBeat{Done: 2, Attempt: 1, Worker: "gpu-a", Start: start, Ended: true}, 2, nil, false},
		{"lost before storing any", &lost, 0, nil, false},
		{"lost after storing structure checkpoints only (its heartbeats did not say)", &lost, 0, &lost, true},
		{"ended with its own error after storing checkpoints", &chunkBeat{Attempt: 1, Worker: "gpu-a", Start: start, Ended: true}, 0, &lost, false},
		{"checkpoints of another worker", &lost, 0, &chunkBeat{Attempt: 1, Worker: "gpu-b", Start: start}, false},
		{"stored by an earlier attempt, not the lost one", &chunkBeat{Attempt: 1, Worker: "gpu-a", Start: start.Add(time.Hour)}, 2, nil, false},
		{"no heartbeat details", nil, 2, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			model := &flaky{}
			acts, jobs, blobs, in := chunkFixture(t, "batch_l", 4, model, 4)
			done := start.Add(time.Minute)
			if tc.checkpoints != nil {
				c := &checkpoints{blobs: blobs, batchID: "batch_l", chunk: in.Chunk}
				for k, id := range in.JobIDs[tc.stored : tc.stored+2] {
					cp := omtx.Checkpoint{Record: fmt.Sprintf("b%d", tc.stored+k), Files: map[string][]byte{"predictions/x/y": []byte("s")}}
					require.NoError(t, c.save(t.Context(), id, *tc.checkpoints, "default-test-run-id", done, "m", cp))
				}
			}
			for _, id := range in.JobIDs[:tc.stored] {
				d := jobs.Doc(id)
				d.Status, d.CompletedAt = omtx.StatusCompleted, &done
				d.Temporal = &omtx.TemporalRef{RunID: "default-test-run-id", Worker: "gpu-a", Attempt: 1}
				jobs.Put(d)
			}
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			env.RegisterActivity(acts.PredictChunk)
			if tc.beat != nil {
				env.SetHeartbeatDetails(*tc.beat)
			}
			_, err := env.ExecuteActivity(acts.PredictChunk, in)
			if tc.interrupted {
				require.Error(t, err)
				assert.True(t, contract.IsType(err, contract.ErrTypeInterrupted), "%v", err)
				assert.Empty(t, model.asked, "no model call: the chunk is handed back")
				return
			}
			require.NoError(t, err)
			assert.Len(t, model.asked, 4-tc.stored)
		})
	}
}
