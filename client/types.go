package client

import (
	"net/url"
	"strconv"

	"github.com/omtx-hub/omtx-hub/aggregate/ranking"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// Target is a complex to predict or screen against (package target's
// JSON shape).
type Target = target.Target

// TargetRecord is a target's document: owner, content hash, summary.
type TargetRecord = omtx.TargetRecord

// Parameters are a request's model parameters.
type Parameters = omtx.Parameters

// Ligand is one ligand of a batch.
type Ligand = omtx.Ligand

// Job is the job document the API returns (seed 1.2): an individual job, a
// batch child or a batch parent.
type Job = omtx.Job

// Status is a job status.
type Status = omtx.JobStatus

// Progress counts a batch's children by status.
type Progress = omtx.Progress

// PredictRequest is the body of POST /api/v1/predict.
type PredictRequest struct {
	Model string `json:"model"`
	// ProteinSequence, TargetID or Target: exactly one.
	ProteinSequence string      `json:"protein_sequence,omitempty"`
	TargetID        string      `json:"target_id,omitempty"`
	Target          *Target     `json:"target,omitempty"`
	LigandSMILES    string      `json:"ligand_smiles"`
	LigandName      string      `json:"ligand_name,omitempty"`
	Parameters      *Parameters `json:"parameters,omitempty"`
	MSA             string      `json:"msa,omitempty"`
	// NotifyURL receives a signed POST when the job ends.
	NotifyURL string `json:"notify_url,omitempty"`
	// Cache false skips the result-cache lookup (nil: the API's default,
	// on).
	Cache *bool `json:"cache,omitempty"`
}

// SubmitResponse answers a single submission (202, or 200 for a repeated
// idempotency key, with Duplicate set).
type SubmitResponse struct {
	JobID          string         `json:"job_id"`
	Status         omtx.JobStatus `json:"status"`
	Model          string         `json:"model"`
	RequestedModel string         `json:"requested_model,omitempty"`
	TargetID       string         `json:"target_id,omitempty"`
	Warnings       []string       `json:"warnings,omitempty"`
	Duplicate      bool           `json:"duplicate,omitempty"`
	URL            string         `json:"url"`
}

// BatchRequest is the JSON body of POST /api/v1/predict/batch.
type BatchRequest struct {
	Model           string      `json:"model"`
	BatchName       string      `json:"batch_name,omitempty"`
	ProteinSequence string      `json:"protein_sequence,omitempty"`
	TargetID        string      `json:"target_id,omitempty"`
	Target          *Target     `json:"target,omitempty"`
	Ligands         []Ligand    `json:"ligands"`
	MaxConcurrent   int         `json:"max_concurrent,omitempty"`
	ChunkSize       int         `json:"chunk_size,omitempty"`
	Priority        string      `json:"priority,omitempty"`
	Parameters      *Parameters `json:"parameters,omitempty"`
	SkipInvalid     bool        `json:"skip_invalid,omitempty"`
	MSA             string      `json:"msa,omitempty"`
	NotifyURL       string      `json:"notify_url,omitempty"`
	// Filters hold ligands back before the GPU (see the API's Filters).
	Filters *omtx.Filters `json:"filters,omitempty"`
	// Cache false skips the result-cache lookup (nil: on).
	Cache *bool `json:"cache,omitempty"`
}

// BatchUpload is a batch submitted as a library file (multipart).
type BatchUpload struct {
	// Filename decides the format: .csv or .smi.
	Filename        string
	Library         []byte
	Model           string
	BatchName       string
	ProteinSequence string
	TargetID        string
	MaxConcurrent   int
	ChunkSize       int
	Priority        string
	Parameters      *Parameters
	SkipInvalid     bool
	MSA             string
	NotifyURL       string
	Filters         *omtx.Filters
	// NoCache skips the result-cache lookup (the field cache=false).
	NoCache bool
}

// BatchSubmitResponse answers a batch submission.
type BatchSubmitResponse struct {
	BatchID        string         `json:"batch_id"`
	JobID          string         `json:"job_id"`
	Status         omtx.JobStatus `json:"status"`
	Model          string         `json:"model"`
	RequestedModel string         `json:"requested_model,omitempty"`
	TargetID       string         `json:"target_id,omitempty"`
	TotalLigands   int            `json:"total_ligands"`
	InvalidLigands int            `json:"invalid_ligands"`
	// FilteredLigands were held back by the filters, by rule in FilterHits.
	FilteredLigands int              `json:"filtered_ligands"`
	FilterHits      []omtx.FilterHit `json:"filter_hits,omitempty"`
	RenamedLigands  int              `json:"renamed_ligands"`
	MaxConcurrent   int              `json:"max_concurrent"`
	ChunkSize       int              `json:"chunk_size"`
	Warnings        []string         `json:"warnings,omitempty"`
	Duplicate       bool             `json:"duplicate,omitempty"`
	URL             string           `json:"url"`
	// RerunOf is set for a rerun (RerunBatch): the batch it re-runs.
	RerunOf string `json:"rerun_of,omitempty"`
}

// Which ligands of a finished batch RerunBatch runs again.
const (
	RerunFailed             = "failed"
	RerunCancelled          = "cancelled"
	RerunFailedAndCancelled = "failed_and_cancelled"
)

// EstimateRequest asks for a cost and time estimate: one ligand
// (LigandSMILES), a library (Ligands) or just a count (NumLigands).
type EstimateRequest struct {
	Model           string      `json:"model"`
	ProteinSequence string      `json:"protein_sequence,omitempty"`
	TargetID        string      `json:"target_id,omitempty"`
	LigandSMILES    string      `json:"ligand_smiles,omitempty"`
	Ligands         []Ligand    `json:"ligands,omitempty"`
	NumLigands      int         `json:"num_ligands,omitempty"`
	MaxConcurrent   int         `json:"max_concurrent,omitempty"`
	ChunkSize       int         `json:"chunk_size,omitempty"`
	Parameters      *Parameters `json:"parameters,omitempty"`
	// Filters are a batch's filters, applied to Ligands.
	Filters *omtx.Filters `json:"filters,omitempty"`
}

// EstimateResponse is a cost and time estimate from planning figures.
type EstimateResponse struct {
	Model          string `json:"model"`
	RequestedModel string `json:"requested_model,omitempty"`
	GPUClass       string `json:"gpu_class"`
	RoutingReason  string `json:"routing_reason"`
	Tokens         int    `json:"tokens"`
	Ligands        int    `json:"ligands"`
	// FilteredLigands would be held back by the filters (by rule in
	// FilterHits); the GPU figures are for the rest.
	FilteredLigands int              `json:"filtered_ligands"`
	FilterHits      []omtx.FilterHit `json:"filter_hits,omitempty"`
	// CacheHitsExpected is how many ligands the result cache would serve
	// (nil: not said); the GPU figures leave them out too.
	CacheHitsExpected *int    `json:"cache_hits_expected,omitempty"`
	Chunks            int     `json:"chunks"`
	SecondsPerLigand  float64 `json:"seconds_per_ligand"`
	LoadSeconds       float64 `json:"model_load_seconds_per_chunk"`
	GPUSeconds        float64 `json:"gpu_seconds"`
	PricePerGPUHour   float64 `json:"price_per_gpu_hour"`
	CostUSD           float64 `json:"cost_usd"`
	CostPerLigandUSD  float64 `json:"cost_per_ligand_usd"`
	WallSeconds       float64 `json:"wall_seconds"`
	Basis             string  `json:"basis"`
}

// JobList is a page of jobs: the caller's jobs and batches, or a batch's
// children. NextPageToken is empty on the last page.
type JobList struct {
	Jobs          []*Job `json:"jobs"`
	NextPageToken string `json:"next_page_token,omitempty"`
}

// ListOptions selects a page of a list call.
type ListOptions struct {
	PageSize  int
	PageToken string
	Status    omtx.JobStatus
}

// Batch is a batch parent with, while it runs, the workflow's live
// progress.
type Batch struct {
	Job
	LiveProgress *Progress `json:"live_progress,omitempty"`
}

// CurrentProgress is the freshest progress known: the live one while the
// batch runs, else the stored one.
func (b *Batch) CurrentProgress() Progress {
	if b.LiveProgress != nil {
		return *b.LiveProgress
	}
	if b.Progress != nil {
		return *b.Progress
	}
	return Progress{}
}

// ResultsOptions choose the ranking rule and the page of BatchResults.
// Zero values keep the batch's own rule and the API's default page.
type ResultsOptions struct {
	// Ranking is "hit_discovery" or "lead_optimization".
	Ranking         omtx.Ranking
	BinderThreshold *float64
	MinLigandIPTM   *float64
	MinIPTM         *float64
	Offset          int
	PageSize        int
}

func (o ResultsOptions) values() url.Values {
	q := url.Values{}
	if o.Ranking != "" {
		q.Set("ranking", string(o.Ranking))
	}
	for name, v := range map[string]*float64{"binder_threshold": o.BinderThreshold, "min_ligand_iptm": o.MinLigandIPTM, "min_iptm": o.MinIPTM} {
		if v != nil {
			q.Set(name, strconv.FormatFloat(*v, 'g', -1, 64))
		}
	}
	if o.Offset > 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	if o.PageSize > 0 {
		q.Set("page_size", strconv.Itoa(o.PageSize))
	}
	return q
}

// Ranked results, as the API and summary.json write them.
type (
	RankingApplied = ranking.RankingApplied
	BatchSummary   = ranking.Summary
	RankedRow      = ranking.Row
	Failure        = ranking.Failure
)

// RankedResults is a page of a batch's ranking (see Client.BatchResults).
type RankedResults struct {
	BatchID     string         `json:"batch_id"`
	BatchName   string         `json:"batch_name"`
	Status      Status         `json:"status"`
	Partial     bool           `json:"partial"`
	Ranking     RankingApplied `json:"ranking"`
	Summary     BatchSummary   `json:"summary"`
	TotalRanked int            `json:"total_ranked"`
	Offset      int            `json:"offset"`
	PageSize    int            `json:"page_size"`
	NextOffset  *int           `json:"next_offset,omitempty"`
	Results     []RankedRow    `json:"results"`
}

// CancelResponse answers a cancel request.
type CancelResponse struct {
	JobID  string `json:"job_id"`
	Status string `json:"status"`
}

// Readiness is the answer of GET /readyz.
type Readiness struct {
	Ready  bool              `json:"ready"`
	Checks map[string]string `json:"checks"`
}

// Job files (seed 1.3).
var JobFiles = []string{omtx.FileInput, omtx.FileResults, omtx.FileLogs, omtx.FileStructureCIF, omtx.FileStructurePDB}

// Batch files (seed 1.3).
var BatchFiles = omtx.BatchFiles

// TargetResponse is a target: its document and, from CreateTarget and
// Target, the target itself.
type TargetResponse struct {
	TargetRecord
	Target    *Target  `json:"target,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	Duplicate bool     `json:"duplicate,omitempty"`
	URL       string   `json:"url"`
}

// TargetList is a page of targets.
type TargetList struct {
	Targets       []*TargetRecord `json:"targets"`
	NextPageToken string          `json:"next_page_token,omitempty"`
}

// TargetImport is a Boltz input YAML and the files its msa and template
// paths name, by file name.
type TargetImport struct {
	YAML        []byte
	Files       map[string][]byte
	Name        string
	LigandChain string
}

// DryRunResponse is what a submission would run, with nothing created.
type DryRunResponse struct {
	DryRun         bool       `json:"dry_run"`
	BoltzYAML      string     `json:"boltz_yaml"`
	Settings       Parameters `json:"settings"`
	Model          string     `json:"model"`
	RequestedModel string     `json:"requested_model,omitempty"`
	Substituted    bool       `json:"substituted"`
	Warnings       []string   `json:"warnings,omitempty"`
	Tokens         int        `json:"tokens"`
	GPUClass       string     `json:"gpu_class"`
	TargetID       string     `json:"target_id,omitempty"`
	TargetHash     string     `json:"target_hash,omitempty"`
}
