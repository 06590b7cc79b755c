package activities

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// twoPass stands in for Boltz-2's two passes as the runner reports them:
// on its first call it hands over the structure checkpoint of the first
// `structured` ligands (Structured), then blocks until the call is killed;
// later calls finish every ligand. It records each call's Records and
// Resume.
type twoPass struct {
	structured int
	mu         sync.Mutex
	calls      int
	records    [][]string
	resumed    []map[int]omtx.Checkpoint
	handed     chan struct{}
}

func (m *twoPass) Info() omtx.ModelInfo { return (&flaky{}).Info() }

func (m *twoPass) Predict(ctx context.Context, req omtx.PredictRequest) ([]omtx.Prediction, error) {
	m.mu.Lock()
	m.calls++
	first := m.calls == 1
	m.records = append(m.records, req.Records)
	m.resumed = append(m.resumed, req.Resume)
	m.mu.Unlock()
	if first {
		for i := range m.structured {
			r := req.Records[i]
			req.Structured(i, omtx.Checkpoint{Record: r, Files: map[string][]byte{
				"processed/records/" + r + ".json":                 []byte(`{"id":"` + r + `"}`),
				"processed/msa/" + r + "_0.npz":                    []byte("the same MSA for every ligand"),
				"predictions/" + r + "/pre_affinity_" + r + ".npz": []byte("structure of " + r),
			}})
		}
		close(m.handed)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	out := make([]omtx.Prediction, len(req.Ligands))
	for i, l := range req.Ligands {
		out[i] = omtx.Prediction{LigandName: l.Name, LigandSMILES: l.SMILES, AffinityPredValue: 1, ModelSeconds: 0.01}
	}
	return out, nil
}

// TestPredictChunkResumesStructureCheckpoints: a group killed in its
// structure pass (the pod found preempted) has stored the checkpoint of
// each ligand whose structure was made, under the ligand's record name,
// each shared file once; the next attempt hands them back to the model
// for those ligands and no others, under the same record names.
func TestPredictChunkResumesStructureCheckpoints(t *testing.T) {
	t.Parallel()
	model := &twoPass{structured: 2, handed: make(chan struct{})}
	acts, jobs, blobs, in := chunkFixture(t, "batch_c", 4, model, 4)
	preemptOnce(t, acts, in, model.handed)
	for _, id := range in.JobIDs {
		assert.False(t, jobs.Doc(id).Status.Terminal(), "%s: no ligand finished", id)
	}
	for i, id := range in.JobIDs {
		ok, err := blobs.Exists(t.Context(), omtx.CheckpointManifest("batch_c", in.Chunk, id))
		require.NoError(t, err)
		assert.Equal(t, i < 2, ok, "%s: a checkpoint only for a ligand whose structure was made", id)
	}

	counts := runChunk(t, acts, in)
	assert.Equal(t, 4, counts.Completed)
	require.Len(t, model.resumed, 2)
	assert.Equal(t, []string{"b0", "b1", "b2", "b3"}, model.records[0], "records are named after the ligands")
	assert.Equal(t, model.records[0], model.records[1], "the same names in the next call")
	require.Len(t, model.resumed[1], 2, "the two checkpoints come back, and only they")
	for i := range 2 {
		cp := model.resumed[1][i]
		r := model.records[0][i]
		assert.Equal(t, r, cp.Record)
		assert.Equal(t, "structure of "+r, string(cp.Files["predictions/"+r+"/pre_affinity_"+r+".npz"]))
		assert.Equal(t, "the same MSA for every ligand", string(cp.Files["processed/msa/"+r+"_0.npz"]))
	}

	t.Run("a checkpoint of another record or model, or whose file was altered, is not used", func(t *testing.T) {
		c := &checkpoints{blobs: blobs, batchID: "batch_c", chunk: 7}
		cp := omtx.Checkpoint{Record: "b9", Files: map[string][]byte{"predictions/b9/x.npz": []byte("made")}}
		require.NoError(t, c.save(t.Context(), "job_x", chunkBeat{Worker: "w", Attempt: 1}, "run", acts.now(), "boltz-2 2.2.1", cp))
		found, err := (&checkpoints{blobs: blobs, batchID: "batch_c", chunk: 7}).manifests(t.Context())
		require.NoError(t, err)
		require.Contains(t, found, "job_x", "the chunk's listing finds it")
		m := found["job_x"]
		got, ok, err := c.load(t.Context(), m, "b9", "boltz-2 2.2.1")
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, cp.Files, got.Files)
		_, ok, err = c.load(t.Context(), m, "b8", "boltz-2 2.2.1")
		require.NoError(t, err)
		assert.False(t, ok, "another record's checkpoint is not this ligand's")
		_, ok, err = c.load(t.Context(), m, "b9", "boltz-2 2.2.2")
		require.NoError(t, err)
		assert.False(t, ok, "another model version's structure is not resumed")
		other, err := (&checkpoints{blobs: blobs, batchID: "batch_c", chunk: 8}).manifests(t.Context())
		require.NoError(t, err)
		assert.NotContains(t, other, "job_x", "another chunk's listing does not")
		// Overwrite the blob stored under the digest of "made".
		names, err := blobs.List(t.Context(), omtx.CheckpointPrefix("batch_c")+"blobs/")
		require.NoError(t, err)
		for _, name := range names {
			if b, _ := blobs.Read(t.Context(), name); string(b) == "made" {
				require.NoError(t, blobs.Put(t.Context(), name, "", []byte("changed")))
			}
		}
		fresh := &checkpoints{blobs: blobs, batchID: "batch_c", chunk: 7}
		_, _, err = fresh.load(t.Context(), m, "b9", "boltz-2 2.2.1")
		assert.ErrorContains(t, err, "does not match its digest")
	})
}
