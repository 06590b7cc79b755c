package keys

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseShortForm(t *testing.T) {
	t.Parallel()
	s, err := Parse("# comment\nabcdefghijklmnopq=u1\nQUJDREVGR0hJSktMTU5PUA===u2, rstuvwxyzabcdefgh=u3", nil)
	require.NoError(t, err)
	assert.Equal(t, 3, s.Len())
	k, ok := s.Lookup("QUJDREVGR0hJSktMTU5PUA==")
	require.True(t, ok, "a base64 key ending in = is a key, the user is after the last =")
	assert.Equal(t, "u2", k.User)
	assert.Equal(t, DefaultPriorities, k.Priorities)
	assert.Empty(t, k.WebhookSecret(), "no deployment secret, no webhook secret")
	_, ok = s.Lookup("nope-nope-nope-nope")
	assert.False(t, ok)
}

func TestParseRefuses(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, spec, want string }{
		{"empty", "", "none configured"},
		{"short key", "short=u", "shorter than"},
		{"no user", "abcdefghijklmnopq=", "is not 1-128"},
		{"no separator", "novalue", "not key=user_id"},
		{"duplicate key", "abcdefghijklmnopq=u1,abcdefghijklmnopq=u2", "listed twice"},
		{"bad user", "abcdefghijklmnopq=us er", "is not 1-128"},
		{"unknown attribute", "keys:\n  - key: abcdefghijklmnopq\n    user: u\n    colour: red\n", "unknown field"},
		{"bad priority", "keys:\n  - key: abcdefghijklmnopq\n    user: u\n    priorities: [urgent]\n", "unknown priority"},
		{"zero rate", "keys:\n  - key: abcdefghijklmnopq\n    user: u\n    submit_rate: 0\n", "submit_rate"},
		{"key and digest", "keys:\n  - key: abcdefghijklmnopq\n    key_sha256: " + strings.Repeat("a", 64) + "\n    user: u\n", "not both"},
		{"bad digest", "keys:\n  - key_sha256: abc\n    user: u\n", "64 hex"},
		{"short webhook secret", "keys:\n  - key: abcdefghijklmnopq\n    user: u\n    webhook_secret: short\n", "webhook_secret"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(c.spec, nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.NotContains(t, err.Error(), "abcdefghijklmnopq", "errors never repeat a key")
		})
	}
}

func TestParseFile(t *testing.T) {
	t.Parallel()
	spec := `keys:
  - key: "abcdefghijklmnopq"
    user: lab_a
    priorities: [low, normal, high]
    max_inflight_ligands: 500
    max_concurrent_batches: 2
    submit_rate: 2.5
    webhook_secret: "a-secret-of-enough-length"
  - key_sha256: "` + strings.Repeat("0", 64) + `"
    user: lab_b
`
	s, err := Parse(spec, []byte("deployment-secret"))
	require.NoError(t, err)
	a, ok := s.Lookup("abcdefghijklmnopq")
	require.True(t, ok)
	assert.Equal(t, "lab_a", a.User)
	assert.True(t, a.Allows("high"))
	assert.Equal(t, 500, a.MaxInflightLigands)
	assert.Equal(t, 2, a.MaxConcurrentBatches)
	assert.InDelta(t, 2.5, a.SubmitRate, 1e-9)
	assert.Equal(t, 5, a.SubmitBurst, "burst defaults to twice the rate")
	assert.Equal(t, []byte("a-secret-of-enough-length"), a.WebhookSecret())
	byID, ok := s.ByID(a.ID)
	require.True(t, ok)
	assert.Same(t, a, byID)
	assert.Len(t, a.ID, 16)

	b, ok := s.ByID("0000000000000000")
	require.True(t, ok, "a key given by digest has the digest's id")
	assert.False(t, b.Allows("high"), "high is opt-in")
	assert.Len(t, b.WebhookSecret(), 64, "derived from the deployment secret")
	other, err := Parse(spec, []byte("another-deployment-secret"))
	require.NoError(t, err)
	ob, _ := other.ByID(b.ID)
	assert.NotEqual(t, b.WebhookSecret(), ob.WebhookSecret())
}
