package msa_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/msa/msatest"
)

// TestPairedCSV builds each chain's CSV from testdata/paired and compares
// it with the CSV that Boltz's own compute_msa step (jwohlwend/boltz
// src/boltz/main.py L496-522, commit 832486d) writes for the same input:
// A.csv and B.csv were produced by running those lines of main.py
// unchanged under python3 on the *.paired.a3m and *.unpaired.a3m files.
// The fixture has an all-gap paired row in chain B (dropped, its key
// with it), insertions and gaps that must be kept as they are, and
// unpaired queries to drop.
func TestPairedCSV(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "paired")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return b
	}
	for _, chain := range []string{"A", "B"} {
		t.Run(chain, func(t *testing.T) {
			t.Parallel()
			got, err := msa.PairedCSV(read(chain+".paired.a3m"), read(chain+".unpaired.a3m"))
			require.NoError(t, err)
			assert.Equal(t, string(read(chain+".csv")), string(got))
		})
	}
	t.Run("no paired rows keeps the query unpaired", func(t *testing.T) {
		t.Parallel()
		got, err := msa.PairedCSV([]byte(">101\n---\n"), []byte(">101\nMKT\n>h\nMRT\n"))
		require.NoError(t, err)
		assert.Equal(t, "key,sequence\n-1,MKT\n-1,MRT", string(got))
	})
}

func TestComputePaired(t *testing.T) {
	t.Parallel()
	const a, b = "MKTAYIAKQRQISFVKSHFSRQ", "GSHMLEDPVAGKTFLW"
	srv := msatest.New(t, msatest.Options{PendingPolls: 1})
	got, err := client(srv.URL).ComputePaired(context.Background(), []string{a, b})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, msatest.PairedAlignment("101", a), string(got[0]))
	assert.Equal(t, msatest.PairedAlignment("102", b), string(got[1]))
	assert.Equal(t, 1, srv.Submissions())
	assert.Equal(t, 1, srv.PairSubmissions())
	assert.Equal(t, []string{a, b}, srv.Sequences())

	t.Run("refuses one sequence and repeats", func(t *testing.T) {
		t.Parallel()
		_, err := client(srv.URL).ComputePaired(context.Background(), []string{a})
		assert.False(t, msa.IsRetryable(err), "%v", err)
		_, err = client(srv.URL).ComputePaired(context.Background(), []string{a, a})
		assert.False(t, msa.IsRetryable(err), "%v", err)
	})
	t.Run("the CSV pairs rows by key across chains", func(t *testing.T) {
		t.Parallel()
		ua, err := client(srv.URL).Compute(context.Background(), a)
		require.NoError(t, err)
		csv, err := msa.PairedCSV(got[0], ua)
		require.NoError(t, err)
		assert.Contains(t, string(csv), "key,sequence\n0,"+a+"\n1,")
		assert.Contains(t, string(csv), "\n-1,")
	})
}

func TestPairedKey(t *testing.T) {
	t.Parallel()
	spec := msa.KeySpec{ServerURL: "http://msa", UseEnv: true, DBVersion: "2025-01"}
	seqs := []string{"MKT", "GSH"}
	keys := map[string]string{
		"unpaired A":  spec.CacheObject("MKT"),
		"paired A":    spec.PairedCacheObject(seqs, 0),
		"paired B":    spec.PairedCacheObject(seqs, 1),
		"swapped A":   spec.PairedCacheObject([]string{"GSH", "MKT"}, 1),
		"other db":    msa.KeySpec{ServerURL: "http://msa", UseEnv: true, DBVersion: "2026-01"}.PairedCacheObject(seqs, 0),
		"other chain": spec.PairedCacheObject([]string{"MKT", "GSHA"}, 0),
	}
	seen := map[string]string{}
	for name, k := range keys {
		if other, ok := seen[k]; ok {
			t.Errorf("%s and %s share the cache object %s", name, other, k)
		}
		seen[k] = name
	}
	assert.Equal(t, ".csv", filepath.Ext(keys["paired A"]))
	assert.True(t, msa.IsPairedObject(keys["paired A"]))
	assert.False(t, msa.IsPairedObject(keys["unpaired A"]))
	assert.Equal(t, spec.PairedCacheObject(seqs, 0), msa.KeySpec{ServerURL: "http://msa/ ", UseEnv: true, DBVersion: "2025-01"}.PairedCacheObject(seqs, 0))
}
