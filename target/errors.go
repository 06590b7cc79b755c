package target

import (
	"fmt"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Rule names the check an input failed. The names are stable: the Boltz
// stand-in prints them, and tests match on them.
type Rule string

// The rules. Those ported from Boltz cite schema.py where they are
// checked; OMTX's own (stricter than Boltz, or bounds) say so.
const (
	RuleYAML          Rule = "yaml"           // not a YAML mapping, or a scalar of the wrong type
	RuleUnknownField  Rule = "unknown-field"  // OMTX: a key Boltz would silently ignore
	RuleVersion       Rule = "version"        // schema.py L1005-1009
	RuleSequences     Rule = "sequences"      // schema.py L1018, L1315-1318
	RuleEntityType    Rule = "entity-type"    // schema.py L1020-1023
	RuleChainID       Rule = "chain-id"       // schema.py L1040-1043, L1094-1097
	RuleUniqueID      Rule = "unique-id"      // schema.py L1301-1308
	RuleSequence      Rule = "sequence"       // schema.py L1027, L1159-1163; const.py L140-189
	RuleEntityGroup   Rule = "entity-group"   // schema.py L1014-1037, L1166, L1171
	RuleLigandSource  Rule = "ligand-source"  // schema.py L1029-1030
	RuleCCD           Rule = "ccd"            // a CCD code's form
	RuleModification  Rule = "modification"   // schema.py L1165-1169
	RuleCyclic        Rule = "cyclic"         // schema.py L1232-1234, L1293-1295
	RuleMSA           Rule = "msa"            // schema.py L1108-1139, L1310-1313
	RuleAffinity      Rule = "affinity"       // schema.py L1045-1077, L1099-1104, L1191-1193, L1205-1208, L1267-1269
	RuleConstraint    Rule = "constraint"     // schema.py L1516-1597, L929-938
	RuleTemplate      Rule = "template"       // schema.py L1610-1699
	RuleProperty      Rule = "property"       // OMTX: a property Boltz would silently ignore
	RuleFile          Rule = "file"           // OMTX: a path to a file that was not sent
	RuleLigandChain   Rule = "ligand-chain"   // OMTX: the screened ligand's chain id
	RuleUnsupported   Rule = "unsupported"    // OMTX: Boltz accepts it, OMTX does not model it yet
	RuleBounds        Rule = "bounds"         // OMTX: Limits
	RuleRequiresBoltz Rule = "requires-boltz" // OMTX: the baseline cannot model it
)

// Error is a refused input: the field path (as the input spells it, e.g.
// "sequences[2].protein.modifications[0].position" for a Boltz YAML or
// "chains[1].modifications[0].position" for a JSON target), the rule and
// why. errors.As finds an *omtx.Error in it with code omtx.EInvalid and
// the same field, so the API answers 422 naming the field.
type Error struct {
	Field   string
	Rule    Rule
	Message string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s [rule %s]", e.Message, e.Rule)
	}
	return fmt.Sprintf("%s: %s [rule %s]", e.Field, e.Message, e.Rule)
}

// As lets errors.As(err, &omtxErr) see a domain error for the API.
func (e *Error) As(target any) bool {
	p, ok := target.(**omtx.Error)
	if !ok {
		return false
	}
	*p = &omtx.Error{Code: omtx.EInvalid, Field: e.Field, Message: e.Message}
	return true
}

func refuse(field string, rule Rule, format string, args ...any) *Error {
	return &Error{Field: field, Rule: rule, Message: fmt.Sprintf(format, args...)}
}
