package aggregate

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Input is a whole batch, for Build.
type Input struct {
	BatchID   string
	BatchName string
	// Children are the batch's children, in any order and any status, each
	// once. Nil entries are ignored.
	Children []*omtx.Job
	// LoadStructure returns the mmCIF bytes of a child's structure. It is
	// called only for top-10 children whose Results.StructureAvailable is
	// true, in rank order. An error makes Build fail (the activity retries);
	// empty bytes without an error mean "no structure" for that child. Nil
	// means no structures are loaded.
	LoadStructure func(child *omtx.Job) ([]byte, error)
}

// Output holds the contents of the files that Build computes, and the
// blocks of the parent document.
type Output struct {
	CSV         []byte // batch_results.csv
	ResultsJSON []byte // batch_results.json
	SummaryJSON []byte // summary.json
	// HistogramPNG is analysis/affinity_distribution.png; nil when no child
	// completed.
	HistogramPNG []byte
	// StructuresZIP is analysis/top_10_structures.zip; nil when no top-10
	// child has a structure.
	StructuresZIP []byte
	// Results is the parent document's batch_results block. Its file
	// addresses are left empty for the caller to fill.
	Results omtx.BatchResults
	Summary Summary
}

// Build computes a batch's files from all its children in memory: the
// Aggregator's two passes over a slice. AggregateBatch streams the same
// passes from Firestore instead.
func Build(in Input) (*Output, error) {
	children := inIndexOrder(in.Children)
	a := NewAggregator(in.BatchID, in.BatchName)
	for _, c := range children {
		if err := a.Add(c); err != nil {
			return nil, err
		}
	}
	a.Finish()
	var csv bytes.Buffer
	cw := a.NewCSV(&csv)
	for _, c := range children {
		if err := cw.Write(c); err != nil {
			return nil, fmt.Errorf("aggregate: batch_results.csv: %w", err)
		}
	}
	if err := cw.Close(); err != nil {
		return nil, fmt.Errorf("aggregate: batch_results.csv: %w", err)
	}
	out := &Output{CSV: csv.Bytes(), Results: a.Results(), Summary: a.Summary()}
	var err error
	if out.ResultsJSON, err = a.ResultsJSON(); err != nil {
		return nil, err
	}
	if out.SummaryJSON, err = a.SummaryJSON(); err != nil {
		return nil, err
	}
	if out.HistogramPNG, err = a.HistogramPNG(); err != nil {
		return nil, err
	}
	if out.StructuresZIP, err = a.StructuresZIP(in.LoadStructure); err != nil {
		return nil, err
	}
	return out, nil
}

// Summary is the content of summary.json.
type Summary struct {
	BatchID   string `json:"batch_id"`
	BatchName string `json:"batch_name"`

	// Total counts distinct children; Completed + Failed + Cancelled +
	// Other == Total.
	Total     int `json:"total"`
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
	// Other counts children still pending, queued or running, children with
	// an unknown status, and CompletedWithoutResults.
	Other int `json:"other"`
	// CompletedWithoutResults counts children whose status is completed but
	// whose results block is missing or holds a non-finite value; they are
	// not ranked and are counted in Other.
	CompletedWithoutResults int `json:"completed_without_results"`
	// Binders counts completed children with affinity_probability_binary >=
	// BinderThreshold.
	Binders int `json:"binders"`

	// Statistics over completed children; see Units.
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
	// Models are the distinct names of the models that produced the
	// completed results, sorted.
	Models      []string          `json:"models"`
	Units       map[string]string `json:"units"`
	RankingRule string            `json:"ranking_rule"`
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

// resultsFile is the content of batch_results.json (seed 1.2 shape).
type resultsFile struct {
	BatchID                string              `json:"batch_id"`
	BatchName              string              `json:"batch_name"`
	BestLigand             string              `json:"best_ligand"`
	BestJobID              string              `json:"best_job_id"`
	BestAffinity           float64             `json:"best_affinity"`
	BestAffinityPredValue  float64             `json:"best_affinity_pred_value"`
	AverageAffinity        float64             `json:"average_affinity"`
	AffinityUnits          string              `json:"affinity_units"`
	AffinityPredValueUnits string              `json:"affinity_pred_value_units"`
	RankingRule            string              `json:"ranking_rule"`
	Models                 []string            `json:"models"`
	Top10                  []omtx.RankedLigand `json:"top_10"`
	Counts                 counts              `json:"counts"`
	Note                   string              `json:"note,omitempty"`
}

type counts struct {
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	Cancelled int `json:"cancelled"`
	Total     int `json:"total"`
}

const noCompletedNote = "no ligand of this batch completed, so nothing is ranked: best_* fields are empty and top_10 is empty"

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
