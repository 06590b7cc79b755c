// Package gpuworker builds the GPU worker's predictors from the
// configuration. Only GPU entrypoints import it, since it links ONNX
// Runtime through cgo.
package gpuworker

import (
	"errors"
	"log/slog"
	"os"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/gpu"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Predictor loads the configured ONNX model bundle into one ONNX Runtime
// session for this process.
func Predictor(cfg config.Config, log *slog.Logger) (*gpu.ONNXPredictor, error) {
	return gpu.NewONNXPredictor(gpu.Config{
		BundleDir:         cfg.ModelBundle,
		LibraryPath:       cfg.ORTLibrary,
		Provider:          cfg.ORTProvider,
		RequireGPU:        cfg.RequireGPU,
		CUDADeviceID:      cfg.CUDADevice,
		CUDAMemLimitBytes: cfg.CUDAMemLimit,
		TensorRT:          cfg.TensorRT,
		MaxBatch:          cfg.MaxBatch,
		Logger:            log,
	})
}

// Models builds every predictor this worker serves, by model name: the
// ONNX bundle, and Boltz-2 when OMTX_BOLTZ_BIN names a boltz executable.
// close releases them.
func Models(cfg config.Config, log *slog.Logger) (models map[string]activities.Predictor, close func(), err error) {
	if cfg.RequireGPU {
		// Refuse a driver older than the image's CUDA before loading anything.
		if err := checkDriver(hostDriver, os.Getenv("CUDA_VERSION")); err != nil {
			return nil, nil, err
		}
	}
	onnx, err := Predictor(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	models = map[string]activities.Predictor{onnx.Info().Name: onnx}
	closers := []func() error{onnx.Close}
	if cfg.BoltzBin != "" {
		b, err := boltzRunner(cfg, log)
		if err != nil {
			_ = onnx.Close()
			return nil, nil, err
		}
		models[omtx.ModelBoltz2] = b
	}
	return models, func() {
		var errs []error
		for _, c := range closers {
			errs = append(errs, c())
		}
		if err := errors.Join(errs...); err != nil {
			log.Warn("close predictors", "error", err)
		}
	}, nil
}
