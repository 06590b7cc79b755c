package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/omtx-hub/omtx-hub/config"
)

// Role is one thing a process runs until ctx ends: the API, the
// orchestration worker, a GPU worker.
type Role func(ctx context.Context, cfg config.Config, d *Deps, log *slog.Logger) error

// Main runs one production process until SIGINT or SIGTERM: it loads the
// configuration from the environment, serves /metrics, opens the clients
// and runs roles. It exits the process on error.
func Main(service string, roles ...Role) {
	if err := runMain(service, roles); err != nil {
		fmt.Fprintf(os.Stderr, "omtx-%s: %v\n", service, err)
		os.Exit(1)
	}
}

func runMain(service string, roles []Role) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	log := Logger(cfg.LogLevel).With("service", service)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	ServeMetrics(ctx, cfg, d.Health, log)
	defer d.Close()
	return RunRoles(ctx, cfg, d, log, roles...)
}

// RunRoles runs roles at once, until ctx ends or one fails (which stops the
// others).
func RunRoles(ctx context.Context, cfg config.Config, d *Deps, log *slog.Logger, roles ...Role) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(roles))
	for _, r := range roles {
		go func() {
			err := r(ctx, cfg, d, log)
			if err != nil {
				cancel()
			}
			errc <- err
		}()
	}
	var errs []string
	for range roles {
		if err := <-errc; err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}
