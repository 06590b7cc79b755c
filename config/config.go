// Package config loads OMTX-Hub's settings from the environment, one
// section per process, so that each binary reads only the variables it
// uses (LoadFor, and TestEachProcessReadsOnlyItsVariables):
//
//   - omtx-api:        Common, Keys, API
//   - omtx-worker:     Common, Keys, Orchestration
//   - omtx-gpu-worker: Common, GPU
//   - omtx-worker reconcile: Common
//   - omtx-dev, and the integration tests: every section (Load)
//
// Who calls it: app.Main (for omtx-api, omtx-worker and omtx-gpu-worker),
// reconcile.Command, cmd/omtx-dev and the integration tests; everything
// else receives plain values. Besides it, cmd/omtx-dev reads its own
// OMTX_DEV_USER and OMTX_PROJECT, the Google clients read
// FIRESTORE_EMULATOR_HOST and STORAGE_EMULATOR_HOST, and ONNX Runtime and
// Boltz read their own variables (deploy/deploytest lists them).
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Config is the settings of one process: the sections its LoadFor read,
// the others zero. Each section's fields are promoted, so cfg.APIAddr is
// cfg.API.APIAddr.
type Config struct {
	Common
	Keys
	Runs
	API
	Orchestration
	GPU
}

// Common is what every process reads: how to reach Temporal, Firestore
// and Cloud Storage, the GPU fleet, metrics, identity and logging.
type Common struct {
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

	// Fleet lists the GPU classes, smallest first, with token budgets and
	// prices: OMTX_GPU_CLASSES "name:max_tokens:usd_per_hour,...". The API
	// routes on it, the workflows reroute along it, the orchestration
	// worker reports its queues' backlog and a GPU worker its price.
	Fleet omtx.Fleet

	// MetricsAddr serves Prometheus /metrics (OMTX_METRICS_ADDR; empty: off).
	MetricsAddr string

	WorkerID string // OMTX_WORKER_ID (default: hostname and pid)
	LogLevel string // OMTX_LOG_LEVEL: debug, info, warn, error

	// ResultCacheSharedUsers are the users who share one result cache
	// (OMTX_RESULT_CACHE_SHARED_USERS, comma-separated user ids): the
	// orchestration worker looks results up and the GPU workers store
	// them under it. Empty (the default): each user reuses only their own
	// results.
	ResultCacheSharedUsers []string
}

// Keys are the API keys, read by the API (to authenticate) and by the
// orchestration worker (to sign webhooks).
type Keys struct {
	APIKeys string // OMTX_API_KEYS ("key=user,...") or the file OMTX_API_KEYS_FILE
	// Webhooks: OMTX_WEBHOOK_SECRET derives each API key's signing secret
	// (unless its key-file entry sets one); OMTX_WEBHOOK_ALLOW_LOOPBACK
	// allows http:// loopback receivers (local development only).
	WebhookSecret        string
	WebhookAllowLoopback bool
}

// Runs is how a request's run settings are bounded and its MSA is made,
// read by the API (at submission) and the orchestration worker (AcceptJob
// checks again; EnsureMSA computes).
type Runs struct {
	// MSA server: a ColabFold-compatible MMseqs2 API. The API reads only
	// whether there is one (Boltz-2 then uses it by default).
	MSAURL string // OMTX_MSA_URL (empty: no server; uploaded MSAs only)
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
}

// API is the API server's own settings.
type API struct {
	APIAddr      string // OMTX_API_ADDR
	MaxBodyBytes int64  // OMTX_MAX_BODY_BYTES
	ChunkSize    int    // OMTX_BATCH_CHUNK_SIZE: default ligands per GPU activity of a batch

	// Models served: OMTX_MODELS "name=gpu_class,...", and explicit
	// substitutions OMTX_MODEL_SUBSTITUTES "requested=served,...".
	Models omtx.ModelCatalog

	// RuntimeEstimates feed POST /api/v1/estimate:
	// OMTX_RUNTIME_ESTIMATES "model@class=seconds_per_ligand+load_seconds,...".
	RuntimeEstimates string
}

// Orchestration is the orchestration worker's own settings.
type Orchestration struct {
	// Limits: concurrent activities and workflow tasks, and the workflow
	// cache (OMTX_ORCH_ACTIVITY_SLOTS, OMTX_WORKFLOW_TASK_SLOTS,
	// OMTX_WORKFLOW_CACHE_SIZE).
	OrchActivitySlots int
	WorkflowTaskSlots int
	WorkflowCacheSize int

	// PublicURL is the API's address as users reach it, for links in
	// webhooks (OMTX_PUBLIC_URL; default http:// and OMTX_API_ADDR).
	PublicURL string

	// MSA server (Runs.MSAURL): its credentials and fleet-wide rate.
	MSAAuthHeader string  // OMTX_MSA_AUTH_HEADER "Name: value"
	MSARate       float64 // OMTX_MSA_RATE: MSA requests per second, fleet-wide
}

// GPU is a GPU worker's own settings.
type GPU struct {
	GPUClass string // OMTX_GPU_CLASS: one of Common.Fleet
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

	// Boltz-2 backend: the boltz executable and its weights cache.
	BoltzBin   string // OMTX_BOLTZ_BIN (empty: Boltz-2 not served)
	BoltzCache string // BOLTZ_CACHE
}

// Process names a binary, for LoadFor.
type Process string

// The processes, by the sections they read.
const (
	ProcessAPI       Process = "api"        // Common, Keys, API
	ProcessWorker    Process = "worker"     // Common, Keys, Orchestration
	ProcessGPUWorker Process = "gpu-worker" // Common, GPU
	ProcessReconcile Process = "reconcile"  // Common
	ProcessAll       Process = "all"        // every section: omtx-dev, the integration tests
)

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

// FromEnv loads every section from the environment (Load).
func FromEnv() (Config, error) {
	return Load(os.Getenv)
}

// Load loads every section through getenv: for a process that runs every
// role (omtx-dev, the integration tests).
func Load(getenv func(string) string) (Config, error) {
	return LoadFor(ProcessAll, getenv)
}

// LoadFor loads the sections process p reads, through getenv; it reads no
// other variable.
func LoadFor(p Process, getenv func(string) string) (Config, error) {
	var (
		c   Config
		err error
	)
	e := env(getenv)
	if c.Common, err = loadCommon(e); err != nil {
		return c, err
	}
	all := p == ProcessAll
	if all || p == ProcessAPI || p == ProcessWorker {
		if c.Keys, err = loadKeys(e); err != nil {
			return c, err
		}
	}
	if all || p == ProcessAPI || p == ProcessWorker {
		if c.Runs, err = loadRuns(e); err != nil {
			return c, err
		}
	}
	if all || p == ProcessAPI {
		if c.API, err = loadAPI(e); err != nil {
			return c, err
		}
	}
	if all || p == ProcessWorker {
		if c.Orchestration, err = loadOrchestration(e); err != nil {
			return c, err
		}
	}
	if all || p == ProcessGPUWorker {
		if c.GPU, err = loadGPU(e, c.Fleet); err != nil {
			return c, err
		}
	}
	switch p {
	case ProcessAPI, ProcessWorker, ProcessGPUWorker, ProcessReconcile, ProcessAll:
	default:
		return c, fmt.Errorf("config: unknown process %q", p)
	}
	return c, nil
}

// env reads variables, trimmed.
type env func(string) string

// get is the trimmed value of k, or def when it is empty.
func (e env) get(k, def string) string {
	if v := strings.TrimSpace(e(k)); v != "" {
		return v
	}
	return def
}

// ints reads non-negative integers, each with its default.
func (e env) ints(vars ...intVar) error {
	for _, i := range vars {
		n, err := atoi(i.key, e.get(i.key, strconv.Itoa(i.def)))
		if err != nil {
			return err
		}
		*i.dst = n
	}
	return nil
}

type intVar struct {
	key string
	def int
	dst *int
}

// boolean reads a strconv.ParseBool value, false when empty.
func (e env) boolean(k string) (bool, error) {
	b, err := strconv.ParseBool(e.get(k, "false"))
	if err != nil {
		return false, fmt.Errorf("%s: %w", k, err)
	}
	return b, nil
}

func loadCommon(e env) (Common, error) {
	c := Common{
		TemporalAddress:    e.get("TEMPORAL_ADDRESS", DefaultTemporalAddress),
		TemporalNamespace:  e.get("TEMPORAL_NAMESPACE", "default"),
		TemporalTLSCert:    e("TEMPORAL_TLS_CERT"),
		TemporalTLSKey:     e("TEMPORAL_TLS_KEY"),
		TemporalTLSCA:      e("TEMPORAL_TLS_CA"),
		TemporalAPIKeyFile: e("TEMPORAL_API_KEY_FILE"),
		TemporalAPIKey:     e("TEMPORAL_API_KEY"),
		Project:            e.get("OMTX_PROJECT", DefaultProject),
		FirestoreDatabase:  e.get("OMTX_FIRESTORE_DATABASE", ""),
		Bucket:             e.get("OMTX_BUCKET", DefaultBucket),
		StorageEmulator:    e("STORAGE_EMULATOR_HOST") != "",
		MetricsAddr:        e("OMTX_METRICS_ADDR"),
		WorkerID:           e.get("OMTX_WORKER_ID", defaultWorkerID()),
		LogLevel:           e.get("OMTX_LOG_LEVEL", "info"),
	}
	if (c.TemporalTLSCert == "") != (c.TemporalTLSKey == "") {
		return c, fmt.Errorf("TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together")
	}
	for _, u := range strings.Split(e("OMTX_RESULT_CACHE_SHARED_USERS"), ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.ResultCacheSharedUsers = append(c.ResultCacheSharedUsers, u)
		}
	}
	var err error
	if c.Fleet, err = omtx.ParseFleet(e.get("OMTX_GPU_CLASSES", omtx.DefaultFleetSpec)); err != nil {
		return c, fmt.Errorf("OMTX_GPU_CLASSES: %w", err)
	}
	return c, nil
}

func loadKeys(e env) (Keys, error) {
	k := Keys{APIKeys: e("OMTX_API_KEYS"), WebhookSecret: e("OMTX_WEBHOOK_SECRET")}
	if f := e("OMTX_API_KEYS_FILE"); f != "" {
		if k.APIKeys != "" {
			return k, fmt.Errorf("set OMTX_API_KEYS or OMTX_API_KEYS_FILE, not both")
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return k, fmt.Errorf("OMTX_API_KEYS_FILE: %w", err)
		}
		k.APIKeys = string(b)
	}
	var err error
	k.WebhookAllowLoopback, err = e.boolean("OMTX_WEBHOOK_ALLOW_LOOPBACK")
	return k, err
}

func loadRuns(e env) (Runs, error) {
	r := Runs{MSAURL: e("OMTX_MSA_URL"), MSADBVersion: e.get("OMTX_MSA_DB_VERSION", "unversioned")}
	err := e.ints(
		intVar{"OMTX_MAX_RECYCLING_STEPS", 0, &r.MaxRecyclingSteps},
		intVar{"OMTX_MAX_SAMPLING_STEPS", 0, &r.MaxSamplingSteps},
		intVar{"OMTX_MAX_DIFFUSION_SAMPLES", 0, &r.MaxDiffusionSamples},
		intVar{"OMTX_MAX_SAMPLING_STEPS_AFFINITY", 0, &r.MaxSamplingStepsAffinity},
		intVar{"OMTX_MAX_DIFFUSION_SAMPLES_AFFINITY", 0, &r.MaxDiffusionSamplesAffinity},
	)
	if err != nil {
		return r, err
	}
	if r.NoPotentials, err = e.boolean("OMTX_NO_POTENTIALS"); err != nil {
		return r, err
	}
	return r, nil
}

func loadAPI(e env) (API, error) {
	a := API{
		APIAddr:          e.get("OMTX_API_ADDR", DefaultAPIAddr),
		RuntimeEstimates: e.get("OMTX_RUNTIME_ESTIMATES", DefaultRuntimeEstimates),
	}
	var err error
	if err = e.ints(intVar{"OMTX_BATCH_CHUNK_SIZE", 16, &a.ChunkSize}); err != nil {
		return a, err
	}
	if a.MaxBodyBytes, err = atoi64("OMTX_MAX_BODY_BYTES", e.get("OMTX_MAX_BODY_BYTES", "0")); err != nil {
		return a, err
	}
	if a.Models.Available, err = pairs("OMTX_MODELS", e.get("OMTX_MODELS", omtx.BaselineModel+"="+omtx.DefaultGPUClass)); err != nil {
		return a, err
	}
	if a.Models.Substitutes, err = pairs("OMTX_MODEL_SUBSTITUTES", e("OMTX_MODEL_SUBSTITUTES")); err != nil {
		return a, err
	}
	return a, nil
}

func loadOrchestration(e env) (Orchestration, error) {
	o := Orchestration{
		MSAAuthHeader: e("OMTX_MSA_AUTH_HEADER"),
		PublicURL:     e.get("OMTX_PUBLIC_URL", "http://"+e.get("OMTX_API_ADDR", DefaultAPIAddr)),
	}
	if err := e.ints(
		intVar{"OMTX_ORCH_ACTIVITY_SLOTS", 64, &o.OrchActivitySlots},
		intVar{"OMTX_WORKFLOW_TASK_SLOTS", 16, &o.WorkflowTaskSlots},
		intVar{"OMTX_WORKFLOW_CACHE_SIZE", 1000, &o.WorkflowCacheSize},
	); err != nil {
		return o, err
	}
	var err error
	if o.MSARate, err = strconv.ParseFloat(e.get("OMTX_MSA_RATE", "0.5"), 64); err != nil || o.MSARate <= 0 {
		return o, fmt.Errorf("OMTX_MSA_RATE: %q is not a positive number", e("OMTX_MSA_RATE"))
	}
	return o, nil
}

func loadGPU(e env, fleet omtx.Fleet) (GPU, error) {
	g := GPU{
		GPUClass:    e.get("OMTX_GPU_CLASS", omtx.DefaultGPUClass),
		ModelBundle: e.get("OMTX_MODEL_BUNDLE", DefaultModelBundle),
		ORTLibrary:  e.get("ONNXRUNTIME_LIB", ".tools/lib/libonnxruntime.so"),
		ORTProvider: e.get("OMTX_ORT_PROVIDER", "auto"),
		BoltzBin:    e("OMTX_BOLTZ_BIN"),
		BoltzCache:  e("BOLTZ_CACHE"),
	}
	if _, ok := fleet.Class(g.GPUClass); !ok {
		return g, fmt.Errorf("OMTX_GPU_CLASS: %q is not in OMTX_GPU_CLASSES", g.GPUClass)
	}
	if err := e.ints(
		intVar{"OMTX_GPU_SLOTS", 1, &g.GPUSlots},
		intVar{"OMTX_CUDA_DEVICE", 0, &g.CUDADevice},
		intVar{"OMTX_MAX_BATCH", 0, &g.MaxBatch},
		intVar{"OMTX_CHUNK_GROUP", 8, &g.ChunkGroup},
	); err != nil {
		return g, err
	}
	var err error
	if g.CUDAMemLimit, err = atoi64("OMTX_CUDA_MEM_LIMIT", e.get("OMTX_CUDA_MEM_LIMIT", "0")); err != nil {
		return g, err
	}
	if g.RequireGPU, err = e.boolean("OMTX_REQUIRE_GPU"); err != nil {
		return g, err
	}
	if g.TensorRT, err = e.boolean("OMTX_ORT_TENSORRT"); err != nil {
		return g, err
	}
	if g.WorkerStopTimeout, err = time.ParseDuration(e.get("OMTX_WORKER_STOP_TIMEOUT", "30s")); err != nil || g.WorkerStopTimeout < 0 {
		return g, fmt.Errorf("OMTX_WORKER_STOP_TIMEOUT: %q is not a duration", e("OMTX_WORKER_STOP_TIMEOUT"))
	}
	if v := e("OMTX_FAULT_PREDICT_DELAY"); v != "" {
		if g.FaultPredictDelay, err = time.ParseDuration(v); err != nil {
			return g, fmt.Errorf("OMTX_FAULT_PREDICT_DELAY: %w", err)
		}
	}
	switch g.ORTProvider {
	case "cpu", "cuda", "auto":
	default:
		return g, fmt.Errorf("OMTX_ORT_PROVIDER: %q is not cpu, cuda or auto", g.ORTProvider)
	}
	return g, nil
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
