package msa_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/msa/msatest"
)

func TestValidateA3M(t *testing.T) {
	t.Parallel()
	const q = "MKTAYIAKQR"

	good := []struct {
		name  string
		a3m   string
		query string
		n     int
	}{
		{"query only", ">101\nMKTAYIAKQR\n", q, 1},
		{"no final newline", ">101\nMKTAYIAKQR", q, 1},
		{"hits with gaps and insertions", ">101\nMKTAYIAKQR\n>hit1 desc\tscore\nMKSAY-AKQR\n>hit2\nmkMKTAYIAgsKQR\n>hit3\n----YIAKQR\n", q, 4},
		{"query header is any name", ">query\nMKTAYIAKQR\n>h\nMKTAYIAKQR\n", q, 2},
		{"CRLF, blank lines and comments", "#A3M#\r\n>101\r\nMKTAYIAKQR\r\n\r\n>h\r\nMKTAYIAKQX\r\n", q, 2},
		{"lower-case query with whitespace", ">101\nMKTAYIAKQR\n", " mktay\niakqr ", 1},
		{"ambiguous residues", ">101\nMKTAYIAKQX\n>h\nBZJOUXAKQR\n", "MKTAYIAKQX", 2},
	}
	for _, tc := range good {
		t.Run("good/"+tc.name, func(t *testing.T) {
			t.Parallel()
			n, err := msa.ValidateA3M([]byte(tc.a3m), tc.query)
			require.NoError(t, err)
			assert.Equal(t, tc.n, n)
		})
	}

	t.Run("good/msatest alignment", func(t *testing.T) {
		t.Parallel()
		a3m := msatest.Alignment("101", protein, "uniref", 5)
		n, err := msa.ValidateA3M([]byte(a3m), protein)
		require.NoError(t, err)
		assert.Equal(t, 6, n)
	})

	bad := []struct {
		name  string
		a3m   string
		query string
		line  int
		msg   string
	}{
		{"empty", "", q, 0, "empty file"},
		{"whitespace only", " \n\n\t\n", q, 0, "empty file"},
		{"comments only", "#A3M#\n", q, 0, "no records"},
		{"empty query", ">101\nMKTAYIAKQR\n", "  ", 0, "query sequence is empty"},
		{"no header", "MKTAYIAKQR\n", q, 1, "does not start with a '>' header"},
		{"wrong query", ">101\nMKTAYIAKQW\n", q, 2, "first record is not the query"},
		{"query is a prefix", ">101\nMKTAYIAKQ\n", q, 2, "first record is not the query"},
		{"query with insertions removed differs", ">101\nMKTAYIAKqr\n", q, 2, "first record is not the query"},
		{"bad char star", ">101\nMKTAYIAKQR\n>h\nMKTAY*AKQR\n", q, 4, `invalid character '*' at column 6`},
		{"bad char dot", ">101\nMKTAYIAKQR\n>h\nMKTAY.AKQR\n", q, 4, `invalid character '.'`},
		{"bad char digit", ">101\nMKTAYIAKQR\n>h\nMKTAY1AKQR\n", q, 4, `invalid character '1'`},
		{"bad char space", ">101\nMKTAYIAKQR\n>h\nMKTAY AKQR\n", q, 4, `invalid character ' '`},
		{"NUL byte", ">101\nMKTAYIAKQR\n>h\nMKTAYIAKQR\x00\n", q, 4, `invalid character`},
		{"header without sequence", ">101\nMKTAYIAKQR\n>h1\n>h2\nMKTAYIAKQR\n", q, 3, "header has no sequence"},
		{"last header without sequence", ">101\nMKTAYIAKQR\n>h1\n", q, 3, "header has no sequence"},
		{"wrapped sequence", ">101\nMKTAY\nIAKQR\n", q, 3, "second sequence line"},
		{"hit too short", ">101\nMKTAYIAKQR\n>h\nMKTAYIAKQ\n", q, 4, "record 2 has 9 match columns, the query has 10"},
		{"hit too long", ">101\nMKTAYIAKQR\n>h\nMKTAYIAKQR-\n", q, 4, "record 2 has 11 match columns"},
	}
	for _, tc := range bad {
		t.Run("bad/"+tc.name, func(t *testing.T) {
			t.Parallel()
			n, err := msa.ValidateA3M([]byte(tc.a3m), tc.query)
			require.Error(t, err)
			assert.Zero(t, n)
			var ae *msa.A3MError
			require.True(t, errors.As(err, &ae), "%T", err)
			assert.Equal(t, tc.line, ae.Line)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}

	t.Run("long mismatch message is abbreviated", func(t *testing.T) {
		t.Parallel()
		_, err := msa.ValidateA3M([]byte(">101\n"+protein[1:]+"\n"), protein)
		require.Error(t, err)
		assert.Less(t, len(err.Error()), 200)
		assert.True(t, strings.Contains(err.Error(), "..."))
	})
}
