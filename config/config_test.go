package config

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// envOf is a getenv over vars that records every variable asked for.
func envOf(vars map[string]string) (getenv func(string) string, asked func() []string) {
	seen := map[string]bool{}
	return func(k string) string {
			seen[k] = true
			return vars[k]
		}, func() []string {
			var out []string
			for k := range seen {
				out = append(out, k)
			}
			sort.Strings(out)
			return out
		}
}

var (
	commonVars = []string{
		"OMTX_BUCKET", "OMTX_FIRESTORE_DATABASE", "OMTX_GPU_CLASSES", "OMTX_LOG_LEVEL", "OMTX_METRICS_ADDR",
		"OMTX_PROJECT", "OMTX_RESULT_CACHE_SHARED_USERS", "OMTX_WORKER_ID", "STORAGE_EMULATOR_HOST", "TEMPORAL_ADDRESS", "TEMPORAL_API_KEY",
		"TEMPORAL_API_KEY_FILE", "TEMPORAL_NAMESPACE", "TEMPORAL_TLS_CA", "TEMPORAL_TLS_CERT", "TEMPORAL_TLS_KEY",
	}
	keysVars = []string{"OMTX_API_KEYS", "OMTX_API_KEYS_FILE", "OMTX_WEBHOOK_ALLOW_LOOPBACK", "OMTX_WEBHOOK_SECRET"}
	apiVars  = []string{
		"OMTX_API_ADDR", "OMTX_BATCH_CHUNK_SIZE", "OMTX_MAX_BODY_BYTES", "OMTX_MODELS", "OMTX_MODEL_SUBSTITUTES",
		"OMTX_RUNTIME_ESTIMATES",
	}
	orchVars = []string{
		"OMTX_API_ADDR", "OMTX_MSA_AUTH_HEADER", "OMTX_MSA_RATE", "OMTX_ORCH_ACTIVITY_SLOTS",
		"OMTX_PUBLIC_URL", "OMTX_WORKFLOW_CACHE_SIZE", "OMTX_WORKFLOW_TASK_SLOTS",
	}
	runsVars = []string{
		"OMTX_MAX_DIFFUSION_SAMPLES", "OMTX_MAX_DIFFUSION_SAMPLES_AFFINITY", "OMTX_MAX_RECYCLING_STEPS",
		"OMTX_MAX_SAMPLING_STEPS", "OMTX_MAX_SAMPLING_STEPS_AFFINITY", "OMTX_MSA_DB_VERSION", "OMTX_MSA_URL",
		"OMTX_NO_POTENTIALS",
	}
	gpuVars = []string{
		"BOLTZ_CACHE", "ONNXRUNTIME_LIB", "OMTX_BOLTZ_BIN", "OMTX_CHUNK_GROUP", "OMTX_CUDA_DEVICE", "OMTX_CUDA_MEM_LIMIT",
		"OMTX_FAULT_PREDICT_DELAY", "OMTX_GPU_CLASS", "OMTX_GPU_SLOTS", "OMTX_MAX_BATCH", "OMTX_MODEL_BUNDLE",
		"OMTX_ORT_PROVIDER", "OMTX_ORT_TENSORRT", "OMTX_REQUIRE_GPU", "OMTX_WORKER_STOP_TIMEOUT",
	}
)

func union(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, v := range l {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	sort.Strings(out)
	return out
}

// TestEachProcessReadsOnlyItsVariables: each binary asks the environment
// for its sections' variables and no other (a GPU worker never reads the
// API keys; the API never reads ONNX Runtime's settings).
func TestEachProcessReadsOnlyItsVariables(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		p    Process
		want []string
	}{
		{ProcessAPI, union(commonVars, keysVars, runsVars, apiVars)},
		{ProcessWorker, union(commonVars, keysVars, runsVars, orchVars)},
		{ProcessGPUWorker, union(commonVars, gpuVars)},
		{ProcessReconcile, union(commonVars)},
		{ProcessAll, union(commonVars, keysVars, runsVars, apiVars, orchVars, gpuVars)},
	} {
		t.Run(string(c.p), func(t *testing.T) {
			t.Parallel()
			getenv, asked := envOf(nil)
			_, err := LoadFor(c.p, getenv)
			require.NoError(t, err)
			assert.Equal(t, c.want, asked())
		})
	}
}

// TestSectionsOfOtherProcessesStayZero: a process gets only its sections.
func TestSectionsOfOtherProcessesStayZero(t *testing.T) {
	t.Parallel()
	api, err := LoadFor(ProcessAPI, func(string) string { return "" })
	require.NoError(t, err)
	assert.Zero(t, api.GPU)
	assert.Zero(t, api.Orchestration)
	gpu, err := LoadFor(ProcessGPUWorker, func(string) string { return "" })
	require.NoError(t, err)
	assert.Zero(t, gpu.Keys)
	assert.Zero(t, gpu.API)
	_, err = LoadFor("scheduler", func(string) string { return "" })
	require.Error(t, err)
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(func(string) string { return "" })
	require.NoError(t, err)
	assert.Equal(t, DefaultTemporalAddress, c.TemporalAddress)
	assert.Equal(t, "default", c.TemporalNamespace)
	assert.Equal(t, DefaultProject, c.Project)
	assert.Equal(t, DefaultBucket, c.Bucket)
	assert.False(t, c.StorageEmulator)
	assert.Equal(t, "info", c.LogLevel)
	assert.NotEmpty(t, c.WorkerID)
	fleet, err := omtx.ParseFleet(omtx.DefaultFleetSpec)
	require.NoError(t, err)
	assert.Equal(t, fleet, c.Fleet)

	assert.Equal(t, DefaultAPIAddr, c.APIAddr)
	assert.Equal(t, 16, c.ChunkSize)
	assert.Equal(t, int64(0), c.MaxBodyBytes)
	assert.Equal(t, map[string]string{omtx.BaselineModel: omtx.DefaultGPUClass}, c.Models.Available)
	assert.Empty(t, c.Models.Substitutes)
	assert.Equal(t, DefaultRuntimeEstimates, c.RuntimeEstimates)

	assert.Equal(t, 64, c.OrchActivitySlots)
	assert.Equal(t, 16, c.WorkflowTaskSlots)
	assert.Equal(t, 1000, c.WorkflowCacheSize)
	assert.Equal(t, 0.5, c.MSARate)
	assert.Equal(t, "http://"+DefaultAPIAddr, c.PublicURL)

	assert.Equal(t, omtx.DefaultGPUClass, c.GPUClass)
	assert.Equal(t, 1, c.GPUSlots)
	assert.Equal(t, 8, c.ChunkGroup)
	assert.Equal(t, 30*time.Second, c.WorkerStopTimeout)
	assert.Equal(t, DefaultModelBundle, c.ModelBundle)
	assert.Equal(t, "auto", c.ORTProvider)
	assert.Zero(t, c.FaultPredictDelay)
}

func TestValuesAreRead(t *testing.T) {
	t.Parallel()
	c, err := Load(func(k string) string {
		return map[string]string{
			"TEMPORAL_ADDRESS": " temporal:7233 ", "OMTX_API_ADDR": "0.0.0.0:9000", "OMTX_GPU_CLASS": "a100-80g",
			"OMTX_GPU_SLOTS": "3", "OMTX_WORKER_STOP_TIMEOUT": "75s", "OMTX_MSA_RATE": "2.5",
			"OMTX_MODEL_SUBSTITUTES": "boltz2 = descriptor", "STORAGE_EMULATOR_HOST": "localhost:4443",
			"OMTX_REQUIRE_GPU": "true", "OMTX_FAULT_PREDICT_DELAY": "2s",
		}[k]
	})
	require.NoError(t, err)
	assert.Equal(t, "temporal:7233", c.TemporalAddress, "values are trimmed")
	assert.Equal(t, "http://0.0.0.0:9000", c.PublicURL, "the public URL defaults to the API's address")
	assert.Equal(t, "a100-80g", c.GPUClass)
	assert.Equal(t, 3, c.GPUSlots)
	assert.Equal(t, 75*time.Second, c.WorkerStopTimeout)
	assert.Equal(t, 2.5, c.MSARate)
	assert.Equal(t, map[string]string{"boltz2": "descriptor"}, c.Models.Substitutes)
	assert.True(t, c.StorageEmulator)
	assert.True(t, c.RequireGPU)
	assert.Equal(t, 2*time.Second, c.FaultPredictDelay)
}

func TestAPIKeysFile(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(f, []byte("k=u"), 0o600))
	c, err := LoadFor(ProcessAPI, func(k string) string { return map[string]string{"OMTX_API_KEYS_FILE": f}[k] })
	require.NoError(t, err)
	assert.Equal(t, "k=u", c.APIKeys)
}

// TestBoundsAndErrors: each bad value is refused, naming its variable.
func TestBoundsAndErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		p    Process
		vars map[string]string
		want string
	}{
		{"negative slots", ProcessGPUWorker, map[string]string{"OMTX_GPU_SLOTS": "-1"}, "OMTX_GPU_SLOTS"},
		{"negative run-setting bound", ProcessAPI, map[string]string{"OMTX_MAX_RECYCLING_STEPS": "-3"}, "OMTX_MAX_RECYCLING_STEPS"},
		{"potentials switch not a boolean", ProcessWorker, map[string]string{"OMTX_NO_POTENTIALS": "sometimes"}, "OMTX_NO_POTENTIALS"},
		{"slots not a number", ProcessWorker, map[string]string{"OMTX_ORCH_ACTIVITY_SLOTS": "many"}, "OMTX_ORCH_ACTIVITY_SLOTS"},
		{"negative body limit", ProcessAPI, map[string]string{"OMTX_MAX_BODY_BYTES": "-5"}, "OMTX_MAX_BODY_BYTES"},
		{"negative chunk size", ProcessAPI, map[string]string{"OMTX_BATCH_CHUNK_SIZE": "-16"}, "OMTX_BATCH_CHUNK_SIZE"},
		{"negative CUDA memory", ProcessGPUWorker, map[string]string{"OMTX_CUDA_MEM_LIMIT": "-1"}, "OMTX_CUDA_MEM_LIMIT"},
		{"zero MSA rate", ProcessWorker, map[string]string{"OMTX_MSA_RATE": "0"}, "OMTX_MSA_RATE"},
		{"MSA rate not a number", ProcessWorker, map[string]string{"OMTX_MSA_RATE": "fast"}, "OMTX_MSA_RATE"},
		{"negative stop timeout", ProcessGPUWorker, map[string]string{"OMTX_WORKER_STOP_TIMEOUT": "-1s"}, "OMTX_WORKER_STOP_TIMEOUT"},
		{"stop timeout without a unit", ProcessGPUWorker, map[string]string{"OMTX_WORKER_STOP_TIMEOUT": "30"}, "OMTX_WORKER_STOP_TIMEOUT"},
		{"fault delay not a duration", ProcessGPUWorker, map[string]string{"OMTX_FAULT_PREDICT_DELAY": "soon"}, "OMTX_FAULT_PREDICT_DELAY"},
		{"bool not a bool", ProcessGPUWorker, map[string]string{"OMTX_REQUIRE_GPU": "maybe"}, "OMTX_REQUIRE_GPU"},
		{"loopback not a bool", ProcessWorker, map[string]string{"OMTX_WEBHOOK_ALLOW_LOOPBACK": "yes please"}, "OMTX_WEBHOOK_ALLOW_LOOPBACK"},
		{"unknown ORT provider", ProcessGPUWorker, map[string]string{"OMTX_ORT_PROVIDER": "rocm"}, "OMTX_ORT_PROVIDER"},
		{"GPU class outside the fleet", ProcessGPUWorker, map[string]string{"OMTX_GPU_CLASS": "h100"}, "OMTX_GPU_CLASS"},
		{"bad fleet", ProcessReconcile, map[string]string{"OMTX_GPU_CLASSES": "l4"}, "OMTX_GPU_CLASSES"},
		{"TLS cert without key", ProcessReconcile, map[string]string{"TEMPORAL_TLS_CERT": "/c.pem"}, "TEMPORAL_TLS_KEY"},
		{"keys twice", ProcessAPI, map[string]string{"OMTX_API_KEYS": "k=u", "OMTX_API_KEYS_FILE": "/keys"}, "OMTX_API_KEYS_FILE"},
		{"keys file missing", ProcessWorker, map[string]string{"OMTX_API_KEYS_FILE": "/nonexistent/keys"}, "OMTX_API_KEYS_FILE"},
		{"model pair without =", ProcessAPI, map[string]string{"OMTX_MODELS": "boltz2"}, "OMTX_MODELS"},
		{"substitute without a target", ProcessAPI, map[string]string{"OMTX_MODEL_SUBSTITUTES": "boltz2="}, "OMTX_MODEL_SUBSTITUTES"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadFor(c.p, func(k string) string { return c.vars[k] })
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}

	t.Run("a section a process does not read cannot fail it", func(t *testing.T) {
		t.Parallel()
		_, err := LoadFor(ProcessAPI, func(k string) string {
			return map[string]string{"OMTX_GPU_SLOTS": "-1", "OMTX_MSA_RATE": "0"}[k]
		})
		require.NoError(t, err)
	})
}

// TestResultCacheSharedUsers: the named users, trimmed; none by default,
// so that each user reuses only their own results.
func TestResultCacheSharedUsers(t *testing.T) {
	t.Parallel()
	c, err := Load(func(string) string { return "" })
	require.NoError(t, err)
	assert.Empty(t, c.ResultCacheSharedUsers)
	c, err = Load(func(k string) string {
		return map[string]string{"OMTX_RESULT_CACHE_SHARED_USERS": " alice, bob ,,"}[k]
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"alice", "bob"}, c.ResultCacheSharedUsers)
}
