package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/structure"
)

// GPU holds the activities that run on a GPU class's task queue.
type GPU struct {
	// Models are the predictors this worker serves, by model name.
	Models map[string]Predictor
	Jobs   JobStore
	Blobs  BlobStore
	// GPUClass is the class this worker serves (omtx.GPUClassL4, ...).
	GPUClass string
	// PricePerHour prices this worker's GPU time (USD per GPU hour).
	PricePerHour float64
	// OnCPU says the models run on the CPU (OMTX_ORT_PROVIDER=cpu, as the
	// local stack runs): results then record omtx.DeviceCPU as their GPU
	// class and no GPU cost, whatever class the worker serves.
	OnCPU bool
	// ScratchDir holds each call's working folder (os.TempDir when empty).
	ScratchDir string
	// WorkerID names this process in job documents and logs.
	WorkerID string
	// HeartbeatEvery is how often a running prediction heartbeats.
	HeartbeatEvery time.Duration
	// ChunkGroup is how many ligands of a batch chunk go through the model
	// at once (one model call); each ligand's results are stored as the
	// model hands them over, or when the group ends, and a stopping worker
	// stops between groups.
	ChunkGroup int
	// OnLoad, when set, hears the number of GPU activities running on this
	// worker each time it changes (the worker's metrics and scale-in cost).
	OnLoad func(running int)
	// Calls, when set, follows model calls for the worker's liveness check.
	Calls CallTracker
	// Preempted, when set, is closed once the worker learns that its pod
	// is going away within seconds (a spot preemption, a node shutdown):
	// running model calls are killed at once, with every ligand finished
	// so far stored, and their activities end with
	// contract.ErrTypeInterrupted, instead of running on until the kill.
	Preempted <-chan struct{}
	// Cache, when set, receives each result the model computes, and the
	// model runs this worker has made (see ResultCache).
	Cache  *ResultCache
	Now    func() time.Time
	Logger *slog.Logger

	mu      sync.Mutex
	running int
	targets targetCache
}

// CallTracker follows model calls: Begin is called as one starts, and the
// function it returns as it ends.
type CallTracker interface {
	Begin() (end func())
}

// Activities maps a GPU queue's activity types to their functions; the
// worker registers exactly these.
func (g *GPU) Activities() map[string]any {
	return map[string]any{
		contract.ActivityPredict:      g.Predict,
		contract.ActivityPredictChunk: g.PredictChunk,
	}
}

func (g *GPU) now() time.Time {
	if g.Now != nil {
		return g.Now().UTC()
	}
	return time.Now().UTC()
}

// busy counts a running GPU activity until the returned function is called.
func (g *GPU) busy(n int) (done func()) {
	change := func(d int) {
		g.mu.Lock()
		g.running += d
		r := g.running
		g.mu.Unlock()
		metrics.GPUInflight.WithLabelValues(g.GPUClass).Set(float64(r))
		if g.OnLoad != nil {
			g.OnLoad(r)
		}
	}
	change(n)
	return func() { change(-n) }
}

// stopping reports whether this worker has been asked to stop.
func (g *GPU) stopping(ctx context.Context) bool {
	select {
	case <-activity.GetWorkerStopChannel(ctx):
		return true
	default:
		return false
	}
}

// preempted reports whether this worker's pod is going away within seconds.
func (g *GPU) preempted() bool {
	select {
	case <-g.Preempted:
		return true
	default:
		return false
	}
}

// cutShort reports whether err is a model run cut short because this
// worker is stopping or its pod is going away.
func (g *GPU) cutShort(ctx context.Context, err error) bool {
	return (g.stopping(ctx) || g.preempted()) && errors.Is(err, context.Canceled)
}

// interrupted is the error of work stopped because its worker stopped.
func interrupted(msg string) error {
	return contract.NonRetryable(contract.ErrTypeInterrupted, msg, nil)
}

// run calls the model, heartbeating (with details, a chunk's progress)
// while it runs, and classifies its error. The call is killed when ctx ends
// or the pod is found to be going away (Preempted).
func (g *GPU) run(ctx context.Context, pred Predictor, req omtx.PredictRequest, details func() any) ([]omtx.Prediction, error) {
	stop := heartbeat(ctx, g.HeartbeatEvery, details)
	defer stop()
	if g.Calls != nil {
		defer g.Calls.Begin()()
	}
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if g.Preempted != nil {
		go func() {
			select {
			case <-g.Preempted:
				cancel()
			case <-mctx.Done():
			}
		}()
	}
	preds, err := pred.Predict(mctx, req)
	if err != nil {
		if errors.Is(err, context.Canceled) || mctx.Err() != nil {
			return nil, fmt.Errorf("predict: %w", context.Canceled)
		}
		return nil, modelError(err)
	}
	return preds, nil
}

// Predict runs the model for one job: it marks the job running, runs the
// predictor, and writes results.json, logs.txt and any structure file under
// the job's folder. Object names are fixed, so a retried attempt overwrites
// rather than duplicates. It heartbeats while the model runs, so a worker
// that dies is noticed within the heartbeat timeout and the attempt retried.
// A worker that is stopping does not start the model (and a model run cut
// short by the stop) ends with contract.ErrTypeInterrupted.
func (g *GPU) Predict(ctx context.Context, in contract.PredictInput) (contract.PredictResult, error) {
	info := activity.GetInfo(ctx)
	logs := newJobLog(g.now)
	logs.Printf("job %s attempt %d on worker %s (gpu class %s, queue %s)", in.JobID, info.Attempt, g.WorkerID, g.GPUClass, info.TaskQueue)

	pred, err := g.predictor(in.Model)
	if err != nil {
		return contract.PredictResult{}, err
	}
	if g.stopping(ctx) || g.preempted() {
		return contract.PredictResult{}, interrupted(fmt.Sprintf("worker %s is stopping; the job runs elsewhere", g.WorkerID))
	}
	defer g.busy(1)()
	model := pred.Info()
	job, err := g.markRunning(ctx, in.JobID, info.Attempt)
	if err != nil {
		return contract.PredictResult{}, err
	}
	req, msaDigest, cleanup, err := g.request(ctx, in.TargetID, in.Protein, []omtx.Ligand{in.Ligand}, in.Parameters, in.MSA, logs)
	if err != nil {
		return contract.PredictResult{}, err
	}
	defer cleanup()
	for _, w := range in.Warnings {
		logs.Printf("warning: %s", w)
	}

	start := time.Now()
	preds, err := g.run(ctx, pred, req, func() any { return 0 })
	if err != nil {
		logs.Printf("model %s failed after %s: %v", model.Name, time.Since(start), err)
		g.storeLogs(context.WithoutCancel(ctx), in.Folder, logs)
		if g.cutShort(ctx, err) {
			return contract.PredictResult{}, interrupted(fmt.Sprintf("worker %s stopped during the model run; the job runs elsewhere", g.WorkerID))
		}
		return contract.PredictResult{}, err
	}
	if len(preds) != 1 {
		return contract.PredictResult{}, fmt.Errorf("predict: model returned %d predictions for 1 ligand", len(preds))
	}
	p := preds[0]
	// Asked again after the run: a model that fetched its weights during
	// it (Boltz on a cold cache) names them only now.
	model = pred.Info()
	if p.Error != "" {
		logs.Printf("ligand %q rejected by the model: %s", in.Ligand.Name, p.Error)
		g.storeLogs(ctx, in.Folder, logs)
		return contract.PredictResult{}, contract.NonRetryable(contract.ErrTypeInvalidInput, "ligand_smiles: "+p.Error, nil)
	}
	logFor(ctx, g.Logger, "job_id", in.JobID).Info("prediction done", "model", model.Name, "model_seconds", p.ModelSeconds)
	logs.Printf("model %s %s ran in %.3fs: affinity_pred_value=%.4f %s, affinity_probability_binary=%.4f, confidence=%.4f",
		model.Name, model.Version, p.ModelSeconds, p.AffinityPredValue, omtx.UnitsLog10IC50uM, p.AffinityProbabilityBinary, p.ConfidenceScore)

	modelled := in.Ligand.ModelledSMILES
	if modelled == "" {
		modelled = job.InputData.ModelledSMILES
	}
	res, err := g.storeResult(ctx, in.Folder, in.JobID, in.Parameters, ranMSA{in.MSA, msaDigest, targetMSAs(in.TargetID, in.MSA, req.Target)}, in.Warnings, model, p, modelled, logs, "")
	if err != nil {
		return contract.PredictResult{}, err
	}
	g.Cache.store(ctx, g.Logger, subjectOf(job.UserID, req, in.Parameters), model, in.JobID, res.ModelledSMILES, res, g.now())
	return contract.PredictResult{Results: res}, nil
}

// markRunning moves the job to running and returns its document; a job
// that was cancelled meanwhile stops the attempt for good.
func (g *GPU) markRunning(ctx context.Context, jobID string, attempt int32) (*omtx.Job, error) {
	now := g.now()
	job, err := g.Jobs.Update(ctx, jobID, func(cur *omtx.Job) (*omtx.Job, error) {
		if cur == nil || cur.Status.Terminal() {
			return nil, nil
		}
		cur.Status = omtx.StatusRunning
		cur.UpdatedAt = now
		if cur.StartedAt == nil {
			cur.StartedAt = &now
		}
		if cur.Temporal == nil {
			cur.Temporal = &omtx.TemporalRef{}
		}
		cur.Temporal.Attempt = attempt
		cur.Temporal.Worker = g.WorkerID
		cur.Temporal.GPUClass = g.GPUClass
		return cur, nil
	})
	if err != nil {
		return nil, storeErr("mark running", err)
	}
	if job == nil {
		return nil, fmt.Errorf("mark running: job %s has no document", jobID)
	}
	if job.Status == omtx.StatusRunning && attempt == 1 {
		metrics.Stage.WithLabelValues("queue_delay").Observe(now.Sub(job.CreatedAt).Seconds())
	}
	if job.Status == omtx.StatusCancelled {
		return nil, contract.NonRetryable(contract.ErrTypeCancelled, "job was cancelled", nil)
	}
	return job, nil
}

// resultFile is the layout of results.json.
type resultFile struct {
	JobID      string          `json:"job_id"`
	Model      omtx.ModelInfo  `json:"model"`
	Ligand     omtx.Ligand     `json:"ligand"`
	Parameters omtx.Parameters `json:"parameters"`
	// RunSettings are the settings that ran; MSAs each chain's MSA.
	RunSettings *omtx.RunSettings `json:"run_settings,omitempty"`
	MSAs        []omtx.ChainMSA   `json:"msas,omitempty"`
	Warnings    []string          `json:"warnings,omitempty"`
	// LogsFile names the log a batch ligand shares with its group.
	LogsFile   string `json:"logs_file,omitempty"`
	Prediction struct {
		AffinityPredValue         float64            `json:"affinity_pred_value"`
		AffinityPredValueUnits    string             `json:"affinity_pred_value_units"`
		AffinityProbabilityBinary float64            `json:"affinity_probability_binary"`
		ConfidenceScore           float64            `json:"confidence_score"`
		Metrics                   map[string]float64 `json:"metrics,omitempty"`
	} `json:"prediction"`
	Derived struct {
		PIC50         float64 `json:"pic50"`
		IC50uM        float64 `json:"ic50_um"`
		DeltaGKcalMol float64 `json:"delta_g_kcal_mol"`
		Note          string  `json:"note"`
	} `json:"derived"`
	Structure struct {
		Available bool   `json:"available"`
		Reason    string `json:"reason,omitempty"`
		CIF       string `json:"cif,omitempty"`
	} `json:"structure"`
	ModelSeconds float64   `json:"model_seconds"`
	Worker       string    `json:"worker"`
	GPUClass     string    `json:"gpu_class"`
	WrittenAt    time.Time `json:"written_at"`
	// Record is the job document's results block as it was written, so
	// that the record can be rebuilt from this file (reconcile).
	Record omtx.Results `json:"record"`
}

// ResultFile is what results.json holds that reconcile reads back.
type ResultFile struct {
	JobID  string       `json:"job_id"`
	Record omtx.Results `json:"record"`
}

const derivedNote = "affinity_pred_value is log10(IC50 in µM); pIC50 = 6 − affinity_pred_value; ΔG ≈ −1.364 × pIC50 kcal/mol at 298 K"

// BuildResults turns a prediction into the job document's results block.
func BuildResults(model omtx.ModelInfo, p omtx.Prediction) omtx.Results {
	r := omtx.Results{
		Model:                     model.Name,
		ModelVersion:              model.Version,
		ModelCheckpoint:           model.Checkpoint,
		ModelKind:                 model.Kind,
		AffinityPredValue:         p.AffinityPredValue,
		AffinityPredValueUnits:    omtx.UnitsLog10IC50uM,
		PIC50:                     omtx.PIC50FromPredValue(p.AffinityPredValue),
		DeltaGKcalMol:             omtx.DeltaGFromPredValue(p.AffinityPredValue),
		AffinityProbabilityBinary: p.AffinityProbabilityBinary,
		Confidence:                p.ConfidenceScore,
		AffinityUnits:             omtx.UnitsKcalPerMol,
		ModelSeconds:              p.ModelSeconds,
		Metrics:                   p.Metrics,
	}
	r.Affinity = r.DeltaGKcalMol
	if p.StructureCIF != "" {
		r.StructureAvailable = true
	} else {
		r.StructureUnavailableReason = model.NoStructureReason
		if r.StructureUnavailableReason == "" {
			r.StructureUnavailableReason = "the model produced no coordinates"
		}
	}
	return r
}

// storeResult writes one ligand's files under folder: structure.cif when
// there are coordinates, results.json, and logs.txt unless logsFile names
// the log the ligand shares (a batch group's), which the caller writes.
// ranMSA is the MSA a prediction ran with: the reference and the SHA-256
// of the A3M that was read ("" when none).
type ranMSA struct {
	omtx.MSARef
	Digest string
	// Chains, for a target's job, is each protein chain's MSA that ran
	// (targetMSAs); nil for the one-chain shape, recorded as chain A.
	Chains []omtx.ChainMSA
}

// baselineSettingsNote is what a model that is not Boltz records as its run
// settings.
const baselineSettingsNote = "this model is not Boltz-2: none of Boltz's run settings (recycling_steps, sampling_steps, diffusion_samples, sampling_steps_affinity, diffusion_samples_affinity, affinity_mw_correction, use_potentials, seed, kernels) apply, and it reads no MSA"

func (g *GPU) storeResult(ctx context.Context, folder, jobID string, params omtx.Parameters, msa ranMSA, warnings []string, model omtx.ModelInfo, p omtx.Prediction, modelled string, logs *jobLog, logsFile string) (omtx.Results, error) {
	start := time.Now()
	defer func() { metrics.Stage.WithLabelValues("write").Observe(time.Since(start).Seconds()) }()
	res := BuildResults(model, p)
	// One GPU for the model's share of the call.
	res.GPUClass, res.GPUSeconds, res.PricePerGPUHour = g.GPUClass, p.ModelSeconds, g.PricePerHour
	res.CostUSD = omtx.GPUClassSpec{PricePerHour: g.PricePerHour}.CostUSD(res.GPUSeconds)
	if g.OnCPU {
		res.GPUClass, res.PricePerGPUHour, res.CostUSD = omtx.DeviceCPU, 0, 0
	}
	metrics.Stage.WithLabelValues("model").Observe(p.ModelSeconds)
	metrics.GPUSeconds.WithLabelValues(g.GPUClass, model.Name).Add(res.GPUSeconds)
	metrics.CostUSD.WithLabelValues(g.GPUClass, model.Name).Add(res.CostUSD)
	res.MSAMode = msa.Mode
	if res.MSAMode == "" {
		res.MSAMode = omtx.MSASingleSequence
	}
	if msa.Object != "" {
		res.MSAFile = g.Blobs.URI(msa.Object)
	}
	if omtx.ModelUsesMSA(model.Name) {
		res.MSAs = []omtx.ChainMSA{{ChainID: omtx.SeedChainID, Mode: res.MSAMode, Digest: msa.Digest}}
		if msa.Chains != nil {
			res.MSAs = msa.Chains
		}
	} else {
		res.MSAMode, res.MSAFile = omtx.MSANone, ""
	}
	res.LigandSMILES, res.ModelledSMILES = p.LigandSMILES, modelled
	if res.ModelledSMILES == "" {
		res.ModelledSMILES = p.LigandSMILES
	}
	res.RunSettings = p.Settings
	if res.RunSettings == nil {
		res.RunSettings = &omtx.RunSettings{Note: baselineSettingsNote}
	}
	var rf resultFile
	rf.JobID, rf.Model, rf.Parameters, rf.Warnings, rf.LogsFile = jobID, model, params, warnings, logsFile
	rf.Ligand = omtx.Ligand{Name: p.LigandName, SMILES: p.LigandSMILES, ModelledSMILES: res.ModelledSMILES}
	rf.RunSettings, rf.MSAs = res.RunSettings, res.MSAs
	rf.Prediction.AffinityPredValue = p.AffinityPredValue
	rf.Prediction.AffinityPredValueUnits = omtx.UnitsLog10IC50uM
	rf.Prediction.AffinityProbabilityBinary = p.AffinityProbabilityBinary
	rf.Prediction.ConfidenceScore = p.ConfidenceScore
	rf.Prediction.Metrics = p.Metrics
	rf.Derived.PIC50, rf.Derived.DeltaGKcalMol = res.PIC50, res.DeltaGKcalMol
	rf.Derived.IC50uM = omtx.IC50uMFromPredValue(p.AffinityPredValue)
	rf.Derived.Note = derivedNote
	rf.Structure.Available = res.StructureAvailable
	rf.Structure.Reason = res.StructureUnavailableReason
	rf.ModelSeconds, rf.Worker, rf.GPUClass, rf.WrittenAt = p.ModelSeconds, g.WorkerID, g.GPUClass, g.now()

	if p.StructureCIF != "" {
		name := folder + omtx.FileStructureCIF
		if err := g.Blobs.Put(ctx, name, "chemical/x-mmcif", []byte(p.StructureCIF)); err != nil {
			return res, fmt.Errorf("store structure: %w", err)
		}
		res.StructureFile = g.Blobs.URI(name)
		rf.Structure.CIF = res.StructureFile
		if pdb, err := structure.CIFToPDB([]byte(p.StructureCIF)); err != nil {
			logs.Printf("structure.pdb not written: %v", err)
		} else {
			name := folder + omtx.FileStructurePDB
			if err := g.Blobs.Put(ctx, name, "chemical/x-pdb", pdb); err != nil {
				return res, fmt.Errorf("store structure: %w", err)
			}
			res.StructurePDBFile = g.Blobs.URI(name)
		}
	}
	name := folder + omtx.FileResults
	res.ResultsFile = g.Blobs.URI(name)
	rf.Record = res
	data, err := json.MarshalIndent(rf, "", "  ")
	if err != nil {
		return res, fmt.Errorf("encode results: %w", err)
	}
	if err := g.Blobs.Put(ctx, name, "application/json", data); err != nil {
		return res, fmt.Errorf("store results: %w", err)
	}
	logs.Printf("stored %s", res.ResultsFile)
	if logsFile != "" {
		return res, nil
	}
	if err := g.Blobs.Put(ctx, folder+omtx.FileLogs, "text/plain; charset=utf-8", logs.Bytes()); err != nil {
		return res, storeErr("store logs", err)
	}
	return res, nil
}

// storeLogs writes logs.txt on a failed attempt; it is best effort, since
// the attempt's own error is what matters.
func (g *GPU) storeLogs(ctx context.Context, folder string, logs *jobLog) {
	if err := g.Blobs.Put(ctx, folder+omtx.FileLogs, "text/plain; charset=utf-8", logs.Bytes()); err != nil && g.Logger != nil {
		g.Logger.WarnContext(ctx, "store logs", "folder", folder, "error", err)
	}
}

// heartbeat records heartbeats every interval until the returned stop is
// called, with what details returns then (none when nil). Heartbeats let
// Temporal notice a dead worker and deliver cancellation to the running
// attempt; the details (a chunk's progress) are what a retried attempt,
// and the Web UI, see.
func heartbeat(ctx context.Context, every time.Duration, details func() any) (stop func()) {
	if every <= 0 {
		every = 5 * time.Second
	}
	return tick(ctx, every, func() {
		if details == nil {
			activity.RecordHeartbeat(ctx)
		} else {
			activity.RecordHeartbeat(ctx, details())
		}
	})
}

// tick calls fn every interval until stop is called or ctx ends; stop
// returns once fn is no longer running.
func tick(ctx context.Context, every time.Duration, fn func()) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				fn()
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// jobLog collects a job's log lines for logs.txt.
type jobLog struct {
	now func() time.Time
	mu  sync.Mutex
	buf bytes.Buffer
}

func newJobLog(now func() time.Time) *jobLog { return &jobLog{now: now} }

func (l *jobLog) Printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.buf, "%s ", l.now().Format(time.RFC3339Nano))
	fmt.Fprintf(&l.buf, format, args...)
	l.buf.WriteByte('\n')
}

func (l *jobLog) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.buf.Bytes())
}

// Write takes the model's own output (for example Boltz's log) verbatim.
func (l *jobLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// modelError marks input the model refuses as non-retryable: running it
// again cannot help. An input too large for this GPU is non-retryable here
// too; the workflow reroutes it to a larger class. Anything else (a lost
// device, a full disk) is retried.
func modelError(err error) error {
	switch {
	case omtx.ErrorCode(err) == omtx.EInvalid:
		return contract.NonRetryable(contract.ErrTypeInvalidInput, err.Error(), err)
	case errors.Is(err, omtx.ErrOutOfMemory):
		return contract.NonRetryable(contract.ErrTypeOutOfMemory, err.Error(), err)
	}
	return fmt.Errorf("predict: %w", err)
}

// predictor returns the worker's predictor for a model.
func (g *GPU) predictor(model string) (Predictor, error) {
	if p, ok := g.Models[model]; ok {
		return p, nil
	}
	names := make([]string, 0, len(g.Models))
	for n := range g.Models {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, contract.NonRetryable(contract.ErrTypeNoModel,
		fmt.Sprintf("this worker (gpu class %s) serves models %v, not %q", g.GPUClass, names, model), nil)
}

// request prepares a predictor call: a scratch folder, the complex with
// its files fetched from GCS into it (complex), the attempt's retry flag
// and the log. MSAPath is set too, for predictors that read only the
// one-chain shape.
//
// msaDigest is the hex SHA-256 of the one-chain shape's A3M (chain A)
// given to the model, "" when none; a target's chains have theirs in
// req.Target.MSADigests.
func (g *GPU) request(ctx context.Context, targetID, protein string, ligands []omtx.Ligand, params omtx.Parameters, msa omtx.MSARef, logs *jobLog) (req omtx.PredictRequest, msaDigest string, cleanup func(), err error) {
	dir, err := os.MkdirTemp(g.ScratchDir, "omtx-predict-")
	if err != nil {
		return omtx.PredictRequest{}, "", nil, fmt.Errorf("scratch dir: %w", err)
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	req = omtx.PredictRequest{
		Protein: protein, Ligands: ligands, Parameters: params, WorkDir: dir,
		Log: logs,
	}
	if req.Target, err = g.complex(ctx, dir, targetID, protein, msa, logs); err != nil {
		cleanup()
		return req, "", nil, err
	}
	if targetID == "" {
		req.MSAPath = req.Target.MSA["A"]
		msaDigest = req.Target.MSADigests["A"]
	}
	return req, msaDigest, cleanup, nil
}
