package api

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store/storetest"
)

const seedBatch = `{
  "model": "boltz2",
  "batch_name": "Aspirin derivatives screening",
  "protein_sequence": "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK",
  "ligands": [
    {"name": "Aspirin", "smiles": "CC(=O)OC1=CC=CC=C1C(=O)O"},
    {"name": "Ibuprofen", "smiles": "CC(C)CC1=CC=C(C=C1)C(C)C(=O)O"},
    {"smiles": "c1ccccc1O"},
    {"name": "Aspirin", "smiles": "CC(=O)Oc1ccccc1C(=O)O"}
  ],
  "max_concurrent": 5,
  "user_id": "u1"
}`

func TestPredictBatch(t *testing.T) {
	t.Parallel()

	t.Run("seed body: library stored, workflow started, parent written", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		w := f.do("POST", "/api/v1/predict/batch", key1, seedBatch)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		var got BatchSubmitResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		assert.True(t, strings.HasPrefix(got.BatchID, "batch_"))
		assert.Equal(t, 4, got.TotalLigands)
		assert.Equal(t, 1, got.RenamedLigands)
		assert.Equal(t, 5, got.MaxConcurrent)
		assert.Equal(t, 5, got.ChunkSize, "a chunk never exceeds max_concurrent")
		assert.Contains(t, strings.Join(got.Warnings, "\n"), "1 ligand had no name and was named Ligand_<row>")

		require.Len(t, f.sched.batches(), 1)
		p := f.sched.batches()[0].Parent
		assert.Equal(t, omtx.JobTypeBatchParent, p.JobType)
		assert.Equal(t, "Aspirin derivatives screening", p.BatchName)
		assert.Equal(t, "normal", p.BatchConfig.Priority)

		var lib []omtx.LibraryEntry
		require.NoError(t, json.Unmarshal(mustRead(t, f.blobs, "batches/"+got.BatchID+"/ligands.json"), &lib))
		require.Len(t, lib, 4)
		assert.Equal(t, "Ligand_3", lib[2].Name, "missing names become Ligand_{i+1}")
		assert.Equal(t, "Aspirin (2)", lib[3].Name, "duplicates are made unique")

		doc, err := f.jobs.Get(t.Context(), got.BatchID)
		require.NoError(t, err)
		assert.Equal(t, omtx.StatusPending, doc.Status)
		assert.Equal(t, 4, doc.Progress.Pending)
	})

	t.Run("the same structure twice is reported with its rows", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		body := `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligands":[
			{"name":"a","smiles":"CCO"},{"name":"b","smiles":"CCN"},{"name":"c","smiles":"OCC"}]}`
		w := f.do("POST", "/api/v1/predict/batch", key1, body)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		var got BatchSubmitResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		require.Len(t, got.DuplicateStructures, 1)
		assert.Equal(t, "CCO", got.DuplicateStructures[0].SMILES)
		assert.Equal(t, []int{1, 3}, got.DuplicateStructures[0].Rows)
		assert.Contains(t, strings.Join(got.Warnings, "\n"), "1 structure appears more than once")
		assert.Equal(t, 3, got.TotalLigands, "every entry still runs")
	})

	t.Run("a bad library is refused row by row", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		body := strings.Replace(seedBatch, `"c1ccccc1O"`, `"c1ccccc1O("`, 1)
		body = strings.Replace(body, `"CC(C)CC1=CC=C(C=C1)C(C)C(=O)O"`, `"C[Zz]"`, 1)
		w := f.do("POST", "/api/v1/predict/batch", key1, body)
		require.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
		var e struct {
			Error struct {
				Field string
				Rows  []struct {
					Row           int
					Field, Reason string
				}
			}
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
		assert.Equal(t, "ligands", e.Error.Field)
		require.Len(t, e.Error.Rows, 2)
		assert.Equal(t, 2, e.Error.Rows[0].Row)
		assert.Equal(t, 3, e.Error.Rows[1].Row)
		assert.Equal(t, "smiles", e.Error.Rows[0].Field)
		assert.Empty(t, f.sched.batches())
		names, _ := f.blobs.List(t.Context(), "")
		assert.Empty(t, names)
	})

	t.Run("skip_invalid keeps bad rows as failed children", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		body := strings.Replace(seedBatch, `"c1ccccc1O"`, `"c1ccccc1O("`, 1)
		body = strings.Replace(body, `"max_concurrent": 5`, `"max_concurrent": 5, "skip_invalid": true`, 1)
		w := f.do("POST", "/api/v1/predict/batch", key1, body)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		var got BatchSubmitResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		assert.Equal(t, 1, got.InvalidLigands)
	})

	for _, c := range []struct{ name, from, to, field string }{
		{"max_concurrent too high", `"max_concurrent": 5`, `"max_concurrent": 5000`, "max_concurrent"},
		{"max_concurrent zero", `"max_concurrent": 5`, `"max_concurrent": 0`, "max_concurrent"},
		{"bad priority", `"max_concurrent": 5`, `"max_concurrent": 5, "priority": "urgent"`, "priority"},
		{"bad chunk size", `"max_concurrent": 5`, `"max_concurrent": 5, "chunk_size": 500`, "chunk_size"},
		{"no ligands", `"ligands": [`, `"ligandz": [`, "ligandz"},
		{"empty ligands", `"max_concurrent": 5`, `"max_concurrent": 5, "ligands": []`, "ligands"},
		{"bad protein", `MKTAYIAK`, `MKTAYIAK7`, "protein_sequence"},
	} {
		t.Run("refused: "+c.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			body := strings.Replace(seedBatch, c.from, c.to, 1)
			if c.name == "empty ligands" {
				body = `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligands":[]}`
			}
			w := f.do("POST", "/api/v1/predict/batch", key1, body)
			require.GreaterOrEqual(t, w.Code, 400, w.Body.String())
			require.Less(t, w.Code, 500, w.Body.String())
			var e errResp
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
			assert.Equal(t, c.field, e.Error.Field, w.Body.String())
			assert.Empty(t, f.sched.batches())
		})
	}

	t.Run("library upload: CSV with metadata", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		require.NoError(t, mw.WriteField("model", "boltz2"))
		require.NoError(t, mw.WriteField("protein_sequence", "MKTAYIAKQRQISFVKSHFSRQ"))
		require.NoError(t, mw.WriteField("batch_name", "upload"))
		require.NoError(t, mw.WriteField("max_concurrent", "4"))
		require.NoError(t, mw.WriteField("parameters", `{"num_samples": 2}`))
		fw, err := mw.CreateFormFile("library", "lib.csv")
		require.NoError(t, err)
		_, err = fw.Write([]byte("name,smiles,vendor\nA,CCO,enamine\nB,CCN,mcule\n"))
		require.NoError(t, err)
		require.NoError(t, mw.Close())
		req := httptest.NewRequest("POST", "/api/v1/predict/batch", &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+key1)
		w := httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(w, req)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		require.Len(t, f.sched.batches(), 1)
		assert.Equal(t, 2, f.sched.batches()[0].Parent.InputData.Parameters.NumSamples)
		var got BatchSubmitResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		var lib []omtx.LibraryEntry
		require.NoError(t, json.Unmarshal(mustRead(t, f.blobs, "batches/"+got.BatchID+"/ligands.json"), &lib))
		assert.Equal(t, "enamine", lib[0].Metadata["vendor"])
	})
}

func TestBatchReadAndCancel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w := f.do("POST", "/api/v1/predict/batch", key1, seedBatch)
	require.Equal(t, http.StatusAccepted, w.Code)
	var sub BatchSubmitResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &sub))

	w = f.do("GET", "/api/v1/batches/"+sub.BatchID, key1, "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Contains(t, w.Body.String(), `"live_progress"`)
	assert.Equal(t, http.StatusNotFound, f.do("GET", "/api/v1/batches/"+sub.BatchID, key2, "").Code)
	assert.Equal(t, http.StatusNotFound, f.do("GET", "/api/v1/batches/"+sub.BatchID+"/files/secret.txt", key1, "").Code)
	assert.Equal(t, http.StatusNotFound, f.do("GET", "/api/v1/batches/"+sub.BatchID+"/files/summary.json", key2, "").Code)
	assert.Equal(t, http.StatusOK, f.do("GET", "/api/v1/batches/"+sub.BatchID+"/files/ligands.json", key1, "").Code)
	assert.Equal(t, http.StatusOK, f.do("GET", "/api/v1/batches/"+sub.BatchID+"/jobs?page_size=2", key1, "").Code)
	assert.Equal(t, http.StatusUnprocessableEntity, f.do("GET", "/api/v1/batches/"+sub.BatchID+"/jobs?page_token=bad", key1, "").Code)

	assert.Equal(t, http.StatusNotFound, f.do("POST", "/api/v1/batches/"+sub.BatchID+"/cancel", key2, "").Code)
	w = f.do("POST", "/api/v1/batches/"+sub.BatchID+"/cancel", key1, "")
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	assert.Equal(t, []string{"batch-" + sub.BatchID}, f.sched.cancelled)
}

func mustRead(t *testing.T, b *storetest.Blobs, name string) []byte {
	t.Helper()
	data, err := b.Read(t.Context(), name)
	require.NoError(t, err)
	return data
}

// TestDecodeNamesTheField checks the streaming decoder: every refusal
// names the field, and inside the ligands the entry, as the whole-body
// decoder it replaced did; and a list past the ligand limit is refused
// without reading the rest.
func TestDecodeNamesTheField(t *testing.T) {
	t.Parallel()
	lig := func(s string) string {
		return `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligands":[{"name":"a","smiles":"CCO"},` + s + `]}`
	}
	for _, tc := range []struct {
		name, body string
		code       int
		field      string
	}{
		{"entry field of the wrong type", lig(`{"name":7,"smiles":"CCO"}`), 422, "ligands[1].name"},
		{"entry not an object", lig(`"CCO"`), 422, "ligands[1]"},
		{"unknown entry field", lig(`{"smile":"CCO"}`), 422, "ligands[1].smile"},
		{"ligands not an array", `{"ligands":{"a":1}}`, 422, "ligands"},
		{"unknown top-level field", `{"ligand":[]}`, 422, "ligand"},
		{"nested unknown field", `{"parameters":{"seeds":1}}`, 422, "parameters.seeds"},
		{"top-level wrong type", `{"max_concurrent":"ten"}`, 422, "max_concurrent"},
		{"keys match exactly", `{"Model":"boltz2"}`, 422, "Model"},
		{"not an object", `[1,2]`, 422, ""},
		{"a string", `"x"`, 422, ""},
		{"malformed, not an object", `[`, 400, ""},
		{"two values", `{"batch_name":"x"} {}`, 400, ""},
		{"truncated", lig(`{"name":"b"`), 400, ""},
		{"syntax", `{"model":"boltz2",}`, 400, ""},
		{"empty", ``, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			newFixture(t).refused(t, "/api/v1/predict/batch", tc.body, tc.code, tc.field)
		})
	}

	t.Run("over the ligand limit, refused at the entry past it", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		var b strings.Builder
		b.WriteString(`{"ligands":[`)
		for i := 0; i <= 100_000; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"smiles":"C"}`)
		}
		b.WriteString(`,{"smiles":`) // malformed past the limit: never read
		w := f.do("POST", "/api/v1/predict/batch", key1, b.String())
		require.Equal(t, http.StatusRequestEntityTooLarge, w.Code, w.Body.String())
		assert.Contains(t, w.Body.String(), `"field":"ligands"`)
	})
}

// TestBatchRankingIsRecorded: the request's ranking rule reaches the batch
// config (which aggregation reads), normalized; a bad one is a 422 naming
// its field.
func TestBatchRankingIsRecorded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	body := strings.Replace(seedBatch, `"max_concurrent": 5,`, `"max_concurrent": 5, "ranking": "lead_optimization", "binder_threshold": 0.7, "min_ligand_iptm": 0.5,`, 1)
	w := f.do("POST", "/api/v1/predict/batch", key1, body)
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	cfg := f.sched.batches()[0].Parent.BatchConfig
	assert.Equal(t, omtx.RankingLeadOptimization, cfg.Ranking)
	assert.Equal(t, 0.7, cfg.BinderThreshold)
	require.NotNil(t, cfg.MinLigandIPTM)
	assert.Equal(t, 0.5, *cfg.MinLigandIPTM)
	assert.Nil(t, cfg.MinIPTM)

	f.refused(t, "/api/v1/predict/batch", strings.Replace(seedBatch, `"max_concurrent": 5,`, `"ranking": "best_first",`, 1), http.StatusUnprocessableEntity, "ranking")
	f.refused(t, "/api/v1/predict/batch", strings.Replace(seedBatch, `"max_concurrent": 5,`, `"min_iptm": 1.5,`, 1), http.StatusUnprocessableEntity, "min_iptm")
}
