package gpuworker

import (
	"log/slog"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/boltz"
	"github.com/omtx-hub/omtx-hub/config"
)

// boltzRunner builds the Boltz-2 backend: one `boltz predict` call per
// chunk, weights from BOLTZ_CACHE, on CUDA unless the worker runs on CPU.
func boltzRunner(cfg config.Config, log *slog.Logger) (activities.Predictor, error) {
	acc := "gpu"
	if cfg.ORTProvider == "cpu" {
		acc = "cpu"
	}
	return boltz.New(boltz.Config{
		Binary: cfg.BoltzBin, CacheDir: cfg.BoltzCache, Accelerator: acc, Logger: log,
	})
}
