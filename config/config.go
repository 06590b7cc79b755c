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
	// Temporal Cloud: mTLS (TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY, PEM
	// file paths) or an API key (TEMPORAL_API_KEY).
	TemporalTLSCert string
	TemporalTLSKey  string
	// TemporalTLSCA (TEMPORAL_TLS_CA) is the CA of the frontend's
	// certificate when it is private; TemporalAPIKeyFile
	// (TEMPORAL_API_KEY_FILE) holds an API key or JWT that is rotated.
	TemporalTLSCA      string
	TemporalAPIKeyFile string
	TemporalAPIKey     string

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

	// Webhooks: OMTX_WEBHOOK_SECRET derives each API key's signing secret
	// (unless its key-file entry sets one); OMTX_WEBHOOK_ALLOW_LOOPBACK
	// allows http:// loopback receivers (local development only).
	WebhookSecret        string
	WebhookAllowLoopback bool
	// PublicURL is the API's address as users reach it, for links in
	// webhooks (OMTX_PUBLIC_URL).
	PublicURL string

	// Orchestration worker limits: concurrent activities and workflow
	// tasks, and the workflow cache (OMTX_ORCH_ACTIVITY_SLOTS,
	// OMTX_WORKFLOW_TASK_SLOTS, OMTX_WORKFLOW_CACHE_SIZE).
	OrchActivitySlots int
	WorkflowTaskSlots int
	WorkflowCacheSize int

	// GPU worker.
	GPUClass string // OMTX_GPU_CLASS
	GPUSlots int    // OMTX_GPU_SLOTS: concurrent model activities
	// WorkerStopTimeout is how long a stopping GPU worker lets running
	// model activities go on (OMTX_WORKER_STOP_TIMEOUT): the pod's
	// termination grace period minus its preStop hook, minus a margin.
	WorkerStopTimeout time.Duration
	// ChunkGroup is how many ligands of a chunk go through the model at
	// once (OMTX_CHUNK_GROUP); a stopping worker stops between groups.
	ChunkGroup   int
	ModelBundle  string // OMTX_MODEL_BUNDLE: folder with model.onnx and manifest.json
	ORTLibrary   string // ONNXRUNTIME_LIB: path to libonnxruntime.so
	ORTProvider  string // OMTX_ORT_PROVIDER: cpu, cuda or auto
	RequireGPU   bool   // OMTX_REQUIRE_GPU: refuse to start without CUDA
	CUDADevice   int    // OMTX_CUDA_DEVICE
	CUDAMemLimit int64  // OMTX_CUDA_MEM_LIMIT (bytes; 0 = no limit)
	TensorRT     bool   // OMTX_ORT_TENSORRT: try the TensorRT provider before CUDA
	MaxBatch     int    // OMTX_MAX_BATCH: ligands per model run
	// FaultPredictDelay makes the GPU worker sleep before each prediction.
	// It exists for crash tests only (OMTX_FAULT_PREDICT_DELAY).
	FaultPredictDelay time.Duration

	// Fleet lists the GPU classes, smallest first, with token budgets and
	// prices: OMTX_GPU_CLASSES "name:max_tokens:usd_per_hour,...".
	Fleet omtx.Fleet
	// RuntimeEstimates feed POST /api/v1/estimate:
	// OMTX_RUNTIME_ESTIMATES "model@class=seconds_per_ligand+load_seconds,...".
	RuntimeEstimates string

	// Boltz-2 backend (GPU worker): the boltz executable and its weights cache.
	BoltzBin   string // OMTX_BOLTZ_BIN (empty: Boltz-2 not served)
	BoltzCache string // BOLTZ_CACHE

	// MSA server (orchestration worker): a ColabFold-compatible MMseqs2 API.
	MSAURL        string  // OMTX_MSA_URL (empty: no server; uploaded MSAs only)
	MSAAuthHeader string  // OMTX_MSA_AUTH_HEADER "Name: value"
	MSARate       float64 // OMTX_MSA_RATE: MSA requests per second, fleet-wide
	// MSADBVersion names the MSA server's database version (e.g.
	// "uniref30_2302+colabfold_envdb_202108"); it is part of the MSA
	// cache key, so changing it computes MSAs afresh. Default "unversioned".
	MSADBVersion string // OMTX_MSA_DB_VERSION

	// Bounds on a request's run settings (validate.Bounds): the largest
	// value of each that one request may ask for. 0 (unset) takes
	// validate.DefaultBounds' value, in brackets.
	MaxRecyclingSteps           int  // OMTX_MAX_RECYCLING_STEPS (10)
	MaxSamplingSteps            int  // OMTX_MAX_SAMPLING_STEPS (500)
	MaxDiffusionSamples         int  // OMTX_MAX_DIFFUSION_SAMPLES (25)
	MaxSamplingStepsAffinity    int  // OMTX_MAX_SAMPLING_STEPS_AFFINITY (500)
	MaxDiffusionSamplesAffinity int  // OMTX_MAX_DIFFUSION_SAMPLES_AFFINITY (10)
	NoPotentials                bool // OMTX_NO_POTENTIALS=true refuses use_potentials

	// MetricsAddr serves Prometheus /metrics (OMTX_METRICS_ADDR; empty: off).
	MetricsAddr string

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
	// DefaultRuntimeEstimates are planning figures for POST
	// /api/v1/estimate, not measurements: the baseline's from make bench,
	// Boltz-2's an assumption (about 25 s to load the model per chunk).
	DefaultRuntimeEstimates = omtx.BaselineModel + "@l4=0.01+1," + omtx.BaselineModel + "@a100-80g=0.01+1," +
		omtx.ModelBoltz2 + "@l4=60+25," + omtx.ModelBoltz2 + "@a100-80g=25+20"
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
		TemporalAddress:    get("TEMPORAL_ADDRESS", DefaultTemporalAddress),
		TemporalNamespace:  get("TEMPORAL_NAMESPACE", "default"),
		TemporalTLSCert:    getenv("TEMPORAL_TLS_CERT"),
		TemporalTLSKey:     getenv("TEMPORAL_TLS_KEY"),
		TemporalTLSCA:      getenv("TEMPORAL_TLS_CA"),
		TemporalAPIKeyFile: getenv("TEMPORAL_API_KEY_FILE"),
		TemporalAPIKey:     getenv("TEMPORAL_API_KEY"),
		Project:            get("OMTX_PROJECT", DefaultProject),
		FirestoreDatabase:  get("OMTX_FIRESTORE_DATABASE", ""),
		Bucket:             get("OMTX_BUCKET", DefaultBucket),
		StorageEmulator:    getenv("STORAGE_EMULATOR_HOST") != "",
		APIAddr:            get("OMTX_API_ADDR", DefaultAPIAddr),
		APIKeys:            getenv("OMTX_API_KEYS"),
		GPUClass:           get("OMTX_GPU_CLASS", omtx.DefaultGPUClass),
		ModelBundle:        get("OMTX_MODEL_BUNDLE", DefaultModelBundle),
		ORTLibrary:         get("ONNXRUNTIME_LIB", ".tools/lib/libonnxruntime.so"),
		ORTProvider:        get("OMTX_ORT_PROVIDER", "auto"),
		WorkerID:           get("OMTX_WORKER_ID", defaultWorkerID()),
		LogLevel:           get("OMTX_LOG_LEVEL", "info"),
		RuntimeEstimates:   get("OMTX_RUNTIME_ESTIMATES", DefaultRuntimeEstimates),
		BoltzBin:           getenv("OMTX_BOLTZ_BIN"),
		BoltzCache:         getenv("BOLTZ_CACHE"),
		MSAURL:             getenv("OMTX_MSA_URL"),
		MSAAuthHeader:      getenv("OMTX_MSA_AUTH_HEADER"),
		MSADBVersion:       get("OMTX_MSA_DB_VERSION", "unversioned"),
		MetricsAddr:        getenv("OMTX_METRICS_ADDR"),
		WebhookSecret:      getenv("OMTX_WEBHOOK_SECRET"),
		PublicURL:          get("OMTX_PUBLIC_URL", "http://"+get("OMTX_API_ADDR", DefaultAPIAddr)),
	}
	if f := getenv("OMTX_API_KEYS_FILE"); f != "" {
		if c.APIKeys != "" {
			return c, fmt.Errorf("set OMTX_API_KEYS or OMTX_API_KEYS_FILE, not both")
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return c, fmt.Errorf("OMTX_API_KEYS_FILE: %w", err)
		}
		c.APIKeys = string(b)
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
		{"OMTX_ORCH_ACTIVITY_SLOTS", 64, &c.OrchActivitySlots},
		{"OMTX_WORKFLOW_TASK_SLOTS", 16, &c.WorkflowTaskSlots},
		{"OMTX_WORKFLOW_CACHE_SIZE", 1000, &c.WorkflowCacheSize},
		{"OMTX_CHUNK_GROUP", 8, &c.ChunkGroup},
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
	if c.WebhookAllowLoopback, err = strconv.ParseBool(get("OMTX_WEBHOOK_ALLOW_LOOPBACK", "false")); err != nil {
		return c, fmt.Errorf("OMTX_WEBHOOK_ALLOW_LOOPBACK: %w", err)
	}
	if c.WorkerStopTimeout, err = time.ParseDuration(get("OMTX_WORKER_STOP_TIMEOUT", "30s")); err != nil || c.WorkerStopTimeout < 0 {
		return c, fmt.Errorf("OMTX_WORKER_STOP_TIMEOUT: %q is not a duration", getenv("OMTX_WORKER_STOP_TIMEOUT"))
	}
	if c.TensorRT, err = strconv.ParseBool(get("OMTX_ORT_TENSORRT", "false")); err != nil {
		return c, fmt.Errorf("OMTX_ORT_TENSORRT: %w", err)
	}
	if v := getenv("OMTX_FAULT_PREDICT_DELAY"); v != "" {
		if c.FaultPredictDelay, err = time.ParseDuration(v); err != nil {
			return c, fmt.Errorf("OMTX_FAULT_PREDICT_DELAY: %w", err)
		}
	}
	if (c.TemporalTLSCert == "") != (c.TemporalTLSKey == "") {
		return c, fmt.Errorf("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together")
	}
	if c.Fleet, err = omtx.ParseFleet(get("OMTX_GPU_CLASSES", omtx.DefaultFleetSpec)); err != nil {
		return c, fmt.Errorf("OMTX_GPU_CLASSES: %w", err)
	}
	if _, ok := c.Fleet.Class(c.GPUClass); !ok {
		return c, fmt.Errorf("OMTX_GPU_CLASS: %q is not in OMTX_GPU_CLASSES", c.GPUClass)
	}
	for _, b := range []struct {
		key string
		dst *int
	}{
		{"OMTX_MAX_RECYCLING_STEPS", &c.MaxRecyclingSteps},
		{"OMTX_MAX_SAMPLING_STEPS", &c.MaxSamplingSteps},
		{"OMTX_MAX_DIFFUSION_SAMPLES", &c.MaxDiffusionSamples},
		{"OMTX_MAX_SAMPLING_STEPS_AFFINITY", &c.MaxSamplingStepsAffinity},
		{"OMTX_MAX_DIFFUSION_SAMPLES_AFFINITY", &c.MaxDiffusionSamplesAffinity},
	} {
		if *b.dst, err = atoi(b.key, get(b.key, "0")); err != nil {
			return c, err
		}
	}
	if c.NoPotentials, err = strconv.ParseBool(get("OMTX_NO_POTENTIALS", "false")); err != nil {
		return c, fmt.Errorf("OMTX_NO_POTENTIALS: %q is not true or false", getenv("OMTX_NO_POTENTIALS"))
	}
	if c.MSARate, err = strconv.ParseFloat(get("OMTX_MSA_RATE", "0.5"), 64); err != nil || c.MSARate <= 0 {
		return c, fmt.Errorf("OMTX_MSA_RATE: %q is not a positive number", getenv("OMTX_MSA_RATE"))
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
