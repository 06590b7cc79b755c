package ranking

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// RankingRule states, in words, the default order (hit discovery, no
// confidence floors). A batch's own rule is written into
// batch_results.json, summary.json and the parent document by Describe.
var RankingRule = omtx.RankingOptions{}.Describe()

// BinderThreshold is the default affinity_probability_binary at and above
// which a ligand counts as a predicted binder.
const BinderThreshold = omtx.DefaultBinderThreshold

// statusFiltered is the status of a ligand that a pre-GPU filter held
// back: it is never ranked, and is counted apart from failures.
const statusFiltered = omtx.StatusFiltered

// ranker orders completed children by one ranking rule.
type ranker struct{ o omtx.RankingOptions }

func newRanker(o omtx.RankingOptions) ranker { return ranker{o.Normalized()} }

// rankKey is what ranking needs of one completed child: 32 bytes, so a
// batch of any size is ranked without holding its documents. group comes
// first (ligands at or above the confidence floors, then those below; in
// lead optimization binders before the rest within each), then k1 and k2,
// the mode's keys, ascending; ord is the child's position in batch_index
// order (children without an index last, then by job id), the final
// tie-break. So compareKeys is one total order whatever the mode.
type rankKey struct {
	k1, k2 float64
	ord    int32
	group  uint8
}

func (rk ranker) key(r *omtx.Results, ord int) rankKey {
	k := rankKey{ord: int32(ord)}
	if len(rk.belowFloors(r)) > 0 {
		k.group = 2
	}
	switch rk.o.Mode {
	case omtx.RankingLeadOptimization:
		if !rk.isBinder(r) {
			k.group++
		}
		// Value ascending, then the more likely binder.
		k.k1, k.k2 = r.AffinityPredValue, -r.AffinityProbabilityBinary
	default:
		// Probability descending, then value ascending.
		k.k1, k.k2 = -r.AffinityProbabilityBinary, r.AffinityPredValue
	}
	return k
}

// compareKeys orders two ranked children; it is a total order.
func compareKeys(a, b rankKey) int {
	if c := cmp.Compare(a.group, b.group); c != 0 {
		return c
	}
	if c := cmp.Compare(a.k1, b.k1); c != 0 {
		return c
	}
	if c := cmp.Compare(a.k2, b.k2); c != 0 {
		return c
	}
	return cmp.Compare(a.ord, b.ord)
}

func (rk ranker) isBinder(r *omtx.Results) bool {
	return r.AffinityProbabilityBinary >= rk.o.BinderThreshold
}

// belowFloors names the confidence floors r is below. A metric the model
// did not report (the descriptor baseline reports none) counts as below
// its floor: the floor asks for a confidence the result does not show.
func (rk ranker) belowFloors(r *omtx.Results) []string {
	var out []string
	check := func(name string, floor *float64) {
		if floor == nil {
			return
		}
		v, ok := r.Metrics[name]
		if !ok || math.IsNaN(v) || v < *floor {
			out = append(out, name)
		}
	}
	check(omtx.MetricLigandIPTM, rk.o.MinLigandIPTM)
	check(omtx.MetricIPTM, rk.o.MinIPTM)
	return out
}

// Rank returns the completed children in the default order (hit
// discovery, see RankingRule).
func Rank(children []*omtx.Job) []*omtx.Job { return RankBy(children, omtx.RankingOptions{}) }

// RankBy returns the completed children in the order o describes. Ties
// are broken by batch_index ascending (a child without a batch_index comes
// after those with one), then by job ID, so the order never depends on the
// order of children. Children that are not completed, or whose results are
// missing or non-finite, are left out. RankBy does not modify children.
func RankBy(children []*omtx.Job, o omtx.RankingOptions) []*omtx.Job {
	rk := newRanker(o)
	ordered := InIndexOrder(children)
	type ranked struct {
		key rankKey
		job *omtx.Job
	}
	var rs []ranked
	for i, c := range ordered {
		if rankable(c) {
			rs = append(rs, ranked{rk.key(c.Results, i), c})
		}
	}
	slices.SortFunc(rs, func(a, b ranked) int { return compareKeys(a.key, b.key) })
	out := make([]*omtx.Job, len(rs))
	for i, r := range rs {
		out[i] = r.job
	}
	return out
}

// InIndexOrder returns the non-nil children sorted by batch_index
// (missing last), then job ID: the order an Aggregator takes them in.
func InIndexOrder(children []*omtx.Job) []*omtx.Job {
	out := make([]*omtx.Job, 0, len(children))
	for _, c := range children {
		if c != nil {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, compareIndex)
	return out
}

// rankable reports whether c completed with usable results.
func rankable(c *omtx.Job) bool {
	if c == nil || c.Status != omtx.StatusCompleted || c.Results == nil {
		return false
	}
	r := c.Results
	for _, v := range [...]float64{r.AffinityPredValue, r.AffinityProbabilityBinary, r.PIC50, r.DeltaGKcalMol, r.Confidence} {
		if isNaNOrInf(v) {
			return false
		}
	}
	return true
}

// compareIndex orders children by batch_index (missing last), then job ID.
func compareIndex(a, b *omtx.Job) int {
	switch {
	case a.BatchIndex != nil && b.BatchIndex != nil:
		if c := cmp.Compare(*a.BatchIndex, *b.BatchIndex); c != 0 {
			return c
		}
	case a.BatchIndex != nil:
		return -1
	case b.BatchIndex != nil:
		return 1
	}
	return strings.Compare(a.JobID, b.JobID)
}
