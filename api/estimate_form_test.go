package api

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/library"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// batchForm is a batch's multipart form: fields, then the library file.
func batchForm(t *testing.T, fields map[string]string, libName, lib string) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	if libName != "" {
		fw, err := mw.CreateFormFile("library", libName)
		require.NoError(t, err)
		_, err = fw.Write([]byte(lib))
		require.NoError(t, err)
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), b.Bytes()
}

// TestEstimateTakesTheBatchForm: the results page prices the multipart
// form it then submits. The library is read as the batch reads it: the
// estimate equals the JSON estimate of the same ligands, a library the
// batch refuses is refused with its rows, and skip_invalid prices the
// valid rows and counts the rest.
func TestEstimateTakesTheBatchForm(t *testing.T) {
	t.Parallel()
	const protein = "MKTAYIAKQRQISFVKSHFSRQ"
	priced := func(t *testing.T) *fixture {
		f := newFixture(t)
		f.srv.runtimes = map[string]Runtime{omtx.BaselineModel + "@" + omtx.GPUClassL4: {SecondsPerLigand: 2, LoadSeconds: 5}}
		return f
	}
	// estimated checks a 200 and decodes the estimate.
	estimated := func(t *testing.T, w *httptest.ResponseRecorder) EstimateResponse {
		t.Helper()
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var e EstimateResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
		return e
	}
	fields := map[string]string{"model": "boltz2", "protein_sequence": protein, "max_concurrent": "4", "batch_name": "s", "ranking": "hit_discovery"}

	t.Run("a CSV library is priced as its ligands sent as JSON", func(t *testing.T) {
		t.Parallel()
		f := priced(t)
		ct, body := batchForm(t, fields, "lib.csv", "name,smiles,vendor\nA,CCO,x\nB,CCN,y\nC,c1ccccc1O,z\n")
		got := estimated(t, f.call(t, "POST", "/api/v1/estimate", key1, ct, body))

		want := estimated(t, f.callJSON(t, "POST", "/api/v1/estimate", key1, map[string]any{
			"model": "boltz2", "protein_sequence": protein, "max_concurrent": 4,
			"ligands": []map[string]string{{"name": "A", "smiles": "CCO"}, {"name": "B", "smiles": "CCN"}, {"name": "C", "smiles": "c1ccccc1O"}},
		}))
		assert.Equal(t, want, got)
		assert.Equal(t, 3, got.Ligands)
		assert.Zero(t, got.InvalidLigands)
		assert.Equal(t, omtx.BaselineModel, got.Model)
		assert.Equal(t, omtx.ModelBoltz2, got.RequestedModel)
		assert.Contains(t, got.ModelSubstitution, "not installed on this deployment")
		assert.Equal(t, omtx.BaselineNote, got.ModelNote)
	})

	t.Run("a library with invalid rows is refused with every row", func(t *testing.T) {
		t.Parallel()
		f := priced(t)
		ct, body := batchForm(t, fields, "lib.csv", "name,smiles\nA,CCO\nB,C1CC\nC,CCN\nD,not-a-smiles\n")
		w := f.call(t, "POST", "/api/v1/estimate", key1, ct, body)
		require.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
		var e struct {
			Error struct {
				Code, Field string
				Rows        []library.Problem
			}
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
		assert.Equal(t, omtx.EInvalid, e.Error.Code)
		assert.Equal(t, "ligands", e.Error.Field)
		require.Len(t, e.Error.Rows, 2, w.Body.String())
		assert.Equal(t, []int{3, 5}, []int{e.Error.Rows[0].Row, e.Error.Rows[1].Row}, "1-based file rows, the header is row 1")
		assert.Equal(t, "smiles", e.Error.Rows[0].Field)
		assert.NotEmpty(t, e.Error.Rows[0].Reason)
	})

	t.Run("skip_invalid prices the valid rows and counts the rest", func(t *testing.T) {
		t.Parallel()
		f := priced(t)
		skip := map[string]string{"skip_invalid": "true"}
		for k, v := range fields {
			skip[k] = v
		}
		ct, body := batchForm(t, skip, "lib.smi", "CCO a\nC1CC b\nCCN c\n")
		got := estimated(t, f.call(t, "POST", "/api/v1/estimate", key1, ct, body))
		assert.Equal(t, 2, got.Ligands)
		assert.Equal(t, 1, got.InvalidLigands)
	})

	for _, c := range []struct {
		name, libName, lib string
		drop               string
		field              string
	}{
		{"no library file", "", "", "", "library"},
		{"no model", "lib.smi", "CCO a\n", "model", "model"},
		{"no valid ligand, even skipping", "lib.smi", "C1CC a\n", "", "ligands"},
	} {
		t.Run("refused: "+c.name, func(t *testing.T) {
			t.Parallel()
			f := priced(t)
			fs := map[string]string{}
			for k, v := range fields {
				if k != c.drop {
					fs[k] = v
				}
			}
			if c.name == "no valid ligand, even skipping" {
				fs["skip_invalid"] = "true"
			}
			ct, body := batchForm(t, fs, c.libName, c.lib)
			wantRefusal(t, f.call(t, "POST", "/api/v1/estimate", key1, ct, body), http.StatusUnprocessableEntity, c.field)
		})
	}
}
