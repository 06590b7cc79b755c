// Package devstack starts OMTX-Hub's local services for real: the temporal
// CLI's dev server (with its Web UI), the Cloud Firestore emulator and
// fake-gcs-server. make dev and the integration tests use it, so both run
// the same stack.
//
// The services die with the process that started them, however it dies:
// each is started with a parent-death signal (SIGKILL), from one OS thread
// that lives as long as the stack (the signal follows the thread that
// forked, not the process). The Firestore emulator's launcher script forks
// java rather than exec'ing it, so the stack runs java itself. As a second
// line, every service carries the state folder in its environment
// (StateEnv), and a stack starting on a folder first kills whatever a dead
// stack left running there; a lock file keeps two live stacks off one
// folder.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/omtx-hub/omtx-hub/contract"
)

// Options configure the stack. Zero ports pick free ones.
type Options struct {
	// Dir holds the state: temporal.db, gcs/, firestore/.
	Dir string
	// ToolsDir holds bin/temporal and bin/fake-gcs-server (scripts/install-tools.sh).
	ToolsDir string
	// Project is the Google Cloud project id the emulators serve.
	Project string

	TemporalPort, TemporalUIPort, FirestorePort, GCSPort int
	// Headless disables the Temporal Web UI (tests).
	Headless bool
	// PersistFirestore snapshots the emulator's data into Dir/firestore
	// (every SnapshotEvery with PersistLoop, and on Stop) and imports the
	// snapshot at the next start.
	PersistFirestore bool
	// Log receives the services' output; nil discards it.
	Log io.Writer
}

// SnapshotEvery is how often PersistLoop snapshots Firestore: a hard kill
// loses at most this much of its data (plus the export in progress).
const SnapshotEvery = 5 * time.Second

// Stack is a running set of local services.
type Stack struct {
	opts  Options
	mu    sync.Mutex
	procs map[string]*exec.Cmd
	// starts runs cmd.Start on the spawner's locked OS thread; nil once
	// the stack has stopped.
	spawnMu sync.Mutex
	starts  chan spawnReq
	// lock is the state folder's lock file, held while the stack runs.
	lock *os.File
	// exporting is held by a Firestore export.
	exporting sync.Mutex
}

// Service names.
const (
	Temporal  = "temporal"
	Firestore = "firestore"
	GCS       = "gcs"
)

// Start starts every service and waits until each answers.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.Project == "" {
		o.Project = "omtx-local"
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	for _, p := range []*int{&o.TemporalPort, &o.TemporalUIPort, &o.FirestorePort, &o.GCSPort} {
		if *p == 0 {
			port, err := FreePort()
			if err != nil {
				return nil, err
			}
			*p = port
		}
	}
	if err := os.MkdirAll(filepath.Join(o.Dir, "gcs"), 0o755); err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, fmt.Errorf("state dir: %w", err)
	}
	o.Dir = dir
	lock, err := lockState(dir)
	if err != nil {
		return nil, err
	}
	if n, err := KillLeftovers(dir); err != nil {
		unlockState(lock)
		return nil, err
	} else if n > 0 {
		fmt.Fprintf(o.Log, "devstack: killed %d service processes left running on %s by a stack that died\n", n, dir)
	}
	s := &Stack{opts: o, procs: map[string]*exec.Cmd{}, lock: lock, starts: make(chan spawnReq)}
	go s.spawner()
	for _, start := range []func(context.Context) error{s.StartFirestore, s.StartGCS, s.StartTemporal} {
		if err := start(ctx); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// PIDs returns each running service's process id (the benchmark accounts
// their CPU time).
func (s *Stack) PIDs() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for name, cmd := range s.procs {
		if cmd.Process != nil {
			out[name] = cmd.Process.Pid
		}
	}
	return out
}

// Options returns the stack's settings, with the ports it chose.
func (s *Stack) Options() Options { return s.opts }

// TemporalAddress is the gRPC address of the Temporal frontend.
func (s *Stack) TemporalAddress() string { return hostPort(s.opts.TemporalPort) }

// TemporalUI is the Web UI's URL.
func (s *Stack) TemporalUI() string { return "http://" + hostPort(s.opts.TemporalUIPort) }

// FirestoreHost is the value for FIRESTORE_EMULATOR_HOST.
func (s *Stack) FirestoreHost() string { return hostPort(s.opts.FirestorePort) }

// GCSHost is the value for STORAGE_EMULATOR_HOST.
func (s *Stack) GCSHost() string { return "http://" + hostPort(s.opts.GCSPort) }

// Env is the environment that points the Google and Temporal clients at
// this stack.
func (s *Stack) Env() map[string]string {
	return map[string]string{
		"FIRESTORE_EMULATOR_HOST": s.FirestoreHost(),
		"STORAGE_EMULATOR_HOST":   s.GCSHost(),
		"TEMPORAL_ADDRESS":        s.TemporalAddress(),
		"OMTX_PROJECT":            s.opts.Project,
	}
}

// SetEnv exports Env into this process.
func (s *Stack) SetEnv() {
	for k, v := range s.Env() {
		os.Setenv(k, v)
	}
}

func hostPort(p int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(p)) }

// SearchAttributes are registered on the dev server at start.
func SearchAttributes() []string {
	var out []string
	for _, k := range contract.SearchAttributeKeys {
		out = append(out, k.GetName()+"=Keyword")
	}
	return out
}

// DynamicConfig is the dev server's dynamic configuration: the version
// check off (no network here), and the priority-aware task matcher, which
// serves a single prediction before the tasks of a large batch (see
// contract.PriorityKeys), with fairness between users at one priority.
// Priority orders tasks within a task-queue partition, so queues get one
// partition: with the default four, a poller that lands on another
// partition takes a batch task first. (Production sets one partition on
// the GPU queues only; deploy/temporal/values.yaml.)
var DynamicConfig = []string{
	"frontend.enableServerVersionCheck=false",
	"matching.useNewMatcher=true",
	"matching.enableFairness=true",
	"matching.numTaskqueueReadPartitions=1",
	"matching.numTaskqueueWritePartitions=1",
}

// StartTemporal starts the temporal CLI's dev server with a persistent
// SQLite file. It may be called again after StopService to restart it.
func (s *Stack) StartTemporal(ctx context.Context) error {
	bin := filepath.Join(s.opts.ToolsDir, "bin", "temporal")
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("temporal CLI not found at %s: run scripts/install-tools.sh", bin)
	}
	args := []string{"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(s.opts.TemporalPort),
		"--db-filename", filepath.Join(s.opts.Dir, "temporal.db"),
		"--sqlite-pragma", "journal_mode=wal",
		"--sqlite-pragma", "synchronous=off",
		"--log-level", "warn",
	}
	if s.opts.Headless {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", strconv.Itoa(s.opts.TemporalUIPort), "--ui-ip", "127.0.0.1")
	}
	for _, sa := range SearchAttributes() {
		args = append(args, "--search-attribute", sa)
	}
	for _, dc := range DynamicConfig {
		args = append(args, "--dynamic-config-value", dc)
	}
	if err := s.spawn(Temporal, bin, args...); err != nil {
		return err
	}
	return s.waitTCP(ctx, Temporal, s.TemporalAddress(), 60*time.Second)
}

// FirestoreEmulator finds the Cloud Firestore emulator's launcher.
func FirestoreEmulator() (string, error) {
	if p, err := exec.LookPath("cloud_firestore_emulator"); err == nil {
		return p, nil
	}
	var roots []string
	if out, err := exec.Command("gcloud", "info", "--format=value(installation.sdk_root)").Output(); err == nil {
		roots = append(roots, strings.TrimSpace(string(out)))
	}
	roots = append(roots, "/usr/lib/google-cloud-sdk", "/usr/share/google-cloud-sdk", "/opt/google-cloud-sdk")
	for _, r := range roots {
		p := filepath.Join(r, "platform", "cloud-firestore-emulator", "cloud_firestore_emulator")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("the Cloud Firestore emulator is not installed: install the Debian package " +
		"google-cloud-cli-firestore-emulator (it needs Java 11+), or put cloud_firestore_emulator on PATH")
}

// StartFirestore starts the Firestore emulator.
func (s *Stack) StartFirestore(ctx context.Context) error {
	bin, err := FirestoreEmulator()
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("java"); err != nil {
		return errors.New("the Cloud Firestore emulator needs Java: install a JRE (Debian: default-jre-headless)")
	}
	args := []string{"--host=127.0.0.1", "--port=" + strconv.Itoa(s.opts.FirestorePort), "--project_id=" + s.opts.Project}
	if s.opts.PersistFirestore {
		if meta := restoreSnapshot(filepath.Join(s.opts.Dir, "firestore")); meta != "" {
			args = append(args, "--import-data="+meta)
		}
	}
	if java, jargs, ok := javaCommand(bin); ok {
		bin, args = java, append(jargs, args...)
	} else {
		fmt.Fprintf(s.opts.Log, "devstack: cannot read the JVM command from %s; running the launcher (its java outlives a hard kill until the next start)\n", bin)
	}
	if err := s.spawn(Firestore, bin, args...); err != nil {
		return err
	}
	return s.waitHTTP(ctx, Firestore, "http://"+s.FirestoreHost()+"/", 90*time.Second)
}

// StartGCS starts fake-gcs-server with its filesystem backend.
func (s *Stack) StartGCS(ctx context.Context) error {
	bin := filepath.Join(s.opts.ToolsDir, "bin", "fake-gcs-server")
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("fake-gcs-server not found at %s: run scripts/install-tools.sh", bin)
	}
	url := s.GCSHost()
	err := s.spawn(GCS, bin,
		"-scheme", "http",
		"-host", "127.0.0.1",
		"-port", strconv.Itoa(s.opts.GCSPort),
		"-backend", "filesystem",
		"-filesystem-root", filepath.Join(s.opts.Dir, "gcs"),
		"-public-host", hostPort(s.opts.GCSPort),
		"-external-url", url,
		"-log-level", "warn",
	)
	if err != nil {
		return err
	}
	return s.waitHTTP(ctx, GCS, url+"/storage/v1/b", 30*time.Second)
}

// javaCommand reads the JVM command line out of the Cloud Firestore
// emulator's launcher script (which runs java as its child, not by exec):
// java, its flags, the classpath and the main class, for the stack to run
// java itself. ok is false when the script does not read as expected.
func javaCommand(launcher string) (java string, args []string, ok bool) {
	if p, err := filepath.EvalSymlinks(launcher); err == nil {
		launcher = p
	}
	script, err := os.ReadFile(launcher)
	if err != nil {
		return "", nil, false
	}
	jar := launcherJar.FindSubmatch(script)
	class := launcherClass.FindSubmatch(script)
	flags := launcherFlags.FindSubmatch(script)
	if jar == nil || class == nil {
		return "", nil, false
	}
	jarPath := filepath.Join(filepath.Dir(launcher), string(jar[1]))
	if _, err := os.Stat(jarPath); err != nil {
		return "", nil, false
	}
	java = os.Getenv("JAVA") // as the launcher honours it
	if java == "" {
		if java, err = exec.LookPath("java"); err != nil {
			return "", nil, false
		}
	}
	if flags != nil {
		args = strings.Fields(string(flags[1]))
	}
	return java, append(args, "-cp", jarPath, string(class[1])), true
}

// What javaCommand reads in the launcher (google-cloud-cli-firestore-emulator):
//
//	declare -r FIRESTORE_JAR="${FIRESTORE_DIR}/cloud-firestore-emulator.jar"
//	declare -r JVM_ENGLISH="-Duser.language=en"
//	${JAVA:="java"} ${JVM_FLAGS} -cp "${FIRESTORE_JAR}" com.google.cloud.datastore.emulator.firestore.CloudFirestore $*
var (
	launcherJar   = regexp.MustCompile(`FIRESTORE_JAR="\$\{FIRESTORE_DIR\}/([^"/]+\.jar)"`)
	launcherFlags = regexp.MustCompile(`JVM_ENGLISH="([^"]*)"`)
	launcherClass = regexp.MustCompile(`-cp "\$\{FIRESTORE_JAR\}" ([A-Za-z0-9_.$]+)`)
)

// StateEnv names the environment variable that every service of a stack
// carries: the stack's state folder. KillLeftovers finds a dead stack's
// services by it.
const StateEnv = "OMTX_DEVSTACK_STATE"

// spawnReq asks the spawner to start a command.
type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

// spawner starts the stack's commands from one OS thread, locked for the
// stack's life: a parent-death signal fires when the thread that forked
// exits, and Go may retire the thread of any unlocked goroutine. It
// returns when Stop closes starts, after every service has stopped.
func (s *Stack) spawner() {
	runtime.LockOSThread() // never unlocked: the thread ends with the stack
	for r := range s.starts {
		r.done <- r.cmd.Start()
	}
}

func (s *Stack) spawn(name, bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	cmd.Stdout = prefixWriter(s.opts.Log, name)
	cmd.Stderr = cmd.Stdout
	cmd.Env = append(os.Environ(), StateEnv+"="+s.opts.Dir)
	// Own process group, so stopping kills a child it forks too; killed
	// with the stack's process (see spawner).
	cmd.SysProcAttr = procAttr()
	s.spawnMu.Lock()
	err := errors.New("the stack has stopped")
	if s.starts != nil {
		done := make(chan error, 1)
		s.starts <- spawnReq{cmd: cmd, done: done}
		err = <-done
	}
	s.spawnMu.Unlock()
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	s.mu.Lock()
	s.procs[name] = cmd
	s.mu.Unlock()
	go func() { _ = cmd.Wait() }()
	return nil
}

// StopService stops one service: SIGTERM to its process group, then
// SIGKILL after a grace period.
func (s *Stack) StopService(name string) {
	s.mu.Lock()
	cmd := s.procs[name]
	delete(s.procs, name)
	s.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	pgid := cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(-pgid, 0) != nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// KillService kills one service at once, as a crash would.
func (s *Stack) KillService(name string) {
	s.mu.Lock()
	cmd := s.procs[name]
	delete(s.procs, name)
	s.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		time.Sleep(200 * time.Millisecond)
	}
}

// Stop stops every service, Temporal first, snapshotting Firestore first
// when it persists, and releases the state folder.
func (s *Stack) Stop() {
	s.StopService(Temporal)
	s.StopService(GCS)
	if s.opts.PersistFirestore {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := s.ExportFirestore(ctx); err != nil {
			fmt.Fprintln(s.opts.Log, "devstack: firestore snapshot:", err)
		}
		cancel()
	}
	s.StopService(Firestore)
	s.spawnMu.Lock()
	defer s.spawnMu.Unlock()
	if s.starts != nil {
		close(s.starts)
		s.starts = nil
		unlockState(s.lock)
	}
}

// firestoreSnapshot finds the export metadata file under dir, or "".
func firestoreSnapshot(dir string) string {
	m, _ := filepath.Glob(filepath.Join(dir, "*", "*.overall_export_metadata"))
	if len(m) == 0 {
		return ""
	}
	return m[0]
}

// restoreSnapshot returns the metadata file of the snapshot in dir. When
// dir has none because a hard kill came between ExportFirestore's two
// renames, it puts the complete snapshot back first.
func restoreSnapshot(dir string) string {
	if meta := firestoreSnapshot(dir); meta != "" {
		return meta
	}
	for _, prev := range []string{dir + ".new", dir + ".old"} {
		if firestoreSnapshot(prev) == "" {
			continue
		}
		_ = os.RemoveAll(dir)
		if os.Rename(prev, dir) == nil {
			return firestoreSnapshot(dir)
		}
	}
	return ""
}

// ExportFirestore snapshots the emulator's data into Dir/firestore through
// its export endpoint, replacing the previous snapshot only once the new
// one is complete. (The emulator's --export-on-exit is not honoured when
// it is stopped by a signal, so the stack exports itself.) One export runs
// at a time.
func (s *Stack) ExportFirestore(ctx context.Context) error {
	s.exporting.Lock()
	defer s.exporting.Unlock()
	return s.export(ctx)
}

func (s *Stack) export(ctx context.Context) error {
	final := filepath.Join(s.opts.Dir, "firestore")
	tmp := final + ".new"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(tmp)
	if err != nil {
		return err
	}
	body := fmt.Sprintf(`{"database":"projects/%s/databases/(default)","export_directory":%q}`, s.opts.Project, abs)
	url := "http://" + s.FirestoreHost() + "/emulator/v1/projects/" + s.opts.Project + ":export"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("export firestore: %w", err)
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || firestoreSnapshot(tmp) == "" {
		return fmt.Errorf("export firestore: %s %s", resp.Status, msg)
	}
	// Swap by renames, keeping the previous snapshot until the new one is
	// in place: restoreSnapshot finds a complete one whenever a hard kill
	// comes.
	old := final + ".old"
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	if err := os.Rename(final, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	return os.RemoveAll(old)
}

// PersistLoop snapshots Firestore every interval (SnapshotEvery for make
// dev) until ctx ends, so a hard kill loses at most about one interval of
// Firestore changes. A tick that comes while an export still runs is
// skipped.
func (s *Stack) PersistLoop(ctx context.Context, every time.Duration) {
	if !s.opts.PersistFirestore {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !s.exporting.TryLock() {
				continue
			}
			err := s.export(ctx)
			s.exporting.Unlock()
			if err != nil && ctx.Err() == nil {
				fmt.Fprintln(s.opts.Log, "devstack: firestore snapshot:", err)
			}
		}
	}
}

func (s *Stack) waitTCP(ctx context.Context, name, addr string, limit time.Duration) error {
	return s.wait(ctx, name, limit, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

func (s *Stack) waitHTTP(ctx context.Context, name, url string, limit time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	return s.wait(ctx, name, limit, func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode < 500
	})
}

func (s *Stack) wait(ctx context.Context, name string, limit time.Duration, up func() bool) error {
	deadline := time.Now().Add(limit)
	for {
		if up() {
			return nil
		}
		s.mu.Lock()
		cmd := s.procs[name]
		s.mu.Unlock()
		if cmd != nil && cmd.ProcessState != nil {
			return fmt.Errorf("%s exited during start-up: %s", name, cmd.ProcessState)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer within %s", name, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// FreePort asks the kernel for a free TCP port on loopback.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type linePrefixer struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
}

var logMu sync.Mutex

func prefixWriter(w io.Writer, name string) io.Writer {
	if w == io.Discard {
		return w
	}
	return &linePrefixer{mu: &logMu, w: w, prefix: "[" + name + "] "}
}

func (p *linePrefixer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line == "" {
			continue
		}
		if _, err := io.WriteString(p.w, p.prefix+line); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}
