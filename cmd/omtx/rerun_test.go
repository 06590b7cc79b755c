package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRerun(t *testing.T) {
	t.Parallel()
	t.Run("--failed prints the new batch and the one it re-runs", func(t *testing.T) {
		t.Parallel()
		f, url := newFake(t, "completed", "2,0,0,0")
		code, out, errOut := omtxRun(t, url, "rerun", "batch_old", "--failed", "--idempotency-key", "k1")
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, out, "Rerun batch batch_x of batch_old: 2 ligands")
		assert.Contains(t, out, "Results page: "+url+"/ui/#/batches/batch_x\n")
		assert.Equal(t, []string{"failed k1"}, f.reruns)
	})
	t.Run("both flags rerun both kinds; -o json is one object with batch_id and rerun_of", func(t *testing.T) {
		t.Parallel()
		f, url := newFake(t, "completed", "2,0,0,0")
		code, out, errOut := omtxRun(t, url, "-o", "json", "rerun", "batch_old", "--failed", "--cancelled")
		require.Equal(t, 0, code, errOut)
		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(out), &got), out)
		assert.Equal(t, "batch_x", got["batch_id"])
		assert.Equal(t, "batch_old", got["rerun_of"])
		require.Len(t, f.reruns, 1)
		assert.Regexp(t, `^failed_and_cancelled \S+$`, f.reruns[0], "a key is sent even when none is given")
	})
	t.Run("--wait watches the new batch to its end", func(t *testing.T) {
		t.Parallel()
		_, url := newFake(t, "completed", "1,0,1,0", "2,0,0,0")
		code, _, errOut := omtxRun(t, url, "rerun", "batch_old", "--cancelled", "--wait", "--interval", "1ms")
		require.Equal(t, 0, code, errOut)
		assert.Contains(t, errOut, "batch_x: completed\n")
	})
	t.Run("which ligands must be said", func(t *testing.T) {
		t.Parallel()
		f, url := newFake(t, "completed", "2,0,0,0")
		code, _, errOut := omtxRun(t, url, "rerun", "batch_old")
		assert.Equal(t, exitUsage, code)
		assert.Contains(t, errOut, "--failed, --cancelled, or both")
		assert.Empty(t, f.reruns)
	})
}
