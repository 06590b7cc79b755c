package gpu

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Providers accepted by Config.Provider.
const (
	ProviderCPU  = "cpu"
	ProviderCUDA = "cuda"
	ProviderAuto = "auto"
)

// LibraryEnv is the environment variable that names libonnxruntime.so.
const LibraryEnv = "ONNXRUNTIME_LIB"

// ErrCUDAUnavailable is wrapped by NewONNXPredictor's error when CUDA was
// required but could not be used.
var ErrCUDAUnavailable = errors.New("CUDA unavailable")

// Config configures an ONNXPredictor.
type Config struct {
	// BundleDir is the model bundle folder (model.onnx + manifest.json).
	BundleDir string
	// LibraryPath is libonnxruntime.so; empty means DefaultLibraryPath().
	LibraryPath string
	// Provider is "cpu", "cuda" or "auto" (the default): "cuda" fails when
	// CUDA cannot be used; "auto" uses CUDA when it can and otherwise falls
	// back to CPU with a logged warning.
	Provider string
	// RequireGPU makes "auto" fail instead of falling back to CPU.
	RequireGPU   bool
	CUDADeviceID int
	// CUDAMemLimitBytes is the CUDA EP's gpu_mem_limit; 0 = unlimited.
	CUDAMemLimitBytes int64
	// TensorRT appends the TensorRT EP before CUDA; if it cannot be
	// appended, the predictor logs a warning and uses CUDA alone.
	TensorRT bool
	// IntraOpThreads sets the session's intra-op thread count; 0 = ORT's default.
	IntraOpThreads int
	// MaxBatch is the most ligands per session run; 0 = the manifest's
	// limits.max_batch, which also caps it.
	MaxBatch int
	Logger   *slog.Logger
}

// DefaultLibraryPath returns $ONNXRUNTIME_LIB if set, else the first
// .tools/lib/libonnxruntime.so found in the working directory or one of its
// parents (scripts/install-tools.sh installs it there), else
// "libonnxruntime.so" for the dynamic loader's search path.
func DefaultLibraryPath() string {
	if p := os.Getenv(LibraryEnv); p != "" {
		return p
	}
	if dir, err := os.Getwd(); err == nil {
		for {
			p := filepath.Join(dir, ".tools", "lib", "libonnxruntime.so")
			if _, err := os.Stat(p); err == nil {
				return p
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "libonnxruntime.so"
}

// ortEnv is the process's one ONNX Runtime environment. It is created by the
// first predictor and never destroyed, so later predictors reuse it. A
// mutex rather than sync.Once guards it, so that a failed first attempt
// (a wrong library path) can be retried.
var ortEnv struct {
	mu      sync.Mutex
	ready   bool
	library string
}

func initORT(library string, log *slog.Logger) error {
	ortEnv.mu.Lock()
	defer ortEnv.mu.Unlock()
	if ortEnv.ready {
		if library != ortEnv.library {
			log.Warn("onnxruntime is already loaded in this process; reusing it", "loaded", ortEnv.library, "requested", library)
		}
		return nil
	}
	if ort.IsInitialized() { // initialised by other code in this process
		ortEnv.ready, ortEnv.library = true, library
		return nil
	}
	if strings.ContainsRune(library, os.PathSeparator) {
		if _, err := os.Stat(library); err != nil {
			return fmt.Errorf("onnxruntime library: %w (set %s or run scripts/install-tools.sh)", err, LibraryEnv)
		}
	}
	ort.SetSharedLibraryPath(library)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("initialise onnxruntime from %s: %w", library, err)
	}
	ortEnv.ready, ortEnv.library = true, library
	log.Info("onnxruntime initialised", "library", library, "version", ort.GetVersion())
	return nil
}

// ONNXPredictor runs a model bundle with ONNX Runtime. It holds one
// session, created once; Predict may be called concurrently.
type ONNXPredictor struct {
	bundle   *Bundle
	provider string
	maxBatch int
	inputs   []string
	outputs  []string
	log      *slog.Logger

	mu   sync.RWMutex // Close takes it exclusively; runs share it
	sess *ort.DynamicAdvancedSession
	runs atomic.Int64 // session runs so far, for tests
}

// NewONNXPredictor loads and validates the bundle, initialises ONNX Runtime
// (once per process), checks the manifest against the ONNX graph and
// creates the session on the requested provider.
func NewONNXPredictor(cfg Config) (*ONNXPredictor, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	provider := strings.ToLower(strings.TrimSpace(cfg.Provider))
	if provider == "" {
		provider = ProviderAuto
	}
	switch provider {
	case ProviderCPU:
		if cfg.RequireGPU {
			return nil, errors.New(`onnx predictor: provider "cpu" contradicts RequireGPU`)
		}
	case ProviderCUDA, ProviderAuto:
	default:
		return nil, fmt.Errorf("onnx predictor: unknown provider %q (want cpu, cuda or auto)", cfg.Provider)
	}
	if cfg.BundleDir == "" {
		return nil, errors.New("onnx predictor: BundleDir is required")
	}
	b, err := LoadBundle(cfg.BundleDir)
	if err != nil {
		return nil, err
	}
	maxBatch := b.Manifest.Limits.MaxBatch
	if cfg.MaxBatch < 0 {
		return nil, fmt.Errorf("onnx predictor: MaxBatch %d is negative", cfg.MaxBatch)
	}
	if cfg.MaxBatch > maxBatch {
		log.Warn("MaxBatch exceeds the bundle's limits.max_batch; using the bundle's", "requested", cfg.MaxBatch, "max_batch", maxBatch)
	} else if cfg.MaxBatch > 0 {
		maxBatch = cfg.MaxBatch
	}

	library := cfg.LibraryPath
	if library == "" {
		library = DefaultLibraryPath()
	}
	if err := initORT(library, log); err != nil {
		return nil, fmt.Errorf("onnx predictor: %w", err)
	}
	if err := checkGraph(b); err != nil {
		return nil, fmt.Errorf("onnx predictor: bundle %s: %w", b.Dir, err)
	}

	p := &ONNXPredictor{bundle: b, maxBatch: maxBatch, log: log}
	for _, in := range b.Manifest.Inputs {
		p.inputs = append(p.inputs, in.Name)
	}
	for _, out := range b.Manifest.Outputs {
		p.outputs = append(p.outputs, out.Name)
	}

	if provider == ProviderCPU {
		p.sess, err = p.newSession(cfg, false)
		p.provider = ProviderCPU
	} else {
		p.sess, err = p.newSession(cfg, true)
		p.provider = ProviderCUDA
		if err != nil {
			if provider == ProviderCUDA || cfg.RequireGPU {
				return nil, fmt.Errorf("onnx predictor: %w: %v (provider %q with RequireGPU=%t refuses to run on CPU)",
					ErrCUDAUnavailable, err, provider, cfg.RequireGPU)
			}
			log.Warn("CUDA unavailable; running the model on CPU", "reason", err.Error())
			p.sess, err = p.newSession(cfg, false)
			p.provider = ProviderCPU
		}
	}
	if err != nil {
		return nil, fmt.Errorf("onnx predictor: %w", err)
	}
	log.Info("model loaded", "model", b.Manifest.Name, "version", b.Manifest.Version,
		"provider", p.provider, "max_batch", p.maxBatch, "bundle", b.Dir)
	return p, nil
}

// newSession creates the session, with the CUDA (and optionally TensorRT)
// execution provider appended when cuda is true.
func (p *ONNXPredictor) newSession(cfg Config, cuda bool) (*ort.DynamicAdvancedSession, error) {
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("session options: %w", err)
	}
	defer opts.Destroy()
	if cfg.IntraOpThreads > 0 {
		if err := opts.SetIntraOpNumThreads(cfg.IntraOpThreads); err != nil {
			return nil, fmt.Errorf("intra-op threads: %w", err)
		}
	}
	if cuda {
		if err := p.appendCUDA(opts, cfg); err != nil {
			return nil, err
		}
	}
	sess, err := ort.NewDynamicAdvancedSession(p.bundle.ModelPath, p.inputs, p.outputs, opts)
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	return sess, nil
}

func (p *ONNXPredictor) appendCUDA(opts *ort.SessionOptions, cfg Config) error {
	device := strconv.Itoa(cfg.CUDADeviceID)
	if cfg.TensorRT {
		err := func() error {
			trt, err := ort.NewTensorRTProviderOptions()
			if err != nil {
				return err
			}
			defer trt.Destroy()
			if err := trt.Update(map[string]string{"device_id": device}); err != nil {
				return err
			}
			return opts.AppendExecutionProviderTensorRT(trt)
		}()
		if err != nil {
			p.log.Warn("TensorRT unavailable; using CUDA without it", "reason", err.Error())
		}
	}
	co, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return fmt.Errorf("cuda provider options: %w", err)
	}
	defer co.Destroy()
	settings := map[string]string{"device_id": device}
	if cfg.CUDAMemLimitBytes > 0 {
		settings["gpu_mem_limit"] = strconv.FormatInt(cfg.CUDAMemLimitBytes, 10)
	}
	if err := co.Update(settings); err != nil {
		return fmt.Errorf("cuda provider options: %w", err)
	}
	if err := opts.AppendExecutionProviderCUDA(co); err != nil {
		return fmt.Errorf("append cuda provider: %w", err)
	}
	return nil
}

// checkGraph compares the manifest's inputs and outputs with the ONNX
// graph's, so that a mismatched bundle fails at load with names, not at the
// first run.
func checkGraph(b *Bundle) error {
	gin, gout, err := ort.GetInputOutputInfo(b.ModelPath)
	if err != nil {
		return fmt.Errorf("read %s: %w", b.Manifest.ModelFile, err)
	}
	check := func(kind string, specs []TensorSpec, graph []ort.InputOutputInfo) error {
		var names []string
		for _, g := range graph {
			names = append(names, g.Name)
		}
		for _, s := range specs {
			i := slices.IndexFunc(graph, func(g ort.InputOutputInfo) bool { return g.Name == s.Name })
			if i < 0 {
				return fmt.Errorf("manifest %s %q is not a graph %s of %s (graph %ss: %s)",
					kind, s.Name, kind, b.Manifest.ModelFile, kind, strings.Join(names, ", "))
			}
			g := graph[i]
			if g.OrtValueType != ort.ONNXTypeTensor || g.DataType != ort.TensorElementDataTypeFloat {
				return fmt.Errorf("graph %s %q is %s, manifest says float32 tensor", kind, s.Name, g.String())
			}
			if len(g.Dimensions) != len(s.Shape) {
				return fmt.Errorf("graph %s %q has shape %v, manifest says %v", kind, s.Name, g.Dimensions, s.Shape)
			}
			for k, d := range s.Shape {
				if d.Param == "" && g.Dimensions[k] != d.Value {
					return fmt.Errorf("graph %s %q has shape %v, manifest says %v", kind, s.Name, g.Dimensions, s.Shape)
				}
			}
		}
		return nil
	}
	if err := check("input", b.Manifest.Inputs, gin); err != nil {
		return err
	}
	if len(gin) != len(b.Manifest.Inputs) {
		return fmt.Errorf("graph has %d inputs, manifest lists %d", len(gin), len(b.Manifest.Inputs))
	}
	return check("output", b.Manifest.Outputs, gout)
}

// Info describes the model.
func (p *ONNXPredictor) Info() omtx.ModelInfo { return p.bundle.Info() }

// Provider returns the execution provider in use: "cpu" or "cuda".
func (p *ONNXPredictor) Provider() string { return p.provider }

// MaxBatch returns the most ligands run through the session at once.
func (p *ONNXPredictor) MaxBatch() int { return p.maxBatch }

// Predict returns one prediction per ligand, in order. An invalid protein
// fails the whole call with an omtx.EInvalid error; a ligand that cannot
// be featurised gets Prediction.Error and the others are still predicted.
// Valid ligands run in batches of at most MaxBatch, one session run per
// batch; ctx is checked before each batch. params are not used: the
// descriptor models are deterministic and take a single sample.
func (p *ONNXPredictor) Predict(ctx context.Context, req omtx.PredictRequest) ([]omtx.Prediction, error) {
	protein, ligands := req.Protein, req.Ligands
	if _, err := chem.ValidateProteinSequence(protein); err != nil {
		return nil, omtx.Errorf(omtx.EInvalid, "protein_sequence", "%v", err)
	}
	f := p.bundle.feat
	width := len(f.features)
	preds := make([]omtx.Prediction, len(ligands))
	rows := make([]float32, 0, len(ligands)*width)
	var valid []int // indices into ligands of rows
	for i, l := range ligands {
		preds[i].LigandName, preds[i].LigandSMILES = l.Name, l.SMILES
		row, d, err := f.ligand(l.SMILES)
		if err != nil {
			if errors.Is(err, errNoHeavyAtoms) {
				preds[i].Error = err.Error()
			} else {
				preds[i].Error = "invalid SMILES: " + err.Error()
			}
			continue
		}
		preds[i].Metrics = map[string]float64{"heavy_atoms": float64(d.HeavyAtoms)}
		rows = append(rows, row...)
		valid = append(valid, i)
	}

	for start := 0; start < len(valid); start += p.maxBatch {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("predict: %w", err)
		}
		end := min(start+p.maxBatch, len(valid))
		n := end - start
		outs, elapsed, err := p.run(rows[start*width:end*width], n)
		if err != nil {
			return nil, fmt.Errorf("predict: %w", err)
		}
		perLigand := elapsed.Seconds() / float64(n)
		for j := range n {
			pr := &preds[valid[start+j]]
			pr.ModelSeconds = perLigand
			for k, name := range p.outputs {
				v := float64(outs[k][j])
				switch name {
				case OutAffinity:
					pr.AffinityPredValue = v
				case OutProbability:
					pr.AffinityProbabilityBinary = v
				case OutConfidence:
					pr.ConfidenceScore = v
				default:
					pr.Metrics[name] = v
				}
			}
			if msg := checkOutputs(pr); msg != "" {
				pr.Error = msg
			}
		}
	}
	return preds, nil
}

// checkOutputs enforces the output contract on one prediction.
func checkOutputs(p *omtx.Prediction) string {
	if math.IsNaN(p.AffinityPredValue) || math.IsInf(p.AffinityPredValue, 0) {
		return fmt.Sprintf("model produced a non-finite %s", OutAffinity)
	}
	for _, o := range []struct {
		name string
		v    float64
	}{{OutProbability, p.AffinityProbabilityBinary}, {OutConfidence, p.ConfidenceScore}} {
		if !(o.v >= 0 && o.v <= 1) {
			return fmt.Sprintf("model produced %s = %v, outside [0,1]", o.name, o.v)
		}
	}
	return ""
}

// run runs one batch of n rows and returns each output's n values and the
// time the session run took.
func (p *ONNXPredictor) run(rows []float32, n int) ([][]float32, time.Duration, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.sess == nil {
		return nil, 0, errors.New("predictor is closed")
	}
	in, err := ort.NewTensor(ort.NewShape(int64(n), int64(len(rows)/n)), rows)
	if err != nil {
		return nil, 0, fmt.Errorf("input tensor: %w", err)
	}
	defer in.Destroy()
	outs := make([]ort.Value, len(p.outputs))
	defer func() {
		for _, o := range outs {
			if o != nil {
				o.Destroy()
			}
		}
	}()
	start := time.Now()
	err = p.sess.Run([]ort.Value{in}, outs)
	elapsed := time.Since(start)
	p.runs.Add(1)
	if err != nil {
		return nil, 0, fmt.Errorf("run model: %w", err)
	}
	res := make([][]float32, len(outs))
	for k, o := range outs {
		t, ok := o.(*ort.Tensor[float32])
		if !ok {
			return nil, 0, fmt.Errorf("output %q is not a float32 tensor", p.outputs[k])
		}
		if s := t.GetShape(); len(s) != 2 || s[0] != int64(n) || s[1] != 1 {
			return nil, 0, fmt.Errorf("output %q has shape %v, want [%d 1]", p.outputs[k], s, n)
		}
		res[k] = slices.Clone(t.GetData())
	}
	return res, elapsed, nil
}

// Close releases the session; the ONNX Runtime environment stays loaded for
// other predictors. Close is idempotent; Predict after Close fails.
func (p *ONNXPredictor) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sess == nil {
		return nil
	}
	err := p.sess.Destroy()
	p.sess = nil
	if err != nil {
		return fmt.Errorf("close session: %w", err)
	}
	return nil
}
