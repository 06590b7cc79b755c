// Package integration runs OMTX-Hub end to end against the real local
// services: the temporal CLI's dev server, the Cloud Firestore emulator and
// fake-gcs-server, started by devstack exactly as make dev starts them. The
// API and the orchestration worker run in this process with the production
// wiring (package app); GPU workers run as real omtx-gpu-worker processes,
// so the crash test can kill one.
//
// These tests run when OMTX_INTEGRATION=1 (make test sets it).
package integration

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/app/apiapp"
	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/devstack"
	"github.com/omtx-hub/omtx-hub/omtx"
)

const (
	testKey  = "integration-test-key-0123456789"
	testUser = "test_user_001"
	otherKey = "integration-other-key-012345678"
)

// env is the shared state of the integration tests.
var env struct {
	root     string
	stack    *devstack.Stack
	cfg      config.Config
	deps     *app.Deps
	api      *httptest.Server
	gpuBin   string
	orchBin  string
	apiBin   string
	boltzBin string
	log      *slog.Logger
	stateDir string
	orch     *process
	// orchMetrics is the orchestration worker's /metrics address.
	orchMetrics string
}

func TestMain(m *testing.M) {
	if os.Getenv("OMTX_INTEGRATION") != "1" {
		fmt.Println("integration: skipped (set OMTX_INTEGRATION=1, or run make test)")
		os.Exit(0)
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root, err := filepath.Abs("..")
	if err != nil {
		return 0, err
	}
	env.root = root
	dir, err := os.MkdirTemp("", "omtx-integration-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	env.stateDir = dir
	logf, err := os.Create(filepath.Join(dir, "services.log"))
	if err != nil {
		return 0, err
	}
	env.log = slog.New(slog.NewJSONHandler(logf, &slog.HandlerOptions{Level: slog.LevelInfo}))

	env.gpuBin = filepath.Join(dir, "omtx-gpu-worker")
	env.orchBin = filepath.Join(dir, "omtx-worker")
	env.boltzBin = filepath.Join(dir, "fakeboltz")
	env.apiBin = filepath.Join(dir, "omtx-api")
	build := exec.Command("go", "build", "-o", dir+"/", "./cmd/omtx-gpu-worker", "./cmd/omtx-worker", "./cmd/omtx-api", "./boltz/internal/fakeboltz")
	build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return 0, fmt.Errorf("build workers: %w", err)
	}

	env.stack, err = devstack.Start(ctx, devstack.Options{
		Dir: filepath.Join(dir, "state"), ToolsDir: filepath.Join(root, ".tools"),
		Headless: true, Log: logf,
	})
	if err != nil {
		return 0, err
	}
	defer env.stack.Stop()
	env.stack.SetEnv()

	vars := map[string]string{
		"OMTX_API_KEYS":          testKey + "=" + testUser + "," + otherKey + "=someone_else",
		"OMTX_MODEL_SUBSTITUTES": omtx.ModelBoltz2 + "=" + omtx.BaselineModel,
		"OMTX_BUCKET":            "hub-job-files",
		// Webhooks: every key signs with a secret derived from this one;
		// the tests' receivers listen on loopback.
		"OMTX_WEBHOOK_SECRET":         "integration-deployment-secret-0123456789",
		"OMTX_WEBHOOK_ALLOW_LOOPBACK": "true",
	}
	for k, v := range vars {
		os.Setenv(k, v)
	}
	env.cfg, err = config.FromEnv()
	if err != nil {
		return 0, err
	}
	env.deps, err = app.Open(ctx, env.cfg, env.log)
	if err != nil {
		return 0, err
	}
	defer env.deps.Close()

	srv, err := apiapp.New(env.cfg, env.deps, env.log)
	if err != nil {
		return 0, err
	}
	env.api = httptest.NewServer(srv.Handler())
	defer env.api.Close()

	port, err := devstack.FreePort()
	if err != nil {
		return 0, err
	}
	env.orchMetrics = fmt.Sprintf("127.0.0.1:%d", port)
	orch, err := startProcess(env.orchBin, "omtx-worker.log")
	if err != nil {
		return 0, err
	}
	env.orch = orch
	code := m.Run()
	env.orch.stop()
	if code != 0 {
		fmt.Fprintln(os.Stderr, "integration: service logs in", logf.Name())
		data, _ := os.ReadFile(logf.Name())
		if len(data) > 20000 {
			data = data[len(data)-20000:]
		}
		os.Stderr.Write(data)
	}
	return code, nil
}

// process is a running worker process.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startProcess starts a worker binary with this process's environment
// (which points at the test stack) plus extra.
func startProcess(bin, logName string, extra ...string) (*process, error) {
	cmd := exec.Command(bin)
	cmd.Dir = env.root
	cmd.Env = os.Environ()
	if bin == env.orchBin {
		cmd.Env = append(cmd.Env, "OMTX_METRICS_ADDR="+env.orchMetrics)
	}
	cmd.Env = append(cmd.Env, extra...)
	logf, err := os.OpenFile(filepath.Join(env.stateDir, logName), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	w := &process{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(w.done) }()
	return w, nil
}

// startGPUWorker starts a GPU worker process with extra environment.
func startGPUWorker(t *testing.T, extra ...string) *process {
	t.Helper()
	w, err := startProcess(env.gpuBin, "gpu-worker.log", extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.stop)
	return w
}

// kill ends the worker at once, as a crash or a preempted node would.
func (w *process) kill() {
	_ = w.cmd.Process.Kill()
	<-w.done
}

// stop ends the worker gracefully.
func (w *process) stop() {
	select {
	case <-w.done:
		return
	default:
	}
	_ = w.cmd.Process.Signal(os.Interrupt)
	select {
	case <-w.done:
	case <-time.After(40 * time.Second):
		w.kill()
	}
}
