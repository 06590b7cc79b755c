package api

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

func TestSplitFASTA(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, wantName, wantSeq string }{
		{"bare sequence", "MKTAYIAKQR", "", "MKTAYIAKQR"},
		{"a record", ">CA2\nMKTAY\nIAKQR\n", "CA2", "MKTAYIAKQR"},
		{"CRLF and a long header", ">sp|P00918|CAH2_HUMAN Carbonic anhydrase 2\r\nMKTAY IAKQR\r\n", "sp|P00918|CAH2_HUMAN Carbonic anhydrase 2", "MKTAYIAKQR"},
		{"control characters dropped", ">CA\x072\nMKT", "CA2", "MKT"},
		{"a second record stays for validation", ">a\nMKT\n>b\nMKT", "a", "MKT>bMKT"},
		{"over-long name cut at a rune", ">" + strings.Repeat("é", 150) + "\nMKT", strings.Repeat("é", 100), "MKT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name, seq := splitFASTA(tt.in)
			assert.Equal(t, tt.wantName, name)
			assert.Equal(t, tt.wantSeq, seq)
		})
	}
}

// TestFASTAHeaderNamesTheProtein: a FASTA record sent as protein_sequence
// gives the job its protein's name and the bare sequence, for a
// prediction (JSON) and a batch (multipart upload).
func TestFASTAHeaderNamesTheProtein(t *testing.T) {
	t.Parallel()
	const fasta = ">CA2\nMKTAYIAKQR\nQISFVKSHFSRQ\n"
	t.Run("predict", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		body, err := json.Marshal(map[string]any{"model": omtx.BaselineModel, "protein_sequence": fasta, "ligand_smiles": "CCO"})
		require.NoError(t, err)
		w := f.do("POST", "/api/v1/predict", key1, string(body))
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		var got SubmitResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
		job, err := f.jobs.Get(context.Background(), got.JobID)
		require.NoError(t, err)
		assert.Equal(t, "CA2", job.InputData.ProteinName)
		assert.Equal(t, "MKTAYIAKQRQISFVKSHFSRQ", job.InputData.ProteinSequence)
		assert.Equal(t, "CA2", f.sched.predictions()[0].Job.InputData.ProteinName, "the workflow's spec carries it to the job")
	})
	t.Run("batch upload", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		require.NoError(t, mw.WriteField("model", omtx.BaselineModel))
		require.NoError(t, mw.WriteField("protein_sequence", fasta))
		fw, err := mw.CreateFormFile("library", "lib.smi")
		require.NoError(t, err)
		_, err = fw.Write([]byte("CCO ethanol\n"))
		require.NoError(t, err)
		require.NoError(t, mw.Close())
		req := httptest.NewRequest("POST", "/api/v1/predict/batch", &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", "Bearer "+key1)
		w := httptest.NewRecorder()
		f.srv.Handler().ServeHTTP(w, req)
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		in := f.sched.batches()[0].Parent.InputData
		assert.Equal(t, "CA2", in.ProteinName)
		assert.Equal(t, "MKTAYIAKQRQISFVKSHFSRQ", in.ProteinSequence)
	})
}
