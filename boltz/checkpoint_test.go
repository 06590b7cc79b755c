package boltz

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// checkpoints collects what a request's Structured hears.
type checkpoints struct {
	mu  sync.Mutex
	got map[int]omtx.Checkpoint
	n   map[int]int
}

func (c *checkpoints) hear(i int, cp omtx.Checkpoint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.got == nil {
		c.got, c.n = map[int]omtx.Checkpoint{}, map[int]int{}
	}
	c.got[i] = cp
	c.n[i]++
}

func (c *checkpoints) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

// phases reads the stand-in's timing log: the records of each phase.
func phases(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l struct{ Phase, Record string }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
		out[l.Phase] = append(out[l.Phase], l.Record)
	}
	return out
}

// TestStructureCheckpointResume: with Boltz's two passes, a call killed
// in its structure pass has handed over the checkpoint of every ligand
// whose structure was written, and a later call given them as Resume (in
// a fresh work dir) runs the structure pass only
// for the ligand that was in flight, and the affinity pass for all:
// Boltz's own skip rules, which --override would defeat.
func TestStructureCheckpointResume(t *testing.T) {
	t.Parallel()
	timing := filepath.Join(t.TempDir(), "timing.jsonl")
	ls := ligands("CCO", "c1ccccc1O", "CC(=O)O", "CCN")
	records := []string{"b1", "b2", "b3", "b4"}

	msa := filepath.Join(t.TempDir(), "a.a3m")
	require.NoError(t, os.WriteFile(msa, []byte(">101\n"+protein+"\n"), 0o644))

	// The first call: structures of b1, b2 and b3 are written, b4 hangs
	// in flight; the call is killed then.
	f := newFake(t, "FAKE_BOLTZ_TWO_PASS=1", "FAKE_BOLTZ_HANG=b4",
		"FAKE_BOLTZ_TIME_SCALE=400", "FAKE_BOLTZ_TIMING="+timing)
	r := f.runner(t, Config{})
	var cps checkpoints
	req := request(t, ls)
	req.Records, req.Structured, req.MSAPath = records, cps.hear, msa
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for end := time.Now().Add(10 * time.Second); cps.count() < 3 && time.Now().Before(end); {
			time.Sleep(20 * time.Millisecond)
		}
		// Well after b3's files: b4 is hanging.
		time.Sleep(300 * time.Millisecond)
		cancel()
	}()
	_, err := r.Predict(ctx, req)
	require.Error(t, err, "the call was killed")
	require.Equal(t, 3, cps.count(), "every written structure was handed over, the one in flight not")
	for i := range 3 {
		cp := cps.got[i]
		assert.Equal(t, 1, cps.n[i], "ligand %d handed over once", i)
		assert.Equal(t, records[i], cp.Record)
		id := records[i]
		for _, f := range []string{
			"processed/records/" + id + ".json", "processed/structures/" + id + ".npz",
			"processed/msa/" + id + "_0.npz", "processed/mols/" + id + ".pkl",
			"predictions/" + id + "/pre_affinity_" + id + ".npz",
			"predictions/" + id + "/" + id + "_model_0.cif",
		} {
			assert.Contains(t, cp.Files, f, "ligand %d", i)
		}
		for f := range cp.Files {
			assert.True(t, checkpointPath(id, f), "%s is %s's", f, id)
			assert.NotContains(t, f, "affinity_"+id+".json", "killed before its affinity pass")
		}
	}
	first := phases(t, timing)
	assert.ElementsMatch(t, records, first["ligand"], "b4's structure compute ended, its write hung")
	require.NoError(t, os.Remove(timing))

	// The retry, on another machine: a fresh work dir with the checkpoints.
	f2 := newFake(t, "FAKE_BOLTZ_TWO_PASS=1", "FAKE_BOLTZ_TIME_SCALE=400", "FAKE_BOLTZ_TIMING="+timing)
	r2 := f2.runner(t, Config{})
	var fin finished
	req2 := request(t, ls)
	req2.Records, req2.Finished, req2.MSAPath = records, fin.hear, msa
	req2.Resume = map[int]omtx.Checkpoint{0: cps.got[0], 1: cps.got[1], 2: cps.got[2]}
	preds, err := r2.Predict(context.Background(), req2)
	require.NoError(t, err)
	for i, p := range preds {
		assert.Empty(t, p.Error, "ligand %d", i)
		assert.NotZero(t, p.AffinityProbabilityBinary, "ligand %d", i)
	}
	second := phases(t, timing)
	assert.Equal(t, []string{"b4"}, second["ligand"], "only the ligand in flight runs its structure again")
	assert.ElementsMatch(t, records, second["affinity"], "the affinity pass runs for all four")
	runs := f2.runs(t)
	require.Len(t, runs, 1)
	assert.False(t, slices.Contains(runs[0].Argv, "--override"), "a resuming call must not pass --override: %v", runs[0].Argv)

	t.Run("a checkpoint for another record or with a foreign file is refused", func(t *testing.T) {
		t.Parallel()
		bad := omtx.Checkpoint{Record: "b1", Files: map[string][]byte{}}
		for k, v := range cps.got[0].Files {
			bad.Files[k] = v
		}
		bad.Files["predictions/b2/pre_affinity_b2.npz"] = []byte("x")
		req := request(t, ls[:1])
		req.Records, req.Resume, req.MSAPath = records[:1], map[int]omtx.Checkpoint{0: bad}, msa
		_, err := r2.Predict(context.Background(), req)
		require.ErrorContains(t, err, "not one of its files")
		req.Resume = map[int]omtx.Checkpoint{0: cps.got[1]}
		_, err = r2.Predict(context.Background(), req)
		require.ErrorContains(t, err, "checkpoint of record b2 given for ligand 0")
	})
}

// TestCheckpointPath: a record's files and nothing else, with b1 and b10
// kept apart.
func TestCheckpointPath(t *testing.T) {
	t.Parallel()
	for rel, want := range map[string]bool{
		"processed/records/b1.json":          true,
		"processed/msa/b1_0.npz":             true,
		"processed/templates/b1_tpl.npz":     true,
		"processed/msa/b10_0.npz":            false,
		"processed/records/b10.json":         false,
		"processed/manifest.json":            false,
		"processed/other/b1.json":            false,
		"predictions/b1/b1_model_0.cif":      true,
		"predictions/b10/b10_model_0.cif":    false,
		"predictions/b1/../b2/x.cif":         false,
		"../predictions/b1/x":                false,
		"/predictions/b1/x":                  false,
		"predictions/b1/sub/x":               false,
		"predictions/b1/pre_affinity_b1.npz": true,
	} {
		assert.Equal(t, want, checkpointPath("b1", rel), rel)
	}
}

// TestStructureWritten: a record is written once each file is whole: an
// npz closed by its end record, a JSON that parses.
func TestStructureWritten(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, n := range []string{"b1_model_0.cif", "confidence_b1_model_0.json", "plddt_b1_model_0.npz", "pre_affinity_b1.npz"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644))
	}
	npz := func(n string) {
		// A one-file zip as numpy writes it, from the stand-in's writer.
		b, err := os.ReadFile(filepath.Join("testdata", "whole.npz"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), b, 0o644))
	}
	assert.False(t, structureWritten(dir, "b1", 1, nil), "npz files not whole, JSON not parsing")
	npz("plddt_b1_model_0.npz")
	npz("pre_affinity_b1.npz")
	assert.False(t, structureWritten(dir, "b1", 1, nil), "JSON not parsing")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "confidence_b1_model_0.json"), []byte(`{"confidence_score": 0.5}`), 0o644))
	assert.True(t, structureWritten(dir, "b1", 1, nil))
	assert.False(t, structureWritten(dir, "b1", 2, nil), "a second sample is missing")
	assert.False(t, structureWritten(dir, "b1", 1, []string{"--write_full_pae"}), "pae asked for and missing")
	b, err := os.ReadFile(filepath.Join(dir, "pre_affinity_b1.npz"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "pre_affinity_b1.npz"), b[:len(b)-5], 0o644))
	assert.False(t, structureWritten(dir, "b1", 1, nil), "a cut npz")
}
