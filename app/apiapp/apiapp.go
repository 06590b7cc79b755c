// Package apiapp wires the API process: it builds the REST API server
// (package api, on gin) from a config.Config and the clients package app
// opened, and serves it. Only the binaries that serve the API (omtx-api,
// omtx-dev) and the integration tests import it, so the workers' binaries
// link no gin.
package apiapp

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/keys"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/resultcache"
	"github.com/omtx-hub/omtx-hub/webhook"
)

// New builds the API server from the config.
func New(cfg config.Config, d *app.Deps, log *slog.Logger) (*api.Server, error) {
	keySet, err := keys.Parse(cfg.APIKeys, []byte(cfg.WebhookSecret))
	if err != nil {
		return nil, fmt.Errorf("%w (set OMTX_API_KEYS=key=user_id or OMTX_API_KEYS_FILE)", err)
	}
	runtimes, err := api.ParseRuntimes(cfg.RuntimeEstimates)
	if err != nil {
		return nil, fmt.Errorf("OMTX_RUNTIME_ESTIMATES: %w", err)
	}
	var targets api.TargetStore
	if d.Targets != nil {
		targets = d.Targets
	}
	var cache resultcache.Reader
	if d.ResultCache != nil {
		cache = d.ResultCache
	}
	return api.New(api.Config{
		Keys: keySet, Models: cfg.Models, MaxBodyBytes: cfg.MaxBodyBytes, ChunkSize: cfg.ChunkSize, Logger: log,
		Fleet: cfg.Fleet, Runtimes: runtimes, Webhooks: webhook.Policy{AllowLoopback: cfg.WebhookAllowLoopback},
		Targets: targets, MSAServer: cfg.MSAURL != "", Bounds: app.RunBounds(cfg),
		ResultCache: cache, ResultCacheSharedUsers: cfg.ResultCacheSharedUsers, MSASpec: msa.ServerKeySpec(cfg.MSAURL, cfg.MSADBVersion),
	}, d.Jobs, d.Blobs, api.TemporalScheduler{Client: d.Temporal}), nil
}

// Run serves the API on cfg.APIAddr until ctx ends, then drains: the
// API's app.Role.
func Run(ctx context.Context, cfg config.Config, d *app.Deps, log *slog.Logger) error {
	srv, err := New(cfg, d, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.APIAddr)
	if err != nil {
		return fmt.Errorf("api listen %s: %w", cfg.APIAddr, err)
	}
	return app.Serve(ctx, ln, srv.Handler(), log)
}
