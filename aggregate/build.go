package aggregate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Input is everything Build needs to know about a batch.
type Input struct {
	BatchID   string
	BatchName string
	// Children are all children of the batch, in any order and any status.
	// Nil entries are ignored. A job ID that appears more than once is kept
	// once (see Summary.DuplicatesDropped): a terminal status wins over a
	// non-terminal one, then the later UpdatedAt, then a usable result, then
	// the first seen. Children with an empty job ID are never merged.
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
	DuplicatesDropped       int `json:"duplicates_dropped"`
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

// Build computes a finished batch's files and parent-document blocks. It
// calls in.LoadStructure for the top-10 structures and does no other I/O.
// Its only errors come from LoadStructure and from encoding.
func Build(in Input) (*Output, error) {
	children, dropped := dedupe(in.Children)
	ranked := Rank(children)

	sum := summarize(in, children, ranked)
	sum.DuplicatesDropped = dropped

	top := ranked[:min(10, len(ranked))]
	br := batchResults(ranked, top, sum)

	out := &Output{Results: br, Summary: sum}
	var err error

	if out.CSV, err = buildCSV(children, ranked); err != nil {
		return nil, fmt.Errorf("aggregate: batch_results.csv: %w", err)
	}

	rf := resultsFile{
		BatchID:                in.BatchID,
		BatchName:              in.BatchName,
		BestLigand:             br.BestLigand,
		BestJobID:              br.BestJobID,
		BestAffinity:           br.BestAffinity,
		BestAffinityPredValue:  br.BestAffinityPredValue,
		AverageAffinity:        br.AverageAffinity,
		AffinityUnits:          omtx.UnitsKcalPerMol,
		AffinityPredValueUnits: omtx.UnitsLog10IC50uM,
		RankingRule:            RankingRule,
		Models:                 sum.Models,
		Top10:                  br.Top10,
		Counts:                 counts{Completed: sum.Completed, Failed: sum.Failed, Cancelled: sum.Cancelled, Total: sum.Total},
	}
	if len(ranked) == 0 {
		rf.Note = noCompletedNote
	}
	if out.ResultsJSON, err = marshalJSON(rf); err != nil {
		return nil, fmt.Errorf("aggregate: batch_results.json: %w", err)
	}
	if out.SummaryJSON, err = marshalJSON(sum); err != nil {
		return nil, fmt.Errorf("aggregate: summary.json: %w", err)
	}

	if len(ranked) > 0 {
		if out.HistogramPNG, err = histogramPNG(in, ranked, sum); err != nil {
			return nil, fmt.Errorf("aggregate: affinity_distribution.png: %w", err)
		}
	}

	if out.StructuresZIP, err = structuresZIP(in, top); err != nil {
		return nil, err
	}
	return out, nil
}

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

// dedupe keeps one child per job ID (see Input.Children) and drops nil
// entries, keeping first-seen order. It returns how many duplicates it
// dropped.
func dedupe(children []*omtx.Job) ([]*omtx.Job, int) {
	out := make([]*omtx.Job, 0, len(children))
	at := make(map[string]int, len(children))
	dropped := 0
	for _, c := range children {
		if c == nil {
			continue
		}
		if c.JobID == "" {
			out = append(out, c)
			continue
		}
		i, seen := at[c.JobID]
		if !seen {
			at[c.JobID] = len(out)
			out = append(out, c)
			continue
		}
		dropped++
		if preferred(c, out[i]) {
			out[i] = c
		}
	}
	return out, dropped
}

// preferred reports whether candidate should replace kept, two records of
// the same job.
func preferred(candidate, kept *omtx.Job) bool {
	if ct, kt := candidate.Status.Terminal(), kept.Status.Terminal(); ct != kt {
		return ct
	}
	if !candidate.UpdatedAt.Equal(kept.UpdatedAt) {
		return candidate.UpdatedAt.After(kept.UpdatedAt)
	}
	return rankable(candidate) && !rankable(kept)
}

func summarize(in Input, children, ranked []*omtx.Job) Summary {
	s := Summary{
		BatchID:     in.BatchID,
		BatchName:   in.BatchName,
		Total:       len(children),
		Completed:   len(ranked),
		Models:      []string{},
		Units:       units(),
		RankingRule: RankingRule,
	}
	for _, c := range children {
		switch c.Status {
		case omtx.StatusCompleted:
			if !rankable(c) {
				s.CompletedWithoutResults++
				s.Other++
			}
		case omtx.StatusFailed:
			s.Failed++
		case omtx.StatusCancelled:
			s.Cancelled++
		default:
			s.Other++
		}
	}

	n := len(ranked)
	pred, dg, pic, prob, conf := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	models := map[string]bool{}
	for i, c := range ranked {
		r := c.Results
		pred[i], dg[i], pic[i], prob[i], conf[i] = r.AffinityPredValue, r.DeltaGKcalMol, r.PIC50, r.AffinityProbabilityBinary, r.Confidence
		if isBinder(r) {
			s.Binders++
		}
		if !isNaNOrInf(r.GPUSeconds) && !isNaNOrInf(r.CostUSD) {
			s.GPUSeconds += r.GPUSeconds
			s.CostUSD += r.CostUSD
		}
		if !isNaNOrInf(r.ModelSeconds) {
			s.ModelSeconds += r.ModelSeconds
		}
		models[modelName(c)] = true
	}
	delete(models, "")
	for m := range models {
		s.Models = append(s.Models, m)
	}
	slices.Sort(s.Models)

	s.AffinityPredValue = computeStats(pred)
	s.DeltaGKcalMol = computeStats(dg)
	s.PIC50 = computeStats(pic)
	s.AffinityProbabilityBinary = computeStats(prob)
	s.Confidence = computeStats(conf)
	return s
}

// modelName is the model that produced c's results, or the job's model
// when the results do not say.
func modelName(c *omtx.Job) string {
	if c.Results != nil && c.Results.Model != "" {
		return c.Results.Model
	}
	return c.Model
}

func batchResults(ranked, top []*omtx.Job, sum Summary) omtx.BatchResults {
	br := omtx.BatchResults{
		AffinityUnits: omtx.UnitsKcalPerMol,
		RankingRule:   RankingRule,
		Top10:         make([]omtx.RankedLigand, 0, len(top)),
		Completed:     sum.Completed,
		Failed:        sum.Failed,
		Cancelled:     sum.Cancelled,
	}
	for i, c := range top {
		br.Top10 = append(br.Top10, rankedLigand(i+1, c))
	}
	if len(ranked) > 0 {
		best := ranked[0]
		br.BestLigand = ligandLabel(best)
		br.BestJobID = best.JobID
		br.BestAffinity = best.Results.DeltaGKcalMol
		br.BestAffinityPredValue = best.Results.AffinityPredValue
		br.AverageAffinity = sum.DeltaGKcalMol.Mean
	}
	return br
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
