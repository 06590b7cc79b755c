package ranking

import (
	"bytes"
	"encoding/json"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Summary is the content of summary.json.
type Summary struct {
	BatchID   string `json:"batch_id"`
	BatchName string `json:"batch_name"`
	// RerunOf names the batch whose failed or cancelled ligands this
	// batch re-runs; empty for a batch of a new library.
	RerunOf string `json:"rerun_of,omitempty"`

	// StatusLine says in words how the batch stands: "completed",
	// "completed with 2 failed", "partial: 25 of 420 ligands finished".
	StatusLine string `json:"status_line"`
	// CompletedWithFailures is true when any ligand failed (Failed or
	// CompletedWithoutResults is not zero).
	CompletedWithFailures bool `json:"completed_with_failures"`

	// Total counts distinct children; Completed + Failed + Cancelled +
	// Filtered + Other == Total.
	Total     int `json:"total"`
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
	// Filtered counts ligands a filter held back before the GPU. They are
	// not failures: a batch of completed and filtered ligands is
	// "completed".
	Filtered int `json:"filtered"`
	// Other counts children still pending, queued or running, children with
	// an unknown status, and CompletedWithoutResults.
	Other int `json:"other"`
	// CompletedWithoutResults counts children whose status is completed but
	// whose results block is missing or holds a non-finite value; they are
	// not ranked, are counted in Other and are listed in Failures.
	CompletedWithoutResults int `json:"completed_without_results"`
	// Failures lists the failed children (and those completed without
	// usable results) with their reasons, in batch_index order: the first
	// MaxFailuresListed; FailuresOmitted counts the rest.
	Failures        []Failure `json:"failures"`
	FailuresOmitted int       `json:"failures_omitted"`
	// FilteredLigands lists the filtered children with the rule each
	// matched, in batch_index order: the first MaxFailuresListed;
	// FilteredOmitted counts the rest. FilterHits counts all of them by
	// rule, the most frequent first (at most MaxFilterHits rules), and
	// Filters are the filters the batch applied, as its request gave
	// them (absent when it gave none).
	FilteredLigands []FilteredLigand `json:"filtered_ligands"`
	FilteredOmitted int              `json:"filtered_omitted"`
	FilterHits      []omtx.FilterHit `json:"filter_hits"`
	Filters         *omtx.Filters    `json:"filters,omitempty"`

	// Ranking is the rule the ranks follow; RankingRule is its
	// description (kept for readers of the first releases).
	Ranking     RankingApplied `json:"ranking"`
	RankingRule string         `json:"ranking_rule"`
	// Binders counts completed children with affinity_probability_binary
	// at or above the ranking's binder threshold.
	Binders int `json:"binders"`
	// BelowConfidenceFloor counts completed children flagged below a
	// confidence floor of the ranking.
	BelowConfidenceFloor int `json:"below_confidence_floor"`

	// PredictedBinders and AllLigands describe the affinity quantities
	// over the predicted binders, and over every completed ligand; each
	// names its population.
	PredictedBinders LigandStats `json:"predicted_binders"`
	AllLigands       LigandStats `json:"all_ligands"`

	// Statistics over all completed children (as AllLigands); see Units.
	AffinityPredValue         Stats `json:"affinity_pred_value"`
	DeltaGKcalMol             Stats `json:"delta_g_kcal_mol"`
	PIC50                     Stats `json:"pic50"`
	AffinityProbabilityBinary Stats `json:"affinity_probability_binary"`
	Confidence                Stats `json:"confidence"`

	// ModelSeconds is the model time summed over completed children.
	ModelSeconds float64 `json:"model_seconds"`
	// GPUSeconds and CostUSD total the children's recorded GPU time and
	// cost (at each worker's configured price per GPU hour).
	GPUSeconds float64 `json:"gpu_seconds"`
	CostUSD    float64 `json:"cost_usd"`
	// CacheHits counts the completed children whose results came from the
	// result cache; GPUSecondsSaved and CostUSDSaved total what their
	// source jobs spent, which this batch did not.
	CacheHits       int     `json:"cache_hits"`
	GPUSecondsSaved float64 `json:"gpu_seconds_saved"`
	CostUSDSaved    float64 `json:"cost_usd_saved"`
	// Models are the distinct names of the models that produced the
	// completed results, sorted.
	Models []string `json:"models"`
	// ModelNote says what the model is when the descriptor baseline
	// served any ligand (omtx.BaselineNote).
	ModelNote  string            `json:"model_note,omitempty"`
	Units      map[string]string `json:"units"`
	Quantities map[string]string `json:"quantities"`
}

// RankingApplied is a ranking rule with its one-sentence description.
type RankingApplied struct {
	omtx.RankingOptions
	Description string `json:"description"`
}

// LigandStats describes the affinity quantities over one population of
// ligands.
type LigandStats struct {
	Population        string `json:"population"`
	N                 int    `json:"n"`
	AffinityPredValue Stats  `json:"affinity_pred_value"`
	PIC50             Stats  `json:"pic50"`
	DeltaGKcalMol     Stats  `json:"delta_g_kcal_mol"`
}

// Failure is one ligand that gave no ranked result, and why.
type Failure struct {
	JobID        string         `json:"job_id"`
	BatchIndex   int            `json:"batch_index"`
	LigandName   string         `json:"ligand_name"`
	LigandSMILES string         `json:"ligand_smiles"`
	Status       omtx.JobStatus `json:"status"`
	Reason       string         `json:"reason"`
}

// FilteredLigand is one filtered child of summary.json, with the rule of
// the batch's filters it matched.
type FilteredLigand struct {
	JobID        string `json:"job_id"`
	BatchIndex   int    `json:"batch_index"`
	LigandName   string `json:"ligand_name"`
	LigandSMILES string `json:"ligand_smiles"`
	Rule         string `json:"rule"`
}

// units names the unit of every value that summary.json describes.
func units() map[string]string {
	return map[string]string{
		"affinity_pred_value":         omtx.UnitsLog10IC50uM,
		"delta_g_kcal_mol":            omtx.UnitsKcalPerMol,
		"pic50":                       "-log10(IC50 / M)",
		"affinity_probability_binary": omtx.UnitsProbability,
		"confidence":                  "score [0,1]",
		"model_seconds":               "s",
	}
}

// quantities names each affinity value by the quantity it is.
func quantities() map[string]string {
	return map[string]string{
		"affinity_pred_value":         omtx.QuantityAffinityPredValue,
		"pic50":                       omtx.QuantityPIC50,
		"delta_g_kcal_mol":            omtx.QuantityDeltaG,
		"affinity":                    "alias of delta_g_kcal_mol (" + omtx.QuantityDeltaG + ")",
		"affinity_probability_binary": omtx.QuantityProbabilityBinary,
	}
}

// resultsFile is the content of batch_results.json (seed 1.2 shape).
// best_affinity and average_affinity are the aliases, in ΔG kcal/mol, of
// best_delta_g_kcal_mol and average_delta_g_kcal_mol_all_ligands.
type resultsFile struct {
	BatchID                     string              `json:"batch_id"`
	BatchName                   string              `json:"batch_name"`
	StatusLine                  string              `json:"status_line"`
	BestLigand                  string              `json:"best_ligand"`
	BestJobID                   string              `json:"best_job_id"`
	BestAffinity                float64             `json:"best_affinity"`
	BestDeltaGKcalMol           float64             `json:"best_delta_g_kcal_mol"`
	BestAffinityPredValue       float64             `json:"best_affinity_pred_value"`
	AverageAffinity             float64             `json:"average_affinity"`
	AverageDeltaGKcalMolAll     float64             `json:"average_delta_g_kcal_mol_all_ligands"`
	AverageDeltaGKcalMolBinders float64             `json:"average_delta_g_kcal_mol_binders"`
	Binders                     int                 `json:"binders"`
	AffinityUnits               string              `json:"affinity_units"`
	AffinityPredValueUnits      string              `json:"affinity_pred_value_units"`
	RankingRule                 string              `json:"ranking_rule"`
	Ranking                     RankingApplied      `json:"ranking"`
	Models                      []string            `json:"models"`
	ModelNote                   string              `json:"model_note,omitempty"`
	Top10                       []omtx.RankedLigand `json:"top_10"`
	Counts                      counts              `json:"counts"`
	Note                        string              `json:"note,omitempty"`
}

type counts struct {
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
	Total     int `json:"total"`
}

const NoCompletedNote = "no ligand of this batch completed, so nothing is ranked: best_* fields are empty and top_10 is empty"

// marshalJSON encodes v indented by 2 spaces, without escaping <, > and &
// (the files are read by people), and ends it with a newline.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ModelName is the model that produced c's results, or the job's model
// when the results do not say.
func ModelName(c *omtx.Job) string { return modelName(c) }

// modelName is the model that produced c's results, or the job's model
// when the results do not say.
func modelName(c *omtx.Job) string {
	if c.Results != nil && c.Results.Model != "" {
		return c.Results.Model
	}
	return c.Model
}

func rankedLigand(rank int, c *omtx.Job) omtx.RankedLigand {
	r := c.Results
	return omtx.RankedLigand{
		Rank:                      rank,
		JobID:                     c.JobID,
		BatchIndex:                batchIndex(c),
		LigandName:                c.InputData.LigandName,
		LigandSMILES:              c.InputData.LigandSMILES,
		Affinity:                  r.DeltaGKcalMol,
		DeltaGKcalMol:             r.DeltaGKcalMol,
		AffinityPredValue:         r.AffinityPredValue,
		PIC50:                     r.PIC50,
		AffinityProbabilityBinary: r.AffinityProbabilityBinary,
		Confidence:                r.Confidence,
	}
}

// batchIndex is c's batch_index, or -1 when it has none.
func batchIndex(c *omtx.Job) int {
	if c.BatchIndex == nil {
		return -1
	}
	return *c.BatchIndex
}

// ligandLabel names a ligand: its name, else its SMILES.
func ligandLabel(c *omtx.Job) string {
	if c.InputData.LigandName != "" {
		return c.InputData.LigandName
	}
	return c.InputData.LigandSMILES
}

// Row is one ranked ligand with what a results table shows beside its
// values: whether it is a predicted binder, the model (and what it is,
// for the baseline), the user's metadata, and the API paths of its files.
type Row struct {
	omtx.RankedLigand
	PredictedBinder        bool              `json:"predicted_binder"`
	AffinityPredValueUnits string            `json:"affinity_pred_value_units"`
	Model                  string            `json:"model"`
	ModelNote              string            `json:"model_note,omitempty"`
	ResultsURL             string            `json:"results_url"`
	StructureURL           string            `json:"structure_url,omitempty"`
	LigandMetadata         map[string]string `json:"ligand_metadata,omitempty"`
	Warnings               []string          `json:"warnings,omitempty"`
}

// Row describes ranked child c at rank (c must be rankable).
func (a *Aggregator) Row(rank int, c *omtx.Job) Row {
	model := modelName(c)
	r := Row{
		RankedLigand:           a.RankedLigand(rank, c),
		PredictedBinder:        a.rk.isBinder(c.Results),
		AffinityPredValueUnits: omtx.UnitsLog10IC50uM,
		Model:                  model,
		ModelNote:              omtx.ModelNote(model),
		ResultsURL:             JobFileURL(c.JobID, omtx.FileResults),
		LigandMetadata:         c.LigandMetadata,
		Warnings:               c.Warnings,
	}
	if c.Results.StructureAvailable {
		r.StructureURL = JobFileURL(c.JobID, omtx.FileStructureCIF)
	}
	return r
}
