package worker

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	tworker "go.temporal.io/sdk/worker"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/keys"
	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/webhook"
)

// Orchestration runs the orchestration worker, and the MSA worker beside
// it, until ctx ends: the orchestration worker's role for app.Main.
func Orchestration(ctx context.Context, cfg config.Config, d *app.Deps, log *slog.Logger) error {
	return RunOrchestration(ctx, cfg, d, log, OrchestrationOptions{})
}

// OrchestrationOptions change how the orchestration worker reaches out.
type OrchestrationOptions struct {
	// Dial, when set, replaces the webhook sender's network dial (the
	// tests use one that fails on any address off this machine).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// RunOrchestration is Orchestration with options.
func RunOrchestration(ctx context.Context, cfg config.Config, d *app.Deps, log *slog.Logger, opts OrchestrationOptions) error {
	acts := &activities.Orchestration{Jobs: d.Jobs, Targets: d.Targets, Blobs: d.Blobs, Logger: log, Bounds: app.RunBounds(cfg)}
	n, err := notifier(cfg)
	if err != nil {
		return err
	}
	if n != nil {
		n.Sender.Dial = opts.Dial
		acts.Notifier = n
	}
	tworker.SetStickyWorkflowCacheSize(max(cfg.WorkflowCacheSize, 1))
	w := NewOrchestration(d.Temporal, acts, Limits{ActivitySlots: cfg.OrchActivitySlots, WorkflowTaskSlots: cfg.WorkflowTaskSlots})
	m := &activities.MSA{Blobs: d.Blobs, Logger: log}
	if cfg.MSAURL != "" {
		spec := msa.ServerKeySpec(cfg.MSAURL, cfg.MSADBVersion)
		c := &msa.Client{BaseURL: cfg.MSAURL, AuthHeader: cfg.MSAAuthHeader, UseEnv: spec.UseEnv, Logger: log, Guard: msaGuard(cfg)}
		m.Server, m.Spec = c, spec
	}
	// Lookups find server MSAs where the MSA activity caches them.
	acts.Cache = resultCache(cfg, d)
	if acts.Cache != nil {
		acts.Cache.MSASpec = m.Spec
	}
	go metrics.PollBacklog(ctx, d.Temporal, cfg.TemporalNamespace, backlogQueues(cfg), 15*time.Second, log)
	mw := NewMSA(d.Temporal, m, cfg.MSARate)
	if err := mw.Start(); err != nil {
		return fmt.Errorf("msa worker: %w", err)
	}
	defer mw.Stop()
	lc := &lifecycle{}
	d.Health.Ready("pollers", lc.ready)
	d.Health.Ready("temporal", temporalReachable(d.Temporal))
	d.Health.Live("poller", pollerAlive(d.Temporal, cfg.TemporalNamespace, contract.TaskQueueOrchestration,
		enumspb.TASK_QUEUE_TYPE_WORKFLOW, cfg.WorkerID, func() bool { return true }, lc))
	return runWorker(ctx, w, "orchestration", lc, log)
}

// resultCache is the result cache of the workers' activities; nil without
// a store.
func resultCache(cfg config.Config, d *app.Deps) *activities.ResultCache {
	if d.ResultCache == nil {
		return nil
	}
	return &activities.ResultCache{Store: d.ResultCache, SharedUsers: cfg.ResultCacheSharedUsers}
}

// msaGuard is the MSA client's rate limit and breaker, with its metrics.
// Its rate is OMTX_MSA_RATE per pod; Temporal's task-queue limit (NewMSA)
// holds the same figure for the whole fleet.
func msaGuard(cfg config.Config) *msa.Guard {
	metrics.MSACircuitOpen.Set(0)
	return &msa.Guard{
		Rate:      cfg.MSARate,
		OnOutcome: func(o string) { metrics.MSARequests.WithLabelValues(o).Inc() },
		OnState: func(open bool) {
			if open {
				metrics.MSACircuitOpen.Set(1)
			} else {
				metrics.MSACircuitOpen.Set(0)
			}
		},
	}
}

// notifier builds the webhook sender from the API keys, or nil when no key
// can sign.
func notifier(cfg config.Config) (*activities.Notifier, error) {
	if cfg.APIKeys == "" {
		return nil, nil
	}
	set, err := keys.Parse(cfg.APIKeys, []byte(cfg.WebhookSecret))
	if err != nil {
		return nil, err
	}
	return &activities.Notifier{
		Sender: &webhook.Sender{Policy: webhook.Policy{AllowLoopback: cfg.WebhookAllowLoopback}},
		Secret: func(id string) ([]byte, bool) {
			k, ok := set.ByID(id)
			if !ok || len(k.WebhookSecret()) == 0 {
				return nil, false
			}
			return k.WebhookSecret(), true
		},
		BaseURL: cfg.PublicURL,
	}, nil
}

// RunGPU runs the GPU worker of cfg.GPUClass with its models until ctx
// ends. On a stop it stops taking tasks and gives running model activities
// cfg.WorkerStopTimeout to finish or to stop at a group boundary; a pod
// being disrupted (watchPreemption) kills their model calls at once.
func RunGPU(ctx context.Context, cfg config.Config, d *app.Deps, models map[string]activities.Predictor, log *slog.Logger) error {
	if cfg.FaultPredictDelay > 0 {
		log.Warn("fault injection: every prediction sleeps first", "delay", cfg.FaultPredictDelay)
		for name, p := range models {
			models[name] = delayed{p, cfg.FaultPredictDelay}
		}
	}
	class, _ := cfg.Fleet.Class(cfg.GPUClass)
	calls := newCalls()
	var running atomic.Int64
	metrics.GPUWorkerStarted(cfg.GPUClass)
	pod := newPodCost(log)
	if pod != nil {
		pod.class = cfg.GPUClass
	}
	acts := &activities.GPU{
		Models: models, Jobs: d.Jobs, Blobs: d.Blobs, ChunkGroup: cfg.ChunkGroup,
		GPUClass: cfg.GPUClass, PricePerHour: class.PricePerHour, WorkerID: cfg.WorkerID, Logger: log,
		OnCPU: cfg.ORTProvider == "cpu",
		Calls: calls,
		Cache: resultCache(cfg, d),
		OnLoad: func(n int) {
			running.Store(int64(n))
			if pod != nil {
				pod.load(n)
			}
		},
	}
	if pod != nil {
		go pod.run(ctx)
		preempted := make(chan struct{})
		acts.Preempted = preempted
		go pod.watchPreemption(ctx.Done(), preempted)
	}
	slots := max(cfg.GPUSlots, 1)
	w := NewGPU(d.Temporal, acts, GPUOptions{Slots: slots, StopTimeout: cfg.WorkerStopTimeout})
	lc := &lifecycle{}
	// Models are loaded before this role runs; ready means the pollers run
	// and Temporal answers.
	d.Health.Ready("pollers", lc.ready)
	d.Health.Ready("temporal", temporalReachable(d.Temporal))
	d.Health.Live("model-calls", calls.check(HungModelCall))
	d.Health.Live("poller", pollerAlive(d.Temporal, cfg.TemporalNamespace, contract.GPUTaskQueue(cfg.GPUClass),
		enumspb.TASK_QUEUE_TYPE_ACTIVITY, cfg.WorkerID, func() bool { return running.Load() < int64(slots) }, lc))
	return runWorker(ctx, w, "gpu-"+cfg.GPUClass, lc, log)
}

// runWorker runs w until ctx ends. Stopping, it first stops taking tasks
// and reports not ready, then gives running activities the worker's stop
// timeout (GPU activities stop at the next group boundary, and are killed
// when it runs out, every ligand finished so far stored).
func runWorker(ctx context.Context, w tworker.Worker, name string, lc *lifecycle, log *slog.Logger) error {
	if err := w.Start(); err != nil {
		return fmt.Errorf("%s worker: %w", name, err)
	}
	lc.started.Store(true)
	log.Info("worker started", "worker", name)
	<-ctx.Done()
	lc.stopping.Store(true)
	log.Info("worker stopping", "worker", name)
	w.Stop()
	log.Info("worker stopped", "worker", name)
	return nil
}

// backlogQueues are the task queues whose backlog /metrics reports.
func backlogQueues(cfg config.Config) []string {
	qs := []string{contract.TaskQueueOrchestration, contract.TaskQueueMSA}
	for _, c := range cfg.Fleet {
		qs = append(qs, contract.GPUTaskQueue(c.Name))
	}
	return qs
}

// GPU returns the GPU worker's role for app.Main: it builds the models
// (models), runs the worker and releases them.
func GPU(models func(config.Config, *slog.Logger) (map[string]activities.Predictor, func(), error)) app.Role {
	return func(ctx context.Context, cfg config.Config, d *app.Deps, log *slog.Logger) error {
		m, release, err := models(cfg, log)
		if err != nil {
			return err
		}
		defer release()
		for name, p := range m {
			info := p.Info()
			log.Info("model loaded", "model", name, "version", info.Version, "kind", info.Kind)
		}
		return RunGPU(ctx, cfg, d, m, log)
	}
}
