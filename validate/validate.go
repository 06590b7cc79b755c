// Package validate checks prediction requests field by field, so that bad
// input is refused with the field's name and the reason before any job
// record or workflow exists. The API runs these checks at submission, and
// the first activity of every job (AcceptJob) runs them again under the
// worker's rules; no workflow code calls them, so changing a rule changes
// no workflow history.
package validate

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Limits on request fields.
const (
	MaxLigandNameLength = 200
	MinNumSamples       = 1
	MaxNumSamples       = 25
	DefaultNumSamples   = 1
	// MaxSeed is the largest seed: PyTorch Lightning's seed_everything,
	// which Boltz-2 calls, silently replaces a seed outside [0, 2³²−1]
	// with 0, so the recorded seed would not be the one used.
	MaxSeed = 1<<32 - 1
)

// Boltz-2's own limits on an affinity ligand (boltz/main.py and
// data/parse/schema.py of Boltz 2.x): the affinity head refuses a ligand of
// more than 128 heavy atoms, and warns above 56 ("the affinity model was
// trained on ligands of at most 56 heavy atoms"). Boltz counts the atoms
// its RemoveHs keeps (schema.py lines 1263-1272), so isotopic hydrogens
// count too (chem.Standardized.BoltzAtoms).
const (
	Boltz2MaxAffinityHeavyAtoms  = 128
	Boltz2WarnAffinityHeavyAtoms = 56
)

// ProteinSequence normalises and checks a protein sequence.
func ProteinSequence(field, seq string) (string, error) {
	if strings.TrimSpace(seq) == "" {
		return "", omtx.Errorf(omtx.EInvalid, field, "is required")
	}
	norm, err := chem.ValidateProteinSequence(seq)
	if err != nil {
		return "", omtx.Errorf(omtx.EInvalid, field, "%v", err)
	}
	return norm, nil
}

// Ligand is a checked ligand SMILES.
type Ligand struct {
	SMILES string // trimmed, as submitted
	// ModelledSMILES is the molecule the model runs. For Boltz-2 it is
	// the one Boltz's standardizer keeps (chem.Standardize): the largest
	// fragment, normalized and neutralized as ChEMBL's pipeline does. For
	// other models it is SMILES.
	ModelledSMILES string
	// HeavyAtoms counts the atoms of the modelled molecule that the
	// model's limits and token counts apply to: for Boltz-2 its heavy
	// atoms and isotopic hydrogens ([2H]), which Boltz keeps as atoms; for
	// other models the heavy atoms of SMILES.
	HeavyAtoms int
	// Dropped lists the fragments Boltz-2 does not model (counter-ions,
	// solvents), as SMILES.
	Dropped []string
	// Neutralized reports that Boltz-2's standardizer changed charges.
	Neutralized bool
	// Warnings are said about a ligand the model runs but may not
	// predict well, or runs other than as written.
	Warnings []string
}

// LigandFor parses and checks a ligand SMILES (once) for model: any model
// needs a valid SMILES. For Boltz-2 the limits apply to the molecule Boltz
// models, as its affinity ligand is standardized first (chem.Standardize,
// after Boltz's schema.py): a ligand with a metal of ChEMBL's list (or more
// than 7 borons) is refused, as Boltz refuses it; so is one whose largest
// fragment has no carbon; dropped fragments and changed charges are
// warned about; and Boltz-2's affinity head refuses more atoms than it
// takes and warns about ligands larger than it was trained on. field names
// the ligand in errors and warnings (e.g. "ligand_smiles", or
// "ligands[3].smiles"); every error is an *omtx.Error with code EInvalid
// (HTTP 422) and that field.
func LigandFor(model, field, smiles string) (Ligand, error) {
	s := strings.TrimSpace(smiles)
	if s == "" {
		return Ligand{}, omtx.Errorf(omtx.EInvalid, field, "is required")
	}
	m, err := chem.ParseSMILES(s)
	if err != nil {
		return Ligand{}, omtx.Errorf(omtx.EInvalid, field, "invalid SMILES: %v", err)
	}
	if model != omtx.ModelBoltz2 {
		return Ligand{SMILES: s, ModelledSMILES: s, HeavyAtoms: m.HeavyAtomCount()}, nil
	}
	std, err := chem.StandardizeMolecule(m)
	if err != nil {
		return Ligand{}, omtx.Errorf(omtx.EInvalid, field, "%v", err)
	}
	l := Ligand{
		SMILES: s, ModelledSMILES: std.SMILES, HeavyAtoms: std.BoltzAtoms(),
		Dropped: std.Dropped, Neutralized: std.Neutralized,
	}
	for _, w := range std.Warnings {
		l.Warnings = append(l.Warnings, field+": "+w)
	}
	what := "heavy atoms"
	if std.IsotopicHydrogens > 0 {
		what = fmt.Sprintf("atoms (%d heavy atoms and %d isotopic hydrogens, which Boltz keeps as atoms)",
			std.HeavyAtoms, std.IsotopicHydrogens)
	}
	switch n := l.HeavyAtoms; {
	case n > Boltz2MaxAffinityHeavyAtoms:
		return Ligand{}, omtx.Errorf(omtx.EInvalid, field,
			"has %d %s in the molecule Boltz-2 models; its affinity prediction takes at most %d", n, what, Boltz2MaxAffinityHeavyAtoms)
	case n > Boltz2WarnAffinityHeavyAtoms:
		l.Warnings = append(l.Warnings, fmt.Sprintf(
			"%s has %d %s, more than the %d of the largest ligands Boltz-2's affinity model was trained on; its affinity is less reliable",
			field, n, what, Boltz2WarnAffinityHeavyAtoms))
	}
	return l, nil
}

// LigandName checks a ligand's display name and returns it trimmed; empty
// names get def. Control, format (bidirectional overrides, zero-width) and
// private-use characters are refused: a name must read as what it is.
func LigandName(field, name, def string) (string, error) {
	n := strings.TrimSpace(name)
	if n == "" {
		return def, nil
	}
	if !utf8.ValidString(n) {
		return "", omtx.Errorf(omtx.EInvalid, field, "is not valid UTF-8")
	}
	if len(n) > MaxLigandNameLength {
		return "", omtx.Errorf(omtx.EInvalid, field, "is longer than %d bytes", MaxLigandNameLength)
	}
	for _, r := range n {
		switch {
		case unicode.IsControl(r):
			return "", omtx.Errorf(omtx.EInvalid, field, "contains a control character (U+%04X)", r)
		case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r), r == utf8.RuneError:
			return "", omtx.Errorf(omtx.EInvalid, field, "contains an invisible or direction-changing character (U+%04X)", r)
		}
	}
	return n, nil
}

// Parameters checks model parameters and fills defaults.
func Parameters(field string, p *omtx.Parameters) error {
	if p.NumSamples == 0 {
		p.NumSamples = DefaultNumSamples
	}
	if p.NumSamples < MinNumSamples || p.NumSamples > MaxNumSamples {
		return omtx.Errorf(omtx.EInvalid, field+".num_samples", "must be between %d and %d", MinNumSamples, MaxNumSamples)
	}
	if p.Seed != nil && (*p.Seed < 0 || *p.Seed > MaxSeed) {
		return omtx.Errorf(omtx.EInvalid, field+".seed", "must be between 0 and %d", int64(MaxSeed))
	}
	return nil
}

// Input checks and normalises a whole individual input in place for model,
// and returns the checked ligand.
func Input(model string, in *omtx.InputData) (Ligand, error) {
	var err error
	if in.ProteinSequence, err = ProteinSequence("protein_sequence", in.ProteinSequence); err != nil {
		return Ligand{}, err
	}
	lig, err := LigandFor(model, "ligand_smiles", in.LigandSMILES)
	if err != nil {
		return Ligand{}, err
	}
	in.LigandSMILES = lig.SMILES
	if in.LigandName, err = LigandName("ligand_name", in.LigandName, "Ligand_1"); err != nil {
		return Ligand{}, err
	}
	return lig, Parameters("parameters", &in.Parameters)
}
