// Command omtx-gpu-worker runs the model activities of one GPU class
// (OMTX_GPU_CLASS) with ONNX Runtime: one session per process, loaded once
// at start, on CUDA when available (or required), else on the CPU.
package main

import (
	"fmt"
	"os"

	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/gpuboot"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "omtx-gpu-worker:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	log := app.Logger(cfg.LogLevel).With("service", "gpu-worker", "gpu_class", cfg.GPUClass)
	models, closeModels, err := gpuboot.Models(cfg, log)
	if err != nil {
		return err
	}
	defer closeModels()
	for name, m := range models {
		info := m.Info()
		log.Info("model loaded", "model", name, "version", info.Version, "kind", info.Kind)
	}

	ctx, stop := gpuboot.SignalContext()
	defer stop()
	app.ServeMetrics(ctx, cfg, log)
	d, err := app.Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer d.Close()
	return app.RunGPU(ctx, cfg, d, models, log)
}
