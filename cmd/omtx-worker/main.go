// Command omtx-worker runs OMTX-Hub's orchestration worker: the workflows,
// and the activities that write job documents and aggregate batches.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/config"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "omtx-worker:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	log := app.Logger(cfg.LogLevel).With("service", "worker")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app.ServeMetrics(ctx, cfg, log)
	d, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	return app.RunOrchestration(ctx, cfg, d, log)
}
