package msa_test

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/omtx-hub/omtx-hub/msa"
)

func TestKey(t *testing.T) {
	t.Parallel()

	t.Run("known value", func(t *testing.T) {
		t.Parallel()
		// printf MKTAYIAKQRQISFVKSHFSRQ | sha256sum
		assert.Equal(t, "3d543420ab3676702f7ead6aca7dcd588b6fc5f1ac71be5da55216d828f5f60b", msa.Key("MKTAYIAKQRQISFVKSHFSRQ"))
	})

	t.Run("stable and case-insensitive", func(t *testing.T) {
		t.Parallel()
		k := msa.Key(protein)
		assert.Regexp(t, regexp.MustCompile(`^[0-9a-f]{64}$`), k)
		assert.Equal(t, k, msa.Key(protein))
		assert.Equal(t, k, msa.Key(toLower(protein)))
		assert.Equal(t, k, msa.Key(protein[:10]+toLower(protein[10:])))
		assert.NotEqual(t, k, msa.Key(protein[1:]))
	})

	t.Run("cache object", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, "msa/3d543420ab3676702f7ead6aca7dcd588b6fc5f1ac71be5da55216d828f5f60b.a3m", msa.CacheObject("MKTAYIAKQRQISFVKSHFSRQ"))
		assert.Equal(t, msa.CacheObject("mktayiakqrqisfvkshfsrq"), msa.CacheObject("MKTAYIAKQRQISFVKSHFSRQ"))
		assert.Equal(t, "msa/"+msa.Key(protein)+".a3m", msa.CacheObject(protein))
	})
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// TestKeySpec: the cache key names how the MSA was computed; switching
// any part (server, pairing, environmental databases, database version)
// misses the cache.
func TestKeySpec(t *testing.T) {
	t.Parallel()
	base := msa.KeySpec{ServerURL: "https://api.colabfold.com", UseEnv: true, DBVersion: "uniref30_2302"}
	k := base.CacheObject(protein)
	assert.Regexp(t, regexp.MustCompile(`^msa/v2/[0-9a-f]{64}\.a3m$`), k)
	assert.NotEqual(t, msa.CacheObject(protein), k, "the sequence-only key of old releases is not reused")

	t.Run("each part misses", func(t *testing.T) {
		t.Parallel()
		for name, change := range map[string]func(*msa.KeySpec){
			"server":     func(s *msa.KeySpec) { s.ServerURL = "http://msa.internal:8080" },
			"env":        func(s *msa.KeySpec) { s.UseEnv = false },
			"db version": func(s *msa.KeySpec) { s.DBVersion = "uniref30_2403" },
			"no version": func(s *msa.KeySpec) { s.DBVersion = "" },
		} {
			s := base
			change(&s)
			assert.NotEqual(t, k, s.CacheObject(protein), name)
		}
		assert.NotEqual(t, k, base.CacheObject(protein[1:]), "sequence")
		assert.NotEqual(t, base.Key(protein), base.PairedKey([]string{protein}, 0), "pairing")
	})

	t.Run("same computation, same key", func(t *testing.T) {
		t.Parallel()
		s := base
		s.ServerURL = " https://api.colabfold.com/ "
		assert.Equal(t, k, s.CacheObject(protein), "one server written two ways")
		assert.Equal(t, k, base.CacheObject(toLower(protein)))
	})

	t.Run("the client's spec", func(t *testing.T) {
		t.Parallel()
		c := &msa.Client{BaseURL: "https://api.colabfold.com", UseEnv: true}
		assert.Equal(t, base, c.KeySpec("uniref30_2302"))
	})

	t.Run("parts cannot run into each other", func(t *testing.T) {
		t.Parallel()
		a := msa.KeySpec{ServerURL: "a", DBVersion: "b"}
		b := msa.KeySpec{ServerURL: "a\ndb=b"}
		assert.NotEqual(t, a.Key(protein), b.Key(protein))
	})
}
