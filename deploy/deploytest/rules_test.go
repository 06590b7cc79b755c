package deploytest

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// promParser is Prometheus' own PromQL parser with its default options (no
// experimental functions), as a Prometheus server parses rule expressions.
func promParser() parser.Parser { return parser.NewParser(parser.Options{}) }

// selectorsOf maps each metric name an expression selects to its selectors.
func selectorsOf(expr parser.Expr) map[string][]*parser.VectorSelector {
	out := map[string][]*parser.VectorSelector{}
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			out[vs.Name] = append(out[vs.Name], vs)
		}
		return nil
	})
	return out
}

// equalMatchers are a selector's label=value matchers, the name aside.
func equalMatchers(vs *parser.VectorSelector) map[string]string {
	out := map[string]string{}
	for _, m := range vs.LabelMatchers {
		if m.Type == labels.MatchEqual && m.Name != model.MetricNameLabel {
			out[m.Name] = m.Value
		}
	}
	return out
}

// prometheusRule is the PrometheusRule of the base (the overlays add none).
func prometheusRule(t testing.TB) *PrometheusRule {
	t.Helper()
	prs := build(t, "base").all("monitoring.coreos.com/v1/PrometheusRule")
	require.Len(t, prs, 1)
	return prs[0].Obj.(*PrometheusRule)
}

// ruleGroups loads spec.groups of the PrometheusRule with Prometheus' own
// rulefmt, unknown fields refused, as a Prometheus server loads a rule file.
func ruleGroups(t testing.TB, pr *PrometheusRule) *rulefmt.RuleGroups {
	t.Helper()
	y, err := yaml.Marshal(map[string]any{"groups": pr.Spec.Groups})
	require.NoError(t, err)
	rgs, errs := rulefmt.Parse(y, false, model.LegacyValidation, promParser(), promslog.NewNopLogger())
	require.Empty(t, errs, "rulefmt refuses the rule groups")
	require.NotNil(t, rgs)
	return rgs
}

var severities = map[string]bool{"critical": true, "warning": true, "info": true}

func checkAlerts(t *testing.T, b *built) {
	prs := b.all("monitoring.coreos.com/v1/PrometheusRule")
	require.Len(t, prs, 1)
	pr := prs[0].Obj.(*PrometheusRule)
	rgs := ruleGroups(t, pr)
	runbook := readFile(t, "deploy", "RUNBOOK.md")
	seen := map[string]bool{}
	for _, g := range rgs.Groups {
		for _, r := range g.Rules {
			name := r.Alert
			require.NotEmpty(t, name, "group %s: only alerting rules are expected", g.Name)
			assert.False(t, seen[name], "alert %s is defined twice", name)
			seen[name] = true
			_, err := promParser().ParseExpr(r.Expr)
			assert.NoError(t, err, "alert %s", name)
			assert.True(t, severities[r.Labels["severity"]], "alert %s: severity %q", name, r.Labels["severity"])
			assert.NotEmpty(t, r.Annotations["summary"], "alert %s", name)
			assert.NotEmpty(t, r.Annotations["description"], "alert %s", name)
			assert.Positive(t, time.Duration(r.For), "alert %s: every alert waits (for) before it fires", name)
			assert.True(t, strings.Contains(runbook, "### "+name), "deploy/RUNBOOK.md has no section ### %s", name)
		}
	}
	for name := range alertCases {
		assert.True(t, seen[name], "alertCases test %s, which the PrometheusRule does not define", name)
	}
	for name := range seen {
		var fires, quiet bool
		for _, c := range alertCases[name] {
			fires = fires || len(c.want) > 0
			quiet = quiet || len(c.want) == 0
		}
		assert.True(t, fires && quiet, "alert %s needs a case where it fires and one where it does not", name)
	}
}

func TestAlertRules(t *testing.T) {
	pr := prometheusRule(t)
	rgs := ruleGroups(t, pr)
	byName := map[string]rulefmt.Rule{}
	for _, g := range rgs.Groups {
		for _, r := range g.Rules {
			byName[r.Alert] = r
		}
	}

	t.Run("pages only on system failures, with a minimum volume", func(t *testing.T) {
		expr, err := promParser().ParseExpr(byName["JobSystemFailures"].Expr)
		require.NoError(t, err)
		for _, vs := range selectorsOf(expr)["omtx_jobs_total"] {
			ms := map[string]*labels.Matcher{}
			for _, m := range vs.LabelMatchers {
				ms[m.Name] = m
			}
			if m := ms["status"]; m != nil && m.Value == "failed" {
				require.NotNil(t, ms["cause"], "failed jobs are counted by cause")
				assert.Equal(t, "system", ms["cause"].Value, "only system failures page")
			}
		}
		assert.Equal(t, "critical", byName["JobSystemFailures"].Labels["severity"])
	})
	t.Run("the series the alerts read come from the code and the documented exporters", func(t *testing.T) {
		checkAlertSources(t, rgs)
	})
	for _, name := range sortedKeys(alertCases) {
		r, ok := byName[name]
		if !assert.True(t, ok, "no alert %s", name) {
			continue
		}
		for _, c := range alertCases[name] {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				got := evalAlert(t, r, c.series, c.at)
				assert.Equal(t, c.want, got, "firing alerts at %s", c.at)
			})
		}
	}
}

// evalAlert evaluates an alerting rule every minute from 0 to at over the
// series (promqltest's load syntax, 1m steps) and returns the alerts firing
// at the end, as sorted label strings of the alert's expression labels.
// Like a Prometheus server, it holds an alert pending for its `for`.
func evalAlert(t *testing.T, r rulefmt.Rule, series string, at time.Duration) []string {
	t.Helper()
	st := promqltest.LoadedStorage(t, "load 1m\n"+strings.TrimLeft(series, "\n"))
	t.Cleanup(func() { _ = st.Close() })
	engine := promqltest.NewTestEngineWithOpts(t, promql.EngineOpts{
		MaxSamples:    1_000_000,
		Timeout:       time.Minute,
		LookbackDelta: 5 * time.Minute,
		Parser:        promParser(),
	})
	expr, err := promParser().ParseExpr(r.Expr)
	require.NoError(t, err)
	rule := rules.NewAlertingRule(r.Alert, expr, time.Duration(r.For), time.Duration(r.KeepFiringFor),
		labels.FromMap(r.Labels), labels.FromMap(r.Annotations), labels.EmptyLabels(), "", true, promslog.NewNopLogger())
	query := rules.EngineQueryFunc(engine, st)
	start := time.Unix(0, 0).UTC()
	for ts := start; !ts.After(start.Add(at)); ts = ts.Add(time.Minute) {
		_, err := rule.Eval(context.Background(), 0, ts, query, nil, 0)
		require.NoError(t, err, "eval at %s", ts.Sub(start))
	}
	var out []string
	for _, a := range rule.ActiveAlerts() {
		if a.State != rules.StateFiring {
			continue
		}
		b := labels.NewBuilder(a.Labels)
		b.Del(labels.AlertName, "severity")
		out = append(out, b.Labels().String())
	}
	sort.Strings(out)
	return out
}

// evalQuery runs query as an instant query at `at` over the series
// (promqltest's load syntax, 1m steps), as KEDA's prometheus scaler asks
// Prometheus, and returns the values it answers (none: an empty result,
// which the scaler reports as an error with ignoreNullValues: false).
func evalQuery(t *testing.T, query, series string, at time.Duration) []float64 {
	t.Helper()
	st := promqltest.LoadedStorage(t, "load 1m\n"+strings.TrimLeft(series, "\n"))
	t.Cleanup(func() { _ = st.Close() })
	engine := promqltest.NewTestEngineWithOpts(t, promql.EngineOpts{
		MaxSamples: 1_000_000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute, Parser: promParser(),
	})
	q, err := engine.NewInstantQuery(context.Background(), st, nil, query, time.Unix(0, 0).UTC().Add(at))
	require.NoError(t, err)
	defer q.Close()
	res := q.Exec(context.Background())
	require.NoError(t, res.Err)
	vec, err := res.Vector()
	require.NoError(t, err)
	var out []float64
	for _, s := range vec {
		out = append(out, s.F)
	}
	return out
}

type queryCase struct {
	name   string
	series string
	at     time.Duration
	want   []float64 // nil: no answer, a scaler error
}

// kedaQueryCases are what a GPU ScaledObject's prometheus query must
// answer: the work when the pool is scraped, a real zero only when the
// Deployment has no pods, and nothing (a scaler error; the HPA holds) when
// the data is missing.
func kedaQueryCases(class, queue, deployment string) []queryCase {
	inflight := func(pod, v string) string {
		return "\n  omtx_gpu_activities_inflight{" + ns + `,pod="` + pod + `",gpu_class="` + class + `"} ` + v
	}
	backlog := "\n  omtx_task_queue_backlog{" + ns + `,pod="worker-1",task_queue="` + queue + `",type="activity"} 3x20`
	replicas := func(v string) string {
		return "\n  kube_deployment_status_replicas{" + ns + `,deployment="` + deployment + `"} ` + v
	}
	return []queryCase{
		{name: "busy pods and waiting work add up", at: 10 * time.Minute, want: []float64{5},
			series: inflight(deployment+"-a", "1x20") + inflight(deployment+"-b", "1x20") + backlog + replicas("2x20")},
		{name: "a started pod with nothing in flight answers its zero", at: 10 * time.Minute, want: []float64{3},
			series: inflight(deployment+"-a", "0x20") + backlog + replicas("1x20")},
		{name: "a pool at zero answers zero plus the backlog", at: 10 * time.Minute, want: []float64{3},
			series: backlog + replicas("0x20")},
		{name: "pods running but not scraped: no answer", at: 10 * time.Minute,
			series: backlog + replicas("2x20")},
		{name: "scrapes stopped mid-chunk: no answer once the series go stale", at: 15 * time.Minute,
			series: inflight(deployment+"-a", "1x5") + backlog + replicas("1x20")},
		{name: "no kube-state-metrics and no GPU series: no answer", at: 10 * time.Minute,
			series: backlog},
		{name: "no backlog figure: no answer", at: 10 * time.Minute,
			series: inflight(deployment+"-a", "1x20") + replicas("1x20")},
	}
}

type alertCase struct {
	name   string
	series string        // promqltest load lines, 1m apart
	at     time.Duration // evaluated every minute up to here
	want   []string      // firing alerts' labels (alertname and severity aside)
}

const ns = `namespace="omtx-hub"`

// alertCases are synthetic series for every alert: where it must fire and
// where it must not. Counters grow per minute (0+1x60: one per minute).
var alertCases = map[string][]alertCase{
	"JobSystemFailures": {
		{name: "system failures over 10% and at least 5 fire", at: 40 * time.Minute, want: []string{"{}"}, series: `
  omtx_jobs_total{` + ns + `,job_type="INDIVIDUAL",status="failed",cause="system"} 0+1x60
  omtx_jobs_total{` + ns + `,job_type="INDIVIDUAL",status="completed"} 0+2x60`},
		{name: "bad user input never pages", at: 40 * time.Minute, series: `
  omtx_jobs_total{` + ns + `,job_type="BATCH_CHILD",status="failed",cause="user_input"} 0+20x60
  omtx_jobs_total{` + ns + `,job_type="BATCH_CHILD",status="completed"} 0+1x60`},
		{name: "cancellations do not page", at: 40 * time.Minute, series: `
  omtx_jobs_total{` + ns + `,job_type="INDIVIDUAL",status="cancelled",cause="cancelled"} 0+20x60
  omtx_jobs_total{` + ns + `,job_type="INDIVIDUAL",status="completed"} 0+1x60`},
		{name: "under the minimum volume it does not page", at: 40 * time.Minute, series: `
  omtx_jobs_total{` + ns + `,job_type="INDIVIDUAL",status="failed",cause="system"} 0+0.2x60
  omtx_jobs_total{` + ns + `,job_type="INDIVIDUAL",status="completed"} 0+0.2x60`},
		{name: "a low system failure ratio does not page", at: 40 * time.Minute, series: `
  omtx_jobs_total{` + ns + `,job_type="INDIVIDUAL",status="failed",cause="system"} 0+1x60
  omtx_jobs_total{` + ns + `,job_type="INDIVIDUAL",status="completed"} 0+20x60`},
	},
	"APIErrors5xx": {
		{name: "5xx over 5%", at: 20 * time.Minute, want: []string{"{}"}, series: `
  omtx_api_requests_total{` + ns + `,method="POST",route="/api/v1/predict",code="503"} 0+5x60
  omtx_api_requests_total{` + ns + `,method="POST",route="/api/v1/predict",code="202"} 0+20x60`},
		{name: "4xx are not the API's fault", at: 20 * time.Minute, series: `
  omtx_api_requests_total{` + ns + `,method="POST",route="/api/v1/predict",code="422"} 0+50x60
  omtx_api_requests_total{` + ns + `,method="POST",route="/api/v1/predict",code="202"} 0+20x60`},
		{name: "a rare 5xx does not page", at: 20 * time.Minute, series: `
  omtx_api_requests_total{` + ns + `,method="GET",route="/api/v1/jobs/:job_id",code="500"} 0+1x60
  omtx_api_requests_total{` + ns + `,method="GET",route="/api/v1/jobs/:job_id",code="200"} 0+100x60`},
	},
	"APIAbsent": {
		{name: "no API pod up", at: 10 * time.Minute, want: []string{"{}"}, series: `
  up{` + ns + `,job="omtx-api",pod="api-1"} 0x20`},
		{name: "one API pod up", at: 10 * time.Minute, series: `
  up{` + ns + `,job="omtx-api",pod="api-1"} 0x20
  up{` + ns + `,job="omtx-api",pod="api-2"} 1x20`},
	},
	"OrchestrationWorkerAbsent": {
		{name: "no orchestration worker scraped", at: 10 * time.Minute, want: []string{"{}"}, series: `
  up{` + ns + `,job="omtx-api",pod="api-1"} 1x20`},
		{name: "a GPU worker does not stand in for the orchestration worker", at: 10 * time.Minute, want: []string{"{}"}, series: `
  up{` + ns + `,job="omtx-gpu-worker",omtx_hub_io_gpu_class="l4",pod="gpu-worker-1"} 1x20`},
		{name: "an orchestration worker up", at: 10 * time.Minute, series: `
  up{` + ns + `,job="omtx-worker",pod="worker-1"} 1x20`},
	},
	"GPUWorkerAbsent": {
		{name: "work waits and no L4 worker is up", at: 30 * time.Minute, want: []string{`{task_queue="omtx-gpu-l4"}`}, series: `
  omtx_task_queue_backlog{` + ns + `,pod="worker-1",task_queue="omtx-gpu-l4",type="activity"} 5x40
  omtx_task_queue_backlog{` + ns + `,pod="worker-2",task_queue="omtx-gpu-l4",type="activity"} 5x40`},
		{name: "a pool at zero with nothing waiting is fine", at: 30 * time.Minute, series: `
  omtx_task_queue_backlog{` + ns + `,pod="worker-1",task_queue="omtx-gpu-l4",type="activity"} 0x40`},
		{name: "work waits and an L4 worker is up", at: 30 * time.Minute, series: `
  omtx_task_queue_backlog{` + ns + `,pod="worker-1",task_queue="omtx-gpu-l4",type="activity"} 5x40
  up{` + ns + `,job="omtx-gpu-worker",omtx_hub_io_gpu_class="l4",pod="gpu-worker-1"} 1x40`},
		{name: "per class: an L4 worker does not serve the A100 queue", at: 30 * time.Minute, want: []string{`{task_queue="omtx-gpu-a100-80g"}`}, series: `
  omtx_task_queue_backlog{` + ns + `,pod="worker-1",task_queue="omtx-gpu-a100-80g",type="activity"} 3x40
  omtx_task_queue_backlog{` + ns + `,pod="worker-1",task_queue="omtx-gpu-l4",type="activity"} 3x40
  up{` + ns + `,job="omtx-gpu-worker",omtx_hub_io_gpu_class="l4",pod="gpu-worker-1"} 1x40`},
		{name: "a crash-looping worker is not up", at: 30 * time.Minute, want: []string{`{task_queue="omtx-gpu-l4"}`}, series: `
  omtx_task_queue_backlog{` + ns + `,pod="worker-1",task_queue="omtx-gpu-l4",type="activity"} 5x40
  up{` + ns + `,job="omtx-gpu-worker",omtx_hub_io_gpu_class="l4",pod="gpu-worker-1"} 0x40`},
		{name: "a node that takes minutes to start does not page", at: 15 * time.Minute, series: `
  omtx_task_queue_backlog{` + ns + `,pod="worker-1",task_queue="omtx-gpu-l4",type="activity"} 5x40`},
	},
	"GPUActivityScheduleToStartHigh": {
		{name: "activities wait 20 minutes on average", at: 40 * time.Minute, want: []string{`{task_queue="omtx-gpu-l4"}`}, series: `
  temporal_activity_schedule_to_start_latency_seconds_sum{` + ns + `,pod="gpu-worker-1",task_queue="omtx-gpu-l4",activity_type="PredictChunk"} 0+1200x60
  temporal_activity_schedule_to_start_latency_seconds_count{` + ns + `,pod="gpu-worker-1",task_queue="omtx-gpu-l4",activity_type="PredictChunk"} 0+1x60`},
		{name: "activities start within a minute", at: 40 * time.Minute, series: `
  temporal_activity_schedule_to_start_latency_seconds_sum{` + ns + `,pod="gpu-worker-1",task_queue="omtx-gpu-l4",activity_type="PredictChunk"} 0+30x60
  temporal_activity_schedule_to_start_latency_seconds_count{` + ns + `,pod="gpu-worker-1",task_queue="omtx-gpu-l4",activity_type="PredictChunk"} 0+1x60`},
		{name: "the orchestration queue is not a GPU queue", at: 40 * time.Minute, series: `
  temporal_activity_schedule_to_start_latency_seconds_sum{` + ns + `,pod="worker-1",task_queue="omtx-orchestration",activity_type="AcceptJob"} 0+1200x60
  temporal_activity_schedule_to_start_latency_seconds_count{` + ns + `,pod="worker-1",task_queue="omtx-orchestration",activity_type="AcceptJob"} 0+1x60`},
	},
	"GPUPodsPending": {
		{name: "a GPU pod pending for 20 minutes", at: 20 * time.Minute, want: []string{`{namespace="omtx-hub"}`}, series: `
  kube_pod_status_phase{` + ns + `,pod="gpu-worker-7d9f-abcde",phase="Pending"} 1x30
  kube_pod_status_phase{` + ns + `,pod="gpu-worker-7d9f-abcde",phase="Running"} 0x30`},
		{name: "running GPU pods", at: 20 * time.Minute, series: `
  kube_pod_status_phase{` + ns + `,pod="gpu-worker-7d9f-abcde",phase="Pending"} 0x30
  kube_pod_status_phase{` + ns + `,pod="gpu-worker-7d9f-abcde",phase="Running"} 1x30`},
		{name: "other pods pending are not GPU capacity", at: 20 * time.Minute, series: `
  kube_pod_status_phase{` + ns + `,pod="api-5c6d-xyz12",phase="Pending"} 1x30`},
	},
	"GPUPodCrashLooping": {
		{name: "a GPU pod in CrashLoopBackOff", at: 15 * time.Minute, want: []string{`{namespace="omtx-hub", pod="gpu-worker-a100-80g-6b8c-qwert"}`}, series: `
  kube_pod_container_status_waiting_reason{` + ns + `,pod="gpu-worker-a100-80g-6b8c-qwert",container="gpu-worker",reason="CrashLoopBackOff"} 1x30`},
		{name: "pulling the image is not a crash", at: 15 * time.Minute, series: `
  kube_pod_container_status_waiting_reason{` + ns + `,pod="gpu-worker-7d9f-abcde",container="gpu-worker",reason="ContainerCreating"} 1x30`},
	},
	"GPUPodsUnscraped": {
		{name: "two pods running, one scraped", at: 20 * time.Minute, want: []string{`{namespace="omtx-hub"}`}, series: `
  kube_pod_status_phase{` + ns + `,pod="gpu-worker-7d9f-aaaaa",phase="Running"} 1x30
  kube_pod_status_phase{` + ns + `,pod="gpu-worker-7d9f-bbbbb",phase="Running"} 1x30
  up{` + ns + `,job="omtx-gpu-worker",omtx_hub_io_gpu_class="l4",pod="gpu-worker-7d9f-aaaaa"} 1x30
  up{` + ns + `,job="omtx-gpu-worker",omtx_hub_io_gpu_class="l4",pod="gpu-worker-7d9f-bbbbb"} 0x30`},
		{name: "a pod running and no GPU target at all", at: 20 * time.Minute, want: []string{`{namespace="omtx-hub"}`}, series: `
  kube_pod_status_phase{` + ns + `,pod="gpu-worker-7d9f-aaaaa",phase="Running"} 1x30`},
		{name: "every running pod scraped", at: 20 * time.Minute, series: `
  kube_pod_status_phase{` + ns + `,pod="gpu-worker-7d9f-aaaaa",phase="Running"} 1x30
  kube_pod_status_phase{` + ns + `,pod="gpu-worker-7d9f-bbbbb",phase="Pending"} 1x30
  up{` + ns + `,job="omtx-gpu-worker",omtx_hub_io_gpu_class="l4",pod="gpu-worker-7d9f-aaaaa"} 1x30`},
		{name: "a pool at zero", at: 20 * time.Minute, series: `
  up{` + ns + `,job="omtx-worker",pod="worker-1"} 1x30`},
		{name: "a pod starting up is not yet missing", at: 10 * time.Minute, series: `
  kube_pod_status_phase{` + ns + `,pod="gpu-worker-7d9f-aaaaa",phase="Running"} 1x30`},
	},
	"PodDeletionCostPatchFailing": {
		{name: "patches keep failing", at: 20 * time.Minute, want: []string{`{namespace="omtx-hub", pod="gpu-worker-7d9f-aaaaa"}`}, series: `
  omtx_pod_deletion_cost_patch_failures_total{` + ns + `,pod="gpu-worker-7d9f-aaaaa",gpu_class="l4"} 0+12x30`},
		{name: "one failed patch, then success", at: 20 * time.Minute, series: `
  omtx_pod_deletion_cost_patch_failures_total{` + ns + `,pod="gpu-worker-7d9f-aaaaa",gpu_class="l4"} 0 1x30`},
	},
	"TemporalJWTExpiresSoon": {
		{name: "13 days left", at: 60 * time.Minute, want: []string{`{namespace="omtx-hub", pod="worker-1"}`}, series: `
  omtx_temporal_jwt_expiry_timestamp_seconds{` + ns + `,pod="worker-1"} 1126800x90`},
		{name: "20 days left", at: 60 * time.Minute, series: `
  omtx_temporal_jwt_expiry_timestamp_seconds{` + ns + `,pod="worker-1"} 1731600x90`},
		{name: "a rotated JWT clears it", at: 60 * time.Minute, series: `
  omtx_temporal_jwt_expiry_timestamp_seconds{` + ns + `,pod="worker-1"} 1126800x30 1731600x60`},
	},
	"TemporalClientCertExpiresSoon": {
		{name: "13 days left", at: 60 * time.Minute, want: []string{`{namespace="omtx-hub", pod="gpu-worker-7d9f-aaaaa"}`}, series: `
  omtx_temporal_client_cert_expiry_timestamp_seconds{` + ns + `,pod="gpu-worker-7d9f-aaaaa"} 1126800x90`},
		{name: "renewed 30 days ahead", at: 60 * time.Minute, series: `
  omtx_temporal_client_cert_expiry_timestamp_seconds{` + ns + `,pod="gpu-worker-7d9f-aaaaa"} 2595600x90`},
	},
	"MSAFailureRate": {
		{name: "the server fails half the computations", at: 30 * time.Minute, want: []string{"{}"}, series: `
  omtx_msa_requests_total{` + ns + `,pod="worker-1",outcome="server_error"} 0+1x40
  omtx_msa_requests_total{` + ns + `,pod="worker-1",outcome="ok"} 0+1x40`},
		{name: "an open breaker counts as failing", at: 30 * time.Minute, want: []string{"{}"}, series: `
  omtx_msa_requests_total{` + ns + `,pod="worker-1",outcome="circuit_open"} 0+2x40
  omtx_msa_requests_total{` + ns + `,pod="worker-1",outcome="ok"} 0+0x40`},
		{name: "bad input is not the server's failure", at: 30 * time.Minute, series: `
  omtx_msa_requests_total{` + ns + `,pod="worker-1",outcome="invalid"} 0+5x40
  omtx_msa_requests_total{` + ns + `,pod="worker-1",outcome="ok"} 0+1x40`},
		{name: "a rare failure", at: 30 * time.Minute, series: `
  omtx_msa_requests_total{` + ns + `,pod="worker-1",outcome="server_error"} 0+0.1x40
  omtx_msa_requests_total{` + ns + `,pod="worker-1",outcome="ok"} 0+2x40`},
	},
	"KEDAScalerErrors": {
		{name: "a GPU ScaledObject keeps failing", at: 25 * time.Minute, want: []string{`{scaledObject="gpu-worker"}`}, series: `
  keda_scaled_object_errors_total{namespace="keda",exported_namespace="omtx-hub",scaledObject="gpu-worker"} 0+1x40`},
		{name: "an old error long ago", at: 25 * time.Minute, series: `
  keda_scaled_object_errors_total{namespace="keda",exported_namespace="omtx-hub",scaledObject="gpu-worker"} 3x40`},
	},
	"QueueBacklog": {
		{name: "over 1000 waiting", at: 10 * time.Minute, want: []string{`{task_queue="omtx-gpu-l4", type="activity"}`}, series: `
  omtx_task_queue_backlog{` + ns + `,pod="worker-1",task_queue="omtx-gpu-l4",type="activity"} 2000x20`},
		{name: "a normal backlog", at: 10 * time.Minute, series: `
  omtx_task_queue_backlog{` + ns + `,pod="worker-1",task_queue="omtx-gpu-l4",type="activity"} 40x20`},
	},
	"GPUUtilizationLow": {
		{name: "an idle GPU, labels as dcgm-exporter's ServiceMonitor keeps them", at: 40 * time.Minute,
			want: []string{`{exported_namespace="omtx-hub", exported_pod="gpu-worker-7d9f-abcde"}`}, series: `
  DCGM_FI_DEV_GPU_UTIL{namespace="gpu-operator",pod="nvidia-dcgm-exporter-x1",exported_namespace="omtx-hub",exported_pod="gpu-worker-7d9f-abcde",gpu="0"} 10x50`},
		{name: "a busy GPU", at: 40 * time.Minute, series: `
  DCGM_FI_DEV_GPU_UTIL{namespace="gpu-operator",pod="nvidia-dcgm-exporter-x1",exported_namespace="omtx-hub",exported_pod="gpu-worker-7d9f-abcde",gpu="0"} 90x50`},
	},
	"WorkflowTaskFailures": {
		{name: "non-determinism after a deploy", at: 25 * time.Minute,
			want: []string{`{failure_reason="NonDeterminismError", workflow_type="BatchWorkflow"}`}, series: `
  temporal_workflow_task_execution_failed_total{` + ns + `,pod="worker-1",workflow_type="BatchWorkflow",failure_reason="NonDeterminismError"} 0+1x40`},
		{name: "no new failures", at: 25 * time.Minute, series: `
  temporal_workflow_task_execution_failed_total{` + ns + `,pod="worker-1",workflow_type="BatchWorkflow",failure_reason="NonDeterminismError"} 2x40`},
	},
}

// checkAlertSources holds every series an alert reads to where it comes
// from: OMTX-Hub's own metrics (metrics/, with the labels the alert
// matches on), the Temporal SDK's (by its constants), or an exporter the
// monitoring docs name.
func checkAlertSources(t *testing.T, rgs *rulefmt.RuleGroups) {
	own := exportedMetrics(t)
	sdk := temporalSDKMetrics(t)
	external := map[string]string{
		"up":                    "Prometheus",
		"kube_pod_status_phase": "kube-state-metrics",
		"kube_pod_container_status_waiting_reason": "kube-state-metrics",
		"keda_scaled_object_errors_total":          "KEDA's operator",
		"DCGM_FI_DEV_GPU_UTIL":                     "dcgm-exporter",
	}
	for _, g := range rgs.Groups {
		for _, r := range g.Rules {
			expr, err := promParser().ParseExpr(r.Expr)
			require.NoError(t, err)
			for name, sels := range selectorsOf(expr) {
				switch {
				case strings.HasPrefix(name, "omtx_"):
					lbls, ok := own[name]
					if !assert.True(t, ok, "alert %s reads %s, which metrics/ does not export", r.Alert, name) {
						continue
					}
					for _, vs := range sels {
						for _, m := range vs.LabelMatchers {
							if m.Name != model.MetricNameLabel && m.Name != "namespace" {
								assert.Contains(t, lbls, m.Name, "alert %s matches %s on label %s, which metrics/ does not give it", r.Alert, name, m.Name)
							}
						}
					}
				case strings.HasPrefix(name, "temporal_"):
					assert.True(t, sdk[name], "alert %s reads %s, which the Temporal SDK does not export under that name", r.Alert, name)
				default:
					_, ok := external[name]
					assert.True(t, ok, "alert %s reads %s from an unknown source", r.Alert, name)
				}
			}
		}
	}
}

// temporalSDKMetrics are the Prometheus names of the Temporal SDK's metrics
// as metrics/ exports them: the SDK's constants (its internal metrics
// package, read from the module cache) with the suffixes of the SDK's
// Prometheus naming scope (_total for counters, _seconds for timers, and
// _sum/_count/_bucket of a timer's summary or histogram).
func temporalSDKMetrics(t *testing.T) map[string]bool {
	t.Helper()
	src := readFile(t, "metrics", "metrics.go")
	require.Contains(t, src, "NewPrometheusNamingScope", "metrics/ no longer names the SDK's metrics the Prometheus way; the alerts assume it")
	consts := sdkMetricConstants(t)
	out := map[string]bool{}
	for name, kind := range consts {
		switch kind {
		case "counter":
			out[name+"_total"] = true
		case "timer":
			for _, s := range []string{"_sum", "_count", "_bucket"} {
				out[name+"_seconds"+s] = true
			}
		default:
			out[name] = true
		}
	}
	return out
}

func TestRuleChecksCanFail(t *testing.T) {
	t.Run("the old KEDA query reads a pool it cannot see as idle", func(t *testing.T) {
		old := `(sum(omtx_gpu_activities_inflight{namespace="omtx-hub",gpu_class="l4"}) or vector(0)) + (max(omtx_task_queue_backlog{namespace="omtx-hub",task_queue="omtx-gpu-l4",type="activity"}) or vector(0))`
		var unscraped queryCase
		for _, c := range kedaQueryCases("l4", "omtx-gpu-l4", "gpu-worker") {
			if strings.HasPrefix(c.name, "pods running but not scraped") {
				unscraped = c
			}
		}
		require.NotEmpty(t, unscraped.series)
		assert.Equal(t, []float64{3}, evalQuery(t, old, unscraped.series, unscraped.at), "the old query answers the backlog alone: in-flight work vanishes")
	})
	t.Run("rulefmt refuses an unknown field and a bad expression", func(t *testing.T) {
		for _, y := range []string{
			"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    fore: 5m\n",
			"groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(rate(up[5m])\n",
		} {
			_, errs := rulefmt.Parse([]byte(y), false, model.LegacyValidation, promParser(), promslog.NewNopLogger())
			assert.NotEmpty(t, errs, "%q", y)
		}
	})
	t.Run("a paging rule on every failure would fire on bad input", func(t *testing.T) {
		loose := rulefmt.Rule{Alert: "Loose", Expr: `sum(rate(omtx_jobs_total{status="failed"}[10m])) / sum(rate(omtx_jobs_total[10m])) > 0.1`,
			For: model.Duration(10 * time.Minute), Labels: map[string]string{"severity": "critical"}}
		c := alertCases["JobSystemFailures"][1]
		assert.Equal(t, []string{"{}"}, evalAlert(t, loose, c.series, c.at), "the old rule pages on user input; the case must show it")
	})
	t.Run("the old WorkerAbsent stays silent while the GPU pool is gone", func(t *testing.T) {
		old := rulefmt.Rule{Alert: "Old", Expr: `absent(up{job=~"omtx-.*worker"} == 1)`, For: model.Duration(5 * time.Minute)}
		series := `
  up{` + ns + `,job="omtx-worker",pod="worker-1"} 1x40
  omtx_task_queue_backlog{` + ns + `,pod="worker-1",task_queue="omtx-gpu-l4",type="activity"} 5x40`
		assert.Empty(t, evalAlert(t, old, series, 30*time.Minute))
		assert.Equal(t, []string{`{task_queue="omtx-gpu-l4"}`}, evalAlert(t, prometheusRuleNamed(t, "GPUWorkerAbsent"), series, 30*time.Minute))
	})
}

func prometheusRuleNamed(t *testing.T, name string) rulefmt.Rule {
	for _, g := range ruleGroups(t, prometheusRule(t)).Groups {
		for _, r := range g.Rules {
			if r.Alert == name {
				return r
			}
		}
	}
	t.Fatalf("no alert %s", name)
	return rulefmt.Rule{}
}
