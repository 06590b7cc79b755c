package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/omtx-hub/omtx-hub/metrics"
)

// TemporalConfig says how to reach Temporal.
type TemporalConfig struct {
	Address   string
	Namespace string
	Identity  string
	// TLSCert and TLSKey (PEM files) enable mTLS, as Temporal Cloud and the
	// self-hosted Helm values use. They are read again whenever they change
	// on disk (cert-manager renews them in place), at the next handshake.
	TLSCert, TLSKey string
	// TLSCA (a PEM file) is the CA that signed the frontend's certificate,
	// when it is not a public one; empty uses the system roots.
	TLSCA string
	// APIKey authenticates with an API key (TLS on); APIKeyFile instead
	// names a file holding it, read again when it changes (a JWT that is
	// rotated).
	APIKey, APIKeyFile string
}

// Dial connects to Temporal.
func Dial(cfg TemporalConfig, logger *slog.Logger) (client.Client, error) {
	opts := client.Options{
		HostPort:  cfg.Address,
		Namespace: cfg.Namespace,
		Identity:  cfg.Identity,
		Logger:    tlog.NewStructuredLogger(logger),
		// The SDK's own metrics (temporal_*) join /metrics.
		MetricsHandler: metrics.TemporalHandler(),
	}
	if cfg.TLSCert != "" || cfg.TLSCA != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.TLSCert != "" {
			kp := &keyPair{cert: cfg.TLSCert, key: cfg.TLSKey}
			if _, err := kp.get(); err != nil {
				return nil, fmt.Errorf("temporal mTLS: %w", err)
			}
			tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return kp.get() }
		}
		if cfg.TLSCA != "" {
			pem, err := os.ReadFile(cfg.TLSCA)
			if err != nil {
				return nil, fmt.Errorf("temporal CA: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("temporal CA: %s holds no PEM certificate", cfg.TLSCA)
			}
			tc.RootCAs = pool
		}
		opts.ConnectionOptions.TLS = tc
	}
	switch {
	case cfg.APIKeyFile != "":
		f := &fileValue{path: cfg.APIKeyFile, onLoad: jwtExpiry}
		if _, err := f.get(); err != nil {
			return nil, fmt.Errorf("temporal API key: %w", err)
		}
		opts.Credentials = client.NewAPIKeyDynamicCredentials(func(context.Context) (string, error) { return f.get() })
	case cfg.APIKey != "":
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.APIKey)
	}
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("dial temporal %s: %w", cfg.Address, err)
	}
	return c, nil
}

// keyPair is a client certificate that follows its files: loaded again
// when either file's modification time changes.
type keyPair struct {
	cert, key string
	mu        sync.Mutex
	loaded    *tls.Certificate
	stamp     string
}

func (k *keyPair) get() (*tls.Certificate, error) {
	stamp, err := modStamp(k.cert, k.key)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.loaded != nil && stamp == k.stamp {
		return k.loaded, nil
	}
	c, err := tls.LoadX509KeyPair(k.cert, k.key)
	if err != nil {
		if k.loaded != nil {
			return k.loaded, nil // a renewal half-written: keep the last good pair
		}
		return nil, err
	}
	k.loaded, k.stamp = &c, stamp
	certExpiry(&c)
	return k.loaded, nil
}

// fileValue is a file's trimmed content, read again when it changes.
type fileValue struct {
	path   string
	onLoad func(string) // called with each new value
	mu     sync.Mutex
	value  string
	stamp  string
}

func (f *fileValue) get() (string, error) {
	stamp, err := modStamp(f.path)
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.value != "" && stamp == f.stamp {
		return f.value, nil
	}
	b, err := os.ReadFile(f.path)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s is empty", f.path)
	}
	f.value, f.stamp = v, stamp
	if f.onLoad != nil {
		f.onLoad(v)
	}
	return v, nil
}

func modStamp(paths ...string) (string, error) {
	var b strings.Builder
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s:%d:%d;", p, st.ModTime().UnixNano(), st.Size())
	}
	return b.String(), nil
}
