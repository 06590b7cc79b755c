package integration

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/client"
	"github.com/omtx-hub/omtx-hub/devstack"
)

// devProcess is omtx-dev (make dev's program) running as a real
// subprocess on its own state folder and ports, apart from the shared
// test stack: the test can kill it, or restart it on the same state.
type devProcess struct {
	bin   string
	state string
	log   string
	// ports: API, Temporal, Web UI, Firestore, GCS, metrics.
	api, temporal, ui, firestore, gcs, metrics int
	// extra is added to its environment.
	extra []string

	cmd  *exec.Cmd
	done chan struct{}
}

var (
	devBuildOnce sync.Once
	devBin       string
	devBuildErr  error
)

// buildOmtxDev builds cmd/omtx-dev once per test binary, as TestMain
// builds the workers.
func buildOmtxDev(t *testing.T) string {
	t.Helper()
	devBuildOnce.Do(func() {
		devBin = filepath.Join(env.stateDir, "omtx-dev")
		build := exec.Command("go", "build", "-o", devBin, "./cmd/omtx-dev")
		build.Dir = env.root
		out, err := build.CombinedOutput()
		if err != nil {
			devBuildErr = fmt.Errorf("build omtx-dev: %v\n%s", err, out)
		}
	})
	require.NoError(t, devBuildErr)
	return devBin
}

// newDevProcess prepares an omtx-dev on a fresh state folder and free
// ports; start starts it.
func newDevProcess(t *testing.T, extra ...string) *devProcess {
	t.Helper()
	d := &devProcess{bin: buildOmtxDev(t), state: filepath.Join(t.TempDir(), "state"), extra: extra}
	d.log = filepath.Join(env.stateDir, "omtx-dev-"+filepath.Base(filepath.Dir(d.state))+".log")
	for _, p := range []*int{&d.api, &d.temporal, &d.ui, &d.firestore, &d.gcs, &d.metrics} {
		port, err := devstack.FreePort()
		require.NoError(t, err)
		*p = port
	}
	t.Cleanup(func() {
		d.stop(t)
		if t.Failed() {
			data, _ := os.ReadFile(d.log)
			if len(data) > 8000 {
				data = data[len(data)-8000:]
			}
			t.Logf("omtx-dev log (%s), last part:\n%s", d.log, data)
		}
	})
	return d
}

// clientEnv is this process's environment without the variables that
// point clients at the shared test stack.
func clientEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "TEMPORAL_ADDRESS", "OMTX_METRICS_ADDR":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Env points a client (reconcile) at this omtx-dev's services.
func (d *devProcess) Env() []string {
	return append(clientEnv(),
		"FIRESTORE_EMULATOR_HOST="+hostPort(d.firestore),
		"STORAGE_EMULATOR_HOST=http://"+hostPort(d.gcs),
		"TEMPORAL_ADDRESS="+hostPort(d.temporal),
	)
}

func hostPort(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }

// ports lists every port omtx-dev and its services listen on.
func (d *devProcess) ports() []int {
	return []int{d.api, d.temporal, d.ui, d.firestore, d.gcs, d.metrics}
}

// start starts omtx-dev and waits until its API is ready (Firestore, GCS
// and Temporal answer).
func (d *devProcess) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(d.bin, "--state", d.state, "--tools", filepath.Join(env.root, ".tools"),
		"--api-addr", hostPort(d.api), "--temporal-port", strconv.Itoa(d.temporal), "--ui-port", strconv.Itoa(d.ui),
		"--firestore-port", strconv.Itoa(d.firestore), "--gcs-port", strconv.Itoa(d.gcs))
	cmd.Dir = env.root
	cmd.Env = append(append(clientEnv(), "OMTX_METRICS_ADDR="+hostPort(d.metrics)), d.extra...)
	logf, err := os.OpenFile(d.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start())
	d.cmd, d.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(d.done) }()

	deadline := time.Now().Add(3 * time.Minute)
	for {
		resp, err := http.Get("http://" + hostPort(d.api) + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-d.done:
			t.Fatalf("omtx-dev exited during start-up: %s", cmd.ProcessState)
		case <-time.After(300 * time.Millisecond):
		}
		require.True(t, time.Now().Before(deadline), "omtx-dev not ready after 3 minutes")
	}
}

// kill ends omtx-dev with SIGKILL, as kill -9 does.
func (d *devProcess) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGKILL))
	<-d.done
}

// stop ends omtx-dev as Ctrl-C does (it snapshots Firestore and stops its
// services); a no-op when it is not running.
func (d *devProcess) stop(t *testing.T) {
	t.Helper()
	if d.cmd == nil {
		return
	}
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(90 * time.Second):
		t.Errorf("omtx-dev did not stop within 90 s of SIGTERM")
		d.kill(t)
	}
}

// client calls this omtx-dev's API with its local key.
func (d *devProcess) client(t *testing.T) *client.Client {
	t.Helper()
	key, err := os.ReadFile(filepath.Join(d.state, "dev-api-key"))
	require.NoError(t, err)
	c, err := client.New("http://"+hostPort(d.api), strings.TrimSpace(string(key)))
	require.NoError(t, err)
	return c
}

// orphans lists what survives of omtx-dev's services: processes that
// carry its state folder, and ports still accepting connections.
func (d *devProcess) orphans() (pids []int, open []int, err error) {
	pids, err = devstack.Processes(d.state)
	for _, p := range d.ports() {
		c, derr := net.DialTimeout("tcp", hostPort(p), 200*time.Millisecond)
		if derr == nil {
			c.Close()
			open = append(open, p)
		}
	}
	return pids, open, err
}

// reconcile runs `omtx-worker reconcile args...` (the binary TestMain
// built) against this omtx-dev's services and returns its report lines
// and summary.
func (d *devProcess) reconcile(t *testing.T, args ...string) ([]map[string]any, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.orchBin, append([]string{"reconcile"}, args...)...)
	cmd.Dir, cmd.Env = env.root, d.Env()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "omtx-worker reconcile %v: %s", args, stderr.String())
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		lines = append(lines, decode[map[string]any](t, []byte(l)))
	}
	require.NotEmpty(t, lines)
	sum := lines[len(lines)-1]
	require.Equal(t, true, sum["summary"], "the last line is the summary: %v", sum)
	return lines[:len(lines)-1], sum
}
