// Package config loads OMTX-Hub's settings from the environment. Only the
// entrypoints under cmd/ call it; everything else receives plain values.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Config is every setting of every OMTX-Hub process. Each process reads the
// part it needs.
type Config struct {
	// Temporal.
	TemporalAddress   string // TEMPORAL_ADDRESS
	TemporalNamespace string // TEMPORAL_NAMESPACE

	// Google Cloud. Locally FIRESTORE_EMULATOR_HOST and
	// STORAGE_EMULATOR_HOST point the clients at the emulators.
	Project           string // OMTX_PROJECT
	FirestoreDatabase string // OMTX_FIRESTORE_DATABASE ("(default)" when empty)
	Bucket            string // OMTX_BUCKET
	StorageEmulator   bool   // STORAGE_EMULATOR_HOST is set: create the bucket if missing

	// API.
	APIAddr      string // OMTX_API_ADDR
	APIKeys      string // OMTX_API_KEYS ("key=user,...") or the file OMTX_API_KEYS_FILE
	MaxBodyBytes int64  // OMTX_MAX_BODY_BYTES
	ChunkSize    int    // OMTX_BATCH_CHUNK_SIZE: default ligands per GPU activity of a batch

	// Models served: OMTX_MODELS "name=gpu_class,...", and explicit
	// substitutions OMTX_MODEL_SUBSTITUTES "requested=served,...".
	Models omtx.ModelCatalog

	// GPU worker.
	GPUClass     string // OMTX_GPU_CLASS
	GPUSlots     int    // OMTX_GPU_SLOTS: concurrent model activities
	ModelBundle  string // OMTX_MODEL_BUNDLE: folder with model.onnx and manifest.json
	ORTLibrary   string // ONNXRUNTIME_LIB: path to libonnxruntime.so
	ORTProvider  string // OMTX_ORT_PROVIDER: cpu, cuda or auto
	RequireGPU   bool   // OMTX_REQUIRE_GPU: refuse to start without CUDA
	CUDADevice   int    // OMTX_CUDA_DEVICE
	CUDAMemLimit int64  // OMTX_CUDA_MEM_LIMIT (bytes; 0 = no limit)
	MaxBatch     int    // OMTX_MAX_BATCH: ligands per model run
	// FaultPredictDelay makes the GPU worker sleep before each prediction.
	// It exists for crash tests only (OMTX_FAULT_PREDICT_DELAY).
	FaultPredictDelay time.Duration

	WorkerID string // OMTX_WORKER_ID (default: hostname and pid)
	LogLevel string // OMTX_LOG_LEVEL: debug, info, warn, error
}

// Defaults used when the environment says nothing.
const (
	DefaultTemporalAddress = "127.0.0.1:7233"
	DefaultProject         = "omtx-local"
	DefaultBucket          = "hub-job-files"
	DefaultAPIAddr         = "127.0.0.1:8080"
	DefaultModelBundle     = "models/" + omtx.BaselineModel
)

// FromEnv loads the configuration from the environment.
func FromEnv() (Config, error) {
	return Load(os.Getenv)
}

// Load loads the configuration through getenv.
func Load(getenv func(string) string) (Config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		TemporalAddress:   get("TEMPORAL_ADDRESS", DefaultTemporalAddress),
		TemporalNamespace: get("TEMPORAL_NAMESPACE", "default"),
		Project:           get("OMTX_PROJECT", DefaultProject),
		FirestoreDatabase: get("OMTX_FIRESTORE_DATABASE", ""),
		Bucket:            get("OMTX_BUCKET", DefaultBucket),
		StorageEmulator:   getenv("STORAGE_EMULATOR_HOST") != "",
		APIAddr:           get("OMTX_API_ADDR", DefaultAPIAddr),
		APIKeys:           getenv("OMTX_API_KEYS"),
		GPUClass:          get("OMTX_GPU_CLASS", omtx.DefaultGPUClass),
		ModelBundle:       get("OMTX_MODEL_BUNDLE", DefaultModelBundle),
		ORTLibrary:        get("ONNXRUNTIME_LIB", ".tools/lib/libonnxruntime.so"),
		ORTProvider:       get("OMTX_ORT_PROVIDER", "auto"),
		WorkerID:          get("OMTX_WORKER_ID", defaultWorkerID()),
		LogLevel:          get("OMTX_LOG_LEVEL", "info"),
	}
	if f := getenv("OMTX_API_KEYS_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return c, fmt.Errorf("OMTX_API_KEYS_FILE: %w", err)
		}
		c.APIKeys = strings.TrimSpace(c.APIKeys + "\n" + string(b))
	}
	var err error
	ints := []struct {
		key string
		def int
		dst *int
	}{
		{"OMTX_GPU_SLOTS", 1, &c.GPUSlots},
		{"OMTX_CUDA_DEVICE", 0, &c.CUDADevice},
		{"OMTX_MAX_BATCH", 0, &c.MaxBatch},
		{"OMTX_BATCH_CHUNK_SIZE", 16, &c.ChunkSize},
	}
	for _, i := range ints {
		if *i.dst, err = atoi(i.key, get(i.key, strconv.Itoa(i.def))); err != nil {
			return c, err
		}
	}
	if c.CUDAMemLimit, err = atoi64("OMTX_CUDA_MEM_LIMIT", get("OMTX_CUDA_MEM_LIMIT", "0")); err != nil {
		return c, err
	}
	if c.MaxBodyBytes, err = atoi64("OMTX_MAX_BODY_BYTES", get("OMTX_MAX_BODY_BYTES", "0")); err != nil {
		return c, err
	}
	if c.RequireGPU, err = strconv.ParseBool(get("OMTX_REQUIRE_GPU", "false")); err != nil {
		return c, fmt.Errorf("OMTX_REQUIRE_GPU: %w", err)
	}
	if v := getenv("OMTX_FAULT_PREDICT_DELAY"); v != "" {
		if c.FaultPredictDelay, err = time.ParseDuration(v); err != nil {
			return c, fmt.Errorf("OMTX_FAULT_PREDICT_DELAY: %w", err)
		}
	}
	switch c.ORTProvider {
	case "cpu", "cuda", "auto":
	default:
		return c, fmt.Errorf("OMTX_ORT_PROVIDER: %q is not cpu, cuda or auto", c.ORTProvider)
	}
	if c.Models.Available, err = pairs("OMTX_MODELS", get("OMTX_MODELS", omtx.BaselineModel+"="+omtx.DefaultGPUClass)); err != nil {
		return c, err
	}
	if c.Models.Substitutes, err = pairs("OMTX_MODEL_SUBSTITUTES", getenv("OMTX_MODEL_SUBSTITUTES")); err != nil {
		return c, err
	}
	return c, nil
}

func pairs(key, spec string) (map[string]string, error) {
	m := map[string]string{}
	for _, p := range strings.Split(spec, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%s: %q is not name=value", key, p)
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return m, nil
}

func atoi(key, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: %q is not a non-negative integer", key, v)
	}
	return n, nil
}

func atoi64(key, v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: %q is not a non-negative integer", key, v)
	}
	return n, nil
}

func defaultWorkerID() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", h, os.Getpid())
}
