package boltz

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Boltz's own defaults (docs/prediction.md, "Options"; src/boltz/main.py
// of jwohlwend/boltz, lines 853-869 and 998-1008: the click options'
// defaults, which win over predict()'s keyword defaults at lines
// 1050-1054, where diffusion_samples_affinity reads 3).
const (
	DefaultRecyclingSteps           = 3
	DefaultSamplingSteps            = 200
	DefaultDiffusionSamples         = 1
	DefaultSamplingStepsAffinity    = 200
	DefaultDiffusionSamplesAffinity = 5
	DefaultAccelerator              = "gpu"
	DefaultDevices                  = 1
	// DefaultModelVersion is recorded when Config.ModelVersion is empty.
	DefaultModelVersion = "boltz-2"
)

// Layout under PredictRequest.WorkDir.
const (
	inputsDirName = "inputs" // one YAML per ligand; passed to boltz predict
	outDirName    = "out"    // --out_dir
)

// waitDelay bounds how long Predict waits for the process's output pipe
// to close after the process ended or was killed.
const waitDelay = 10 * time.Second

// NoPredictionReason is the Prediction.Error of a ligand Boltz wrote no
// output for, when it did not say that it ran out of memory.
const NoPredictionReason = "boltz wrote no prediction for this ligand"

// managedFlags are the flags Predict sets itself; Config.ExtraArgs may not
// repeat them. --use_msa_server is here because MSAs come from the
// caller's cache (PredictRequest.Target's MSA files, or MSAPath), never
// from a server at prediction time.
var managedFlags = map[string]bool{
	"--out_dir": true, "--cache": true, "--accelerator": true, "--devices": true,
	"--recycling_steps": true, "--sampling_steps": true, "--diffusion_samples": true,
	"--output_format": true, "--seed": true, "--override": true,
	"--use_potentials": true, "--affinity_mw_correction": true,
	"--sampling_steps_affinity": true, "--diffusion_samples_affinity": true,
	"--use_msa_server": true,
}

// noKernelsFlag turns Boltz's GPU kernels off (src/boltz/main.py, lines
// 1033-1036, passed as use_kernels=not no_kernels at line 1321). A
// deployment sets it in Config.ExtraArgs, for GPUs the kernels do not
// support; results record it.
const noKernelsFlag = "--no_kernels"

// The affinity outputs Boltz's molecular-weight correction changes, and
// those it leaves: src/boltz/model/models/boltz2.py (lines 687-697)
// rewrites only the ensemble's affinity_pred_value, after
// affinity_pred_value1/2 were copied out of the two heads (lines 670-686).
var (
	mwCorrected    = []string{keyAffinityValue}
	mwNotCorrected = []string{"affinity_pred_value1", "affinity_pred_value2"}
)

// Config configures a Runner.
type Config struct {
	// Binary is the path to the boltz executable (OMTX_BOLTZ_BIN in the
	// binaries). A name without a slash is looked up in $PATH.
	Binary string
	// CacheDir is passed as --cache: where Boltz keeps (and on first use
	// downloads) its weights and CCD data. Empty leaves Boltz's default
	// ($BOLTZ_CACHE, else ~/.boltz).
	CacheDir string
	// Accelerator is --accelerator: gpu (default), cpu or tpu.
	Accelerator string
	// Devices is --devices (default 1).
	Devices int
	// RecyclingSteps, SamplingSteps, SamplingStepsAffinity and
	// DiffusionSamplesAffinity are the deployment's defaults for
	// --recycling_steps, --sampling_steps, --sampling_steps_affinity and
	// --diffusion_samples_affinity, which a request's parameters override;
	// 0 means Boltz's defaults, 3, 200, 200 and 5.
	RecyclingSteps, SamplingSteps                   int
	SamplingStepsAffinity, DiffusionSamplesAffinity int
	// UsePotentials adds --use_potentials (inference-time steering
	// potentials for more physical poses) unless a request says otherwise.
	UsePotentials bool
	// AffinityMWCorrection adds --affinity_mw_correction unless a request
	// says otherwise.
	AffinityMWCorrection bool
	// GPUName is recorded as the GPU that ran; empty asks nvidia-smi once
	// (or records "cpu" for the cpu accelerator).
	GPUName string
	// ExtraArgs are appended to every boltz predict call (e.g.
	// "--no_kernels" on old GPUs). They may not set a flag Predict sets.
	ExtraArgs []string
	// Env holds extra KEY=value environment variables for the boltz
	// process, on top of this process's environment.
	Env []string
	// Logger receives one line per call; nil discards.
	Logger *slog.Logger
	// ModelVersion is recorded in every result, e.g. "boltz-2 (boltz 2.2.1)".
	ModelVersion string
}

// Runner runs Boltz-2 through its CLI. It implements activities.Predictor.
// A Runner holds no per-call state; concurrent Predict calls are safe as
// long as their WorkDirs differ (each starts its own boltz process).
type Runner struct {
	cfg    Config
	binary string
	log    *slog.Logger
	prov   *provenance
}

// New validates cfg, fills its defaults and checks that the binary exists
// and is executable. It does not run it: loading Boltz takes long and may
// download weights, which belongs to the first prediction.
func New(cfg Config) (*Runner, error) {
	bin, err := findBinary(cfg.Binary)
	if err != nil {
		return nil, err
	}
	if cfg.Accelerator == "" {
		cfg.Accelerator = DefaultAccelerator
	}
	switch cfg.Accelerator {
	case "gpu", "cpu", "tpu":
	default:
		return nil, fmt.Errorf("boltz: accelerator %q: want gpu, cpu or tpu", cfg.Accelerator)
	}
	if cfg.Devices == 0 {
		cfg.Devices = DefaultDevices
	}
	if cfg.RecyclingSteps == 0 {
		cfg.RecyclingSteps = DefaultRecyclingSteps
	}
	if cfg.SamplingSteps == 0 {
		cfg.SamplingSteps = DefaultSamplingSteps
	}
	if cfg.SamplingStepsAffinity == 0 {
		cfg.SamplingStepsAffinity = DefaultSamplingStepsAffinity
	}
	if cfg.DiffusionSamplesAffinity == 0 {
		cfg.DiffusionSamplesAffinity = DefaultDiffusionSamplesAffinity
	}
	if cfg.Devices < 0 || cfg.RecyclingSteps < 0 || cfg.SamplingSteps < 0 || cfg.SamplingStepsAffinity < 0 || cfg.DiffusionSamplesAffinity < 0 {
		return nil, fmt.Errorf("boltz: devices (%d), recycling steps (%d), sampling steps (%d), affinity sampling steps (%d) and affinity diffusion samples (%d) must not be negative",
			cfg.Devices, cfg.RecyclingSteps, cfg.SamplingSteps, cfg.SamplingStepsAffinity, cfg.DiffusionSamplesAffinity)
	}
	if cfg.CacheDir != "" {
		if cfg.CacheDir, err = filepath.Abs(cfg.CacheDir); err != nil {
			return nil, fmt.Errorf("boltz: cache dir: %w", err)
		}
	}
	for _, a := range cfg.ExtraArgs {
		flag, _, _ := strings.Cut(a, "=")
		if managedFlags[flag] {
			return nil, fmt.Errorf("boltz: extra argument %q sets a flag the runner sets itself", a)
		}
	}
	cfg.ExtraArgs = append([]string(nil), cfg.ExtraArgs...)
	for _, kv := range cfg.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return nil, fmt.Errorf("boltz: environment entry %q is not KEY=value", kv)
		}
	}
	cfg.Env = append([]string(nil), cfg.Env...)
	if cfg.ModelVersion == "" {
		cfg.ModelVersion = DefaultModelVersion
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, binary: bin, log: log, prov: &provenance{binary: bin, cache: cacheDir(cfg.CacheDir), gpu: cfg.GPUName, accelerator: cfg.Accelerator}}, nil
}

func findBinary(bin string) (string, error) {
	const hint = " (set OMTX_BOLTZ_BIN to the path of the boltz executable)"
	if bin == "" {
		return "", errors.New("boltz: no binary configured" + hint)
	}
	if !strings.Contains(bin, "/") {
		p, err := exec.LookPath(bin)
		if err != nil {
			return "", fmt.Errorf("boltz: binary %q not found in $PATH%s", bin, hint)
		}
		bin = p
	}
	abs, err := filepath.Abs(bin)
	if err != nil {
		return "", fmt.Errorf("boltz: binary %q: %w", bin, err)
	}
	st, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("boltz: binary %s does not exist%s", abs, hint)
	case err != nil:
		return "", fmt.Errorf("boltz: binary %s: %w", abs, err)
	case st.IsDir():
		return "", fmt.Errorf("boltz: binary %s is a directory%s", abs, hint)
	case st.Mode().Perm()&0o111 == 0:
		return "", fmt.Errorf("boltz: binary %s is not executable (mode %s)", abs, st.Mode().Perm())
	}
	return abs, nil
}

// Info describes the model. Boltz-2 predicts the complex's structure, so
// Structures is true. Version is the installed boltz package's when its
// Python says ("boltz-2 (boltz 2.2.1)"), and Checkpoint names the weight
// files and their digests once they are in the cache.
func (r *Runner) Info() omtx.ModelInfo {
	version := r.cfg.ModelVersion
	if v := r.prov.installedVersion(); v != "" {
		version += " (" + v + ")"
	}
	return omtx.ModelInfo{
		Name:       omtx.ModelBoltz2,
		Version:    version,
		Checkpoint: r.prov.checkpointDigests(),
		Defaults:   r.defaultsDigest(),
		Kind:       "boltz",
		Description: "Boltz-2 (github.com/jwohlwend/boltz) run through its boltz predict CLI: " +
			"complex structure (mmCIF), confidence scores and affinity " +
			"(affinity_pred_value = log10(IC50 / µM), affinity_probability_binary).",
		Structures: true,
	}
}

// Predict runs one boltz predict call for all ligands of the request (one
// complex: req.Target, or the one chain of req.Protein), so the model
// loads once per chunk. It returns one prediction per ligand, in order.
// A ligand whose SMILES is empty or holds whitespace, or whose input
// target.RenderJob refuses, is not sent and gets Prediction.Error; the
// others share the call's wall time evenly as ModelSeconds. Boltz's stdout and stderr go to req.Log as they come.
//
// Outcomes:
//   - A ligand whose outputs are all present gets its scores and structure.
//   - If any ligand has no output (and no "Failed to process" line) and
//     Boltz printed its out-of-memory message, Predict returns an error wrapping omtx.ErrOutOfMemory, even
//     when other ligands succeeded: the whole chunk is rerouted to a GPU
//     class with more memory, which is simpler and cheaper to reason about
//     than splitting it.
//   - If boltz exits non-zero and no ligand has output, or some ligand has
//     none without Boltz saying why ("Failed to process ..."), Predict
//     returns a plain (retryable) error ending with the last 64 KiB of
//     Boltz's output. A non-zero exit after every ligand's output was
//     written is logged and the outputs are kept.
//   - Otherwise (exit status 0) a ligand without output gets
//     Prediction.Error = NoPredictionReason, with Boltz's own reason when it
//     printed one ("Failed to process ...", e.g. an unparsable SMILES).
//   - An output file that is not what docs/prediction.md describes
//     (malformed JSON, a missing key) is an error naming the file.
//
// Predict stops the process (its whole process group) when ctx is done.
func (r *Runner) Predict(ctx context.Context, req omtx.PredictRequest) ([]omtx.Prediction, error) {
	if req.Parameters.NumSamples < 0 {
		return nil, omtx.Errorf(omtx.EInvalid, "num_samples", "must not be negative, got %d", req.Parameters.NumSamples)
	}
	preds := make([]omtx.Prediction, len(req.Ligands))
	smiles := make([]string, len(req.Ligands))
	var sent []int // indices of the ligands given to Boltz
	for i, l := range req.Ligands {
		preds[i].LigandName, preds[i].LigandSMILES = l.Name, l.SMILES
		smiles[i] = strings.TrimSpace(l.SMILES)
		switch {
		case smiles[i] == "":
			preds[i].Error = "invalid SMILES: empty"
		case !utf8.ValidString(smiles[i]) || strings.ContainsAny(smiles[i], " \t\r\n"):
			preds[i].Error = "invalid SMILES: contains whitespace or invalid UTF-8"
		default:
			sent = append(sent, i)
		}
	}
	if len(sent) == 0 {
		return preds, nil
	}

	j, err := r.job(req)
	if err != nil {
		return nil, err
	}

	workDir := req.WorkDir
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "omtx-boltz-"); err != nil {
			return nil, fmt.Errorf("boltz: work dir: %w", err)
		}
		defer os.RemoveAll(workDir)
	}
	if workDir, err = filepath.Abs(workDir); err != nil {
		return nil, fmt.Errorf("boltz: work dir: %w", err)
	}
	inputsDir := filepath.Join(workDir, inputsDirName)
	outDir := filepath.Join(workDir, outDirName)
	names, err := recordNames(req)
	if err != nil {
		return nil, err
	}
	sent, refused, err := writeInputs(inputsDir, j, smiles, sent, names)
	if err != nil {
		return nil, fmt.Errorf("boltz: %w", err)
	}
	for i, err := range refused {
		preds[i].Error = "invalid input: " + err.Error()
	}
	if len(sent) == 0 {
		return preds, nil
	}

	// Boltz names its results folder after the input path's stem
	// (src/boltz/main.py: out_dir / f"boltz_results_{data.stem}").
	resultsDir := filepath.Join(outDir, "boltz_results_"+inputsDirName)
	predictionsDir := filepath.Join(resultsDir, "predictions")
	// An empty out_dir, whatever an earlier call left there: Boltz skips
	// what it finds (its resume), which must be only the checkpoints put
	// there below. So no call needs --override.
	if err := os.RemoveAll(outDir); err != nil {
		return nil, fmt.Errorf("boltz: clear out dir: %w", err)
	}
	restored := map[int]bool{}
	for _, i := range sent {
		cp, ok := req.Resume[i]
		if !ok {
			continue
		}
		if cp.Record != names[i] {
			return nil, fmt.Errorf("boltz: checkpoint of record %s given for ligand %d, record %s", cp.Record, i, names[i])
		}
		if err := restore(resultsDir, cp); err != nil {
			return nil, fmt.Errorf("boltz: %w", err)
		}
		restored[i] = true
	}
	if len(restored) > 0 {
		r.log.Info("boltz: resuming ligands from their structure checkpoints", "ligands", len(restored), "of", len(sent))
	}

	settings := r.settings(req)
	args := r.args(inputsDir, outDir, req, settings)
	sink := newOutputSink(req.Log)
	fmt.Fprintf(sink, "$ %s %s\n", r.binary, strings.Join(args, " "))
	if len(restored) > 0 {
		fmt.Fprintf(sink, "omtx: %d of %d ligands resume from their structure checkpoints (affinity pass only)\n", len(restored), len(sent))
	}
	start := time.Now()
	h := &harvest{r: r, dir: predictionsDir, results: resultsDir, sent: sent, names: names, chains: j.ligandChainIndex() + 1,
		preds: preds, settings: settings, args: args, notify: req.Finished, structured: req.Structured,
		sink: sink, checkpointed: restored, last: start}
	stopHarvest := h.watch(harvestEvery)
	runErr := r.run(ctx, workDir, args, sink)
	stopHarvest()
	if ctx.Err() != nil && (req.Finished != nil || req.Structured != nil) {
		// Killed (a preemption, a stop): what Boltz wrote whole before the
		// kill is handed over still, rather than left to the last look.
		h.look()
	}
	elapsed := time.Since(start)
	sink.flush()
	if err := sink.LogError(); err != nil {
		r.log.Warn("boltz: writing the model's output to the request log failed", "err", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("boltz: stopped after %s: %w", elapsed.Round(time.Millisecond), err)
	}
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		// The process did not start or its output could not be read.
		return nil, fmt.Errorf("boltz: run %s: %w", r.binary, runErr)
	}
	r.log.Info("boltz predict finished", "ligands", len(sent), "seconds", elapsed.Seconds(), "exit", exitStatus(runErr))

	// The ligands harvested during the run keep the seconds they were
	// given; the rest share what is left of the call's wall time.
	perLigand := 0.0
	if left := len(sent) - len(h.done); left > 0 {
		perLigand = max(elapsed.Seconds()-h.seconds, 0) / float64(left)
	}
	type miss struct {
		i      int
		files  []string
		reason string // Boltz's own, if it printed one
	}
	var missing []miss
	var present []int
	unexplained := 0
	for _, i := range sent {
		name := names[i]
		files, err := recordOutputs(predictionsDir, name).missing()
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			present = append(present, i)
			continue
		}
		reason, ok := sink.Failure(name)
		if !ok {
			unexplained++
		}
		missing = append(missing, miss{i: i, files: files, reason: reason})
	}

	switch {
	case unexplained > 0 && sink.OOM():
		return nil, fmt.Errorf("boltz: %w: Boltz printed %q and wrote no prediction for %d of %d ligands; "+
			"the whole chunk goes to a GPU class with more memory",
			omtx.ErrOutOfMemory, "| WARNING: "+oomMessage, unexplained, len(sent))
	case runErr != nil && (unexplained > 0 || len(present) == 0):
		return nil, fmt.Errorf("boltz: boltz predict %s (%d of %d ligands without output); last output:\n%s",
			exitStatus(runErr), len(missing), len(sent), sink.Tail())
	case runErr != nil:
		r.log.Warn("boltz: boltz predict failed after writing every prediction; keeping them", "exit", exitStatus(runErr))
	}

	settings = r.ranSettings(settings, args)
	for _, i := range sent {
		if h.done[i] {
			continue
		}
		s := settings
		preds[i].Settings = &s
	}
	for _, i := range present {
		if h.done[i] {
			continue
		}
		name := names[i]
		res, err := readRecord(recordOutputs(predictionsDir, name), j.ligandChainIndex()+1)
		if err != nil {
			return nil, err
		}
		fill(&preds[i], res)
		preds[i].ModelSeconds = perLigand
		if len(res.nonFinite) > 0 {
			r.log.Warn("boltz: non-finite values left out", "ligand", preds[i].LigandName, "record", name, "keys", res.nonFinite)
		}
	}
	for _, m := range missing {
		msg := NoPredictionReason
		if m.reason != "" {
			msg += ": boltz could not process the input: " + m.reason
		} else {
			msg += " (missing " + strings.Join(m.files, ", ") + ")"
		}
		preds[m.i].Error = msg
		preds[m.i].ModelSeconds = perLigand
	}
	return preds, nil
}

// ranSettings completes a run's settings after the run (or once a ligand
// is finished): read then, because Boltz downloads its weights on first
// use, so a cold cache has them only now.
func (r *Runner) ranSettings(s omtx.RunSettings, args []string) omtx.RunSettings {
	s.Args = recordedArgs(args)
	s.Version = r.prov.installedVersion()
	s.Checkpoints = r.prov.checkpointDigests()
	s.GPU = r.prov.gpuName()
	return s
}

// job is the request's complex: its target, or the one-chain shape of
// Protein and MSAPath. Either way each ligand's input is rendered by
// target.RenderJob.
func (r *Runner) job(req omtx.PredictRequest) (job, error) {
	if req.Target != nil {
		j, err := targetJob(req.Target.JSON, req.Target.MSA, req.Target.Templates)
		if err != nil {
			if omtx.ErrorCode(err) == omtx.EInvalid {
				return job{}, err
			}
			return job{}, fmt.Errorf("boltz: %w", err)
		}
		if _, err := j.render("C"); err != nil {
			// Not the ligand's fault: the target itself does not render.
			return job{}, omtx.Errorf(omtx.EInvalid, "target_id", "%v", err)
		}
		return j, nil
	}
	protein, err := chem.ValidateProteinSequence(req.Protein)
	if err != nil {
		return job{}, omtx.Errorf(omtx.EInvalid, "protein_sequence", "%v", err)
	}
	msaPath := ""
	if req.MSAPath != "" {
		if msaPath, err = filepath.Abs(req.MSAPath); err != nil {
			return job{}, fmt.Errorf("boltz: msa path: %w", err)
		}
		if _, err := os.Stat(msaPath); err != nil {
			return job{}, fmt.Errorf("boltz: msa: %w", err)
		}
	} else if req.Parameters.UseMSA {
		r.log.Warn("boltz: use_msa is set but the request carries no MSA; running in single-sequence mode")
	}
	return oneChainJob(protein, msaPath), nil
}

// fill copies a record's outputs into a prediction.
func fill(p *omtx.Prediction, res *recordResult) {
	p.StructureCIF = res.structure
	p.Metrics = res.metrics
	p.ConfidenceScore = res.confidence
	p.AffinityPredValue = res.affinityValue // log10(IC50 / µM)
	p.AffinityProbabilityBinary = res.affinityProb
	var bad []string
	for _, k := range []string{"confidence_score", keyAffinityValue, keyAffinityProb} {
		for _, nf := range res.nonFinite {
			if nf == k {
				bad = append(bad, k)
			}
		}
	}
	if len(bad) > 0 {
		// NaN cannot be stored or ranked; report the ligand as failed.
		p.ConfidenceScore = zeroNaN(p.ConfidenceScore)
		p.AffinityPredValue = zeroNaN(p.AffinityPredValue)
		p.AffinityProbabilityBinary = zeroNaN(p.AffinityProbabilityBinary)
		p.Error = "boltz returned a non-finite " + strings.Join(bad, ", ")
	}
}

func zeroNaN(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

// defaultsDigest digests the settings a request that sets none runs with
// (the deployment's defaults, kernels included): a changed default makes
// the result cache miss, as a changed request would.
func (r *Runner) defaultsDigest() string {
	raw, err := json.Marshal(r.settings(omtx.PredictRequest{}))
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// settings are the run settings of req: its parameters where set, else
// the deployment's defaults (Config), which are Boltz's own unless
// configured. Args, Version, Checkpoints and GPU are filled after the run.
func (r *Runner) settings(req omtx.PredictRequest) omtx.RunSettings {
	p := req.Parameters
	pick := func(v, def int) int {
		if v > 0 {
			return v
		}
		return def
	}
	on := func(v *bool, def bool) bool {
		if v != nil {
			return *v
		}
		return def
	}
	samples := pick(p.DiffusionSamples, pick(p.NumSamples, DefaultDiffusionSamples))
	kernels := !slices.Contains(r.cfg.ExtraArgs, noKernelsFlag)
	s := omtx.RunSettings{
		BoltzFlags:               true,
		RecyclingSteps:           pick(p.RecyclingSteps, r.cfg.RecyclingSteps),
		SamplingSteps:            pick(p.SamplingSteps, r.cfg.SamplingSteps),
		DiffusionSamples:         samples,
		SamplingStepsAffinity:    pick(p.SamplingStepsAffinity, r.cfg.SamplingStepsAffinity),
		DiffusionSamplesAffinity: pick(p.DiffusionSamplesAffinity, r.cfg.DiffusionSamplesAffinity),
		AffinityMWCorrection:     on(p.AffinityMWCorrection, r.cfg.AffinityMWCorrection),
		UsePotentials:            on(p.UsePotentials, r.cfg.UsePotentials),
		Seed:                     p.Seed,
		Kernels:                  &kernels,
	}
	if s.AffinityMWCorrection {
		s.MWCorrected = append([]string(nil), mwCorrected...)
		s.MWNotCorrected = append([]string(nil), mwNotCorrected...)
	}
	return s
}

// args builds the boltz predict command line (docs/prediction.md,
// "Options") from the run's settings.
func (r *Runner) args(inputsDir, outDir string, req omtx.PredictRequest, s omtx.RunSettings) []string {
	args := []string{"predict", inputsDir,
		"--out_dir", outDir,
		"--accelerator", r.cfg.Accelerator,
		"--devices", strconv.Itoa(r.cfg.Devices),
		"--recycling_steps", strconv.Itoa(s.RecyclingSteps),
		"--sampling_steps", strconv.Itoa(s.SamplingSteps),
		// Boltz writes diffusion_samples structures ranked by
		// confidence_score; Predict reads the best, model_0.
		"--diffusion_samples", strconv.Itoa(s.DiffusionSamples),
		"--sampling_steps_affinity", strconv.Itoa(s.SamplingStepsAffinity),
		"--diffusion_samples_affinity", strconv.Itoa(s.DiffusionSamplesAffinity),
		"--output_format", "mmcif",
	}
	if r.cfg.CacheDir != "" {
		args = append(args, "--cache", r.cfg.CacheDir)
	}
	if s.UsePotentials {
		args = append(args, "--use_potentials")
	}
	if s.AffinityMWCorrection {
		args = append(args, "--affinity_mw_correction")
	}
	if s.Seed != nil {
		args = append(args, "--seed", strconv.FormatInt(*s.Seed, 10))
	}
	return append(args, r.cfg.ExtraArgs...)
}

// recordedArgs are the flags of a boltz predict command line as results
// record them: without the input folder and --out_dir, which are this
// call's scratch paths.
func recordedArgs(args []string) []string {
	var out []string
	for i := 2; i < len(args); i++ {
		if args[i] == "--out_dir" {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// run runs the binary in its own process group and kills the whole group
// when ctx is done: Boltz starts dataloader and preprocessing workers that
// would otherwise outlive it and keep GPU memory.
func (r *Runner) run(ctx context.Context, dir string, args []string, sink *outputSink) error {
	cmd := exec.CommandContext(ctx, r.binary, args...)
	cmd.Dir = dir
	// PYTHONUNBUFFERED makes Boltz's print() lines (the out-of-memory
	// warning among them) reach the log as they happen.
	cmd.Env = append(append(os.Environ(), "PYTHONUNBUFFERED=1"), r.cfg.Env...)
	cmd.Stdout = sink
	cmd.Stderr = sink
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if errors.Is(err, syscall.ESRCH) {
			return os.ErrProcessDone
		}
		return err
	}
	// A straggler that inherited the output pipe must not hold Wait open.
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		// boltz itself exited 0, but something it started still held its
		// output open after waitDelay, most likely a worker in its process
		// group. While the group has a member its id cannot be reused, so
		// killing it cannot hit a stranger.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		r.log.Warn("boltz: a process boltz started outlived it; killed its process group")
		return nil
	}
	return err
}

func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return exitErr.ProcessState.String()
	}
	return err.Error()
}
