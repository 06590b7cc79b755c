package omtx

import (
	"fmt"
	"strings"
)

// Ranking names the question a screen's ranked list answers. Boltz-2's
// authors advise affinity_probability_binary for hit discovery (telling
// binders from decoys) and affinity_pred_value for comparing actives in
// lead optimization (jwohlwend/boltz docs/prediction.md, section "Output", the paragraphs
// on affinity_probability_binary and affinity_pred_value).
type Ranking string

const (
	// RankingHitDiscovery orders by affinity_probability_binary
	// descending, then affinity_pred_value ascending. The default.
	RankingHitDiscovery Ranking = "hit_discovery"
	// RankingLeadOptimization orders predicted binders (probability at or
	// above the binder threshold) by affinity_pred_value ascending, then
	// the rest by the same key.
	RankingLeadOptimization Ranking = "lead_optimization"
)

// Rankings lists the ranking modes, the default first.
var Rankings = []Ranking{RankingHitDiscovery, RankingLeadOptimization}

// DefaultBinderThreshold is the affinity_probability_binary at and above
// which a ligand counts as a predicted binder, unless a request sets its
// own.
const DefaultBinderThreshold = 0.5

// Confidence metrics that a floor can be set on, by their names in
// Results.Metrics.
const (
	MetricLigandIPTM = "ligand_iptm"
	MetricIPTM       = "iptm"
)

// RankingOptions is the rule a batch's results are ranked by: its mode,
// the binder threshold and the optional confidence floors. The zero value
// is hit discovery at the default threshold with no floors.
type RankingOptions struct {
	Mode Ranking `json:"mode"`
	// BinderThreshold is the affinity_probability_binary at and above
	// which a ligand is a predicted binder; 0 means the default.
	BinderThreshold float64 `json:"binder_threshold"`
	// MinLigandIPTM and MinIPTM are confidence floors: a ligand whose
	// ligand_iptm (iptm) is below the floor, or not reported by the model,
	// is kept but flagged and ranked after every ligand that meets the
	// floors. Nil means no floor.
	MinLigandIPTM *float64 `json:"min_ligand_iptm,omitempty"`
	MinIPTM       *float64 `json:"min_iptm,omitempty"`
}

// Normalized fills the defaults: hit discovery, DefaultBinderThreshold.
func (o RankingOptions) Normalized() RankingOptions {
	o.Mode = Ranking(strings.TrimSpace(string(o.Mode)))
	if o.Mode == "" {
		o.Mode = RankingHitDiscovery
	}
	if o.BinderThreshold == 0 {
		o.BinderThreshold = DefaultBinderThreshold
	}
	return o
}

// Validate checks the options; errors are omtx.EInvalid and name the
// request field (ranking, binder_threshold, min_ligand_iptm, min_iptm).
func (o RankingOptions) Validate() error {
	switch Ranking(strings.TrimSpace(string(o.Mode))) {
	case "", RankingHitDiscovery, RankingLeadOptimization:
	default:
		return Errorf(EInvalid, "ranking", "must be %s or %s, not %q", RankingHitDiscovery, RankingLeadOptimization, o.Mode)
	}
	if !inUnit(o.BinderThreshold) {
		return Errorf(EInvalid, "binder_threshold", "must be a probability in [0, 1] (0: the default, %g)", DefaultBinderThreshold)
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"min_ligand_iptm", o.MinLigandIPTM}, {"min_iptm", o.MinIPTM}} {
		if f.v != nil && !inUnit(*f.v) {
			return Errorf(EInvalid, f.name, "must be a score in [0, 1]")
		}
	}
	return nil
}

func inUnit(v float64) bool { return v >= 0 && v <= 1 }

// Describe says in one sentence how the options order ligands.
func (o RankingOptions) Describe() string {
	o = o.Normalized()
	var b strings.Builder
	switch o.Mode {
	case RankingLeadOptimization:
		fmt.Fprintf(&b, "Lead optimization: predicted binders (affinity_probability_binary >= %s) first, "+
			"ordered by affinity_pred_value ascending (log10(IC50 / µM), lower = stronger), "+
			"then the rest by affinity_pred_value ascending", fmtNum(o.BinderThreshold))
	default:
		b.WriteString("Hit discovery: ordered by affinity_probability_binary descending (most likely binders first), " +
			"then affinity_pred_value ascending (log10(IC50 / µM), lower = stronger)")
	}
	var floors []string
	if o.MinLigandIPTM != nil {
		floors = append(floors, "ligand_iptm >= "+fmtNum(*o.MinLigandIPTM))
	}
	if o.MinIPTM != nil {
		floors = append(floors, "iptm >= "+fmtNum(*o.MinIPTM))
	}
	if len(floors) > 0 {
		fmt.Fprintf(&b, "; ligands below the confidence floors (%s) are flagged and ranked after the others", strings.Join(floors, ", "))
	}
	b.WriteString("; ties go to the lower batch_index; ligands that did not complete (failed, filtered, cancelled) follow every ranked one, unranked.")
	return b.String()
}

func fmtNum(v float64) string { return fmt.Sprintf("%g", v) }

// RankingOptions returns the batch's ranking rule (normalized).
func (c *BatchConfig) RankingOptions() RankingOptions {
	if c == nil {
		return RankingOptions{}.Normalized()
	}
	return RankingOptions{Mode: c.Ranking, BinderThreshold: c.BinderThreshold, MinLigandIPTM: c.MinLigandIPTM, MinIPTM: c.MinIPTM}.Normalized()
}

// SetRanking records o (validated by the caller with Validate) as the
// batch's ranking rule, normalized, so batch_config.json and the parent
// document say which rule the results follow.
func (c *BatchConfig) SetRanking(o RankingOptions) {
	o = o.Normalized()
	c.Ranking, c.BinderThreshold, c.MinLigandIPTM, c.MinIPTM = o.Mode, o.BinderThreshold, o.MinLigandIPTM, o.MinIPTM
}

// Names of the affinity quantities, so every table, axis and field says
// which one it shows. "Affinity" alone is never a name: the old JSON field
// "affinity" is an alias of delta_g_kcal_mol, kept for compatibility.
const (
	QuantityAffinityPredValue = "affinity_pred_value, log10(IC50 / µM) (lower = stronger)"
	QuantityPIC50             = "pIC50, -log10(IC50 / M) (higher = stronger)"
	QuantityDeltaG            = "ΔG, kcal/mol (lower = stronger)"
	QuantityProbabilityBinary = "affinity_probability_binary, P(binder) [0,1] (higher = more likely a binder)"
)

// BaselineNote says in one short line what the descriptor baseline is,
// wherever it serves a request.
const BaselineNote = "ligand-only descriptor model; ignores the protein"

// ModelNote returns BaselineNote for the baseline, "" for other models.
func ModelNote(model string) string {
	if model == BaselineModel {
		return BaselineNote
	}
	return ""
}
