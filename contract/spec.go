package contract

import (
	"time"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// JobSpec is what a user asked for, fixed when the API accepted it: the
// immutable part of a job or batch document. Workflows take specs, never
// documents, so the document's mutable fields (status, results, progress)
// and any field added to it later never enter a history.
//
// The JSON keys are the job document's own, so a history written by the
// first release, whose inputs carried the whole document under the same
// keys, decodes into a JobSpec unchanged.
type JobSpec struct {
	JobID   string       `json:"job_id"`
	JobType omtx.JobType `json:"job_type"`
	UserID  string       `json:"user_id"`
	// Model is the model that runs; RequestedModel and ModelSubstitution
	// are set when the deployment serves the requested model with another.
	Model             string    `json:"model"`
	RequestedModel    string    `json:"requested_model,omitempty"`
	ModelSubstitution string    `json:"model_substitution,omitempty"`
	CreatedAt         time.Time `json:"created_at"`
	// InputData holds the protein and parameters, and for an individual job
	// its ligand; a batch's ligands are in batches/{id}/ligands.json.
	InputData omtx.InputData `json:"input_data"`

	// IdempotencyKey and RequestHash tie the spec to the request that made
	// it: a key reused with a different request is refused.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	RequestHash    string `json:"request_hash,omitempty"`
	// Priority is low, normal or high ("" reads as the job type's default).
	Priority string `json:"priority,omitempty"`
	// Tokens is the input's size for routing (residues + ligand heavy
	// atoms; for a batch, of its largest ligand), and GPURouting the API's
	// routing decision.
	Tokens     int                `json:"tokens,omitempty"`
	GPURouting []omtx.RoutingStep `json:"gpu_routing,omitempty"`
	// UsesMSA says whether the model reads the protein's MSA
	// (omtx.ModelUsesMSA at submission): workflows read the decision here
	// rather than apply a rule that may change. Nil in specs recorded
	// before the field existed; workflows then apply that release's rule.
	UsesMSA *bool `json:"uses_msa,omitempty"`
	// Warnings are said about the input at submission (for example a
	// ligand larger than Boltz-2 was trained on).
	Warnings []string `json:"warnings,omitempty"`

	// NotifyURL receives a signed POST when the job or batch ends; KeyID
	// names the API key whose secret signs it.
	NotifyURL string `json:"notify_url,omitempty"`
	KeyID     string `json:"key_id,omitempty"`

	// Batches only.
	BatchName   string            `json:"batch_name,omitempty"`
	BatchConfig *omtx.BatchConfig `json:"batch_config,omitempty"`
	// RerunOf names the batch whose ligands this batch re-runs.
	RerunOf string `json:"rerun_of,omitempty"`
}

// Document is the pending job or batch document of a spec, as the API
// writes it at submission and AcceptJob or PrepareBatch writes it if the
// API could not.
func (s *JobSpec) Document() *omtx.Job {
	j := &omtx.Job{
		JobID: s.JobID, JobType: s.JobType, UserID: s.UserID,
		Model: s.Model, RequestedModel: s.RequestedModel, ModelSubstitution: s.ModelSubstitution,
		Status: omtx.StatusPending, CreatedAt: s.CreatedAt, UpdatedAt: s.CreatedAt,
		InputData: s.InputData, IdempotencyKey: s.IdempotencyKey, RequestHash: s.RequestHash,
		Tokens: s.Tokens, GPURouting: append([]omtx.RoutingStep(nil), s.GPURouting...),
		Warnings: append([]string(nil), s.Warnings...), NotifyURL: s.NotifyURL, KeyID: s.KeyID,
		Priority: s.Priority, BatchName: s.BatchName, RerunOf: s.RerunOf,
	}
	if s.BatchConfig != nil {
		cfg := *s.BatchConfig
		j.BatchConfig = &cfg
		j.Progress = &omtx.Progress{Total: cfg.TotalLigands, Failed: cfg.InvalidLigands, Pending: cfg.TotalLigands - cfg.InvalidLigands}
	}
	return j
}

// SpecOf recovers the spec from a job or batch document (for a workflow
// whose record exists but whose workflow does not, e.g. after a crash
// between the two, or after a restore from backup).
func SpecOf(j *omtx.Job) JobSpec {
	s := JobSpec{
		JobID: j.JobID, JobType: j.JobType, UserID: j.UserID,
		Model: j.Model, RequestedModel: j.RequestedModel, ModelSubstitution: j.ModelSubstitution,
		CreatedAt: j.CreatedAt, InputData: j.InputData,
		IdempotencyKey: j.IdempotencyKey, RequestHash: j.RequestHash,
		Tokens: j.Tokens, Warnings: j.Warnings, NotifyURL: j.NotifyURL, KeyID: j.KeyID,
		Priority: j.Priority, BatchName: j.BatchName, UsesMSA: new(omtx.ModelUsesMSA(j.Model)), RerunOf: j.RerunOf,
	}
	if len(j.GPURouting) > 0 {
		s.GPURouting = j.GPURouting[:1]
	}
	if j.BatchConfig != nil {
		cfg := *j.BatchConfig
		s.BatchConfig = &cfg
		if s.Priority == "" {
			s.Priority = cfg.Priority
		}
	}
	return s
}

// GPUClass is the class the API routed the spec to, or the default class.
func (s *JobSpec) GPUClass() string {
	if len(s.GPURouting) > 0 && s.GPURouting[0].GPUClass != "" {
		return s.GPURouting[0].GPUClass
	}
	return omtx.DefaultGPUClass
}
