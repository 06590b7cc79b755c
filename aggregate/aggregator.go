package aggregate

import (
	"fmt"

	"github.com/omtx-hub/omtx-hub/aggregate/ranking"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// The ranking rule, the counting and batch_results.csv live in
// aggregate/ranking, which the API links to re-rank a batch; this package
// adds what only the workers draw: the histogram and the structures
// archive.
type (
	// Options configure an Aggregator.
	Options = ranking.Options
	// Summary is the content of summary.json.
	Summary = ranking.Summary
	// Stats describes a set of values.
	Stats = ranking.Stats
	// Failure is one ligand that gave no ranked result, and why.
	Failure = ranking.Failure
	// CSVWriter writes batch_results.csv.
	CSVWriter = ranking.CSVWriter
)

// TopK is how many ranked children a batch's results list by name.
const TopK = ranking.TopK

// RankingRule states, in words, the default order (hit discovery).
var RankingRule = ranking.RankingRule

// Aggregator computes a finished batch's files from its children (see
// ranking.Aggregator), and draws its histogram and structures archive.
type Aggregator struct {
	*ranking.Aggregator
	batchID, batchName string
}

// NewAggregator starts a batch's aggregation under the default ranking.
func NewAggregator(batchID, batchName string) *Aggregator {
	return NewAggregatorWith(Options{BatchID: batchID, BatchName: batchName})
}

// NewAggregatorWith starts a batch's aggregation under o's ranking rule.
// A batch's own rule is its parent's: o.Ranking =
// parent.BatchConfig.RankingOptions().
func NewAggregatorWith(o Options) *Aggregator {
	return &Aggregator{Aggregator: ranking.NewAggregator(o), batchID: o.BatchID, batchName: o.BatchName}
}

// HistogramPNG draws analysis/affinity_distribution.png, or returns nil
// when nothing completed (after Finish).
func (a *Aggregator) HistogramPNG() ([]byte, error) {
	all, binders := a.PredValues()
	if len(all) == 0 {
		return nil, nil
	}
	out, err := histogramPNG(a.batchID, a.batchName, all, binders, a.Summary())
	if err != nil {
		return nil, fmt.Errorf("aggregate: affinity_distribution.png: %w", err)
	}
	return out, nil
}

// StructuresZIP builds analysis/top_10_structures.zip through load, or
// returns nil when no top child has a structure (after Finish).
func (a *Aggregator) StructuresZIP(load func(*omtx.Job) ([]byte, error)) ([]byte, error) {
	return structuresZIP(a.batchID, a.batchName, a.Summary().RankingRule, a.Top(), load)
}
