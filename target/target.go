// Package target is the domain and format layer of a Boltz-2 target: the
// complex a prediction or a screen runs against (polymer chains, fixed
// ligands, constraints, templates, MSAs) and the slot the screened ligand
// takes in it.
//
// It reads Boltz's own input YAML (docs/prediction.md of jwohlwend/boltz)
// under the rules of Boltz's src/boltz/data/parse/schema.py, each ported
// rule cited by file and line; it renders a Target back to the YAML that
// Boltz-2 runs; it bounds a Target before any work (Limits); it hashes a
// Target (Hash); and it says whether a Target needs Boltz rather than the
// descriptor baseline (RequiresBoltz).
//
// Line numbers cite jwohlwend/boltz at commit
// 832486dafed7b80e1246a3fed895e9bb03976558.
//
// The package depends on no adapter and on no chemistry toolkit: counting
// a ligand's heavy atoms is asked of an AtomCounter the caller supplies.
package target

import (
	"encoding/json"
	"fmt"
)

// Entity types of a Boltz input's sequences (docs/prediction.md, "Sequences
// and molecules").
const (
	Protein = "protein"
	DNA     = "dna"
	RNA     = "rna"
	Ligand  = "ligand"
)

// MSA modes of a protein chain.
const (
	// MSAServer: the deployment's MSA server computes the alignment. A
	// protein without `msa:` in a Boltz YAML means this (schema.py
	// L1111-1114: a missing msa is "auto-generated").
	MSAServer = "server"
	// MSAFile: an uploaded A3M (or Boltz's paired CSV), by file name.
	MSAFile = "file"
	// MSAEmpty: single-sequence mode, `msa: empty` (schema.py L1127-1134).
	// Boltz's docs call it "not recommended, as it reduces accuracy"; it is
	// never a default here.
	MSAEmpty = "empty"
)

// Boltz's defaults for constraints (docs/prediction.md, "Constraints":
// max_distance "supported between 4A and 20A with 6A as default";
// schema.py L1539 and L1574 default it to 6.0).
const (
	DefaultMaxDistance = 6.0
	MinMaxDistance     = 4.0
	MaxMaxDistance     = 20.0
)

// Target is a complex to predict or screen against. Chains and Ligands are
// kept in input order: Boltz numbers chains in the order it reads them, and
// the screened ligand always comes last.
type Target struct {
	// Chains are the polymer entities: protein, DNA, RNA.
	Chains []Chain `json:"chains"`
	// Ligands are the fixed small molecules: cofactors, ions.
	Ligands []FixedLigand `json:"ligands,omitempty"`
	// Constraints are Boltz's pocket, contact and covalent bond constraints.
	Constraints []Constraint `json:"constraints,omitempty"`
	// Templates are structural templates for protein chains.
	Templates []Template `json:"templates,omitempty"`
	// LigandChain is the chain id the screened ligand takes; constraints
	// may name it. Empty means the first letter A-Z no other chain uses
	// (Normalize fills it in).
	LigandChain string `json:"ligand_chain,omitempty"`
	// Affinity is the `properties: affinity` binder of an imported Boltz
	// file that has no screened ligand. A job's screened ligand is always
	// the affinity binder (RenderJob), in place of this.
	Affinity *Affinity `json:"affinity,omitempty"`
}

// Chain is one polymer entity: one sequence, one or more copies.
type Chain struct {
	Type string `json:"type"` // Protein, DNA or RNA
	// IDs are the chain ids of the copies ("id: A" or "id: [A, B]").
	IDs      ChainIDs `json:"id"`
	Sequence string   `json:"sequence"`
	// MSA is for protein chains only; nil means MSAServer.
	MSA           *MSA           `json:"msa,omitempty"`
	Modifications []Modification `json:"modifications,omitempty"`
	Cyclic        bool           `json:"cyclic,omitempty"`
}

// MSA says where a protein chain's alignment comes from.
type MSA struct {
	Mode string `json:"mode"` // MSAServer, MSAFile or MSAEmpty; "": MSAServer
	// File is the uploaded file's name for MSAFile. A YAML parsed without
	// a file set keeps the path as written.
	File string `json:"file,omitempty"`
}

// Modification is a modified residue: its 1-based position and CCD code.
type Modification struct {
	Position int    `json:"position"`
	CCD      string `json:"ccd"`
}

// FixedLigand is a small molecule of the target by CCD code or SMILES (one
// of the two).
type FixedLigand struct {
	IDs    ChainIDs `json:"id"`
	CCD    string   `json:"ccd,omitempty"`
	SMILES string   `json:"smiles,omitempty"`
}

// Constraint is one of Boltz's constraints; exactly one field is set.
type Constraint struct {
	Pocket  *Pocket  `json:"pocket,omitempty"`
	Contact *Contact `json:"contact,omitempty"`
	Bond    *Bond    `json:"bond,omitempty"`
}

// Pocket says the binder chain binds near the contacts.
type Pocket struct {
	Binder   string     `json:"binder"`
	Contacts []TokenRef `json:"contacts"`
	// MaxDistance in Å; 0 means Boltz's default (DefaultMaxDistance).
	MaxDistance float64 `json:"max_distance,omitempty"`
	Force       bool    `json:"force,omitempty"`
}

// Contact says two tokens are within MaxDistance of each other.
type Contact struct {
	Token1      TokenRef `json:"token1"`
	Token2      TokenRef `json:"token2"`
	MaxDistance float64  `json:"max_distance,omitempty"`
	Force       bool     `json:"force,omitempty"`
}

// Bond is a covalent bond between two atoms.
type Bond struct {
	Atom1 AtomRef `json:"atom1"`
	Atom2 AtomRef `json:"atom2"`
}

// TokenRef names a token as Boltz does: [chain, residue index] for a
// polymer (1-based), [chain, atom name] for a ligand. JSON: a two-element
// array.
type TokenRef struct {
	Chain   string
	Residue int    // polymer chains; 0 when Atom is set
	Atom    string // ligand chains
}

// AtomRef names an atom: [chain, residue index (1-based; 1 for a
// ligand), atom name]. JSON: a three-element array.
type AtomRef struct {
	Chain   string
	Residue int
	Atom    string
}

// Template is a structure file that templates protein chains.
type Template struct {
	// CIF or PDB is the file's name (one of the two).
	CIF string `json:"cif,omitempty"`
	PDB string `json:"pdb,omitempty"`
	// ChainIDs are this target's chains to template; empty: all protein
	// chains (schema.py L1649-1650).
	ChainIDs ChainIDs `json:"chain_id,omitempty"`
	// TemplateIDs are the template file's chains, one per ChainIDs entry.
	TemplateIDs ChainIDs `json:"template_id,omitempty"`
	Force       bool     `json:"force,omitempty"`
	// Threshold in Å, required with Force (schema.py L1693-1699).
	Threshold *float64 `json:"threshold,omitempty"`
}

// Affinity is the binder of Boltz's `properties: affinity`.
type Affinity struct {
	Binder string `json:"binder"`
}

// ChainIDs is one chain id or a list of copies. It reads either a string
// or an array and always writes an array.
type ChainIDs []string

// UnmarshalJSON reads "A" or ["A", "B"].
func (c *ChainIDs) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*c = ChainIDs{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("chain id must be a string or a list of strings")
	}
	*c = many
	return nil
}

// MarshalJSON writes [chain, residue] or [chain, atom].
func (r TokenRef) MarshalJSON() ([]byte, error) {
	if r.Atom != "" {
		return json.Marshal([]any{r.Chain, r.Atom})
	}
	return json.Marshal([]any{r.Chain, r.Residue})
}

// UnmarshalJSON reads [chain, residue] or [chain, atom].
func (r *TokenRef) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) != 2 {
		return fmt.Errorf("token must be [chain, residue index or atom name]")
	}
	*r = TokenRef{}
	if err := json.Unmarshal(raw[0], &r.Chain); err != nil {
		return fmt.Errorf("token's chain must be a string")
	}
	if err := json.Unmarshal(raw[1], &r.Residue); err == nil {
		return nil
	}
	if err := json.Unmarshal(raw[1], &r.Atom); err != nil || r.Atom == "" {
		return fmt.Errorf("token's second element must be a residue index or an atom name")
	}
	return nil
}

// MarshalJSON writes [chain, residue, atom].
func (r AtomRef) MarshalJSON() ([]byte, error) {
	return json.Marshal([]any{r.Chain, r.Residue, r.Atom})
}

// UnmarshalJSON reads [chain, residue, atom].
func (r *AtomRef) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || len(raw) != 3 {
		return fmt.Errorf("atom must be [chain, residue index, atom name]")
	}
	*r = AtomRef{}
	if json.Unmarshal(raw[0], &r.Chain) != nil || json.Unmarshal(raw[1], &r.Residue) != nil ||
		json.Unmarshal(raw[2], &r.Atom) != nil {
		return fmt.Errorf("atom must be [chain, residue index, atom name]")
	}
	return nil
}

// OneChain is the seed's request shape as a target: the protein as chain
// A with the given MSA mode (MSAServer, or MSAEmpty for single-sequence
// mode), and the screened ligand as chain B.
func OneChain(proteinSequence, msaMode string) *Target {
	return &Target{
		Chains: []Chain{{
			Type: Protein, IDs: ChainIDs{"A"}, Sequence: proteinSequence,
			MSA: &MSA{Mode: msaMode},
		}},
		LigandChain: "B",
	}
}

// ChainIDList lists every chain id of t in input order: polymer copies,
// then fixed ligand copies. The screened ligand's chain is not included.
func (t *Target) ChainIDList() []string {
	var ids []string
	for _, c := range t.Chains {
		ids = append(ids, c.IDs...)
	}
	for _, l := range t.Ligands {
		ids = append(ids, l.IDs...)
	}
	return ids
}

// Normalize fills in defaults in place, so that equal targets compare and
// hash equal however they were written: a protein's missing MSA becomes
// MSAServer, a constraint's zero max_distance Boltz's default, and an
// empty LigandChain the first letter A-Z no chain uses. It leaves
// LigandChain empty when every letter is taken; Validate refuses that.
func (t *Target) Normalize() {
	for i := range t.Chains {
		c := &t.Chains[i]
		if c.Type == Protein && c.MSA == nil {
			c.MSA = &MSA{Mode: MSAServer}
		}
		if c.MSA != nil && c.MSA.Mode == "" {
			c.MSA.Mode = MSAServer
		}
		if len(c.Modifications) == 0 {
			c.Modifications = nil
		}
	}
	for i := range t.Constraints {
		switch c := t.Constraints[i]; {
		case c.Pocket != nil && c.Pocket.MaxDistance == 0:
			c.Pocket.MaxDistance = DefaultMaxDistance
		case c.Contact != nil && c.Contact.MaxDistance == 0:
			c.Contact.MaxDistance = DefaultMaxDistance
		}
	}
	if len(t.Ligands) == 0 {
		t.Ligands = nil
	}
	if len(t.Constraints) == 0 {
		t.Constraints = nil
	}
	if len(t.Templates) == 0 {
		t.Templates = nil
	}
	if t.LigandChain == "" {
		t.LigandChain = firstFreeLetter(t.ChainIDList())
	}
}

func firstFreeLetter(used []string) string {
	taken := map[string]bool{}
	for _, id := range used {
		taken[id] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		if !taken[string(c)] {
			return string(c)
		}
	}
	return ""
}

// ServerMSA reports whether c is a protein chain whose MSA comes from the
// MSA server: one whose mode is not file or empty (no mode is the
// server's, as Normalize fills it).
func (c Chain) ServerMSA() bool {
	return c.Type == Protein && (c.MSA == nil || (c.MSA.Mode != MSAFile && c.MSA.Mode != MSAEmpty))
}

// ServerChains are t's chains whose MSA comes from the MSA server
// (ServerMSA), in order: what the MSA activity computes, the result cache
// looks up and the API describes.
func (t *Target) ServerChains() []Chain {
	var out []Chain
	for _, c := range t.Chains {
		if c.ServerMSA() {
			out = append(out, c)
		}
	}
	return out
}
