package activities

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store/storetest"
)

// TestFilteredLigandsNeverReachThePredictor: a ligands.json entry that
// the batch's filters held back becomes a filtered child with its rule,
// the GPU activity skips it (the model is never asked), and the batch
// aggregates to completed with it counted as filtered, not failed.
func TestFilteredLigandsNeverReachThePredictor(t *testing.T) {
	t.Parallel()
	const batchID = "batch_filtered"
	const rule = "pains_a:ene_rhod_A(235)"
	entries := []omtx.LibraryEntry{
		{Index: 0, Row: 1, Name: "ethanol", SMILES: "CCO"},
		{Index: 1, Row: 2, Name: "ene", SMILES: "O=C1NC(=S)SC1=Cc1ccccc1", FilterRule: rule},
		{Index: 2, Row: 3, Name: "phenol", SMILES: "c1ccccc1O"},
		{Index: 3, Row: 4, Name: "bad", SMILES: "C1CC", Error: "smiles: unclosed ring"},
	}
	jobs, blobs := storetest.NewJobs(), storetest.NewBlobs()
	lib, err := json.Marshal(entries)
	require.NoError(t, err)
	require.NoError(t, blobs.Put(t.Context(), omtx.BatchPrefix(batchID)+omtx.FileLigands, "application/json", lib))
	spec := contract.JobSpec{
		JobID: batchID, JobType: omtx.JobTypeBatchParent, UserID: "u1", Model: omtx.BaselineModel,
		CreatedAt: time.Now().UTC(), InputData: omtx.InputData{ProteinSequence: "MKTAYIAKQRQISFVKSHFSRQ"},
		BatchConfig: &omtx.BatchConfig{TotalLigands: len(entries), MaxConcurrent: 4, ChunkSize: 4, InvalidLigands: 1, FilteredLigands: 1,
			Filters: &omtx.Filters{Catalogs: []string{"pains_a"}}},
	}
	orch := &Orchestration{Jobs: jobs, Blobs: blobs}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(orch.PrepareBatch)
	env.RegisterActivity(orch.AggregateBatch)
	_, err = env.ExecuteActivity(orch.PrepareBatch, contract.PrepareBatchInput{Parent: spec})
	require.NoError(t, err)

	ids := omtx.BatchChildJobIDs(batchID, 0, len(entries), len(entries))
	ene := jobs.Doc(ids[1])
	assert.Equal(t, omtx.StatusFiltered, ene.Status)
	assert.Equal(t, rule, ene.FilterRule)
	assert.Empty(t, ene.Error, "a filtered ligand has not failed")
	assert.NotNil(t, ene.CompletedAt)
	assert.Equal(t, omtx.StatusPending, jobs.Doc(ids[0]).Status)
	assert.Equal(t, omtx.StatusFailed, jobs.Doc(ids[3]).Status)
	assert.Equal(t, &omtx.Progress{Total: 4, Failed: 1, Filtered: 1, Pending: 2}, jobs.Doc(batchID).Progress)

	model := &flaky{}
	gpu := &GPU{Models: map[string]Predictor{omtx.BaselineModel: model}, Jobs: jobs, Blobs: blobs,
		GPUClass: omtx.GPUClassL4, PricePerHour: 0.65, ChunkGroup: 4, ScratchDir: t.TempDir()}
	genv := s.NewTestActivityEnvironment()
	genv.RegisterActivity(gpu.PredictChunk)
	cval, err := genv.ExecuteActivity(gpu.PredictChunk, contract.PredictChunkInput{
		BatchID: batchID, JobIDs: ids, Model: omtx.BaselineModel, Protein: spec.InputData.ProteinSequence})
	require.NoError(t, err)
	var counts contract.ChunkCounts
	require.NoError(t, cval.Get(&counts))
	assert.Equal(t, contract.ChunkCounts{Completed: 2, Failed: 1, Filtered: 1}, counts, "the chunk counts its filtered ligand")
	assert.Equal(t, []string{"ethanol", "phenol"}, model.asked, "the filtered (and the invalid) ligand never reached the model")
	assert.Equal(t, omtx.StatusFiltered, jobs.Doc(ids[1]).Status, "the GPU activity left it as it was")
	assert.Nil(t, jobs.Doc(ids[1]).Results)

	val, err := env.ExecuteActivity(orch.AggregateBatch, contract.AggregateBatchInput{BatchID: batchID})
	require.NoError(t, err)
	var out contract.AggregateBatchResult
	require.NoError(t, val.Get(&out))
	assert.Equal(t, omtx.StatusCompleted, out.Status)
	assert.Equal(t, 1, out.Progress.Filtered)
	summary, err := blobs.Read(t.Context(), omtx.BatchPrefix(batchID)+"summary.json")
	require.NoError(t, err)
	var sum struct {
		Filtered   int    `json:"filtered"`
		Failed     int    `json:"failed"`
		StatusLine string `json:"status_line"`
	}
	require.NoError(t, json.NewDecoder(bytes.NewReader(summary)).Decode(&sum))
	assert.Equal(t, 1, sum.Filtered)
	assert.Equal(t, 1, sum.Failed, "only the invalid row failed")
	assert.Equal(t, "completed with 1 failed, 1 filtered", sum.StatusLine)
}
