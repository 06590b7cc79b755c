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
// configuration sections process p reads from the environment
// (config.LoadFor), serves /metrics, opens the clients and runs roles. It
// exits the process on error.
func Main(p config.Process, roles ...Role) {
	if err := runMain(p, roles); err != nil {
		fmt.Fprintf(os.Stderr, "omtx-%s: %v\n", p, err)
		os.Exit(1)
	}
}

func runMain(p config.Process, roles []Role) error {
	cfg, err := config.LoadFor(p, os.Getenv)
	if err != nil {
		return err
	}
	log := Logger(cfg.LogLevel).With("service", string(p))
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

// RunOnce runs a one-shot command (omtx-worker reconcile, requeue) with
// the clients process p's configuration opens, until fn returns or SIGINT
// or SIGTERM cancels its context. It serves no /metrics.
func RunOnce(p config.Process, service string, fn Role) error {
	cfg, err := config.LoadFor(p, os.Getenv)
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
	defer d.Close()
	return fn(ctx, cfg, d, log)
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
