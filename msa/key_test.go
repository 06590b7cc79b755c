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
