package omtx

import "time"

// JobStatus is the lifecycle state of a job document, exactly as in the seed
// plan (1.2), plus "cancelled" for jobs a user stopped.
type JobStatus string

const (
	StatusPending   JobStatus = "pending"   // record written by the API, workflow not yet running
	StatusQueued    JobStatus = "queued"    // workflow accepted it; waiting for a GPU slot
	StatusRunning   JobStatus = "running"   // a GPU worker is computing it
	StatusCompleted JobStatus = "completed" // results stored
	StatusFailed    JobStatus = "failed"    // gave up; Error says why
	StatusCancelled JobStatus = "cancelled" // stopped by the user
	// StatusFiltered is a batch child that the batch's filters held back
	// before any GPU time (Job.FilterRule names the rule): final, never
	// run, and not a failure.
	StatusFiltered JobStatus = "filtered"
)

// Counts reports whether a job of type t in status s counts against its
// user's quotas: jobs and batches (not children) not yet final.
func Counts(t JobType, s JobStatus) bool {
	return t != JobTypeBatchChild && !s.Terminal()
}

// Terminal reports whether no further transition can happen.
func (s JobStatus) Terminal() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled || s == StatusFiltered
}

// Valid reports whether s is one of the known statuses.
func (s JobStatus) Valid() bool {
	switch s {
	case StatusPending, StatusQueued, StatusRunning, StatusCompleted, StatusFailed, StatusCancelled, StatusFiltered:
		return true
	}
	return false
}

// JobType distinguishes individual predictions from batch parents and children.
type JobType string

const (
	JobTypeIndividual  JobType = "INDIVIDUAL"
	JobTypeBatchParent JobType = "BATCH_PARENT"
	JobTypeBatchChild  JobType = "BATCH_CHILD"
)

// Parameters are the model parameters of a request (seed 1.2 input_data.parameters).
//
// The run settings after Seed are Boltz-2's boltz predict flags of the same
// names (jwohlwend/boltz src/boltz/main.py, lines 853-1007). A zero value
// means "not set": the deployment's default, which is Boltz's own unless
// the operator configured another (recycling_steps 3, sampling_steps 200,
// diffusion_samples 1, sampling_steps_affinity 200,
// diffusion_samples_affinity 5, both switches off). Submission checks them
// against the deployment's bounds (validate.Bounds).
type Parameters struct {
	// UseMSA is left out of JSON when false, so that a client that
	// marshals Parameters (the Go client, the CLI) without meaning to say
	// "single-sequence" leaves the choice to the deployment; MSAMode says
	// what was decided.
	UseMSA bool `json:"use_msa,omitempty" firestore:"use_msa"`
	// MSAMode is how Boltz-2 gets its protein chains' MSAs: MSAModeServer
	// (the deployment's MSA server, or an uploaded A3M) or MSAModeEmpty
	// (single-sequence). Set at submission from use_msa or the request's
	// msa_mode, never left empty for Boltz-2; UseMSA agrees with it.
	MSAMode    string `json:"msa_mode,omitempty" firestore:"msa_mode,omitempty"`
	NumSamples int    `json:"num_samples" firestore:"num_samples"`
	// Seed makes stochastic models reproducible; nil lets the model choose.
	Seed *int64 `json:"seed,omitempty" firestore:"seed,omitempty"`

	RecyclingSteps           int `json:"recycling_steps,omitempty" firestore:"recycling_steps,omitempty"`
	SamplingSteps            int `json:"sampling_steps,omitempty" firestore:"sampling_steps,omitempty"`
	DiffusionSamples         int `json:"diffusion_samples,omitempty" firestore:"diffusion_samples,omitempty"`
	SamplingStepsAffinity    int `json:"sampling_steps_affinity,omitempty" firestore:"sampling_steps_affinity,omitempty"`
	DiffusionSamplesAffinity int `json:"diffusion_samples_affinity,omitempty" firestore:"diffusion_samples_affinity,omitempty"`
	// AffinityMWCorrection and UsePotentials are Boltz's switches; nil
	// is the deployment's default.
	AffinityMWCorrection *bool `json:"affinity_mw_correction,omitempty" firestore:"affinity_mw_correction,omitempty"`
	UsePotentials        *bool `json:"use_potentials,omitempty" firestore:"use_potentials,omitempty"`
}

// MSA modes a request asks for (Parameters.MSAMode), as Boltz's input
// YAML names them: "empty" is its single-sequence mode.
const (
	MSAModeServer = "server"
	MSAModeEmpty  = "empty"
)

// InputData is what the user asked for (seed 1.2 input_data).
type InputData struct {
	ProteinSequence string `json:"protein_sequence" firestore:"protein_sequence"`
	// ProteinName is the protein's name: the header of a FASTA record
	// sent as protein_sequence ("CA2"), or a stored target's name.
	ProteinName  string `json:"protein_name,omitempty" firestore:"protein_name,omitempty"`
	LigandSMILES string `json:"ligand_smiles" firestore:"ligand_smiles"`
	LigandName   string `json:"ligand_name" firestore:"ligand_name"`
	// ModelledSMILES is the molecule the model runs, set at submission
	// from validate.LigandFor: for Boltz-2, the parent Boltz's
	// standardizer keeps of LigandSMILES (a salt's counter-ions dropped,
	// charges neutralized); for other models, LigandSMILES. Boltz-2 is
	// still sent LigandSMILES, which it standardizes itself.
	ModelledSMILES string     `json:"modelled_smiles,omitempty" firestore:"modelled_smiles,omitempty"`
	Parameters     Parameters `json:"parameters" firestore:"parameters"`
	// MSAFile is the gs:// address of an MSA the user uploaded for the
	// protein (A3M); used instead of computing one.
	MSAFile string `json:"msa_file,omitempty" firestore:"msa_file,omitempty"`
	// TargetID names the target (package target) the job runs against:
	// its chains, cofactors, constraints, templates and MSAs, stored
	// immutably at TargetObject(TargetID). Empty for the seed's one-chain
	// shape, which is ProteinSequence alone. TargetHash is the target's
	// content hash (target.Hash), including each chain's MSA digest.
	TargetID   string `json:"target_id,omitempty" firestore:"target_id,omitempty"`
	TargetHash string `json:"target_hash,omitempty" firestore:"target_hash,omitempty"`
	// NoCache is the request's `cache: false`: the result cache is not
	// looked up (a result is still stored in it).
	NoCache bool `json:"no_cache,omitempty" firestore:"no_cache,omitempty"`
}

// Job is the Firestore document of collection "jobs" for an individual
// prediction or a batch child (seed 1.2). Timestamps are UTC.
type Job struct {
	JobID       string     `json:"job_id" firestore:"job_id"`
	JobType     JobType    `json:"job_type" firestore:"job_type"`
	Model       string     `json:"model" firestore:"model"`
	Status      JobStatus  `json:"status" firestore:"status"`
	UserID      string     `json:"user_id" firestore:"user_id"`
	CreatedAt   time.Time  `json:"created_at" firestore:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at" firestore:"updated_at"`
	StartedAt   *time.Time `json:"started_at,omitempty" firestore:"started_at,omitempty"`
	CompletedAt *time.Time `json:"completed_at,omitempty" firestore:"completed_at,omitempty"`

	InputData InputData `json:"input_data" firestore:"input_data"`

	// RequestedModel is the model name the caller sent when the deployment
	// serves it with another model (see ModelSubstitution); empty otherwise.
	RequestedModel    string `json:"requested_model,omitempty" firestore:"requested_model,omitempty"`
	ModelSubstitution string `json:"model_substitution,omitempty" firestore:"model_substitution,omitempty"`

	Results *Results `json:"results,omitempty" firestore:"results,omitempty"`
	Error   string   `json:"error,omitempty" firestore:"error,omitempty"`
	// FailureCause says whose failure a failed record's is
	// (CauseUserInput or CauseSystem), as the workflow decided it from the
	// error's type; empty on records failed before it was kept. Operators'
	// tools read it (omtx-worker requeue); the API does not show it.
	FailureCause string `json:"-" firestore:"failure_cause,omitempty"`

	// Temporal replaces the seed's cloud_run_job tracking block.
	Temporal *TemporalRef `json:"temporal,omitempty" firestore:"temporal,omitempty"`
	// GPURouting records every GPU-class decision: the first by input
	// size, then any out-of-memory reroute.
	GPURouting []RoutingStep `json:"gpu_routing,omitempty" firestore:"gpu_routing,omitempty"`
	// Tokens is the input's size for routing: residues + ligand heavy atoms
	// (for a batch: of its largest ligand).
	Tokens int `json:"tokens,omitempty" firestore:"tokens,omitempty"`

	// Batch children only.
	BatchParentID string `json:"batch_parent_id,omitempty" firestore:"batch_parent_id,omitempty"`
	BatchIndex    *int   `json:"batch_index,omitempty" firestore:"batch_index,omitempty"`

	// Priority is the job's scheduling priority: low, normal or high.
	Priority string `json:"priority,omitempty" firestore:"priority,omitempty"`
	// Warnings are said about the input at submission, for example a
	// ligand larger than the model was trained on.
	Warnings []string `json:"warnings,omitempty" firestore:"warnings,omitempty"`
	// NotifyURL receives a signed POST when the job or batch ends; KeyID
	// names (by digest, never the key) the API key whose secret signs it.
	NotifyURL string `json:"notify_url,omitempty" firestore:"notify_url,omitempty"`
	KeyID     string `json:"key_id,omitempty" firestore:"key_id,omitempty"`

	// IdempotencyKey is the client's Idempotency-Key header, if any.
	IdempotencyKey string `json:"idempotency_key,omitempty" firestore:"idempotency_key,omitempty"`
	// RequestHash fingerprints the request, so a key reused with a
	// different request is refused rather than mixed up.
	RequestHash string `json:"request_hash,omitempty" firestore:"request_hash,omitempty"`

	// Batch parents only (seed 1.2 "Batch Parent Document"). A parent's
	// input_data holds the protein and parameters; its ligands are in
	// batches/{batch_id}/ligands.json and in the child documents.
	BatchName    string        `json:"batch_name,omitempty" firestore:"batch_name,omitempty"`
	BatchConfig  *BatchConfig  `json:"batch_config,omitempty" firestore:"batch_config,omitempty"`
	Progress     *Progress     `json:"progress,omitempty" firestore:"progress,omitempty"`
	ChildJobIDs  []string      `json:"child_job_ids,omitempty" firestore:"child_job_ids,omitempty"`
	BatchResults *BatchResults `json:"batch_results,omitempty" firestore:"batch_results,omitempty"`

	// Active is derived by the store on every write: the document is a job
	// or a batch (not a child) that has not reached a final status. Quotas
	// count a user's active work with it.
	Active bool `json:"-" firestore:"active"`

	// LogsFile is the gs:// address of the job's log when it is not the
	// job folder's logs.txt: a batch child shares its group's log.
	LogsFile string `json:"logs_file,omitempty" firestore:"logs_file,omitempty"`

	// Batch children only: the library row's extra columns.
	LigandMetadata map[string]string `json:"ligand_metadata,omitempty" firestore:"ligand_metadata,omitempty"`
	// FilterRule is the rule of the batch's filters that held a child
	// back (status filtered), e.g. "pains_a:ene_rhod_A(235)" or
	// "molecular_weight: 612.7 is outside [-inf, 500]".
	FilterRule string `json:"filter_rule,omitempty" firestore:"filter_rule,omitempty"`

	// Batch parents only: RerunOf names the batch whose failed or
	// cancelled ligands this batch re-runs (POST
	// /api/v1/batches/{id}/rerun), and Reruns the batches that re-run this
	// one's, oldest first, at most MaxRerunsListed.
	RerunOf string   `json:"rerun_of,omitempty" firestore:"rerun_of,omitempty"`
	Reruns  []string `json:"reruns,omitempty" firestore:"reruns,omitempty"`

	// Requeues counts the times `omtx-worker requeue` set this failed job
	// or batch back to pending; the workflow that runs generation n > 0
	// has the id contract.RequeueWorkflowID(base, n).
	Requeues int `json:"requeues,omitempty" firestore:"requeues,omitempty"`
}

// MaxRerunsListed bounds Job.Reruns.
const MaxRerunsListed = 20

// BatchConfig is a batch parent's configuration (seed 1.2).
type BatchConfig struct {
	TotalLigands  int    `json:"total_ligands" firestore:"total_ligands"`
	MaxConcurrent int    `json:"max_concurrent" firestore:"max_concurrent"`
	Priority      string `json:"priority" firestore:"priority"`
	// ChunkSize is how many ligands one GPU activity runs.
	ChunkSize int `json:"chunk_size" firestore:"chunk_size"`
	// InvalidLigands counts rows that failed validation and were kept as
	// failed children because the caller asked to skip invalid rows.
	InvalidLigands int    `json:"invalid_ligands" firestore:"invalid_ligands"`
	SkipInvalid    bool   `json:"skip_invalid" firestore:"skip_invalid"`
	LibraryFile    string `json:"library_file,omitempty" firestore:"library_file,omitempty"`

	// The ranking rule of the batch's results (see RankingOptions): the
	// mode ("" is hit_discovery), the binder threshold (0 is
	// DefaultBinderThreshold) and the optional confidence floors.
	Ranking         Ranking  `json:"ranking,omitempty" firestore:"ranking,omitempty"`
	BinderThreshold float64  `json:"binder_threshold,omitempty" firestore:"binder_threshold,omitempty"`
	MinLigandIPTM   *float64 `json:"min_ligand_iptm,omitempty" firestore:"min_ligand_iptm,omitempty"`
	MinIPTM         *float64 `json:"min_iptm,omitempty" firestore:"min_iptm,omitempty"`
	// Filters are the filters the batch's library went through before
	// the GPU, as the request gave them; nil when it gave none. Each
	// filtered child names the rule it matched (Job.FilterRule).
	Filters *Filters `json:"filters,omitempty" firestore:"filters,omitempty"`
	// FilteredLigands counts the children the filters held back.
	FilteredLigands int `json:"filtered_ligands,omitempty" firestore:"filtered_ligands,omitempty"`
}

// Progress counts a batch's children by status (seed 1.2).
type Progress struct {
	Total     int `json:"total" firestore:"total"`
	Completed int `json:"completed" firestore:"completed"`
	Failed    int `json:"failed" firestore:"failed"`
	Running   int `json:"running" firestore:"running"`
	Pending   int `json:"pending" firestore:"pending"`
	Cancelled int `json:"cancelled" firestore:"cancelled"`
	// Filtered counts children the batch's filters held back.
	Filtered int `json:"filtered,omitempty" firestore:"filtered,omitempty"`
}

// Count adds one child of status s: the one place that counts children by
// status. Queued children count as pending.
func (p *Progress) Count(s JobStatus) {
	p.Total++
	switch s {
	case StatusCompleted:
		p.Completed++
	case StatusFailed:
		p.Failed++
	case StatusCancelled:
		p.Cancelled++
	case StatusFiltered:
		p.Filtered++
	case StatusRunning:
		p.Running++
	default:
		p.Pending++
	}
}

// CountJobs counts docs by status, skipping nil entries.
func CountJobs(docs []*Job) Progress {
	var p Progress
	for _, d := range docs {
		if d != nil {
			p.Count(d.Status)
		}
	}
	return p
}

// Failure causes, for metrics and alerts: a failure caused by the user's
// input never pages anyone.
const (
	CauseUserInput = "user_input"
	CauseSystem    = "system"
	CauseCancelled = "cancelled"
)

// BatchResults is a finished batch's aggregate (seed 1.2 batch_results,
// with units and the ranking rule named).
type BatchResults struct {
	BestLigand            string         `json:"best_ligand" firestore:"best_ligand"`
	BestJobID             string         `json:"best_job_id" firestore:"best_job_id"`
	BestAffinity          float64        `json:"best_affinity" firestore:"best_affinity"`
	BestAffinityPredValue float64        `json:"best_affinity_pred_value" firestore:"best_affinity_pred_value"`
	AverageAffinity       float64        `json:"average_affinity" firestore:"average_affinity"`
	AffinityUnits         string         `json:"affinity_units" firestore:"affinity_units"`
	RankingRule           string         `json:"ranking_rule" firestore:"ranking_rule"`
	Top10                 []RankedLigand `json:"top_10" firestore:"top_10"`

	// Ranking is the rule the ranks follow (RankingRule says it in words).
	Ranking *RankingOptions `json:"ranking,omitempty" firestore:"ranking,omitempty"`
	// AverageAffinity is over every completed ligand (ΔG, kcal/mol); the
	// averages over predicted binders only are these, with their count.
	Binders                            int     `json:"binders" firestore:"binders"`
	AverageDeltaGKcalMolBinders        float64 `json:"average_delta_g_kcal_mol_binders" firestore:"average_delta_g_kcal_mol_binders"`
	AverageAffinityPredValueBinders    float64 `json:"average_affinity_pred_value_binders" firestore:"average_affinity_pred_value_binders"`
	AverageAffinityPredValueAllLigands float64 `json:"average_affinity_pred_value_all_ligands" firestore:"average_affinity_pred_value_all_ligands"`
	// StatusLine says in words how the batch ended, e.g. "completed with
	// 2 failed".
	StatusLine            string `json:"status_line,omitempty" firestore:"status_line,omitempty"`
	CompletedWithFailures bool   `json:"completed_with_failures,omitempty" firestore:"completed_with_failures,omitempty"`
	// ModelNote says what the model is when it is the baseline
	// (BaselineNote).
	ModelNote string `json:"model_note,omitempty" firestore:"model_note,omitempty"`

	Completed int `json:"completed" firestore:"completed"`
	Failed    int `json:"failed" firestore:"failed"`
	Cancelled int `json:"cancelled" firestore:"cancelled"`

	// Cost accounting, totalled over the children.
	GPUSeconds float64 `json:"gpu_seconds" firestore:"gpu_seconds"`
	CostUSD    float64 `json:"cost_usd" firestore:"cost_usd"`
	// CacheHits counts the children completed from the result cache, and
	// GPUSecondsSaved and CostUSDSaved what their source jobs spent.
	CacheHits       int     `json:"cache_hits" firestore:"cache_hits"`
	GPUSecondsSaved float64 `json:"gpu_seconds_saved" firestore:"gpu_seconds_saved"`
	CostUSDSaved    float64 `json:"cost_usd_saved" firestore:"cost_usd_saved"`

	// ResultsFile is the seed's gs:// address of batch_results.csv.
	ResultsFile       string `json:"results_file" firestore:"results_file"`
	ResultsJSONFile   string `json:"results_json_file" firestore:"results_json_file"`
	SummaryFile       string `json:"summary_file" firestore:"summary_file"`
	HistogramFile     string `json:"histogram_file,omitempty" firestore:"histogram_file,omitempty"`
	StructuresZipFile string `json:"structures_zip_file,omitempty" firestore:"structures_zip_file,omitempty"`
}

// RankedLigand is one row of a batch's top 10.
type RankedLigand struct {
	Rank         int    `json:"rank" firestore:"rank"`
	JobID        string `json:"job_id" firestore:"job_id"`
	BatchIndex   int    `json:"batch_index" firestore:"batch_index"`
	LigandName   string `json:"ligand_name" firestore:"ligand_name"`
	LigandSMILES string `json:"ligand_smiles" firestore:"ligand_smiles"`
	// Affinity is an alias of DeltaGKcalMol (ΔG, kcal/mol), kept for
	// readers of the first releases.
	Affinity                  float64 `json:"affinity" firestore:"affinity"`
	DeltaGKcalMol             float64 `json:"delta_g_kcal_mol" firestore:"delta_g_kcal_mol"`
	AffinityPredValue         float64 `json:"affinity_pred_value" firestore:"affinity_pred_value"`
	PIC50                     float64 `json:"pic50" firestore:"pic50"`
	AffinityProbabilityBinary float64 `json:"affinity_probability_binary" firestore:"affinity_probability_binary"`
	Confidence                float64 `json:"confidence" firestore:"confidence"`
	// BelowConfidenceFloor names the floors (ligand_iptm, iptm) this
	// ligand is below; such a ligand ranks after every one that is not.
	BelowConfidenceFloor []string `json:"below_confidence_floor,omitempty" firestore:"below_confidence_floor,omitempty"`
}

// TemporalRef tells operators where to find the job in the Temporal Web UI.
type TemporalRef struct {
	WorkflowID string `json:"workflow_id" firestore:"workflow_id"`
	RunID      string `json:"run_id,omitempty" firestore:"run_id,omitempty"`
	TaskQueue  string `json:"task_queue,omitempty" firestore:"task_queue,omitempty"`
	GPUClass   string `json:"gpu_class,omitempty" firestore:"gpu_class,omitempty"`
	Attempt    int32  `json:"attempt,omitempty" firestore:"attempt,omitempty"`
	Worker     string `json:"worker,omitempty" firestore:"worker,omitempty"`
}

// Results is the results block of a completed job (seed 1.2), with units
// named. Affinity is ΔG in kcal/mol, as the seed's example (-8.5) reads;
// AffinityPredValue is Boltz-2's own log10(IC50 in µM).
type Results struct {
	Model        string `json:"model" firestore:"model"`
	ModelVersion string `json:"model_version" firestore:"model_version"`
	ModelKind    string `json:"model_kind" firestore:"model_kind"`
	// ModelCheckpoint names the weights that ran, when the model says.
	ModelCheckpoint string `json:"model_checkpoint,omitempty" firestore:"model_checkpoint,omitempty"`

	Affinity                  float64 `json:"affinity" firestore:"affinity"`
	AffinityUnits             string  `json:"affinity_units" firestore:"affinity_units"`
	AffinityPredValue         float64 `json:"affinity_pred_value" firestore:"affinity_pred_value"`
	AffinityPredValueUnits    string  `json:"affinity_pred_value_units" firestore:"affinity_pred_value_units"`
	PIC50                     float64 `json:"pic50" firestore:"pic50"`
	DeltaGKcalMol             float64 `json:"delta_g_kcal_mol" firestore:"delta_g_kcal_mol"`
	AffinityProbabilityBinary float64 `json:"affinity_probability_binary" firestore:"affinity_probability_binary"`
	Confidence                float64 `json:"confidence" firestore:"confidence"`

	// RMSD is kept from the seed's schema; nil because a de novo prediction
	// has no reference pose to measure against.
	RMSD *float64 `json:"rmsd" firestore:"rmsd"`

	StructureAvailable         bool   `json:"structure_available" firestore:"structure_available"`
	StructureUnavailableReason string `json:"structure_unavailable_reason,omitempty" firestore:"structure_unavailable_reason,omitempty"`
	StructureFile              string `json:"structure_file,omitempty" firestore:"structure_file,omitempty"`
	StructurePDBFile           string `json:"structure_pdb_file,omitempty" firestore:"structure_pdb_file,omitempty"`
	ResultsFile                string `json:"results_file" firestore:"results_file"`

	ModelSeconds float64 `json:"model_seconds" firestore:"model_seconds"`
	// Cost accounting: GPU seconds used on GPUClass, at PricePerGPUHour USD.
	GPUClass        string  `json:"gpu_class" firestore:"gpu_class"`
	GPUSeconds      float64 `json:"gpu_seconds" firestore:"gpu_seconds"`
	PricePerGPUHour float64 `json:"price_per_gpu_hour" firestore:"price_per_gpu_hour"`
	CostUSD         float64 `json:"cost_usd" firestore:"cost_usd"`

	// CacheHit says the results were copied from an earlier job with the
	// same result-cache key (CacheSourceJobID) instead of running the
	// model: GPUSeconds and CostUSD are then 0, and SavedGPUSeconds and
	// SavedCostUSD are what the source job spent.
	CacheHit         bool    `json:"cache_hit,omitempty" firestore:"cache_hit,omitempty"`
	CacheSourceJobID string  `json:"cache_source_job_id,omitempty" firestore:"cache_source_job_id,omitempty"`
	SavedGPUSeconds  float64 `json:"saved_gpu_seconds,omitempty" firestore:"saved_gpu_seconds,omitempty"`
	SavedCostUSD     float64 `json:"saved_cost_usd,omitempty" firestore:"saved_cost_usd,omitempty"`

	// Metrics holds the model's further outputs by their own names (for
	// Boltz-2: confidence_score, ptm, iptm, ligand_iptm, protein_iptm,
	// complex_plddt, complex_iplddt, complex_pde, complex_ipde, chains_ptm.*,
	// pair_chains_iptm.*.*, and the affinity ensemble members
	// affinity_pred_value1/2, affinity_probability_binary1/2).
	Metrics map[string]float64 `json:"metrics,omitempty" firestore:"metrics,omitempty"`

	// MSAMode is "single_sequence", "uploaded" or "server" (computed once
	// per protein and cached); MSAFile is its gs:// address. It is
	// MSANone for a model that reads no MSA.
	MSAMode string `json:"msa_mode" firestore:"msa_mode"`
	MSAFile string `json:"msa_file,omitempty" firestore:"msa_file,omitempty"`
	// MSAs records each protein chain's MSA mode and the digest of the A3M
	// used; empty for a model that reads no MSA.
	MSAs []ChainMSA `json:"msas,omitempty" firestore:"msas,omitempty"`
	// LigandSMILES is the SMILES submitted; ModelledSMILES the molecule the
	// model ran (InputData.ModelledSMILES).
	LigandSMILES   string `json:"ligand_smiles,omitempty" firestore:"ligand_smiles,omitempty"`
	ModelledSMILES string `json:"modelled_smiles,omitempty" firestore:"modelled_smiles,omitempty"`
	// RunSettings are the settings that ran, the model software's version,
	// its weights and the GPU (see RunSettings).
	RunSettings *RunSettings `json:"run_settings,omitempty" firestore:"run_settings,omitempty"`
	// TargetID names the target (package target) the job runs against:
	// its chains, cofactors, constraints, templates and MSAs, stored
	// immutably at TargetObject(TargetID). Empty for the seed's one-chain
	// shape, which is ProteinSequence alone. TargetHash is the target's
	// content hash (target.Hash), including each chain's MSA digest.
	TargetID   string `json:"target_id,omitempty" firestore:"target_id,omitempty"`
	TargetHash string `json:"target_hash,omitempty" firestore:"target_hash,omitempty"`
}

// LibraryEntry is one ligand of a batch as stored in
// batches/{batch_id}/ligands.json: validated, named, in library order.
type LibraryEntry struct {
	Index  int    `json:"index"`
	Row    int    `json:"row"`
	Name   string `json:"name"`
	SMILES string `json:"smiles"`
	// ModelledSMILES is the molecule the model runs (InputData's) where it
	// is written otherwise than SMILES; empty when the model runs SMILES as
	// written, and for a row that failed validation.
	ModelledSMILES string            `json:"modelled_smiles,omitempty"`
	Metadata       map[string]string `json:"metadata,omitempty"`
	// Error is set for a row that failed validation and was kept, at the
	// caller's request, as a failed child.
	Error string `json:"error,omitempty"`
	// Warnings are said about a valid row (for example a ligand larger
	// than the model was trained on); they follow it to its child
	// document, results.json and batch_results.csv.
	Warnings []string `json:"warnings,omitempty"`
	// FilterRule names the rule of the batch's filters the row matched
	// (Job.FilterRule): its child is filtered, never run.
	FilterRule string `json:"filter_rule,omitempty"`
}
