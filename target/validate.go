package target

import (
	"fmt"
	"regexp"
	"strings"
)

// AtomCounter counts a ligand's atoms as Boltz counts them for its
// affinity limit and its tokens: heavy atoms, plus the hydrogens RDKit's
// RemoveHs keeps (isotopic ones). Exactly one of smiles and ccd is set.
// Package chem implements it; this package does not depend on chem.
type AtomCounter interface {
	HeavyAtoms(smiles, ccd string) (int, error)
}

// Boltz-2's limit on an affinity ligand: schema.py L1205-1208 (a CCD
// component, as stored) and L1267-1269 (a SMILES ligand, after RemoveHs,
// L1263) refuse more than 128 atoms.
const MaxAffinityAtoms = 128

// Sequence alphabets: the letters Boltz's const.py maps to a residue
// (prot_letter_to_token L140-168, rna_letter_to_token L173-179,
// dna_letter_to_token L182-188). Boltz reads any other character as the
// unknown residue (schema.py L1163, token_map.get(c, unk_token)), and "-"
// as the gap token, which is no residue (parse_polymer, L857-858, then
// loads a CCD component named "-"); OMTX refuses both rather than model
// an unknown residue the user did not ask for.
var alphabets = map[string]string{
	Protein: "ARNDCEQGHILKMFPSTWYVXJBZOU",
	DNA:     "AGCTN",
	RNA:     "AGCUN",
}

// ccdCode is the form of a wwPDB Chemical Component Dictionary id: one to
// five upper-case letters and digits (three before the 2023 extension).
var ccdCode = regexp.MustCompile(`^[A-Z0-9]{1,5}$`)

// fieldNames names the parts of a Target in the input's own terms.
type fieldNames struct {
	entities    string   // "chains" (JSON) or "sequences" (YAML)
	chain       []string // prefix of t.Chains[i], e.g. "chains[0]" or "sequences[0].protein"
	ligand      []string
	constraint  []string // "constraints[k]"
	template    []string
	affinity    string
	ligandChain string
	// screenedHidden: constraints and affinity may not name the screened
	// ligand's chain (a Boltz file read without a chain named for it:
	// Boltz would not find the chain).
	screenedHidden bool
}

// jsonNames names a Target's parts as its JSON spells them.
func jsonNames(t *Target) fieldNames {
	n := fieldNames{entities: "chains", affinity: "affinity", ligandChain: "ligand_chain"}
	for i := range t.Chains {
		n.chain = append(n.chain, fmt.Sprintf("chains[%d]", i))
	}
	for i := range t.Ligands {
		n.ligand = append(n.ligand, fmt.Sprintf("ligands[%d]", i))
	}
	for i := range t.Constraints {
		n.constraint = append(n.constraint, fmt.Sprintf("constraints[%d]", i))
	}
	for i := range t.Templates {
		n.template = append(n.template, fmt.Sprintf("templates[%d]", i))
	}
	return n
}

// Validate normalizes t (Normalize) and checks it under Boltz's rules, as
// a target given as JSON: errors name JSON fields ("chains[1].sequence").
// counter may be nil; then the affinity binder's atoms are not counted.
func Validate(t *Target, counter AtomCounter) error {
	t.Normalize()
	return check(t, jsonNames(t), counter)
}

// chainInfo is what a constraint needs to know of a chain id.
type chainInfo struct {
	polymer  bool
	length   int    // residues of a polymer
	smiles   bool   // a ligand given by SMILES (the screened ligand is one)
	copies   int    // ids of its entity
	field    string // where it is declared
	screened bool
}

// check runs the rules that apply to any Target, however it was given.
func check(t *Target, n fieldNames, counter AtomCounter) error {
	if len(t.Chains) == 0 && len(t.Ligands) == 0 {
		// schema.py L1315-1318: "No chains parsed!". A target needs at
		// least one polymer or fixed ligand.
		return refuse(n.entities, RuleSequences, "the target has no chains")
	}
	chains := map[string]chainInfo{}
	addID := func(field, id string, info chainInfo) error {
		if id == "" {
			return refuse(field, RuleChainID, "chain id is empty")
		}
		if prev, dup := chains[id]; dup {
			// schema.py L1301-1308: chains[chain_name] = parsed_chain
			// silently replaces an earlier chain of the same id.
			return refuse(field, RuleUniqueID, "chain id %q is already used by %s", id, prev.field)
		}
		info.field = field
		chains[id] = info
		return nil
	}
	type group struct {
		field  string
		chain  *Chain
		msaKey string
	}
	groups := map[string]group{}
	for i := range t.Chains {
		c, p := &t.Chains[i], n.chain[i]
		if c.Type != Protein && c.Type != DNA && c.Type != RNA {
			// schema.py L1020-1023.
			return refuse(p+".type", RuleEntityType, "entity type %q is not protein, dna or rna", c.Type)
		}
		if len(c.IDs) == 0 {
			return refuse(p+".id", RuleChainID, "a chain needs an id")
		}
		if err := checkSequence(p+".sequence", c.Type, c.Sequence); err != nil {
			return err
		}
		for j, id := range c.IDs {
			f := p + ".id"
			if len(c.IDs) > 1 {
				f = fmt.Sprintf("%s.id[%d]", p, j)
			}
			if err := addID(f, id, chainInfo{polymer: true, length: len(c.Sequence), copies: len(c.IDs)}); err != nil {
				return err
			}
		}
		for j, m := range c.Modifications {
			f := fmt.Sprintf("%s.modifications[%d]", p, j)
			// schema.py L1165-1169: seq[position - 1] = ccd; a position
			// out of range fails there (or, at 0 or below, silently
			// modifies a residue counted from the end).
			if m.Position < 1 || m.Position > len(c.Sequence) {
				return refuse(f+".position", RuleModification,
					"position %d is outside the sequence (1 to %d)", m.Position, len(c.Sequence))
			}
			if !ccdCode.MatchString(m.CCD) {
				return refuse(f+".ccd", RuleCCD, "%q is not a CCD code (1-5 upper-case letters or digits)", m.CCD)
			}
		}
		msaKey := ""
		if c.MSA != nil {
			if c.Type != Protein {
				// docs/prediction.md: msa is "only for protein";
				// schema.py reads it only for proteins (L1110).
				return refuse(p+".msa", RuleMSA, "only protein chains have an MSA")
			}
			switch c.MSA.Mode {
			case MSAServer, MSAEmpty:
				if c.MSA.File != "" {
					return refuse(p+".msa", RuleMSA, "an MSA of mode %q names no file", c.MSA.Mode)
				}
			case MSAFile:
				if c.MSA.File == "" {
					return refuse(p+".msa", RuleMSA, "an MSA of mode file needs the file's name")
				}
			default:
				return refuse(p+".msa", RuleMSA, "MSA mode %q is not server, file or empty", c.MSA.Mode)
			}
			msaKey = c.MSA.Mode + "\x00" + c.MSA.File
		}
		// schema.py L1014-1037 group entries by (type, sequence) into one
		// entity; L1116-1124 refuse an entity whose entries' MSAs differ,
		// and L1166 and L1171 take the modifications and cyclic flag of
		// the first entry only, silently dropping the others'. OMTX
		// refuses those too.
		key := c.Type + "\x00" + c.Sequence
		if g, ok := groups[key]; ok {
			if g.msaKey != msaKey {
				return refuse(p+".msa", RuleMSA,
					"all proteins with the same sequence must share the same MSA (as %s)", g.field)
			}
			if fmt.Sprint(g.chain.Modifications) != fmt.Sprint(c.Modifications) || g.chain.Cyclic != c.Cyclic {
				return refuse(p, RuleEntityGroup,
					"has the sequence of %s but other modifications or cyclic flag; Boltz would apply only the first's (list both ids in one entry)", g.field)
			}
		} else {
			groups[key] = group{field: p, chain: c, msaKey: msaKey}
		}
	}
	for i := range t.Ligands {
		l, p := &t.Ligands[i], n.ligand[i]
		if len(l.IDs) == 0 {
			return refuse(p+".id", RuleChainID, "a ligand needs an id")
		}
		if err := checkLigandSource(p, l.SMILES, l.CCD); err != nil {
			return err
		}
		for j, id := range l.IDs {
			f := p + ".id"
			if len(l.IDs) > 1 {
				f = fmt.Sprintf("%s.id[%d]", p, j)
			}
			if err := addID(f, id, chainInfo{smiles: l.SMILES != "", copies: len(l.IDs)}); err != nil {
				return err
			}
		}
	}
	if t.LigandChain == "" {
		return refuse(n.ligandChain, RuleLigandChain, "every chain id A-Z is taken; name the screened ligand's chain")
	}
	if err := addID(n.ligandChain, t.LigandChain, chainInfo{smiles: true, copies: 1, screened: true}); err != nil {
		return err
	}
	if n.screenedHidden {
		delete(chains, t.LigandChain)
	}
	for k, c := range t.Constraints {
		if err := checkConstraint(n.constraint[k], c, chains); err != nil {
			return err
		}
	}
	for k, tp := range t.Templates {
		if err := checkTemplate(n.template[k], tp, t); err != nil {
			return err
		}
	}
	if t.Affinity != nil {
		if err := checkAffinity(n.affinity+".binder", t.Affinity.Binder, t, chains, counter); err != nil {
			return err
		}
	}
	return nil
}

func checkSequence(field, typ, seq string) error {
	if seq == "" {
		// schema.py L1027: a polymer needs a sequence.
		return refuse(field, RuleSequence, "is required")
	}
	alpha := alphabets[typ]
	for i, r := range seq {
		if !strings.ContainsRune(alpha, r) {
			hint := ""
			if r >= 'a' && r <= 'z' {
				hint = "; Boltz reads lower-case letters as unknown residues, write them in upper case"
			}
			return refuse(field, RuleSequence, "character %q at position %d is not in the %s alphabet %s%s",
				r, i+1, typ, alpha, hint)
		}
	}
	return nil
}

func checkLigandSource(p, smiles, ccd string) error {
	switch {
	case smiles == "" && ccd == "":
		// schema.py L1029: assert "smiles" in ... or "ccd" in ...
		return refuse(p, RuleLigandSource, "a ligand needs smiles or ccd")
	case smiles != "" && ccd != "":
		// schema.py L1030: not both.
		return refuse(p, RuleLigandSource, "a ligand takes smiles or ccd, not both")
	case ccd != "" && !ccdCode.MatchString(ccd):
		return refuse(p+".ccd", RuleCCD, "%q is not a CCD code (1-5 upper-case letters or digits)", ccd)
	}
	return nil
}

func checkMaxDistance(field string, d float64) error {
	// docs/prediction.md, "Constraints": max_distance is "supported
	// between 4A and 20A". schema.py passes any value on.
	if d < MinMaxDistance || d > MaxMaxDistance {
		return refuse(field, RuleConstraint, "max_distance %g is outside Boltz's supported %g to %g Å", d, MinMaxDistance, MaxMaxDistance)
	}
	return nil
}

// checkToken ports token_spec_to_ids (schema.py L929-938): a polymer's
// token is a 1-based residue index, a ligand's an atom name; an unknown
// chain fails its chain_to_idx lookup.
func checkToken(field string, r TokenRef, chains map[string]chainInfo) error {
	c, ok := chains[r.Chain]
	if !ok {
		return refuse(field, RuleConstraint, "chain %q is not in the target", r.Chain)
	}
	if c.polymer {
		if r.Atom != "" {
			return refuse(field, RuleConstraint, "chain %q is a polymer: give a residue index, not an atom name", r.Chain)
		}
		if r.Residue < 1 || r.Residue > c.length {
			return refuse(field, RuleConstraint, "residue %d is outside chain %q (1 to %d)", r.Residue, r.Chain, c.length)
		}
		return nil
	}
	if r.Atom == "" {
		// schema.py L932-935: a non-polymer is indexed by atom name.
		return refuse(field, RuleConstraint, "chain %q is a ligand: give an atom name, not a residue index", r.Chain)
	}
	return checkAtomName(field, r.Atom)
}

func checkAtomName(field, name string) error {
	// Atom names are at most 4 characters (schema.py L1250-1255 for
	// SMILES ligands; the PDB's atom-name width for CCD components).
	if len(name) > 4 || strings.ContainsAny(name, " \t\n") {
		return refuse(field, RuleConstraint, "atom name %q is not 1-4 characters without spaces", name)
	}
	return nil
}

func checkConstraint(p string, c Constraint, chains map[string]chainInfo) error {
	set := 0
	for _, ok := range []bool{c.Pocket != nil, c.Contact != nil, c.Bond != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		// schema.py L1595-1597: "Invalid constraint".
		return refuse(p, RuleConstraint, "a constraint is exactly one of pocket, contact or bond")
	}
	switch {
	case c.Pocket != nil:
		q := p + ".pocket"
		// schema.py L1528-1533: binder and contacts are required.
		if c.Pocket.Binder == "" {
			return refuse(q+".binder", RuleConstraint, "is required")
		}
		if len(c.Pocket.Contacts) == 0 {
			return refuse(q+".contacts", RuleConstraint, "is required")
		}
		// schema.py L1545: chain_to_idx[binder].
		if _, ok := chains[c.Pocket.Binder]; !ok {
			return refuse(q+".binder", RuleConstraint, "chain %q is not in the target", c.Pocket.Binder)
		}
		for j, r := range c.Pocket.Contacts {
			f := fmt.Sprintf("%s.contacts[%d]", q, j)
			if err := checkToken(f, r, chains); err != nil {
				return err
			}
		}
		return checkMaxDistance(q+".max_distance", c.Pocket.MaxDistance)
	case c.Contact != nil:
		q := p + ".contact"
		// schema.py L1563-1568 and L1576-1591.
		if err := checkToken(q+".token1", c.Contact.Token1, chains); err != nil {
			return err
		}
		if err := checkToken(q+".token2", c.Contact.Token2, chains); err != nil {
			return err
		}
		return checkMaxDistance(q+".max_distance", c.Contact.MaxDistance)
	default:
		q := p + ".bond"
		// schema.py L1518-1525: both atoms, each found in atom_idx_map by
		// (chain, residue index - 1, atom name).
		for i, a := range []AtomRef{c.Bond.Atom1, c.Bond.Atom2} {
			f := fmt.Sprintf("%s.atom%d", q, i+1)
			ci, ok := chains[a.Chain]
			if !ok {
				return refuse(f, RuleConstraint, "chain %q is not in the target", a.Chain)
			}
			if a.Atom == "" {
				return refuse(f, RuleConstraint, "an atom name is required")
			}
			if err := checkAtomName(f, a.Atom); err != nil {
				return err
			}
			max := 1 // a ligand is one residue (docs: "1 for ligands")
			if ci.polymer {
				max = ci.length
			}
			if a.Residue < 1 || a.Residue > max {
				return refuse(f, RuleConstraint, "residue %d is outside chain %q (1 to %d)", a.Residue, a.Chain, max)
			}
			if !ci.polymer && ci.smiles {
				// docs/prediction.md, "Constraints": bonds are "only
				// supported for CCD ligands and canonical residues".
				return refuse(f, RuleConstraint, "chain %q is a SMILES ligand; Boltz supports bonds only to CCD ligands and canonical residues", a.Chain)
			}
		}
		return nil
	}
}

func checkTemplate(p string, tp Template, t *Target) error {
	switch {
	case tp.CIF == "" && tp.PDB == "":
		// schema.py L1611-1619.
		return refuse(p, RuleTemplate, "a template needs a cif or pdb file")
	case tp.CIF != "" && tp.PDB != "":
		// schema.py L1611-1616 would take the cif and ignore the pdb.
		return refuse(p, RuleTemplate, "a template takes cif or pdb, not both")
	}
	// schema.py L1633-1646: with both, as many template_id as chain_id.
	if len(tp.TemplateIDs) > 0 && len(tp.ChainIDs) > 0 && len(tp.TemplateIDs) != len(tp.ChainIDs) {
		return refuse(p+".template_id", RuleTemplate,
			"%d template ids for %d chain ids; give one per chain", len(tp.TemplateIDs), len(tp.ChainIDs))
	}
	proteins := map[string]bool{}
	for _, c := range t.Chains {
		if c.Type == Protein {
			for _, id := range c.IDs {
				proteins[id] = true
			}
		}
	}
	if len(proteins) == 0 {
		// schema.py L1649-1650 template all protein chains by default;
		// with none, the template would template nothing.
		return refuse(p, RuleTemplate, "the target has no protein chain to template")
	}
	for j, id := range tp.ChainIDs {
		// schema.py L1652-1658.
		if !proteins[id] {
			return refuse(fmt.Sprintf("%s.chain_id[%d]", p, j), RuleTemplate, "chain %q is not one of the protein chains", id)
		}
	}
	for j, id := range tp.TemplateIDs {
		if id == "" {
			return refuse(fmt.Sprintf("%s.template_id[%d]", p, j), RuleTemplate, "is empty")
		}
	}
	// schema.py L1693-1699: force needs a threshold.
	if tp.Force && tp.Threshold == nil {
		return refuse(p+".threshold", RuleTemplate, "is required when force is true")
	}
	if tp.Threshold != nil && *tp.Threshold <= 0 {
		return refuse(p+".threshold", RuleTemplate, "must be a positive distance in Å")
	}
	return nil
}

func checkAffinity(field, binder string, t *Target, chains map[string]chainInfo, counter AtomCounter) error {
	c, ok := chains[binder]
	switch {
	case binder == "":
		return refuse(field, RuleAffinity, "is required")
	case !ok:
		// schema.py L1061-1063.
		return refuse(field, RuleAffinity, "could not find binder %q in the target", binder)
	case c.polymer:
		// schema.py L1065-1070.
		return refuse(field, RuleAffinity, "chain %q is not a ligand; affinity is only supported for ligands", binder)
	case c.copies > 1:
		// schema.py L1099-1104.
		return refuse(field, RuleAffinity, "cannot compute affinity for ligand %q, which has %d copies", binder, c.copies)
	}
	if counter == nil || c.screened {
		return nil
	}
	for _, l := range t.Ligands {
		if l.IDs[0] != binder {
			continue
		}
		n, err := counter.HeavyAtoms(l.SMILES, l.CCD)
		if err != nil {
			return refuse(field, RuleAffinity, "cannot count the atoms of ligand %q: %v", binder, err)
		}
		if n > MaxAffinityAtoms {
			// schema.py L1205-1208, L1267-1269.
			return refuse(field, RuleAffinity, "ligand %q has %d atoms; Boltz's affinity module takes at most %d", binder, n, MaxAffinityAtoms)
		}
	}
	return nil
}
