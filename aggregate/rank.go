package aggregate

import (
	"cmp"
	"slices"
	"strings"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// RankingRule states, in words, the order that Rank produces. It is written
// into batch_results.json, summary.json, the parent document and the README
// of the structures archive.
const RankingRule = "Ligands predicted to bind (affinity_probability_binary >= 0.5) rank first, " +
	"ordered by affinity_pred_value ascending (lower log10(IC50 / µM) = stronger); " +
	"the rest follow, ordered by affinity_probability_binary descending, then affinity_pred_value ascending; " +
	"remaining ties go to the lower batch_index; ligands that did not complete are not ranked."

// BinderThreshold is the affinity_probability_binary at and above which a
// ligand counts as a predicted binder.
const BinderThreshold = 0.5

// rankKey is what ranking needs of one completed child: 24 bytes, so a
// batch of any size is ranked without holding its documents. ord is the
// child's position in batch_index order (children without an index last,
// then by job id), the final tie-break.
type rankKey struct {
	prob, pred float64
	ord        int32
}

func keyOf(r *omtx.Results, ord int) rankKey {
	return rankKey{prob: r.AffinityProbabilityBinary, pred: r.AffinityPredValue, ord: int32(ord)}
}

// compareKeys orders two ranked children; it is a total order.
func compareKeys(a, b rankKey) int {
	ba, bb := a.prob >= BinderThreshold, b.prob >= BinderThreshold
	if ba != bb {
		if ba {
			return -1
		}
		return 1
	}
	if !ba {
		// Non-binders: more likely binders first.
		if c := cmp.Compare(b.prob, a.prob); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(a.pred, b.pred); c != 0 {
		return c
	}
	return cmp.Compare(a.ord, b.ord)
}

// Rank returns the completed children in rank order (see RankingRule). Ties
// are broken by batch_index ascending (a child without a batch_index comes
// after those with one), then by job ID, so the order never depends on the
// order of children. Children that are not completed, or whose results are
// missing or non-finite, are left out. Rank does not modify children.
func Rank(children []*omtx.Job) []*omtx.Job {
	ordered := inIndexOrder(children)
	type ranked struct {
		key rankKey
		job *omtx.Job
	}
	var rs []ranked
	for i, c := range ordered {
		if rankable(c) {
			rs = append(rs, ranked{keyOf(c.Results, i), c})
		}
	}
	slices.SortFunc(rs, func(a, b ranked) int { return compareKeys(a.key, b.key) })
	out := make([]*omtx.Job, len(rs))
	for i, r := range rs {
		out[i] = r.job
	}
	return out
}

// inIndexOrder returns the non-nil children sorted by compareIndex.
func inIndexOrder(children []*omtx.Job) []*omtx.Job {
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

func isBinder(r *omtx.Results) bool { return r.AffinityProbabilityBinary >= BinderThreshold }

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
