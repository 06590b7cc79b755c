package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/config"
)

// ModelsFunc builds a GPU worker's predictors and a function that releases
// them.
type ModelsFunc func(config.Config, *slog.Logger) (map[string]activities.Predictor, func(), error)

// Main runs one production process until SIGINT or SIGTERM: it loads the
// configuration from the environment, serves /metrics, opens the clients
// and runs roles ("api", "worker", "gpu-worker"). models is nil for
// processes without a GPU worker. It exits the process on error.
func Main(service string, models ModelsFunc, roles ...string) {
	if err := runMain(service, models, roles); err != nil {
		fmt.Fprintf(os.Stderr, "omtx-%s: %v\n", service, err)
		os.Exit(1)
	}
}

func runMain(service string, models ModelsFunc, roles []string) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	log := Logger(cfg.LogLevel).With("service", service)
	var m map[string]activities.Predictor
	if models != nil {
		var release func()
		if m, release, err = models(cfg, log); err != nil {
			return err
		}
		defer release()
		for name, p := range m {
			info := p.Info()
			log.Info("model loaded", "model", name, "version", info.Version, "kind", info.Kind)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ServeMetrics(ctx, cfg, log)
	d, err := Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	return RunRoles(ctx, cfg, d, m, log, roles...)
}
