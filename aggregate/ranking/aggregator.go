package ranking

import (
	"bytes"
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

// MaxFailuresListed bounds the failures that summary.json lists with
// their reasons; FailuresOmitted counts the rest.
const MaxFailuresListed = 1000

// MaxFilterHits bounds the rules summary.json's filter_hits lists.
const MaxFilterHits = 20

// Options configure an Aggregator.
type Options struct {
	BatchID, BatchName string
	// RerunOf names the batch whose ligands this batch re-runs, if any.
	RerunOf string
	// Ranking is the batch's ranking rule (the zero value: hit discovery).
	Ranking omtx.RankingOptions
	// Keep is how many of the best children the Aggregator keeps whole
	// (Ranked); TopK when zero. The results endpoint raises it to serve a
	// page deeper in the ranking.
	Keep int
	// Filters are the batch's filters (BatchConfig.Filters), recorded in
	// summary.json.
	Filters *omtx.Filters
}

// Aggregator computes a finished batch's files from its children, which it
// sees twice, in batch_index order (compareIndex): once through Add, then,
// after Finish, once through a CSV writer. It never holds the children: per
// ligand it keeps a ranking key and the five predicted values (about 80
// bytes), it keeps the Keep best children whole, and the CSV writer keeps
// each row's encoded text (a few hundred bytes) until Close writes the
// rows in rank order. So a batch of 100,000 ligands aggregates in a few
// tens of MiB, streamed page by page from Firestore.
type Aggregator struct {
	batchID, batchName string
	rk                 ranker
	keep               int

	n    int       // children added
	last *omtx.Job // the previous child, to check the order
	sum  Summary
	meta map[string]struct{}

	keys                      []rankKey // rankable children
	pred, dg, pic, prob, conf []float64 // their values, for statistics
	models                    map[string]bool
	top                       topHeap

	finished   bool
	rankOf     []int32   // by position: rank, or 0 when not ranked
	binderPred []float64 // affinity_pred_value of the predicted binders
	byRank     []int32   // positions in rank order
	ranked     []*omtx.Job
	// hits counts the filtered children by rule.
	hits map[string]int
}

// NewAggregator starts a batch's aggregation under o's ranking rule.
func NewAggregator(o Options) *Aggregator {
	rk := newRanker(o.Ranking)
	keep := o.Keep
	if keep <= 0 {
		keep = TopK
	}
	applied := RankingApplied{RankingOptions: rk.o, Description: rk.o.Describe()}
	return &Aggregator{
		batchID: o.BatchID, batchName: o.BatchName, rk: rk, keep: keep,
		sum: Summary{
			BatchID: o.BatchID, BatchName: o.BatchName, RerunOf: o.RerunOf, Models: []string{},
			Units: units(), Quantities: quantities(), RankingRule: applied.Description, Ranking: applied,
			Failures: []Failure{}, FilteredLigands: []FilteredLigand{}, FilterHits: []omtx.FilterHit{},
			Filters: o.Filters,
		},
		hits: map[string]int{},
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
			a.fail(c, "completed without usable results (missing or non-finite predicted values)")
			return nil
		}
	case omtx.StatusFailed:
		s.Failed++
		a.fail(c, c.Error)
		return nil
	case omtx.StatusCancelled:
		s.Cancelled++
		return nil
	case statusFiltered:
		s.Filtered++
		a.filtered(c)
		return nil
	default:
		s.Other++
		return nil
	}
	r := c.Results
	s.Completed++
	k := a.rk.key(r, ord)
	a.keys = append(a.keys, k)
	a.pred = append(a.pred, r.AffinityPredValue)
	a.dg = append(a.dg, r.DeltaGKcalMol)
	a.pic = append(a.pic, r.PIC50)
	a.prob = append(a.prob, r.AffinityProbabilityBinary)
	a.conf = append(a.conf, r.Confidence)
	if a.rk.isBinder(r) {
		s.Binders++
	}
	if len(a.rk.belowFloors(r)) > 0 {
		s.BelowConfidenceFloor++
	}
	if !isNaNOrInf(r.GPUSeconds) && !isNaNOrInf(r.CostUSD) {
		s.GPUSeconds += r.GPUSeconds
		s.CostUSD += r.CostUSD
	}
	if r.CacheHit {
		s.CacheHits++
		if !isNaNOrInf(r.SavedGPUSeconds) && !isNaNOrInf(r.SavedCostUSD) {
			s.GPUSecondsSaved += r.SavedGPUSeconds
			s.CostUSDSaved += r.SavedCostUSD
		}
	}
	if !isNaNOrInf(r.ModelSeconds) {
		s.ModelSeconds += r.ModelSeconds
	}
	if m := modelName(c); m != "" {
		a.models[m] = true
	}
	if a.top.Len() < a.keep {
		heap.Push(&a.top, topEntry{k, c})
	} else if compareKeys(k, a.top.entries[0].key) < 0 {
		a.top.entries[0] = topEntry{k, c}
		heap.Fix(&a.top, 0)
	}
	return nil
}

// fail lists a child that did not give a ranked result, up to
// MaxFailuresListed.
func (a *Aggregator) fail(c *omtx.Job, reason string) {
	if reason == "" {
		reason = "no reason recorded"
	}
	s := &a.sum
	if len(s.Failures) >= MaxFailuresListed {
		s.FailuresOmitted++
		return
	}
	s.Failures = append(s.Failures, Failure{
		JobID: c.JobID, BatchIndex: batchIndex(c), LigandName: c.InputData.LigandName,
		LigandSMILES: c.InputData.LigandSMILES, Status: c.Status, Reason: reason,
	})
}

// filtered lists a filtered child, up to MaxFailuresListed, and counts
// its rule.
func (a *Aggregator) filtered(c *omtx.Job) {
	rule := c.FilterRule
	if rule == "" {
		rule = "no rule recorded"
	}
	a.hits[rule]++
	s := &a.sum
	if len(s.FilteredLigands) >= MaxFailuresListed {
		s.FilteredOmitted++
		return
	}
	s.FilteredLigands = append(s.FilteredLigands, FilteredLigand{
		JobID: c.JobID, BatchIndex: batchIndex(c), LigandName: c.InputData.LigandName,
		LigandSMILES: c.InputData.LigandSMILES, Rule: rule,
	})
}

// Finish ranks what Add saw and computes the statistics.
func (a *Aggregator) Finish() {
	if a.finished {
		return
	}
	a.finished = true
	slices.SortFunc(a.keys, compareKeys)
	a.rankOf = make([]int32, a.n)
	a.byRank = make([]int32, 0, a.n)
	for i, k := range a.keys {
		a.rankOf[k.ord] = int32(i + 1)
		a.byRank = append(a.byRank, k.ord)
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
	for _, m := range s.Models {
		if note := omtx.ModelNote(m); note != "" {
			s.ModelNote = note
		}
	}
	binder := func(vs []float64) []float64 {
		var out []float64
		for i, v := range vs {
			if a.prob[i] >= a.rk.o.BinderThreshold {
				out = append(out, v)
			}
		}
		return out
	}
	s.PredictedBinders = LigandStats{
		Population:        fmt.Sprintf("predicted binders: completed ligands with affinity_probability_binary >= %g", a.rk.o.BinderThreshold),
		N:                 s.Binders,
		AffinityPredValue: computeStats(binder(a.pred)), PIC50: computeStats(binder(a.pic)),
		DeltaGKcalMol: computeStats(binder(a.dg)),
	}
	s.AllLigands = LigandStats{
		Population:        "all completed ligands, predicted binders or not",
		N:                 s.Completed,
		AffinityPredValue: computeStats(slices.Clone(a.pred)), PIC50: computeStats(slices.Clone(a.pic)),
		DeltaGKcalMol: computeStats(slices.Clone(a.dg)),
	}
	s.AffinityPredValue = s.AllLigands.AffinityPredValue
	s.DeltaGKcalMol = s.AllLigands.DeltaGKcalMol
	s.PIC50 = s.AllLigands.PIC50
	s.AffinityProbabilityBinary = computeStats(slices.Clone(a.prob))
	s.Confidence = computeStats(a.conf)
	s.FilterHits = omtx.TopFilterHits(a.hits, MaxFilterHits)
	s.CompletedWithFailures = s.Failed+s.CompletedWithoutResults > 0
	s.StatusLine = statusLine(s)
	a.binderPred = binder(a.pred)
	a.dg, a.pic, a.conf = nil, nil, nil
}

// statusLine says in words how the batch stands, from its counts:
// "completed", "completed with 2 failed", "completed with 2 failed, 1
// cancelled", "failed: no ligand completed, 3 failed" or "partial: 25 of
// 420 ligands finished, 1 failed".
func statusLine(s *Summary) string {
	failed := s.Failed + s.CompletedWithoutResults
	pending := s.Other - s.CompletedWithoutResults
	var line string
	withFailed := false
	switch {
	case s.Total == 0:
		return "no ligands"
	case pending > 0:
		line = fmt.Sprintf("partial: %d of %d ligands finished", s.Total-pending, s.Total)
	case s.Completed == 0:
		line = "failed: no ligand completed"
	case failed > 0:
		line, withFailed = fmt.Sprintf("completed with %d failed", failed), true
	default:
		line = "completed"
	}
	if failed > 0 && !withFailed {
		line += fmt.Sprintf(", %d failed", failed)
	}
	if s.Cancelled > 0 {
		line += fmt.Sprintf(", %d cancelled", s.Cancelled)
	}
	if s.Filtered > 0 {
		line += fmt.Sprintf(", %d filtered", s.Filtered)
	}
	return line
}

// Summary is summary.json's content (after Finish).
func (a *Aggregator) Summary() Summary { return a.sum }

// Top returns the best TopK children in rank order (after Finish).
func (a *Aggregator) Top() []*omtx.Job { return a.ranked[:min(TopK, len(a.ranked))] }

// Ranked returns the best Keep children in rank order (after Finish).
func (a *Aggregator) Ranked() []*omtx.Job { return a.ranked }

// Ranking is the rule the Aggregator ranks by, normalized.
func (a *Aggregator) Ranking() omtx.RankingOptions { return a.rk.o }

// RankedLigand describes child c at rank: its values, its flags and the
// API paths of its files.
func (a *Aggregator) RankedLigand(rank int, c *omtx.Job) omtx.RankedLigand {
	out := rankedLigand(rank, c)
	out.BelowConfidenceFloor = a.rk.belowFloors(c.Results)
	return out
}

// Results is the parent document's batch_results block, with its file
// addresses left for the caller (after Finish).
func (a *Aggregator) Results() omtx.BatchResults {
	s := a.sum
	rule := a.rk.o
	br := omtx.BatchResults{
		AffinityUnits:         omtx.UnitsKcalPerMol,
		RankingRule:           s.RankingRule,
		Ranking:               &rule,
		Top10:                 make([]omtx.RankedLigand, 0, TopK),
		Completed:             s.Completed,
		Failed:                s.Failed,
		Cancelled:             s.Cancelled,
		GPUSeconds:            s.GPUSeconds,
		CostUSD:               s.CostUSD,
		CacheHits:             s.CacheHits,
		GPUSecondsSaved:       s.GPUSecondsSaved,
		CostUSDSaved:          s.CostUSDSaved,
		Binders:               s.Binders,
		StatusLine:            s.StatusLine,
		CompletedWithFailures: s.CompletedWithFailures,
		ModelNote:             s.ModelNote,
	}
	for i, c := range a.Top() {
		br.Top10 = append(br.Top10, a.RankedLigand(i+1, c))
	}
	if len(a.ranked) > 0 {
		best := a.ranked[0]
		br.BestLigand = ligandLabel(best)
		br.BestJobID = best.JobID
		br.BestAffinity = best.Results.DeltaGKcalMol
		br.BestAffinityPredValue = best.Results.AffinityPredValue
		br.AverageAffinity = s.AllLigands.DeltaGKcalMol.Mean
		br.AverageAffinityPredValueAllLigands = s.AllLigands.AffinityPredValue.Mean
		br.AverageDeltaGKcalMolBinders = s.PredictedBinders.DeltaGKcalMol.Mean
		br.AverageAffinityPredValueBinders = s.PredictedBinders.AffinityPredValue.Mean
	}
	return br
}

// ResultsJSON renders batch_results.json (after Finish).
func (a *Aggregator) ResultsJSON() ([]byte, error) {
	br, s := a.Results(), a.sum
	rf := resultsFile{
		BatchID: a.batchID, BatchName: a.batchName,
		BestLigand: br.BestLigand, BestJobID: br.BestJobID, BestAffinity: br.BestAffinity,
		BestDeltaGKcalMol: br.BestAffinity, BestAffinityPredValue: br.BestAffinityPredValue,
		AverageAffinity: br.AverageAffinity, AverageDeltaGKcalMolAll: br.AverageAffinity,
		AverageDeltaGKcalMolBinders: br.AverageDeltaGKcalMolBinders, Binders: s.Binders,
		AffinityUnits: omtx.UnitsKcalPerMol, AffinityPredValueUnits: omtx.UnitsLog10IC50uM,
		RankingRule: s.RankingRule, Ranking: s.Ranking, Models: s.Models, ModelNote: s.ModelNote,
		StatusLine: s.StatusLine, Top10: br.Top10,
		Counts: counts{Completed: s.Completed, Failed: s.Failed, Cancelled: s.Cancelled, Total: s.Total},
	}
	if len(a.ranked) == 0 {
		rf.Note = NoCompletedNote
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

// PredValues returns affinity_pred_value over every completed child and
// over the predicted binders, for the histogram (after Finish).
func (a *Aggregator) PredValues() (all, binders []float64) { return a.pred, a.binderPred }

// CSVWriter writes batch_results.csv (pass 2): it takes the rows in the
// order Add saw the children and writes them, at Close, in rank order.
type CSVWriter struct {
	a         *Aggregator
	out       io.Writer
	w         *csv.Writer // encodes into buf
	buf       bytes.Buffer
	cols      []string // metadata keys, sorted
	rec       []string
	ends      []int // by position: the end of the row's text in buf
	headerEnd int
	n         int
	err       error
	wrote     bool
}

// NewCSV starts batch_results.csv on w (after Finish): one row per child,
// ranked children first in rank order, then the children that were not
// ranked (failed, filtered, cancelled, unfinished) in batch_index order,
// with rank empty. Missing numbers are empty cells; numbers have 4
// decimals. The user's metadata columns follow the fixed ones, under
// their own names (prefixed "meta_" only where a name is taken).
//
// Spreadsheet applications run a cell that starts with =, +, -, @, tab or
// carriage return as a formula, so text cells that start with one of these
// get a leading single quote, unless the whole cell is a plain decimal
// number (a number is never a formula). This includes smiles: no valid
// SMILES starts with one of these characters, so only the text of invalid
// rows (kept as failed children) can ever be changed. Numeric columns are
// written by this package and never need the guard.
//
// Nothing reaches w before Close.
func (a *Aggregator) NewCSV(w io.Writer) *CSVWriter {
	keys := a.metaKeys()
	cw := &CSVWriter{a: a, out: w, cols: keys, ends: make([]int, 0, a.n)}
	cw.w = csv.NewWriter(&cw.buf)
	header := append(slices.Clone(csvHeader), metaColumns(keys)...)
	cw.rec = make([]string, len(header))
	cw.err = cw.w.Write(header)
	cw.w.Flush()
	cw.headerEnd = cw.buf.Len()
	return cw
}

// Write encodes the row of the next child; children come in the order Add
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
	cw.a.csvRow(rec, c, cw.cols)
	if cw.err = cw.w.Write(rec); cw.err != nil {
		return cw.err
	}
	cw.w.Flush()
	cw.ends = append(cw.ends, cw.buf.Len())
	return cw.w.Error()
}

// Close writes the CSV in rank order; it fails when the second pass saw
// fewer children than the first.
func (cw *CSVWriter) Close() error {
	if cw.err != nil {
		return cw.err
	}
	if cw.n != len(cw.a.rankOf) {
		return fmt.Errorf("aggregate: %d children in the second pass, %d in the first", cw.n, len(cw.a.rankOf))
	}
	if cw.wrote {
		return nil
	}
	cw.wrote = true
	data := cw.buf.Bytes()
	row := func(ord int32) []byte {
		start := cw.headerEnd
		if ord > 0 {
			start = cw.ends[ord-1]
		}
		return data[start:cw.ends[ord]]
	}
	if _, err := cw.out.Write(data[:cw.headerEnd]); err != nil {
		return err
	}
	for _, ord := range cw.a.byRank {
		if _, err := cw.out.Write(row(ord)); err != nil {
			return err
		}
	}
	for ord, r := range cw.a.rankOf {
		if r == 0 {
			if _, err := cw.out.Write(row(int32(ord))); err != nil {
				return err
			}
		}
	}
	return nil
}

// topEntry and topHeap keep the Keep best children: a max-heap under
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
