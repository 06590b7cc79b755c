package resultcache_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/resultcache"
	"github.com/omtx-hub/omtx-hub/target"
)

const protein = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"

func mustLigand(t *testing.T, smiles string) string {
	t.Helper()
	id, err := resultcache.Ligand(smiles)
	require.NoError(t, err)
	return id
}

func mustOneChain(t *testing.T, seq, digest string) string {
	t.Helper()
	h, err := resultcache.OneChainTarget(seq, digest)
	require.NoError(t, err)
	return h
}

func seed(n int64) *int64 { return &n }

// baseKey is a full key; each test changes one part of a copy.
func baseKey(t *testing.T) resultcache.Key {
	return resultcache.Key{
		Scope:        resultcache.Scope("alice", nil),
		Target:       mustOneChain(t, protein, "a3mdigest0"),
		Ligand:       mustLigand(t, "CC(=O)Oc1ccccc1C(=O)O"),
		Settings:     omtx.Parameters{UseMSA: true, MSAMode: omtx.MSAModeServer, NumSamples: 1, Seed: seed(42), RecyclingSteps: 3},
		Model:        omtx.ModelBoltz2,
		ModelVersion: "boltz 2.2.1",
		Checkpoint:   "boltz2_conf.ckpt sha256:aa; boltz2_aff.ckpt sha256:bb",
	}
}

// TestKeyPartsMiss: changing any one part of the key gives another hash,
// so a lookup with it misses; the unchanged key hashes the same.
func TestKeyPartsMiss(t *testing.T) {
	t.Parallel()
	base := baseKey(t)
	require.Equal(t, base.Hash(), baseKey(t).Hash(), "the same key must hash the same")
	for name, change := range map[string]func(*resultcache.Key){
		"target chain sequence": func(k *resultcache.Key) { k.Target = mustOneChain(t, protein+"A", "a3mdigest0") },
		"msa digest":            func(k *resultcache.Key) { k.Target = mustOneChain(t, protein, "a3mdigest1") },
		"no msa":                func(k *resultcache.Key) { k.Target = mustOneChain(t, protein, "") },
		"ligand":                func(k *resultcache.Key) { k.Ligand = mustLigand(t, "CC(=O)Oc1ccccc1C(=O)OC") },
		"stereo":                func(k *resultcache.Key) { k.Ligand = mustLigand(t, "C[C@H](N)C(=O)O") },
		"settings":              func(k *resultcache.Key) { k.Settings.RecyclingSteps = 10 },
		"samples":               func(k *resultcache.Key) { k.Settings.NumSamples = 5 },
		"potentials":            func(k *resultcache.Key) { v := true; k.Settings.UsePotentials = &v },
		"seed":                  func(k *resultcache.Key) { k.Settings.Seed = seed(43) },
		"no seed":               func(k *resultcache.Key) { k.Settings.Seed = nil },
		"model":                 func(k *resultcache.Key) { k.Model = "baseline" },
		"model version":         func(k *resultcache.Key) { k.ModelVersion = "boltz 2.2.2" },
		"checkpoint digest":     func(k *resultcache.Key) { k.Checkpoint = "boltz2_conf.ckpt sha256:cc; boltz2_aff.ckpt sha256:bb" },
		"user":                  func(k *resultcache.Key) { k.Scope = resultcache.Scope("bob", nil) },
		"deployment defaults":   func(k *resultcache.Key) { k.Defaults = "sha256:other" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			k := baseKey(t)
			change(&k)
			assert.NotEqual(t, base.Hash(), k.Hash())
		})
	}
}

// TestLigandSpellingsHit: one molecule written twice (Kekulé or aromatic,
// atoms in another order) is one ligand, so its key hits.
func TestLigandSpellingsHit(t *testing.T) {
	t.Parallel()
	for name, pair := range map[string][2]string{
		"kekule vs aromatic": {"CC(=O)OC1=CC=CC=C1C(=O)O", "CC(=O)Oc1ccccc1C(=O)O"},
		"atom order":         {"OC(=O)c1ccccc1OC(C)=O", "CC(=O)Oc1ccccc1C(=O)O"},
		"pyridine":           {"C1=CC=NC=C1", "n1ccccc1"},
		"stereo kept":        {"C[C@@H](C(=O)O)N", "N[C@@H](C)C(=O)O"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			a, b := baseKey(t), baseKey(t)
			a.Ligand, b.Ligand = mustLigand(t, pair[0]), mustLigand(t, pair[1])
			assert.Equal(t, a.Hash(), b.Hash())
		})
	}
}

// TestScope: users are apart by default; only the named users share.
func TestScope(t *testing.T) {
	t.Parallel()
	assert.NotEqual(t, resultcache.Scope("alice", nil), resultcache.Scope("bob", nil))
	shared := []string{"alice", "bob"}
	assert.Equal(t, resultcache.Scope("alice", shared), resultcache.Scope("bob", shared))
	assert.NotEqual(t, resultcache.Scope("alice", shared), resultcache.Scope("carol", shared), "a user not named keeps their own scope")
	assert.NotEqual(t, resultcache.Scope("", shared), resultcache.Scope("alice", shared))
}

// TestTargetHashAgreesWithOneChain: the stored form of the one-chain
// target (as the GPU worker writes it) hashes as OneChainTarget does.
func TestTargetHashAgreesWithOneChain(t *testing.T) {
	t.Parallel()
	tg := target.OneChain(protein, target.MSAFile)
	tg.Chains[0].MSA.File = "msa.a3m"
	raw, err := json.Marshal(tg)
	require.NoError(t, err)
	h, err := resultcache.TargetHash(raw, map[string]string{"A": "d1"})
	require.NoError(t, err)
	assert.Equal(t, mustOneChain(t, protein, "d1"), h)
	assert.NotEqual(t, mustOneChain(t, protein, "d2"), h)
}

// TestRecent: newest first, bounded; no document means no run to try.
func TestRecent(t *testing.T) {
	t.Parallel()
	assert.Empty(t, resultcache.Recent(nil))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	doc := &omtx.ModelRuns{Model: "m", Runs: map[string]omtx.ModelRun{}}
	for i := range 6 {
		r := omtx.ModelRun{Version: "v", Checkpoint: string(rune('a' + i)), LastSeen: t0.Add(time.Duration(i) * time.Hour)}
		doc.Runs[resultcache.RunID(r.Version, r.Checkpoint, r.Defaults)] = r
	}
	got := resultcache.Recent(doc)
	require.Len(t, got, resultcache.MaxRuns)
	assert.Equal(t, "f", got[0].Checkpoint)
	assert.Equal(t, "c", got[3].Checkpoint)
	assert.NotEqual(t, resultcache.RunID("v", "a", ""), resultcache.RunID("va", "", ""))
	assert.NotEqual(t, resultcache.RunID("v", "a", "d1"), resultcache.RunID("v", "a", "d2"), "a changed deployment default is another run")
}
