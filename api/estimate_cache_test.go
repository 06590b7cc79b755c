package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/resultcache"
	"github.com/omtx-hub/omtx-hub/store/storetest"
)

// TestEstimateExpectsCacheHits: the estimate asks the result cache as a
// batch would, says how many listed ligands it would serve, prices only
// the rest, and says nothing when asked to skip the cache or for another
// user.
func TestEstimateExpectsCacheHits(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cache := storetest.NewResultCache()
	f.srv.finder = &resultcache.Finder{Store: cache, Blobs: finderBlobs{f.blobs}}
	f.srv.runtimes = map[string]Runtime{omtx.BaselineModel + "@" + omtx.GPUClassL4: {SecondsPerLigand: 10, LoadSeconds: 30}}
	const protein = "MKTAYIAKQRQISFVKSHFSRQ"
	ctx := t.Context()

	// The fleet has run the baseline, and user u1 has phenol's result.
	run := omtx.ModelRun{Version: "1.0.0", Checkpoint: "model.onnx sha256:aa", LastSeen: time.Now()}
	require.NoError(t, cache.RecordModelRun(ctx, omtx.BaselineModel, resultcache.RunID(run.Version, run.Checkpoint, run.Defaults), run))
	params, _, err := f.srv.parameters(omtx.BaselineModel, nil, false)
	require.NoError(t, err)
	tgt, err := resultcache.OneChainTarget(protein, "")
	require.NoError(t, err)
	lig, err := resultcache.Ligand("Oc1ccccc1")
	require.NoError(t, err)
	k := resultcache.Key{Scope: resultcache.Scope("u1", nil), Target: tgt, Ligand: lig, Settings: params,
		Model: omtx.BaselineModel, ModelVersion: run.Version, Checkpoint: run.Checkpoint}
	require.NoError(t, cache.PutEntry(ctx, &omtx.CacheEntry{Key: k.Hash(), Scope: k.Scope, SourceJobID: "job_src"}))

	est := func(key, extra string) EstimateResponse {
		t.Helper()
		// Phenol written Kekulé: the same ligand.
		body := `{"model":"boltz2","protein_sequence":"` + protein + `","chunk_size":1,"max_concurrent":4,` + extra +
			`"ligands":[{"name":"phenol","smiles":"OC1=CC=CC=C1"},{"name":"ethanol","smiles":"CCO"}]}`
		w := f.do("POST", "/api/v1/estimate", key, body)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var got EstimateResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		return got
	}
	got := est(key1, "")
	require.NotNil(t, got.CacheHitsExpected)
	assert.Equal(t, 1, *got.CacheHitsExpected)
	assert.Equal(t, 2, got.Ligands)
	assert.Equal(t, 1, got.Chunks, "only the ligand the cache would not serve is priced")

	bypass := est(key1, `"cache":false,`)
	assert.Nil(t, bypass.CacheHitsExpected)
	assert.Equal(t, 2, bypass.Chunks)

	form := func(fields map[string]string) EstimateResponse {
		t.Helper()
		fields["model"], fields["protein_sequence"], fields["chunk_size"], fields["max_concurrent"] = "boltz2", protein, "1", "4"
		ct, body := batchForm(t, fields, "lib.csv", "name,smiles\nphenol,OC1=CC=CC=C1\nethanol,CCO\n")
		w := f.call(t, "POST", "/api/v1/estimate", key1, ct, body)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var got EstimateResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		return got
	}
	t.Run("the form the page submits is priced as its batch would run", func(t *testing.T) {
		got := form(map[string]string{})
		require.NotNil(t, got.CacheHitsExpected)
		assert.Equal(t, 1, *got.CacheHitsExpected)
		assert.Nil(t, form(map[string]string{"cache": "false"}).CacheHitsExpected, "the form's cache=false skips the lookup")
	})

	t.Run("a form's uploaded MSA is the object its batch's results are keyed by", func(t *testing.T) {
		a3m := ">q\n" + protein + "\n"
		for fields, want := range map[string]string{"": "", a3m: msaUploadObject(a3m)} {
			ct, body := batchForm(t, map[string]string{"model": "boltz2", "protein_sequence": protein, "msa": fields}, "lib.csv", "name,smiles\nphenol,Oc1ccccc1\n")
			c, _ := gin.CreateTestContext(httptest.NewRecorder())
			c.Request = httptest.NewRequest("POST", "/api/v1/estimate", bytes.NewReader(body))
			c.Request.Header.Set("Content-Type", ct)
			req, _, _, err := f.srv.estimateForm(c)
			require.NoError(t, err)
			assert.Equal(t, want, req.msaObject)
		}
	})

	other := est(key2, "")
	require.NotNil(t, other.CacheHitsExpected)
	assert.Zero(t, *other.CacheHitsExpected, "one user's results never count for another")
}
