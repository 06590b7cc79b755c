package app

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/metrics"
)

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + "." + enc([]byte("sig"))
}

func TestJWTExpiry(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, token string
		want        int64
		ok          bool
	}{
		{"an exp claim", jwt(`{"sub":"omtx-hub","exp":1893456000}`), 1893456000, true},
		{"surrounding whitespace, as a file has", "\n" + jwt(`{"exp":1893456000}`) + "\n", 1893456000, true},
		{"no exp", jwt(`{"sub":"omtx-hub"}`), 0, false},
		{"an exp that is not a number", jwt(`{"exp":"soon"}`), 0, false},
		{"not a JWT", "tmprl_abcdef", 0, false},
		{"a payload that is not JSON", "a.bm90LWpzb24.c", 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := JWTExpiry(c.token)
			if !c.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}

// TestCredentialExpiryGauges: reading the JWT file and loading the client
// certificate export their expiry, and a rotated JWT moves the gauge.
// Not parallel: the gauges are process-wide.
func TestCredentialExpiryGauges(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "jwt")
	require.NoError(t, os.WriteFile(path, []byte(jwt(`{"exp":1893456000}`)), 0o600))
	f := &fileValue{path: path, onLoad: jwtExpiry}
	_, err := f.get()
	require.NoError(t, err)
	assert.InDelta(t, 1893456000, testutil.ToFloat64(metrics.TemporalJWTExpiry), 0)
	require.NoError(t, os.WriteFile(path, []byte(jwt(`{"exp":1900000000}`)), 0o600))
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(path, later, later))
	_, err = f.get()
	require.NoError(t, err)
	assert.InDelta(t, 1900000000, testutil.ToFloat64(metrics.TemporalJWTExpiry), 0, "a rotated JWT is read again and exported")

	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	writePair(t, dir, "c", t0)
	kp := &keyPair{cert: filepath.Join(dir, "tls.crt"), key: filepath.Join(dir, "tls.key")}
	_, err = kp.get()
	require.NoError(t, err)
	assert.InDelta(t, float64(t0.Add(time.Hour).Unix()), testutil.ToFloat64(metrics.TemporalCertExpiry), 0, "the leaf's notAfter")
}
