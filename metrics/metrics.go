// Package metrics holds OMTX-Hub's Prometheus series (seed 4.1–4.3) and
// serves /metrics. Every process (API, orchestration worker, GPU worker)
// registers on the default registry and serves it on OMTX_METRICS_ADDR;
// the Temporal SDK's own metrics join through its tally reporter.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Series. Names are what deploy/'s alerts and dashboards use.
var (
	APIRequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "omtx_api_requests_total", Help: "API requests by method, route and status code.",
	}, []string{"method", "route", "code"})
	APIDuration = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "omtx_api_request_duration_seconds", Help: "API request latency.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	}, []string{"method", "route"})
	Jobs = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "omtx_jobs_total",
		Help: "Jobs (individual and batch children) that reached a final status; cause says whose failure it was: user_input (the input was refused), system, or cancelled; empty for completed.",
	}, []string{"job_type", "status", "cause"})
	Batches = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "omtx_batches_total", Help: "Batches that reached a final status.",
	}, []string{"status"})
	Stage = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "omtx_job_stage_seconds", Help: "Per-stage durations: queue_delay (created to running), model, write (result files), end_to_end (created to completed).",
		Buckets: prometheus.ExponentialBuckets(0.001, 4, 12),
	}, []string{"stage"})
	GPUSeconds = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "omtx_gpu_seconds_total", Help: "GPU seconds used by model runs.",
	}, []string{"gpu_class", "model"})
	CostUSD = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "omtx_cost_usd_total", Help: "GPU cost in USD at the configured price per GPU hour.",
	}, []string{"gpu_class", "model"})
	GPUInflight = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "omtx_gpu_activities_inflight", Help: "GPU activities running on this worker now (KEDA scales on it beside the queue backlog).",
	}, []string{"gpu_class"})
	FirestoreWrites = promauto.NewCounter(prometheus.CounterOpts{
		Name: "omtx_firestore_document_writes_total", Help: "Firestore document writes made by this process (make bench reports them per ligand).",
	})
	StoreOps = promauto.NewHistogramVec(prometheus.HistogramOpts{
		Name: "omtx_firestore_op_seconds", Help: "Firestore calls by the store's operation, as the client sees them.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10),
	}, []string{"op"})
	Backlog = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "omtx_task_queue_backlog", Help: "Approximate backlog of a Temporal task queue (tasks waiting for a worker).",
	}, []string{"task_queue", "type"})
	TemporalJWTExpiry = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "omtx_temporal_jwt_expiry_timestamp_seconds",
		Help: "The exp claim (seconds since the epoch) of the Temporal JWT this process last read (TEMPORAL_API_KEY_FILE).",
	})
	TemporalCertExpiry = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "omtx_temporal_client_cert_expiry_timestamp_seconds",
		Help: "The notAfter (seconds since the epoch) of the Temporal client certificate this process last loaded (TEMPORAL_TLS_CERT).",
	})
	MSARequests = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "omtx_msa_requests_total",
		Help: "MSA computations asked of the MSA server by outcome: ok, server_error (5xx, 429, network, a failed job), invalid (the input), circuit_open (refused by the client's breaker without calling the server).",
	}, []string{"outcome"})
	MSACircuitOpen = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "omtx_msa_circuit_open", Help: "1 while this process's MSA client breaker is open (it does not call the MSA server), else 0.",
	})
	PodCostPatchFailures = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "omtx_pod_deletion_cost_patch_failures_total",
		Help: "Failed patches of this pod's controller.kubernetes.io/pod-deletion-cost (scale-in may then remove a busy GPU worker).",
	}, []string{"gpu_class"})
)

// GPUWorkerStarted exports the in-flight gauge of class at 0 as soon as a
// GPU worker starts, before its first activity: the KEDA query reads a
// missing series as a scaler error, not as an idle pod (deploy/README.md,
// "Scaling and shutdown").
func GPUWorkerStarted(class string) {
	GPUInflight.WithLabelValues(class).Set(0)
	PodCostPatchFailures.WithLabelValues(class).Add(0)
}

// ObserveStoreOp records one store operation that began at start.
func ObserveStoreOp(op string, start time.Time) {
	StoreOps.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// JobEnded counts n jobs of jobType that reached status, for cause (see
// omtx.CauseUserInput and friends; "" for completed).
func JobEnded(jobType omtx.JobType, status omtx.JobStatus, cause string, n int) {
	if n > 0 {
		Jobs.WithLabelValues(string(jobType), string(status), cause).Add(float64(n))
	}
}

// TemporalHandler reports the Temporal SDK's metrics (temporal_*) into the
// default Prometheus registry through the SDK's tally reporter.
func TemporalHandler() client.MetricsHandler {
	reporter := tallyprom.NewReporter(tallyprom.Options{
		OnRegisterError: func(err error) { slog.Warn("temporal metric registration", "error", err) },
	})
	scope, _ := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	return sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope))
}

// Handler serves the default registry.
func Handler() http.Handler { return promhttp.Handler() }

// Serve serves /metrics, and the extra handlers by path, on addr until ctx
// ends. An empty addr serves nothing.
func Serve(ctx context.Context, addr string, extra map[string]http.Handler, log *slog.Logger) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", Handler())
	for path, h := range extra {
		mux.Handle(path, h)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}

// PollBacklog sets omtx_task_queue_backlog for queues every interval until
// ctx ends. KEDA scales GPU workers on the same figure.
func PollBacklog(ctx context.Context, c client.Client, namespace string, queues []string, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for _, q := range queues {
			for _, typ := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
				rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				resp, err := c.WorkflowService().DescribeTaskQueue(rctx, &workflowservice.DescribeTaskQueueRequest{
					Namespace: namespace, TaskQueue: &taskqueuepb.TaskQueue{Name: q}, TaskQueueType: typ, ReportStats: true,
				})
				cancel()
				if err != nil {
					if ctx.Err() == nil {
						log.Debug("describe task queue", "task_queue", q, "error", err)
					}
					continue
				}
				name := "activity"
				if typ == enumspb.TASK_QUEUE_TYPE_WORKFLOW {
					name = "workflow"
				}
				Backlog.WithLabelValues(q, name).Set(float64(resp.GetStats().GetApproximateBacklogCount()))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
