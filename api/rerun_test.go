package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// finishedBatch submits a seed batch as user one, then records it ended
// with its children in statuses (by batch_index); it returns the batch id.
func (f *fixture) finishedBatch(t *testing.T, parent omtx.JobStatus, statuses ...omtx.JobStatus) string {
	t.Helper()
	body := strings.Replace(seedBatch, `"max_concurrent": 5`, `"max_concurrent": 5, "chunk_size": 2, "ranking": "lead_optimization"`, 1)
	w := f.do("POST", "/api/v1/predict/batch", key1, body)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	var sub BatchSubmitResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &sub))
	ctx := t.Context()
	var kids []*omtx.Job
	for i, st := range statuses {
		idx := i
		kids = append(kids, &omtx.Job{
			JobID: omtx.BatchChildJobID(sub.BatchID, i, len(statuses)), JobType: omtx.JobTypeBatchChild, UserID: "u1",
			BatchParentID: sub.BatchID, BatchIndex: &idx, Status: st, Model: sub.Model,
			InputData:      omtx.InputData{LigandName: []string{"Aspirin", "Ibuprofen", "Ligand_3", "Aspirin (2)"}[i], LigandSMILES: []string{"CC(=O)OC1=CC=CC=C1C(=O)O", "CC(C)CC1=CC=C(C=C1)C(C)C(=O)O", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O"}[i]},
			LigandMetadata: map[string]string{"class": "c" + string(rune('0'+i))},
		})
	}
	_, err := f.jobs.CreateMany(ctx, kids)
	require.NoError(t, err)
	_, err = f.jobs.Update(ctx, sub.BatchID, func(j *omtx.Job) (*omtx.Job, error) {
		j.Status = parent
		return j, nil
	})
	require.NoError(t, err)
	return sub.BatchID
}

func TestRerunBatch(t *testing.T) {
	t.Parallel()
	ended := []omtx.JobStatus{omtx.StatusCompleted, omtx.StatusFailed, omtx.StatusCancelled, omtx.StatusFailed}

	t.Run("failed ligands: a new batch of exactly those, linked both ways", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		id := f.finishedBatch(t, omtx.StatusCompleted, ended...)
		w := f.do("POST", "/api/v1/batches/"+id+"/rerun", key1, `{"which":"failed"}`, IdempotencyHeader, "rerun-1")
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		var got BatchSubmitResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		assert.Equal(t, id, got.RerunOf)
		assert.NotEqual(t, id, got.BatchID)
		assert.Equal(t, 2, got.TotalLigands)
		assert.Equal(t, "/api/v1/batches/"+got.BatchID, got.URL)
		assert.Contains(t, strings.Join(got.Warnings, "\n"), "is not installed on this deployment", "the model substitution is said, as for a new batch")

		var lib []omtx.LibraryEntry
		require.NoError(t, json.Unmarshal(mustRead(t, f.blobs, "batches/"+got.BatchID+"/ligands.json"), &lib))
		require.Len(t, lib, 2)
		assert.Equal(t, []string{"Ibuprofen", "Aspirin (2)"}, []string{lib[0].Name, lib[1].Name})
		assert.Equal(t, "CC(=O)Oc1ccccc1C(=O)O", lib[1].SMILES)
		assert.Equal(t, map[string]string{"class": "c3"}, lib[1].Metadata, "metadata columns are kept")

		first, err := f.jobs.Get(t.Context(), id)
		require.NoError(t, err)
		rerun, err := f.jobs.Get(t.Context(), got.BatchID)
		require.NoError(t, err)
		assert.Equal(t, []string{got.BatchID}, first.Reruns)
		assert.Equal(t, id, rerun.RerunOf)
		assert.Equal(t, first.InputData.ProteinSequence, rerun.InputData.ProteinSequence)
		assert.Equal(t, first.Model, rerun.Model)
		assert.Equal(t, first.BatchConfig.ChunkSize, rerun.BatchConfig.ChunkSize)
		assert.Equal(t, omtx.RankingLeadOptimization, rerun.BatchConfig.Ranking)
		assert.Equal(t, 2, rerun.BatchConfig.TotalLigands)

		batches := f.sched.batches()
		require.Len(t, batches, 2)
		assert.Equal(t, id, batches[1].Parent.RerunOf, "the workflow's spec carries rerun_of")

		t.Run("the same key again is the same batch, linked once", func(t *testing.T) {
			w := f.do("POST", "/api/v1/batches/"+id+"/rerun", key1, `{"which":"failed"}`, IdempotencyHeader, "rerun-1")
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			var again BatchSubmitResponse
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &again))
			assert.Equal(t, got.BatchID, again.BatchID)
			assert.True(t, again.Duplicate)
			first, err := f.jobs.Get(t.Context(), id)
			require.NoError(t, err)
			assert.Equal(t, []string{got.BatchID}, first.Reruns)
		})
		t.Run("the same key for other ligands is refused", func(t *testing.T) {
			w := f.do("POST", "/api/v1/batches/"+id+"/rerun", key1, `{"which":"cancelled"}`, IdempotencyHeader, "rerun-1")
			require.Equal(t, http.StatusConflict, w.Code, w.Body.String())
		})
	})

	t.Run("which selects the statuses", func(t *testing.T) {
		t.Parallel()
		for which, want := range map[string][]string{
			"cancelled":            {"Ligand_3"},
			"failed_and_cancelled": {"Ibuprofen", "Ligand_3", "Aspirin (2)"},
		} {
			f := newFixture(t)
			id := f.finishedBatch(t, omtx.StatusCompleted, ended...)
			w := f.do("POST", "/api/v1/batches/"+id+"/rerun", key1, `{"which":"`+which+`"}`)
			require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
			var got BatchSubmitResponse
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
			var lib []omtx.LibraryEntry
			require.NoError(t, json.Unmarshal(mustRead(t, f.blobs, "batches/"+got.BatchID+"/ligands.json"), &lib))
			var names []string
			for _, e := range lib {
				names = append(names, e.Name)
			}
			assert.Equal(t, want, names, which)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		done := f.finishedBatch(t, omtx.StatusCompleted, omtx.StatusCompleted, omtx.StatusFailed)
		running := f.finishedBatch(t, omtx.StatusRunning, omtx.StatusFailed)
		for _, c := range []struct {
			name, key, id, body string
			code                int
			field               string
		}{
			{"nothing to rerun names which", key1, done, `{"which":"cancelled"}`, http.StatusUnprocessableEntity, "which"},
			{"an unknown which", key1, done, `{"which":"all"}`, http.StatusUnprocessableEntity, "which"},
			{"no which", key1, done, `{}`, http.StatusUnprocessableEntity, "which"},
			{"a batch not finished", key1, running, `{"which":"failed"}`, http.StatusConflict, "batch_id"},
			{"another user's batch", key2, done, `{"which":"failed"}`, http.StatusNotFound, "job_id"},
			{"no such batch", key1, "batch_0000000000000000", `{"which":"failed"}`, http.StatusNotFound, "job_id"},
		} {
			w := f.do("POST", "/api/v1/batches/"+c.id+"/rerun", c.key, c.body)
			require.Equal(t, c.code, w.Code, c.name+": "+w.Body.String())
			var e errResp
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
			assert.Equal(t, c.field, e.Error.Field, c.name)
		}
		assert.Len(t, f.sched.batches(), 2, "no refusal starts a batch")
	})
}

func TestRerunName(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "Screen (rerun of failed)", rerunName("Screen", RerunFailed))
	long := rerunName(strings.Repeat("é", MaxBatchNameBytes), RerunFailedAndCancelled)
	assert.LessOrEqual(t, len(long), MaxBatchNameBytes)
	assert.True(t, strings.HasSuffix(long, " (rerun of failed and cancelled)"))
	assert.True(t, strings.HasPrefix(long, "éé"))
}

// TestRerunCancelledBeforePrepared: a batch cancelled before all its
// children were created reruns, as cancelled, the ligands that never got a
// child too, from its ligands.json, in the first batch's order.
func TestRerunCancelledBeforePrepared(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.finishedBatch(t, omtx.StatusCancelled, omtx.StatusCompleted, omtx.StatusCancelled)
	var first []omtx.LibraryEntry
	require.NoError(t, json.Unmarshal(mustRead(t, f.blobs, "batches/"+id+"/ligands.json"), &first))
	require.Greater(t, len(first), 2, "the seed batch has ligands that got no child")
	w := f.do("POST", "/api/v1/batches/"+id+"/rerun", key1, `{"which":"cancelled"}`, IdempotencyHeader, "rerun-unprepared")
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	var got BatchSubmitResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	var lib []omtx.LibraryEntry
	require.NoError(t, json.Unmarshal(mustRead(t, f.blobs, "batches/"+got.BatchID+"/ligands.json"), &lib))
	require.Len(t, lib, len(first)-1, "every ligand but the completed one")
	assert.Equal(t, "Ibuprofen", lib[0].Name, "the cancelled child first")
	for i, e := range lib {
		assert.Equal(t, i, e.Index)
		if i > 0 {
			assert.Equal(t, first[i+1].SMILES, e.SMILES, "then the ligands that never got a child, in order")
		}
	}
}
