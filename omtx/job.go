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
)

// Terminal reports whether no further transition can happen.
func (s JobStatus) Terminal() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled
}

// Valid reports whether s is one of the known statuses.
func (s JobStatus) Valid() bool {
	switch s {
	case StatusPending, StatusQueued, StatusRunning, StatusCompleted, StatusFailed, StatusCancelled:
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
type Parameters struct {
	UseMSA     bool `json:"use_msa" firestore:"use_msa"`
	NumSamples int  `json:"num_samples" firestore:"num_samples"`
	// Seed makes stochastic models reproducible; nil lets the model choose.
	Seed *int64 `json:"seed,omitempty" firestore:"seed,omitempty"`
}

// InputData is what the user asked for (seed 1.2 input_data).
type InputData struct {
	ProteinSequence string     `json:"protein_sequence" firestore:"protein_sequence"`
	LigandSMILES    string     `json:"ligand_smiles" firestore:"ligand_smiles"`
	LigandName      string     `json:"ligand_name" firestore:"ligand_name"`
	Parameters      Parameters `json:"parameters" firestore:"parameters"`
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

	// Temporal replaces the seed's cloud_run_job tracking block.
	Temporal *TemporalRef `json:"temporal,omitempty" firestore:"temporal,omitempty"`

	// Batch children only.
	BatchParentID string `json:"batch_parent_id,omitempty" firestore:"batch_parent_id,omitempty"`
	BatchIndex    *int   `json:"batch_index,omitempty" firestore:"batch_index,omitempty"`

	// IdempotencyKey is the client's Idempotency-Key header, if any.
	IdempotencyKey string `json:"idempotency_key,omitempty" firestore:"idempotency_key,omitempty"`
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
}
