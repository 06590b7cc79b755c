// Package gpu runs model bundles with ONNX Runtime (cgo, through
// github.com/yalue/onnxruntime_go) on CPU or CUDA, behind the
// activities.Predictor interface.
//
// A bundle is a folder with model.onnx and manifest.json; BUNDLE.md in this
// folder states the contract. The bundle that ships,
// models/descriptor-baseline-v1, is an honest descriptor baseline whose
// weights encode a documented ligand-efficiency prior; it is not Boltz-2.
//
// The model input is computed in Go: Featurize implements the
// featurization versions a manifest may name (today "omtx-desc-v1"), from
// the ligand descriptors of package chem. LoadBundle validates a manifest
// against this build; NewONNXPredictor loads the bundle, initialises ONNX
// Runtime once per process and creates one session; Predict runs ligands
// in batches of at most the manifest's limits.max_batch.
//
// The ONNX Runtime shared library is found through Config.LibraryPath,
// $ONNXRUNTIME_LIB or .tools/lib/libonnxruntime.so (scripts/install-tools.sh).
package gpu
