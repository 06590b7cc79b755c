package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// cancelledBatch serves a batch of 420 ligands that is cancelled after 50
// finished (45 completed, 5 failed): running on the first poll, cancelled
// with 370 cancelled ligands after.
func cancelledBatch(t *testing.T) string {
	t.Helper()
	var mu sync.Mutex
	polls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		polls++
		doc := map[string]any{"job_id": "batch_c", "job_type": "BATCH_PARENT", "status": "running", "model": "m",
			"progress": map[string]int{"total": 420, "completed": 45, "failed": 5, "running": 10, "pending": 360}}
		if polls > 1 {
			doc["status"] = "cancelled"
			doc["progress"] = map[string]int{"total": 420, "completed": 45, "failed": 5, "cancelled": 370}
		}
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// watchCancelled runs `omtx watch` on the cancelled batch, with the live
// bar (tty) or plain lines, and returns stderr.
func watchCancelled(t *testing.T, tty bool) string {
	t.Helper()
	url := cancelledBatch(t)
	var out, errb bytes.Buffer
	env := map[string]string{"OMTX_API_URL": url, "OMTX_API_KEY": "good-key-0123456789"}
	a := &app{getenv: func(k string) string { return env[k] }, stdout: &out, stderr: &errb, isTTY: tty}
	root := a.rootCmd()
	root.SetArgs([]string{"watch", "batch_c", "--interval", "1ms"})
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.ExecuteContext(context.Background())
	assert.Equal(t, 1, a.report(err), "a cancelled batch exits 1")
	return errb.String()
}

// TestWatchCancelledIsNotFull: after a cancel the progress reads the
// ligands that finished (50 of 420), not 420/420, with the cancelled ones
// shown apart; on a terminal's bar and on plain lines.
func TestWatchCancelledIsNotFull(t *testing.T) {
	t.Parallel()
	t.Run("bar", func(t *testing.T) {
		t.Parallel()
		s := watchCancelled(t, true)
		last := s[strings.LastIndex(s, "\r")+1:]
		assert.Contains(t, last, "50/420", "%q", s)
		assert.NotContains(t, s, "420/420")
		assert.NotContains(t, s, "100%")
		assert.Contains(t, s, "cancelled 370")
		assert.NotContains(t, last, "/min", "the cancelled ligands are no burst of speed: no rate from 0 newly finished")
	})
	t.Run("lines", func(t *testing.T) {
		t.Parallel()
		s := watchCancelled(t, false)
		assert.Contains(t, s, "batch_c cancelled: 50/420 done; completed 45, failed 5, running 0, pending 0, cancelled 370")
		assert.NotContains(t, s, "420/420")
	})
}
