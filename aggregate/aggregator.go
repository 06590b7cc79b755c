package aggregate

import (
	"container/heap"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// TopK is how many ranked children a batch's results list by name.
const TopK = 10

// Aggregator computes a finished batch's files from its children, which it
// sees twice, in batch_index order (compareIndex): once through Add, then,
// after Finish, once through a CSV writer. It never holds the children: per
// ligand it keeps a ranking key and the five predicted values (about 70
// bytes), and it keeps the TopK best children whole. So a batch of 100,000
// ligands aggregates in a few MiB, streamed page by page from Firestore.
type Aggregator struct {
	batchID, batchName string

	n    int       // children added
	last *omtx.Job // the previous child, to check the order
	sum  Summary
	meta map[string]struct{}

	keys                      []rankKey // rankable children
	pred, dg, pic, prob, conf []float64 // their values, for statistics
	models                    map[string]bool
	top                       topHeap

	finished bool
	rankOf   []int32 // by position: rank, or 0 when not ranked
	ranked   []*omtx.Job
}

// NewAggregator starts a batch's aggregation.
func NewAggregator(batchID, batchName string) *Aggregator {
	return &Aggregator{
		batchID: batchID, batchName: batchName,
		sum: Summary{
			BatchID: batchID, BatchName: batchName, Models: []string{},
			Units: units(), RankingRule: RankingRule,
		},
		meta: map[string]struct{}{}, models: map[string]bool{},
	}
}

// Add takes the next child (pass 1). Children must come in batch_index
// order, each once.
func (a *Aggregator) Add(c *omtx.Job) error {
	if a.finished {
		return fmt.Errorf("aggregate: Add after Finish")
	}
	if a.last != nil && compareIndex(a.last, c) >= 0 {
		return fmt.Errorf("aggregate: child %s comes after %s, out of batch_index order", c.JobID, a.last.JobID)
	}
	a.last = c
	ord := a.n
	a.n++
	s := &a.sum
	s.Total++
	for k := range c.LigandMetadata {
		a.meta[k] = struct{}{}
	}
	switch c.Status {
	case omtx.StatusCompleted:
		if !rankable(c) {
			s.CompletedWithoutResults++
			s.Other++
			return nil
		}
	case omtx.StatusFailed:
		s.Failed++
		return nil
	case omtx.StatusCancelled:
		s.Cancelled++
		return nil
	default:
		s.Other++
		return nil
	}
	r := c.Results
	s.Completed++
	k := keyOf(r, ord)
	a.keys = append(a.keys, k)
	a.pred = append(a.pred, r.AffinityPredValue)
	a.dg = append(a.dg, r.DeltaGKcalMol)
	a.pic = append(a.pic, r.PIC50)
	a.prob = append(a.prob, r.AffinityProbabilityBinary)
	a.conf = append(a.conf, r.Confidence)
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
	if m := modelName(c); m != "" {
		a.models[m] = true
	}
	if a.top.Len() < TopK {
		heap.Push(&a.top, topEntry{k, c})
	} else if compareKeys(k, a.top.entries[0].key) < 0 {
		a.top.entries[0] = topEntry{k, c}
		heap.Fix(&a.top, 0)
	}
	return nil
}

// Finish ranks what Add saw and computes the statistics.
func (a *Aggregator) Finish() {
	if a.finished {
		return
	}
	a.finished = true
	slices.SortFunc(a.keys, compareKeys)
	a.rankOf = make([]int32, a.n)
	for i, k := range a.keys {
		a.rankOf[k.ord] = int32(i + 1)
	}
	a.keys = nil
	top := slices.Clone(a.top.entries)
	slices.SortFunc(top, func(x, y topEntry) int { return compareKeys(x.key, y.key) })
	for _, e := range top {
		a.ranked = append(a.ranked, e.job)
	}
	s := &a.sum
	for m := range a.models {
		s.Models = append(s.Models, m)
	}
	slices.Sort(s.Models)
	s.AffinityPredValue = computeStats(slices.Clone(a.pred))
	s.DeltaGKcalMol = computeStats(a.dg)
	s.PIC50 = computeStats(a.pic)
	s.AffinityProbabilityBinary = computeStats(a.prob)
	s.Confidence = computeStats(a.conf)
	a.dg, a.pic, a.prob, a.conf = nil, nil, nil, nil
}

// Summary is summary.json's content (after Finish).
func (a *Aggregator) Summary() Summary { return a.sum }

// Top returns the best TopK children in rank order (after Finish).
func (a *Aggregator) Top() []*omtx.Job { return a.ranked }

// Results is the parent document's batch_results block, with its file
// addresses left for the caller (after Finish).
func (a *Aggregator) Results() omtx.BatchResults {
	s := a.sum
	br := omtx.BatchResults{
		AffinityUnits: omtx.UnitsKcalPerMol,
		RankingRule:   RankingRule,
		Top10:         make([]omtx.RankedLigand, 0, len(a.ranked)),
		Completed:     s.Completed,
		Failed:        s.Failed,
		Cancelled:     s.Cancelled,
		GPUSeconds:    s.GPUSeconds,
		CostUSD:       s.CostUSD,
	}
	for i, c := range a.ranked {
		br.Top10 = append(br.Top10, rankedLigand(i+1, c))
	}
	if len(a.ranked) > 0 {
		best := a.ranked[0]
		br.BestLigand = ligandLabel(best)
		br.BestJobID = best.JobID
		br.BestAffinity = best.Results.DeltaGKcalMol
		br.BestAffinityPredValue = best.Results.AffinityPredValue
		br.AverageAffinity = s.DeltaGKcalMol.Mean
	}
	return br
}

// ResultsJSON renders batch_results.json (after Finish).
func (a *Aggregator) ResultsJSON() ([]byte, error) {
	br, s := a.Results(), a.sum
	rf := resultsFile{
		BatchID: a.batchID, BatchName: a.batchName,
		BestLigand: br.BestLigand, BestJobID: br.BestJobID, BestAffinity: br.BestAffinity,
		BestAffinityPredValue: br.BestAffinityPredValue, AverageAffinity: br.AverageAffinity,
		AffinityUnits: omtx.UnitsKcalPerMol, AffinityPredValueUnits: omtx.UnitsLog10IC50uM,
		RankingRule: RankingRule, Models: s.Models, Top10: br.Top10,
		Counts: counts{Completed: s.Completed, Failed: s.Failed, Cancelled: s.Cancelled, Total: s.Total},
	}
	if len(a.ranked) == 0 {
		rf.Note = noCompletedNote
	}
	out, err := marshalJSON(rf)
	if err != nil {
		return nil, fmt.Errorf("aggregate: batch_results.json: %w", err)
	}
	return out, nil
}

// SummaryJSON renders summary.json (after Finish).
func (a *Aggregator) SummaryJSON() ([]byte, error) {
	out, err := marshalJSON(a.sum)
	if err != nil {
		return nil, fmt.Errorf("aggregate: summary.json: %w", err)
	}
	return out, nil
}

// HistogramPNG draws analysis/affinity_distribution.png, or returns nil
// when nothing completed (after Finish).
func (a *Aggregator) HistogramPNG() ([]byte, error) {
	if len(a.pred) == 0 {
		return nil, nil
	}
	out, err := histogramPNG(a.batchID, a.batchName, a.pred, a.sum)
	if err != nil {
		return nil, fmt.Errorf("aggregate: affinity_distribution.png: %w", err)
	}
	return out, nil
}

// StructuresZIP builds analysis/top_10_structures.zip through load, or
// returns nil when no top child has a structure (after Finish).
func (a *Aggregator) StructuresZIP(load func(*omtx.Job) ([]byte, error)) ([]byte, error) {
	return structuresZIP(a.batchID, a.batchName, a.ranked, load)
}

// CSVWriter writes batch_results.csv row by row (pass 2).
type CSVWriter struct {
	a    *Aggregator
	w    *csv.Writer
	keys []string
	rec  []string
	n    int
	err  error
}

// NewCSV starts batch_results.csv on w (after Finish): one row per child,
// in the order Add saw them, with rank empty for children that are not
// ranked. Missing numbers are empty cells; numbers have 4 decimals.
//
// Spreadsheet applications run a cell that starts with =, +, -, @, tab or
// carriage return as a formula, so text cells that start with one of these
// get a leading single quote, unless the whole cell is a plain decimal
// number (a number is never a formula); a text cell that starts with a
// single quote gets one more, so the guard can always be undone exactly.
// This includes smiles: no valid
// SMILES starts with one of these characters, so only the text of invalid
// rows (kept as failed children) can ever be changed. Numeric columns are
// written by this package and never need the guard.
func (a *Aggregator) NewCSV(w io.Writer) *CSVWriter {
	keys := make([]string, 0, len(a.meta))
	for k := range a.meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	cw := &CSVWriter{a: a, w: csv.NewWriter(w), keys: keys}
	header := make([]string, 0, len(csvHeader)+len(keys))
	header = append(header, csvHeader...)
	for _, k := range keys {
		header = append(header, guard("meta_"+k))
	}
	cw.rec = make([]string, len(header))
	cw.err = cw.w.Write(header)
	return cw
}

// Write writes the row of the next child; children come in the order Add
// saw them.
func (cw *CSVWriter) Write(c *omtx.Job) error {
	if cw.err != nil {
		return cw.err
	}
	if cw.n >= len(cw.a.rankOf) {
		cw.err = fmt.Errorf("aggregate: more children in the second pass (%d) than in the first (%d)", cw.n+1, len(cw.a.rankOf))
		return cw.err
	}
	rec := cw.rec
	clear(rec)
	if r := cw.a.rankOf[cw.n]; r > 0 {
		rec[0] = strconv.Itoa(int(r))
	}
	cw.n++
	csvRow(rec, c, cw.keys)
	cw.err = cw.w.Write(rec)
	return cw.err
}

// Close flushes the CSV; it fails when the second pass saw fewer children
// than the first.
func (cw *CSVWriter) Close() error {
	if cw.err != nil {
		return cw.err
	}
	cw.w.Flush()
	if err := cw.w.Error(); err != nil {
		return err
	}
	if cw.n != len(cw.a.rankOf) {
		return fmt.Errorf("aggregate: %d children in the second pass, %d in the first", cw.n, len(cw.a.rankOf))
	}
	return nil
}

// topEntry and topHeap keep the TopK best children: a max-heap under
// compareKeys, so the worst of them is at the root.
type topEntry struct {
	key rankKey
	job *omtx.Job
}

type topHeap struct{ entries []topEntry }

func (h *topHeap) Len() int           { return len(h.entries) }
func (h *topHeap) Less(i, j int) bool { return compareKeys(h.entries[i].key, h.entries[j].key) > 0 }
func (h *topHeap) Swap(i, j int)      { h.entries[i], h.entries[j] = h.entries[j], h.entries[i] }
func (h *topHeap) Push(x any)         { h.entries = append(h.entries, x.(topEntry)) }
func (h *topHeap) Pop() any {
	e := h.entries[len(h.entries)-1]
	h.entries = h.entries[:len(h.entries)-1]
	return e
}
