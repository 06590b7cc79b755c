package app

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writePair(t *testing.T, dir, cn string, at time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: at.Add(-time.Hour), NotAfter: at.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kd, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certPath, keyPath := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	require.NoError(t, os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd}), 0o600))
	require.NoError(t, os.Chtimes(certPath, at, at))
	require.NoError(t, os.Chtimes(keyPath, at, at))
}

// TestClientCertificateFollowsItsFiles: a renewed certificate is used at
// the next handshake, without a restart; a half-written one is not.
func TestClientCertificateFollowsItsFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writePair(t, dir, "first", t0)
	kp := &keyPair{cert: filepath.Join(dir, "tls.crt"), key: filepath.Join(dir, "tls.key")}
	cn := func() string {
		c, err := kp.get()
		require.NoError(t, err)
		leaf, err := x509.ParseCertificate(c.Certificate[0])
		require.NoError(t, err)
		return leaf.Subject.CommonName
	}
	assert.Equal(t, "first", cn())
	writePair(t, dir, "renewed", t0.Add(time.Hour))
	assert.Equal(t, "renewed", cn())
	require.NoError(t, os.WriteFile(kp.key, []byte("half"), 0o600))
	assert.Equal(t, "renewed", cn(), "a broken renewal keeps the last good pair")
}

func TestAPIKeyFileFollowsItsFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(path, []byte("jwt-one\n"), 0o600))
	f := &fileValue{path: path}
	v, err := f.get()
	require.NoError(t, err)
	assert.Equal(t, "jwt-one", v)
	require.NoError(t, os.WriteFile(path, []byte("jwt-two-longer\n"), 0o600))
	v, err = f.get()
	require.NoError(t, err)
	assert.Equal(t, "jwt-two-longer", v)
}
