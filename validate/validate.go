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

	"golang.org/x/text/unicode/norm"

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
// trained on ligands of at most 56 heavy atoms").
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
	SMILES     string // trimmed
	HeavyAtoms int
	// Warnings are said about a ligand the model runs but may not
	// predict well.
	Warnings []string
}

// LigandFor parses and checks a ligand SMILES (once) for model: any model
// needs a valid SMILES; Boltz-2 refuses ligands of more heavy atoms than its
// affinity head takes, and warns about ligands larger than it was trained
// on. field names the ligand in errors and warnings (e.g. "ligand_smiles",
// or "ligands[3].smiles").
func LigandFor(model, field, smiles string) (Ligand, error) {
	s := strings.TrimSpace(smiles)
	if s == "" {
		return Ligand{}, omtx.Errorf(omtx.EInvalid, field, "is required")
	}
	m, err := chem.ParseSMILES(s)
	if err != nil {
		return Ligand{}, omtx.Errorf(omtx.EInvalid, field, "invalid SMILES: %v", err)
	}
	l := Ligand{SMILES: s, HeavyAtoms: m.HeavyAtomCount()}
	if model == omtx.ModelBoltz2 {
		switch n := l.HeavyAtoms; {
		case n > Boltz2MaxAffinityHeavyAtoms:
			return Ligand{}, omtx.Errorf(omtx.EInvalid, field,
				"has %d heavy atoms; Boltz-2's affinity prediction takes at most %d", n, Boltz2MaxAffinityHeavyAtoms)
		case n > Boltz2WarnAffinityHeavyAtoms:
			l.Warnings = append(l.Warnings, fmt.Sprintf(
				"%s has %d heavy atoms, more than the %d of the largest ligands Boltz-2's affinity model was trained on; its affinity is less reliable",
				field, n, Boltz2WarnAffinityHeavyAtoms))
		}
	}
	return l, nil
}

// LigandName checks a ligand's (or a batch's) display name and returns it
// trimmed and in Unicode NFC, so that one name typed on two systems
// (precomposed é, or e and a combining accent) is one name; empty names
// get def. Control, format (bidirectional overrides, zero-width),
// private-use characters and the line and paragraph separators U+2028 and
// U+2029 (which end a line in JavaScript and in some CSV readers) are
// refused: a name must read as what it is, on one line.
func LigandName(field, name, def string) (string, error) {
	if !utf8.ValidString(name) {
		return "", omtx.Errorf(omtx.EInvalid, field, "is not valid UTF-8")
	}
	n := norm.NFC.String(strings.TrimSpace(name))
	if n == "" {
		return def, nil
	}
	if len(n) > MaxLigandNameLength {
		return "", omtx.Errorf(omtx.EInvalid, field, "is longer than %d bytes", MaxLigandNameLength)
	}
	for _, r := range n {
		switch {
		case r == '\u2028' || r == '\u2029':
			return "", omtx.Errorf(omtx.EInvalid, field, "contains a line or paragraph separator (U+%04X)", r)
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
