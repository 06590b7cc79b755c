package target

// RequiresBoltz says whether t needs more than the descriptor baseline
// (omtx.BaselineModel, "descriptor-baseline-v1") models: one protein
// chain, one copy, and the screened ligand. It returns the JSON field of
// the first part the baseline cannot model, and true; or "", false. The
// API refuses such a target for the baseline with a 422 naming that
// field, rather than run it with those parts silently dropped. A
// protein's MSA mode is not such a part: the baseline reads no MSA.
func RequiresBoltz(t *Target) (field string, ok bool) {
	switch {
	case len(t.Chains) == 0:
		return "chains", true
	case len(t.Chains) > 1:
		return "chains[1]", true
	}
	c := t.Chains[0]
	switch {
	case c.Type != Protein:
		return "chains[0].type", true
	case len(c.IDs) > 1:
		return "chains[0].id", true
	case len(c.Modifications) > 0:
		return "chains[0].modifications", true
	case c.Cyclic:
		return "chains[0].cyclic", true
	case len(t.Ligands) > 0:
		return "ligands[0]", true
	case len(t.Constraints) > 0:
		return "constraints[0]", true
	case len(t.Templates) > 0:
		return "templates[0]", true
	case t.Affinity != nil:
		// The screened ligand is the baseline's only binder.
		return "affinity", true
	}
	return "", false
}

// CheckBaseline is RequiresBoltz as a refusal: it refuses t for the
// baseline model named model, naming the first field it cannot model.
func CheckBaseline(t *Target, model string) error {
	if f, ok := RequiresBoltz(t); ok {
		return refuse(f, RuleRequiresBoltz,
			"%s models one protein chain and the screened ligand; this part of the target needs Boltz-2", model)
	}
	return nil
}
