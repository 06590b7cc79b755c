package deploytest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The deployment relies on these from the Go code; each is checked against
// the source, so a manifest and the code cannot drift apart silently.

var (
	exportedOnce sync.Once
	exported     map[string][]string
)

// exportedMetrics maps each Prometheus series metrics/ defines (a
// prometheus.*Opts literal with Name, passed with a []string of label
// names) to its labels.
func exportedMetrics(t testing.TB) map[string][]string {
	t.Helper()
	exportedOnce.Do(func() {
		exported = map[string][]string{}
		fset := token.NewFileSet()
		files, err := filepath.Glob(repoPath(t, "metrics", "*.go"))
		require.NoError(t, err)
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, f, nil, 0)
			require.NoError(t, err)
			ast.Inspect(file, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) < 1 {
					return true
				}
				name := optsName(call.Args[0])
				if name == "" {
					return true
				}
				var lbls []string
				if len(call.Args) > 1 {
					if cl, ok := call.Args[1].(*ast.CompositeLit); ok {
						for _, e := range cl.Elts {
							if bl, ok := e.(*ast.BasicLit); ok && bl.Kind == token.STRING {
								v, _ := strconv.Unquote(bl.Value)
								lbls = append(lbls, v)
							}
						}
					}
				}
				exported[name] = lbls
				return true
			})
		}
	})
	require.Contains(t, exported, "omtx_jobs_total", "could not read the series of metrics/; has its form changed?")
	return exported
}

// optsName is the Name of a prometheus.XxxOpts{...} literal, or "".
func optsName(e ast.Expr) string {
	cl, ok := e.(*ast.CompositeLit)
	if !ok {
		return ""
	}
	sel, ok := cl.Type.(*ast.SelectorExpr)
	if !ok || !strings.HasSuffix(sel.Sel.Name, "Opts") {
		return ""
	}
	for _, el := range cl.Elts {
		kv, ok := el.(*ast.KeyValueExpr)
		if !ok {
			continue
		}
		if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Name" {
			if bl, ok := kv.Value.(*ast.BasicLit); ok && bl.Kind == token.STRING {
				v, _ := strconv.Unquote(bl.Value)
				return v
			}
		}
	}
	return ""
}

var sdkConst = regexp.MustCompile(`(?m)^\s*([A-Za-z0-9]+)\s*=\s*([A-Za-z0-9]+)\s*\+\s*"([a-z_]+)"`)

// sdkMetricConstants reads the Temporal SDK's metric names (the version
// go.mod requires, from the module cache) with a kind from the constant's
// name: "counter", "timer" (…Latency) or "" (a gauge).
func sdkMetricConstants(t testing.TB) map[string]string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*go\.temporal\.io/sdk (v\S+)`).FindStringSubmatch(readFile(t, "go.mod"))
	require.NotNil(t, m, "go.mod does not require go.temporal.io/sdk")
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	require.NoError(t, err)
	path := filepath.Join(strings.TrimSpace(string(out)), "go.temporal.io", "sdk@"+m[1], "internal", "common", "metrics", "constants.go")
	src, err := os.ReadFile(path)
	require.NoError(t, err, "the SDK's metric names are read from the module cache (go mod download go.temporal.io/sdk)")
	values := map[string]string{"TemporalMetricsPrefix": "temporal_"}
	kinds := map[string]string{}
	for _, c := range sdkConst.FindAllStringSubmatch(string(src), -1) {
		base, ok := values[c[2]]
		if !ok {
			continue
		}
		name := base + c[3]
		values[c[1]] = name
		switch {
		case strings.HasSuffix(c[1], "Counter"):
			kinds[name] = "counter"
		case strings.HasSuffix(c[1], "Latency"):
			kinds[name] = "timer"
		default:
			kinds[name] = ""
		}
	}
	require.Contains(t, kinds, "temporal_activity_schedule_to_start_latency")
	return kinds
}

// goSources is the text of the non-test Go files of the main module outside
// deploy/, for the contracts that have no better anchor than a literal.
func goSources(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(root(t), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root(t), p)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || rel == "deploy" || rel == "integration" || d.Name() == "testdata" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") {
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b.Write(src)
			b.WriteByte('\n')
		}
		return nil
	})
	require.NoError(t, err)
	return b.String()
}

// contractEnv are environment variables the manifests set for code that
// TestCodeContracts checks (so the generic env check skips them).
var contractEnv = map[string]bool{"OMTX_WORKER_STOP_TIMEOUT": true}

// TestCodeContracts lists what the manifests, alerts and runbook rely on
// from the Go code. A failure here means a manifest asks for something the
// code does not provide (yet): fix one or the other.
func TestCodeContracts(t *testing.T) {
	metrics := exportedMetrics(t)
	src := goSources(t)
	env := configEnv(t)
	t.Run("metric omtx_jobs_total is labelled by cause", func(t *testing.T) {
		assert.ElementsMatch(t, []string{"job_type", "status", "cause"}, metrics["omtx_jobs_total"])
	})
	t.Run("metric omtx_gpu_activities_inflight by gpu_class (KEDA's prometheus trigger)", func(t *testing.T) {
		assert.Contains(t, metrics, inflightMetric)
		assert.Contains(t, metrics[inflightMetric], "gpu_class")
	})
	t.Run("metric omtx_api_requests_total by method, route, code", func(t *testing.T) {
		assert.ElementsMatch(t, []string{"method", "route", "code"}, metrics["omtx_api_requests_total"])
	})
	t.Run("metric omtx_task_queue_backlog by task_queue and type", func(t *testing.T) {
		assert.ElementsMatch(t, []string{"task_queue", "type"}, metrics["omtx_task_queue_backlog"])
	})
	t.Run("workers serve /readyz and /livez beside /metrics", func(t *testing.T) {
		for _, path := range []string{`"/readyz"`, `"/livez"`, `"/metrics"`} {
			assert.True(t, strings.Contains(src, path), "no Go code serves %s (the workers serve it on OMTX_METRICS_ADDR)", path)
		}
	})
	t.Run("OMTX_WORKER_STOP_TIMEOUT is read", func(t *testing.T) {
		assert.True(t, env["OMTX_WORKER_STOP_TIMEOUT"], "the GPU Deployments set OMTX_WORKER_STOP_TIMEOUT; config/config.go must read it")
	})
	t.Run("the GPU worker exports its in-flight gauge from the start", func(t *testing.T) {
		run := readFile(t, "worker", "run.go")
		start := strings.Index(run, "func RunGPU(")
		require.Positive(t, start, "worker/run.go has no RunGPU")
		body := run[start:]
		if end := strings.Index(body[1:], "\nfunc "); end > 0 {
			body = body[:end+1]
		}
		assert.Contains(t, body, "metrics.GPUWorkerStarted(cfg.GPUClass)", "RunGPU must export omtx_gpu_activities_inflight at 0 before the first activity: the KEDA query reads a missing series as an error")
	})
	t.Run("the GPU worker sets its pod-deletion-cost", func(t *testing.T) {
		assert.True(t, strings.Contains(src, "controller.kubernetes.io/pod-deletion-cost"), "no Go code sets controller.kubernetes.io/pod-deletion-cost")
	})
	t.Run("omtx-worker has a reconcile subcommand with --since and --dry-run", func(t *testing.T) {
		worker := ""
		files, _ := filepath.Glob(repoPath(t, "cmd", "omtx-worker", "*.go"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			worker += string(b)
		}
		worker += src
		for _, lit := range []string{`"reconcile"`, `"since"`, `"dry-run"`} {
			assert.True(t, strings.Contains(worker, lit), "no %s in the worker's code", lit)
		}
	})
}
