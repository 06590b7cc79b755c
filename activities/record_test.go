package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store/storetest"
)

// coldModel stands in for Boltz on a cold weights cache: it names its
// checkpoint only once a prediction has run, and returns the settings
// that ran with each prediction.
type coldModel struct {
	mu  sync.Mutex
	ran bool
}

func (c *coldModel) Info() omtx.ModelInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	info := omtx.ModelInfo{Name: omtx.ModelBoltz2, Version: "boltz-2", Kind: "boltz", Structures: true}
	if c.ran {
		info.Checkpoint = "boltz2_conf.ckpt sha256:abc"
	}
	return info
}

func (c *coldModel) Predict(_ context.Context, req omtx.PredictRequest) ([]omtx.Prediction, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ran = true
	out := make([]omtx.Prediction, len(req.Ligands))
	for i, l := range req.Ligands {
		out[i] = omtx.Prediction{LigandName: l.Name, LigandSMILES: l.SMILES, ModelSeconds: 0.01,
			Settings: &omtx.RunSettings{BoltzFlags: true, RecyclingSteps: 3, Checkpoints: "boltz2_conf.ckpt sha256:abc"}}
	}
	return out, nil
}

// recordFixture is a batch of one child of a salt, whose modelled SMILES
// is the parent, with a cached server MSA.
func recordFixture(t *testing.T, model string, p Predictor) (*GPU, *storetest.Jobs, *storetest.Blobs, contract.PredictChunkInput, string) {
	t.Helper()
	jobs, blobs := storetest.NewJobs(), storetest.NewBlobs()
	ids := omtx.BatchChildJobIDs("batch_rec", 0, 1, 1)
	idx := 0
	jobs.Put(&omtx.Job{
		JobID: ids[0], JobType: omtx.JobTypeBatchChild, BatchParentID: "batch_rec", BatchIndex: &idx,
		Status: omtx.StatusPending, CreatedAt: time.Now(),
		InputData: omtx.InputData{LigandName: "aspirin-Na", LigandSMILES: "CC(=O)Oc1ccccc1C(=O)[O-].[Na+]", ModelledSMILES: "CC(=O)Oc1ccccc1C(=O)O"},
	})
	a3m := []byte(">101\nMKTAYIAKQRQISFVKSHFSRQ\n")
	require.NoError(t, blobs.Put(context.Background(), "msa/k.a3m", "text/plain", a3m))
	sum := sha256.Sum256(a3m)
	acts := &GPU{Models: map[string]Predictor{model: p}, Jobs: jobs, Blobs: blobs,
		GPUClass: omtx.GPUClassL4, PricePerHour: 0.65, ChunkGroup: 1, ScratchDir: t.TempDir()}
	in := contract.PredictChunkInput{BatchID: "batch_rec", JobIDs: ids, Model: model, Protein: "MKTAYIAKQRQISFVKSHFSRQ",
		MSA: omtx.MSARef{Mode: omtx.MSAServer, Object: "msa/k.a3m"}}
	return acts, jobs, blobs, in, hex.EncodeToString(sum[:])
}

// TestResultsRecordWhatRan: the job document and results.json record the
// modelled SMILES beside the submitted one, each chain's MSA mode and the
// digest of the A3M used, the settings that ran, and the checkpoint a
// cold-cache run fetched; the baseline claims no MSA and no Boltz flags.
func TestResultsRecordWhatRan(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, acts *GPU, in contract.PredictChunkInput) {
		t.Helper()
		runChunk(t, acts, in)
	}
	readFile := func(t *testing.T, blobs *storetest.Blobs, id string) resultFile {
		t.Helper()
		b, err := blobs.Read(context.Background(), omtx.BatchChildPrefix("batch_rec", id)+omtx.FileResults)
		require.NoError(t, err)
		var rf resultFile
		require.NoError(t, json.Unmarshal(b, &rf))
		return rf
	}

	t.Run("boltz-2", func(t *testing.T) {
		t.Parallel()
		acts, jobs, blobs, in, digest := recordFixture(t, omtx.ModelBoltz2, &coldModel{})
		run(t, acts, in)
		r := jobs.Doc(in.JobIDs[0]).Results
		require.NotNil(t, r)
		assert.Equal(t, "CC(=O)Oc1ccccc1C(=O)[O-].[Na+]", r.LigandSMILES)
		assert.Equal(t, "CC(=O)Oc1ccccc1C(=O)O", r.ModelledSMILES)
		assert.Equal(t, omtx.MSAServer, r.MSAMode)
		assert.Equal(t, []omtx.ChainMSA{{ChainID: "A", Mode: omtx.MSAServer, Digest: digest}}, r.MSAs)
		assert.Equal(t, "boltz2_conf.ckpt sha256:abc", r.ModelCheckpoint, "asked after the run: a cold cache is named too")
		require.NotNil(t, r.RunSettings)
		assert.True(t, r.RunSettings.BoltzFlags)
		assert.Equal(t, 3, r.RunSettings.RecyclingSteps)

		rf := readFile(t, blobs, in.JobIDs[0])
		assert.Equal(t, "CC(=O)Oc1ccccc1C(=O)O", rf.Ligand.ModelledSMILES)
		assert.Equal(t, r.MSAs, rf.MSAs)
		assert.Equal(t, r.RunSettings, rf.RunSettings)
		assert.Equal(t, "boltz2_conf.ckpt sha256:abc", rf.Model.Checkpoint)
	})

	t.Run("baseline", func(t *testing.T) {
		t.Parallel()
		acts, jobs, blobs, in, _ := recordFixture(t, omtx.BaselineModel, &flaky{})
		run(t, acts, in)
		r := jobs.Doc(in.JobIDs[0]).Results
		require.NotNil(t, r)
		assert.Equal(t, omtx.MSANone, r.MSAMode)
		assert.Empty(t, r.MSAFile)
		assert.Empty(t, r.MSAs)
		require.NotNil(t, r.RunSettings)
		assert.False(t, r.RunSettings.BoltzFlags)
		assert.Equal(t, baselineSettingsNote, r.RunSettings.Note)
		assert.Zero(t, r.RunSettings.RecyclingSteps)
		rf := readFile(t, blobs, in.JobIDs[0])
		assert.Equal(t, r.RunSettings, rf.RunSettings)
		assert.Empty(t, rf.MSAs)
	})
}
