// Command omtx-gpu-worker runs the model activities of one GPU class
// (OMTX_GPU_CLASS): the ONNX bundle in one ONNX Runtime session per
// process, loaded once at start, on CUDA when available (or required), and
// Boltz-2 when OMTX_BOLTZ_BIN is set.
package main

import (
	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/worker"
	"github.com/omtx-hub/omtx-hub/worker/gpuworker"
)

func main() { app.Main(config.ProcessGPUWorker, worker.GPU(gpuworker.Models)) }
