package app

import (
	"crypto/tls"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/omtx-hub/omtx-hub/metrics"
)

// TemporalConfig says how to reach Temporal.
type TemporalConfig struct {
	Address   string
	Namespace string
	Identity  string
	// TLSCert and TLSKey (PEM files) enable mTLS, as Temporal Cloud uses;
	// APIKey authenticates with an API key instead (TLS on).
	TLSCert, TLSKey string
	APIKey          string
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
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("temporal mTLS: %w", err)
		}
		opts.ConnectionOptions.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if cfg.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(cfg.APIKey)
	}
	c, err := client.Dial(opts)
	if err != nil {
		return nil, fmt.Errorf("dial temporal %s: %w", cfg.Address, err)
	}
	return c, nil
}
