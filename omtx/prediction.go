package omtx

import (
	"errors"
	"io"
	"math"
)

// Units, named once so every result and file says the same thing.
const (
	UnitsLog10IC50uM = "log10(IC50 / µM)"
	UnitsKcalPerMol  = "kcal/mol"
	UnitsProbability = "probability [0,1]"
)

// DeltaGPerPIC50 converts pIC50 to binding free energy at 298 K:
// ΔG ≈ −RT·ln(10)·pIC50 = −1.364 kcal/mol per pIC50 unit (IC50 taken as Kd).
const DeltaGPerPIC50 = -1.364

// PIC50FromPredValue converts Boltz-2's affinity_pred_value, log10(IC50 in
// µM), to pIC50 (−log10 of IC50 in M): pIC50 = 6 − value.
func PIC50FromPredValue(v float64) float64 { return 6 - v }

// DeltaGFromPredValue converts affinity_pred_value to ΔG in kcal/mol.
func DeltaGFromPredValue(v float64) float64 { return DeltaGPerPIC50 * PIC50FromPredValue(v) }

// IC50uMFromPredValue converts affinity_pred_value to IC50 in µM.
func IC50uMFromPredValue(v float64) float64 { return math.Pow(10, v) }

// Ligand is one small molecule of a request.
type Ligand struct {
	Name   string `json:"name" firestore:"name"`
	SMILES string `json:"smiles" firestore:"smiles"`
	// ModelledSMILES is the molecule the model runs, when it is known and
	// differs from what was submitted (see InputData.ModelledSMILES).
	ModelledSMILES string `json:"modelled_smiles,omitempty" firestore:"modelled_smiles,omitempty"`
}

// ModelInfo describes the model that produced a prediction. Every result
// carries it, so no result can be mistaken for another model's.
type ModelInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Checkpoint names the weights that ran (for Boltz-2: the checkpoint
	// files under BOLTZ_CACHE and their digests), when known.
	Checkpoint string `json:"checkpoint,omitempty"`
	// Defaults digests the settings this worker applies where a request
	// leaves them to the deployment (for Boltz-2: its default steps,
	// samples and switches), so that the result cache tells a changed
	// deployment default apart; empty for a model with none.
	Defaults    string `json:"defaults,omitempty"`
	Kind        string `json:"kind"` // "onnx" or "boltz"
	Description string `json:"description,omitempty"`
	// Structures says whether the model produces 3D coordinates.
	Structures bool `json:"structures"`
	// NoStructureReason says why not, when Structures is false.
	NoStructureReason string `json:"no_structure_reason,omitempty"`
}

// Prediction is one ligand's model output, in Boltz-2's output contract:
// affinity_pred_value is log10(IC50 in µM), affinity_probability_binary is
// the probability that the ligand binds, confidence_score is in [0,1].
type Prediction struct {
	LigandName                string  `json:"ligand_name"`
	LigandSMILES              string  `json:"ligand_smiles"`
	AffinityPredValue         float64 `json:"affinity_pred_value"`
	AffinityProbabilityBinary float64 `json:"affinity_probability_binary"`
	ConfidenceScore           float64 `json:"confidence_score"`
	// Metrics holds further model outputs by their own names (for Boltz-2:
	// ptm, iptm, complex_plddt, ...).
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// StructureCIF holds mmCIF text when the model produced coordinates.
	StructureCIF string  `json:"-"`
	ModelSeconds float64 `json:"model_seconds"`
	// Error is set when this ligand failed on its own (the rest of a chunk
	// can still succeed).
	Error string `json:"error,omitempty"`
	// Settings are the settings this prediction ran with, as the
	// predictor read them after the run.
	Settings *RunSettings `json:"run_settings,omitempty"`
}

// RunSettings record how a model ran: the settings that applied, the
// software and weights, and the hardware. For Boltz-2 the settings are the
// boltz predict flags of the same names (src/boltz/main.py); for a model
// that is not Boltz (the descriptor baseline) BoltzFlags is false, the
// numeric settings are absent and Note says why.
type RunSettings struct {
	// BoltzFlags says whether Boltz's flags applied to this run.
	BoltzFlags bool   `json:"boltz_flags" firestore:"boltz_flags"`
	Note       string `json:"note,omitempty" firestore:"note,omitempty"`

	RecyclingSteps           int    `json:"recycling_steps,omitempty" firestore:"recycling_steps,omitempty"`
	SamplingSteps            int    `json:"sampling_steps,omitempty" firestore:"sampling_steps,omitempty"`
	DiffusionSamples         int    `json:"diffusion_samples,omitempty" firestore:"diffusion_samples,omitempty"`
	SamplingStepsAffinity    int    `json:"sampling_steps_affinity,omitempty" firestore:"sampling_steps_affinity,omitempty"`
	DiffusionSamplesAffinity int    `json:"diffusion_samples_affinity,omitempty" firestore:"diffusion_samples_affinity,omitempty"`
	AffinityMWCorrection     bool   `json:"affinity_mw_correction" firestore:"affinity_mw_correction"`
	UsePotentials            bool   `json:"use_potentials" firestore:"use_potentials"`
	Seed                     *int64 `json:"seed,omitempty" firestore:"seed,omitempty"`
	// Kernels says whether Boltz's GPU kernels were on (no --no_kernels);
	// nil where it does not apply.
	Kernels *bool `json:"kernels,omitempty" firestore:"kernels,omitempty"`
	// MWCorrected names the outputs the molecular-weight correction
	// changed, MWNotCorrected those it left as the model gave them; both
	// empty when the correction was off.
	MWCorrected    []string `json:"mw_corrected,omitempty" firestore:"mw_corrected,omitempty"`
	MWNotCorrected []string `json:"mw_not_corrected,omitempty" firestore:"mw_not_corrected,omitempty"`

	// Version is the model software's version (for Boltz-2, the installed
	// boltz package's: "boltz 2.2.1"), when known.
	Version string `json:"version,omitempty" firestore:"version,omitempty"`
	// Checkpoints names the weight files and their SHA-256 digests, read
	// after the run (so a run that downloaded them records them too).
	Checkpoints string `json:"checkpoints,omitempty" firestore:"checkpoints,omitempty"`
	// GPU is the accelerator's name as the driver reports it
	// (nvidia-smi), "cpu", or "" when unknown; the job's gpu_class says
	// which class it was routed to.
	GPU string `json:"gpu,omitempty" firestore:"gpu,omitempty"`
	// Args are the command-line flags the model ran with.
	Args []string `json:"args,omitempty" firestore:"args,omitempty"`
}

// PredictRequest is one call of a predictor: ligands of one protein.
type PredictRequest struct {
	Protein    string
	Ligands    []Ligand
	Parameters Parameters
	// MSAPath is a local .a3m file with the protein's MSA, or "" for
	// single-sequence mode. Unused when Target is set.
	MSAPath string
	// Target, when set, is the whole complex the ligands are screened
	// against; Protein and MSAPath are then unused. Nil: the one-chain
	// shape of Protein and MSAPath.
	Target *TargetJob
	// WorkDir is scratch space for this call; the caller removes it.
	WorkDir string
	// Log receives the model's own output (Boltz's stdout and stderr), for
	// logs.txt. May be nil.
	Log io.Writer
	// Finished, when set, hears a ligand's prediction (i indexes Ligands)
	// as soon as the model has written it, while the call still runs, so
	// that the caller can store it before a kill loses it. A predictor that
	// learns its results only at the end never calls it; the call's result
	// holds every prediction either way. Calls come one at a time and end
	// before Predict returns.
	Finished func(i int, p Prediction)
	// Records, when set, names each ligand's model input (Boltz's record
	// id, the input file's stem), one per ligand: a name that stays the
	// ligand's across calls, so that a checkpoint made in one call can be
	// resumed in another (Resume). Each is 1-40 of [a-z0-9], unique (no
	// "_": Boltz names a record's processed files <id>_<k>). Empty: the
	// predictor names them by index.
	Records []string
	// Structured, when set, hears a ligand's checkpoint (i indexes
	// Ligands) as soon as a two-pass model (Boltz-2 with affinity) has
	// finished its first pass for it, while the call still runs: what the
	// model needs to skip that pass for the ligand in a later call. Calls
	// come one at a time, from the goroutine that calls Finished, and end
	// before Predict returns.
	Structured func(i int, c Checkpoint)
	// Resume holds checkpoints of earlier calls, by ligand index, each
	// for the record Records names: the predictor puts them where the
	// model looks for its own earlier work, so that these ligands run only
	// their second pass.
	Resume map[int]Checkpoint
}

// Checkpoint is one ligand's state after a two-pass model's first pass:
// for Boltz-2, the files its own resume reads from an out_dir (main.py's
// process_inputs skips an input whose record is in processed/records;
// filter_inputs_structure skips a record with a folder in predictions/):
// the record's preprocessed files and its structure-pass outputs.
type Checkpoint struct {
	// Record is the model input's name (Boltz's record id).
	Record string
	// Files maps each file's slash-separated path under the call's
	// results folder to its content.
	Files map[string][]byte
}

// TargetJob is a request's complex with its files on this machine. The
// target travels as its JSON (target.Target's, as stored at TargetObject):
// package omtx cannot name target.Target, which imports omtx.
type TargetJob struct {
	// JSON is the target, a target.Target.
	JSON []byte
	// MSA maps each protein chain's first id to the local path of its
	// alignment, for chains whose MSA is not `empty` (target.JobFiles).
	MSA map[string]string
	// Templates maps a template's file name to its local path.
	Templates map[string]string
	// MSADigests maps each chain in MSA to the lowercase hex SHA-256 of
	// the alignment it runs with, for the record of what ran.
	MSADigests map[string]string
}

// ErrOutOfMemory is wrapped by a predictor's error when the input did not
// fit the accelerator's memory. The workflow reroutes such a job to a GPU
// class with more memory instead of retrying it on the same one.
var ErrOutOfMemory = errors.New("out of GPU memory")

// MSA modes recorded in results. MSANone is recorded for a model that
// reads no MSA (the descriptor baseline), which claims none.
const (
	MSASingleSequence = "single_sequence"
	MSAUploaded       = "uploaded"
	MSAServer         = "server"
	MSANone           = "none"
)

// ChainMSA records the MSA one protein chain ran with: its mode (MSAServer,
// MSAUploaded or MSASingleSequence) and the SHA-256 of the A3M used, hex
// (empty in single-sequence mode). The seed's one-chain shape is chain "A".
type ChainMSA struct {
	ChainID string `json:"chain_id" firestore:"chain_id"`
	Mode    string `json:"mode" firestore:"mode"`
	Digest  string `json:"digest,omitempty" firestore:"digest,omitempty"`
	// Paired is true for a heteromer's server chain, whose MSA is Boltz's
	// CSV with rows paired across chains.
	Paired bool `json:"paired,omitempty" firestore:"paired,omitempty"`
}

// SeedChainID is the chain id of the seed's one-chain shape.
const SeedChainID = "A"

// ModelUsesMSA reports whether a model reads the protein's MSA. The
// descriptor baseline ignores the protein, so no MSA is computed for it.
func ModelUsesMSA(model string) bool { return model == ModelBoltz2 }

// MSARef says which MSA a prediction uses: none (single-sequence mode) or
// a stored A3M.
type MSARef struct {
	Mode   string // MSASingleSequence, MSAUploaded or MSAServer
	Object string // GCS object name of the A3M
	// Chains maps each protein chain of a target whose MSA comes from the
	// server to its cached A3M's object name, by the chain's first id.
	// Empty for a one-chain job, whose MSA is Object.
	Chains map[string]string `json:",omitempty"`
}
