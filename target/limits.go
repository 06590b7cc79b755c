package target

import (
	"fmt"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Limits bound a target before any work. Zero means no limit for that
// field. DefaultLimits gives the documented defaults.
type Limits struct {
	// MaxChains bounds the chains of the complex: every copy of every
	// polymer and fixed ligand, and the screened ligand. Default 20.
	MaxChains int `json:"max_chains"`
	// MaxCopies bounds the ids of one entry. Default 12.
	MaxCopies int `json:"max_copies"`
	// MaxTokens bounds the complex's size as Boltz tokenizes it (Tokens),
	// without the screened ligand. Default: the largest GPU class's token
	// budget (omtx.DefaultFleetSpec's a100-80g: 4000); a deployment with
	// another fleet uses LimitsForFleet.
	MaxTokens int `json:"max_tokens"`
	// MaxModifications bounds the modified residues of the whole target.
	// Default 64.
	MaxModifications int `json:"max_modifications"`
	// MaxConstraints bounds the constraints. Default 32.
	MaxConstraints int `json:"max_constraints"`
	// MaxContacts bounds one pocket's contacts. Default 64.
	MaxContacts int `json:"max_contacts"`
	// MaxTemplates bounds the templates. Default 4.
	MaxTemplates int `json:"max_templates"`
	// MaxYAMLBytes bounds a Boltz YAML. Default 1 MiB.
	MaxYAMLBytes int `json:"max_yaml_bytes"`
	// MaxA3MBytes bounds one uploaded MSA file. Default 64 MiB, room for
	// a deep alignment of a long chain.
	MaxA3MBytes int64 `json:"max_a3m_bytes"`
	// MaxTemplateBytes bounds one uploaded mmCIF or PDB file. Default
	// 16 MiB.
	MaxTemplateBytes int64 `json:"max_template_bytes"`
}

// DefaultLimits are the limits for the default fleet.
func DefaultLimits() Limits {
	f, err := omtx.ParseFleet(omtx.DefaultFleetSpec)
	if err != nil {
		panic(fmt.Sprintf("target: default fleet: %v", err))
	}
	return LimitsForFleet(f)
}

// LimitsForFleet are the default limits with MaxTokens set to the
// largest class's budget: a complex no GPU class holds is refused before
// any work.
func LimitsForFleet(f omtx.Fleet) Limits {
	l := Limits{
		MaxChains:        20,
		MaxCopies:        12,
		MaxModifications: 64,
		MaxConstraints:   32,
		MaxContacts:      64,
		MaxTemplates:     4,
		MaxYAMLBytes:     1 << 20,
		MaxA3MBytes:      64 << 20,
		MaxTemplateBytes: 16 << 20,
	}
	for _, c := range f {
		l.MaxTokens = max(l.MaxTokens, c.MaxTokens)
	}
	return l
}

// Tokens counts t's tokens as Boltz-2 tokenizes a complex
// (src/boltz/data/tokenize/boltz2.py): one per residue or nucleotide of
// every polymer copy, modified residues included (L181-182 standard
// residues, L309 "Modified residues in Boltz-2 are tokenized at residue
// level"), and one per heavy atom of every ligand copy (L259-260
// "Non-standard are tokenized per atom"; hydrogens are removed, schema.py
// L1263). The screened ligand is not counted: add its heavy atoms for one
// job. counter may be nil only when t has no fixed ligands.
func Tokens(t *Target, counter AtomCounter) (int, error) {
	n := 0
	for _, c := range t.Chains {
		n += len(c.Sequence) * len(c.IDs)
	}
	for i, l := range t.Ligands {
		if counter == nil {
			return 0, fmt.Errorf("count tokens: ligand %d needs an atom counter", i)
		}
		a, err := counter.HeavyAtoms(l.SMILES, l.CCD)
		if err != nil {
			return 0, fmt.Errorf("count tokens: ligand %d: %w", i, err)
		}
		n += a * len(l.IDs)
	}
	return n, nil
}

// CheckBounds checks t, given as JSON, against l: the shape (chains,
// copies, modifications, constraints, templates) and, with a counter,
// the tokens. Errors name JSON fields.
func (l Limits) CheckBounds(t *Target, counter AtomCounter) error {
	n := jsonNames(t)
	if err := l.checkShape(t, n); err != nil {
		return err
	}
	return l.checkTokens(t, n.entities, counter)
}

func (l Limits) checkTokens(t *Target, field string, counter AtomCounter) error {
	if l.MaxTokens <= 0 || (counter == nil && len(t.Ligands) > 0) {
		return nil
	}
	n, err := Tokens(t, counter)
	if err != nil {
		return refuse(field, RuleBounds, "%v", err)
	}
	if n > l.MaxTokens {
		return refuse(field, RuleBounds,
			"the complex has %d tokens (residues + ligand heavy atoms), more than the largest GPU class holds: %d", n, l.MaxTokens)
	}
	return nil
}

func (l Limits) checkShape(t *Target, n fieldNames) error {
	chainsField := n.entities
	mods := 0
	for i, c := range t.Chains {
		if l.MaxCopies > 0 && len(c.IDs) > l.MaxCopies {
			return refuse(n.chain[i]+".id", RuleBounds, "%d copies; at most %d are accepted", len(c.IDs), l.MaxCopies)
		}
		mods += len(c.Modifications)
		if l.MaxModifications > 0 && mods > l.MaxModifications {
			return refuse(n.chain[i]+".modifications", RuleBounds, "the target has more than %d modified residues", l.MaxModifications)
		}
	}
	for i, lg := range t.Ligands {
		if l.MaxCopies > 0 && len(lg.IDs) > l.MaxCopies {
			return refuse(n.ligand[i]+".id", RuleBounds, "%d copies; at most %d are accepted", len(lg.IDs), l.MaxCopies)
		}
	}
	if l.MaxChains > 0 {
		if c := len(t.ChainIDList()) + 1; c > l.MaxChains {
			return refuse(chainsField, RuleBounds, "the complex has %d chains with the screened ligand; at most %d are accepted", c, l.MaxChains)
		}
	}
	if l.MaxConstraints > 0 && len(t.Constraints) > l.MaxConstraints {
		return refuse("constraints", RuleBounds, "%d constraints; at most %d are accepted", len(t.Constraints), l.MaxConstraints)
	}
	for i, c := range t.Constraints {
		if c.Pocket != nil && l.MaxContacts > 0 && len(c.Pocket.Contacts) > l.MaxContacts {
			return refuse(n.constraint[i]+".pocket.contacts", RuleBounds, "%d contacts; at most %d are accepted", len(c.Pocket.Contacts), l.MaxContacts)
		}
	}
	if l.MaxTemplates > 0 && len(t.Templates) > l.MaxTemplates {
		return refuse("templates", RuleBounds, "%d templates; at most %d are accepted", len(t.Templates), l.MaxTemplates)
	}
	return nil
}

// CheckA3M bounds one uploaded MSA file of size bytes; field names it.
func (l Limits) CheckA3M(field string, size int64) error {
	if l.MaxA3MBytes > 0 && size > l.MaxA3MBytes {
		return refuse(field, RuleBounds, "the MSA file is %d bytes; at most %d are accepted", size, l.MaxA3MBytes)
	}
	return nil
}

// CheckTemplateFile bounds one uploaded mmCIF or PDB file.
func (l Limits) CheckTemplateFile(field string, size int64) error {
	if l.MaxTemplateBytes > 0 && size > l.MaxTemplateBytes {
		return refuse(field, RuleBounds, "the template file is %d bytes; at most %d are accepted", size, l.MaxTemplateBytes)
	}
	return nil
}
