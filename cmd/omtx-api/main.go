// Command omtx-api serves OMTX-Hub's REST API. It starts workflows on
// Temporal and reads job documents and files; it runs no model and links no
// cgo (a test checks that).
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
		fmt.Fprintln(os.Stderr, "omtx-api:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	log := app.Logger(cfg.LogLevel).With("service", "api")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app.ServeMetrics(ctx, cfg, log)
	d, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	return app.RunAPI(ctx, cfg, d, log)
}
