package msa

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueryLines(t *testing.T) {
	t.Parallel()

	t.Run("entries split by NUL bytes", func(t *testing.T) {
		t.Parallel()
		data := ">101\nAAA\n>h1\nAAC\n\x00>102\nCCC\n>h2\nCCA\n\x00>101\nAAA\n>h3\nAAD\n\x00"
		got, err := queryLines([]byte(data))
		require.NoError(t, err)
		assert.Equal(t, map[int][]string{
			101: {">101", "AAA", ">h1", "AAC", ">101", "AAA", ">h3", "AAD"},
			102: {">102", "CCC", ">h2", "CCA"},
		}, got)
	})

	t.Run("headers inside an entry are hits", func(t *testing.T) {
		t.Parallel()
		got, err := queryLines([]byte(">101\r\nAAA\r\n>102\r\nAAC\r\n"))
		require.NoError(t, err)
		assert.Equal(t, map[int][]string{101: {">101", "AAA", ">102", "AAC"}}, got)
	})

	t.Run("text before the first header", func(t *testing.T) {
		t.Parallel()
		_, err := queryLines([]byte("AAA\n>101\nAAA\n"))
		assert.ErrorContains(t, err, "line 1")
	})

	t.Run("entry header that is not a number", func(t *testing.T) {
		t.Parallel()
		_, err := queryLines([]byte(">query\nAAA\n"))
		assert.ErrorContains(t, err, "not a query number")
	})
}

func TestMergeQuery(t *testing.T) {
	t.Parallel()

	t.Run("uniref then env, query copy dropped", func(t *testing.T) {
		t.Parallel()
		uniref := ">101\nAAAA\n>u1\nAAAC\n>u2\nA-AA\n\x00"
		env := ">101\nAAAA\n>e1\nAAgAD\n\x00"
		got, err := mergeQuery([][]byte{[]byte(uniref), []byte(env)})
		require.NoError(t, err)
		assert.Equal(t, ">101\nAAAA\n>u1\nAAAC\n>u2\nA-AA\n>e1\nAAgAD\n", string(got))
	})

	t.Run("other queries ignored", func(t *testing.T) {
		t.Parallel()
		uniref := ">102\nCCCC\n>x\nCCCA\n\x00>101\nAAAA\n>u1\nAAAC\n\x00"
		env := ">101\nAAAA\n\x00>102\nCCCC\n>y\nCCCD\n\x00"
		got, err := mergeQuery([][]byte{[]byte(uniref), []byte(env)})
		require.NoError(t, err)
		assert.Equal(t, ">101\nAAAA\n>u1\nAAAC\n", string(got))
	})

	t.Run("wrapped sequences joined", func(t *testing.T) {
		t.Parallel()
		got, err := mergeQuery([][]byte{[]byte(">101\nAA\nAA\n>u1\nAA\nAC\n")})
		require.NoError(t, err)
		assert.Equal(t, ">101\nAAAA\n>u1\nAAAC\n", string(got))
	})

	t.Run("no entry for the query", func(t *testing.T) {
		t.Parallel()
		got, err := mergeQuery([][]byte{[]byte(">102\nCCCC\n\x00"), []byte(">101\nAAAA\n\x00")})
		require.NoError(t, err)
		assert.Nil(t, got)
		got, err = mergeQuery([][]byte{{}})
		require.NoError(t, err)
		assert.Nil(t, got)
	})

	t.Run("record without sequence", func(t *testing.T) {
		t.Parallel()
		_, err := mergeQuery([][]byte{[]byte(">101\nAAAA\n>u1\n\x00")})
		assert.ErrorContains(t, err, "has no sequence")
	})
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"12", 12 * time.Second},
		{"-3", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, retryAfter(tc.in, now))
		})
	}
}
