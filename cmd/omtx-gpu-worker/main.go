// Command omtx-gpu-worker runs the model activities of one GPU class
// (OMTX_GPU_CLASS): the ONNX bundle in one ONNX Runtime session per
// process, loaded once at start, on CUDA when available (or required), and
// Boltz-2 when OMTX_BOLTZ_BIN is set.
package main

import (
	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/app/workers"
	"github.com/omtx-hub/omtx-hub/gpuboot"
)

func main() { app.Main("gpu-worker", workers.GPU(gpuboot.Models)) }
