// Package app is what every OMTX-Hub process shares: from a config.Config
// it opens the real clients once, serves /metrics and the health checks,
// and runs roles until the context ends. The roles live with what they
// run: the API's in app/apiapp, the workers' in package worker. It links
// no cgo, no HTTP framework and none of the workers' code, so every binary
// can import it.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/storage"
	"go.temporal.io/sdk/client"

	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/store"
	"github.com/omtx-hub/omtx-hub/validate"
)

// Logger builds the JSON logger every process uses.
func Logger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// Deps are the clients a process shares, and its health checks.
type Deps struct {
	Jobs    *store.Jobs
	Targets *store.Targets
	Blobs   *store.Blobs
	// ResultCache holds the result cache's documents (workers only).
	ResultCache *store.ResultCache
	Temporal    client.Client
	// Health is served as /readyz and /livez on OMTX_METRICS_ADDR.
	Health *Health

	fs  *firestore.Client
	gcs *storage.Client
}

// Open connects to Firestore, Cloud Storage and Temporal.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (*Deps, error) {
	fs, err := store.OpenFirestore(ctx, cfg.Project, cfg.FirestoreDatabase)
	if err != nil {
		return nil, err
	}
	gcs, err := store.OpenStorage(ctx)
	if err != nil {
		fs.Close()
		return nil, err
	}
	d := &Deps{Jobs: store.NewJobs(fs), Targets: store.NewTargets(fs), Blobs: store.NewBlobs(gcs, cfg.Bucket), Health: NewHealth(), fs: fs, gcs: gcs}
	d.ResultCache = store.NewResultCache(fs)
	if cfg.StorageEmulator {
		if err := d.Blobs.EnsureBucket(ctx, cfg.Project); err != nil {
			d.Close()
			return nil, err
		}
	}
	d.Temporal, err = Dial(TemporalConfig{
		Address: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace, Identity: cfg.WorkerID,
		TLSCert: cfg.TemporalTLSCert, TLSKey: cfg.TemporalTLSKey, TLSCA: cfg.TemporalTLSCA,
		APIKey: cfg.TemporalAPIKey, APIKeyFile: cfg.TemporalAPIKeyFile,
	}, log)
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close closes every client.
func (d *Deps) Close() {
	if d.Temporal != nil {
		d.Temporal.Close()
	}
	if d.gcs != nil {
		d.gcs.Close()
	}
	if d.fs != nil {
		d.fs.Close()
	}
}

// ServerLimits bound what a slow or idle client can hold: a connection, or
// a body trickled in, for no longer than these.
type ServerLimits struct {
	ReadHeaderTimeout time.Duration
	// ReadTimeout covers the body: a 32 MiB library at 1 MiB/s fits.
	ReadTimeout time.Duration
	// WriteTimeout covers the response; file downloads are bounded by the
	// API's read limit (64 MiB).
	WriteTimeout   time.Duration
	IdleTimeout    time.Duration
	MaxHeaderBytes int
}

// DefaultServerLimits are the API's.
var DefaultServerLimits = ServerLimits{
	ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
	WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10,
}

// Serve serves h on ln until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	return ServeWith(ctx, ln, h, DefaultServerLimits, log)
}

// ServeWith is Serve with other limits.
func ServeWith(ctx context.Context, ln net.Listener, h http.Handler, lim ServerLimits, log *slog.Logger) error {
	hs := &http.Server{
		Handler: h, ReadHeaderTimeout: lim.ReadHeaderTimeout, ReadTimeout: lim.ReadTimeout,
		WriteTimeout: lim.WriteTimeout, IdleTimeout: lim.IdleTimeout, MaxHeaderBytes: lim.MaxHeaderBytes,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("api listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("api: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("api shutdown: %w", err)
	}
	return nil
}

// ServeMetrics serves /metrics, and h's /readyz and /livez, on
// cfg.MetricsAddr until ctx ends; one call per process.
func ServeMetrics(ctx context.Context, cfg config.Config, h *Health, log *slog.Logger) {
	go func() {
		if err := metrics.Serve(ctx, cfg.MetricsAddr, h.Handlers(), log); err != nil {
			log.Error("metrics server", "error", err)
		}
	}()
}

// RunBounds are the deployment's bounds on run settings, as configured;
// the API and the orchestration worker's AcceptJob apply the same.
func RunBounds(cfg config.Config) validate.Bounds {
	return validate.Bounds{
		MaxRecyclingSteps: cfg.MaxRecyclingSteps, MaxSamplingSteps: cfg.MaxSamplingSteps,
		MaxDiffusionSamples: cfg.MaxDiffusionSamples, MaxSamplingStepsAffinity: cfg.MaxSamplingStepsAffinity,
		MaxDiffusionSamplesAffinity: cfg.MaxDiffusionSamplesAffinity, NoPotentials: cfg.NoPotentials,
	}
}
