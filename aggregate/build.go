package aggregate

import (
	"bytes"
	"fmt"

	"github.com/omtx-hub/omtx-hub/aggregate/ranking"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Input is a whole batch, for Build.
type Input struct {
	BatchID   string
	BatchName string
	// Ranking is the batch's ranking rule (the zero value: hit discovery).
	Ranking omtx.RankingOptions
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
	Summary ranking.Summary
}

// Build computes a batch's files from all its children in memory: the
// Aggregator's two passes over a slice. AggregateBatch streams the same
// passes from Firestore instead.
func Build(in Input) (*Output, error) {
	children := ranking.InIndexOrder(in.Children)
	a := NewAggregatorWith(Options{BatchID: in.BatchID, BatchName: in.BatchName, Ranking: in.Ranking})
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
