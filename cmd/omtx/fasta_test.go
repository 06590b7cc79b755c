package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFASTAHeaderIsSent: --protein @file.fasta sends the record with its
// header, which the API keeps as the protein's name; a file of bare lines
// sends the bare sequence.
func TestFASTAHeaderIsSent(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseMultipartForm(1 << 20)
		mu.Lock()
		got = append(got, r.FormValue("protein_sequence"))
		mu.Unlock()
		w.WriteHeader(202)
		fmt.Fprint(w, `{"batch_id":"batch_x","job_id":"batch_x","status":"pending","model":"m","total_ligands":1,"url":"/api/v1/batches/batch_x"}`)
	}))
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	lib := filepath.Join(dir, "l.smi")
	require.NoError(t, os.WriteFile(lib, []byte("CCO ethanol\n"), 0o644))
	for _, tc := range []struct{ file, want string }{
		{">CA2 human carbonic anhydrase II\nMKTAYIAKQR\nqisfvkshfs\n", ">CA2 human carbonic anhydrase II\nMKTAYIAKQRQISFVKSHFS"},
		{"MKTAYIAKQR\nQISFVKSHFS\n", "MKTAYIAKQRQISFVKSHFS"},
	} {
		fasta := filepath.Join(t.TempDir(), "p.fasta")
		require.NoError(t, os.WriteFile(fasta, []byte(tc.file), 0o644))
		code, _, errOut := omtxRun(t, srv.URL, "screen", "--protein", "@"+fasta, "--library", lib)
		require.Equal(t, 0, code, errOut)
		mu.Lock()
		assert.Equal(t, tc.want, got[len(got)-1])
		mu.Unlock()
	}
}
