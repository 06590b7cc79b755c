// Package gpuboot builds the GPU worker's predictor from the configuration.
// Only GPU entrypoints import it, since it links ONNX Runtime through cgo.
package gpuboot

import (
	"log/slog"

	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/gpu"
)

// Predictor loads the configured model bundle into one ONNX Runtime
// session for this process.
func Predictor(cfg config.Config, log *slog.Logger) (*gpu.ONNXPredictor, error) {
	return gpu.NewONNXPredictor(gpu.Config{
		BundleDir:         cfg.ModelBundle,
		LibraryPath:       cfg.ORTLibrary,
		Provider:          cfg.ORTProvider,
		RequireGPU:        cfg.RequireGPU,
		CUDADeviceID:      cfg.CUDADevice,
		CUDAMemLimitBytes: cfg.CUDAMemLimit,
		MaxBatch:          cfg.MaxBatch,
		Logger:            log,
	})
}
