// Package workers runs OMTX-Hub's Temporal workers from a config.Config:
// the orchestration worker (with the rate-limited MSA queue) and the GPU
// worker of one class. The API binary does not import it, so it links
// neither the workflows nor the activities and what they need.
package workers

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	tworker "go.temporal.io/sdk/worker"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/worker"
)

// RunOrchestration runs the orchestration worker, and the MSA worker
// beside it, until ctx ends.
func RunOrchestration(ctx context.Context, cfg config.Config, d *app.Deps, log *slog.Logger) error {
	w := worker.NewOrchestration(d.Temporal, &activities.Orchestration{Jobs: d.Jobs, Blobs: d.Blobs, Logger: log})
	m := &activities.MSA{Blobs: d.Blobs, Logger: log}
	if cfg.MSAURL != "" {
		m.Server = &msa.Client{BaseURL: cfg.MSAURL, AuthHeader: cfg.MSAAuthHeader, UseEnv: true, Logger: log}
	}
	go metrics.PollBacklog(ctx, d.Temporal, cfg.TemporalNamespace, backlogQueues(cfg), 15*time.Second, log)
	mw := worker.NewMSA(d.Temporal, m, cfg.MSARate)
	if err := mw.Start(); err != nil {
		return fmt.Errorf("msa worker: %w", err)
	}
	defer mw.Stop()
	return runWorker(ctx, w, "orchestration", log)
}

// RunGPU runs the GPU worker of cfg.GPUClass with its models until ctx
// ends.
func RunGPU(ctx context.Context, cfg config.Config, d *app.Deps, models map[string]activities.Predictor, log *slog.Logger) error {
	if cfg.FaultPredictDelay > 0 {
		log.Warn("fault injection: every prediction sleeps first", "delay", cfg.FaultPredictDelay)
		for name, p := range models {
			models[name] = delayed{p, cfg.FaultPredictDelay}
		}
	}
	class, _ := cfg.Fleet.Class(cfg.GPUClass)
	acts := &activities.GPU{
		Models: models, Jobs: d.Jobs, Blobs: d.Blobs,
		GPUClass: cfg.GPUClass, PricePerHour: class.PricePerHour, WorkerID: cfg.WorkerID, Logger: log,
	}
	w := worker.NewGPU(d.Temporal, acts, worker.GPUOptions{Slots: cfg.GPUSlots})
	return runWorker(ctx, w, "gpu-"+cfg.GPUClass, log)
}

func runWorker(ctx context.Context, w tworker.Worker, name string, log *slog.Logger) error {
	if err := w.Start(); err != nil {
		return fmt.Errorf("%s worker: %w", name, err)
	}
	log.Info("worker started", "worker", name)
	<-ctx.Done()
	w.Stop()
	log.Info("worker stopped", "worker", name)
	return nil
}

// backlogQueues are the task queues whose backlog /metrics reports.
func backlogQueues(cfg config.Config) []string {
	qs := []string{omtx.TaskQueueOrchestration, omtx.TaskQueueMSA}
	for _, c := range cfg.Fleet {
		qs = append(qs, omtx.GPUTaskQueue(c.Name))
	}
	return qs
}

// Orchestration is the orchestration worker's role for app.Main.
func Orchestration(ctx context.Context, cfg config.Config, d *app.Deps, log *slog.Logger) error {
	return RunOrchestration(ctx, cfg, d, log)
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
