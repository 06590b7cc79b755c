// Package validate checks prediction requests field by field, so that bad
// input is refused with the field's name and the reason before any job
// record or workflow exists. The workflows run the same checks again, since
// a workflow can also be started from the temporal CLI.
//
// Everything here is deterministic and safe to call from workflow code.
package validate

import (
	"strings"
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

// SMILES checks a ligand SMILES string and returns it trimmed.
func SMILES(field, smiles string) (string, error) {
	s := strings.TrimSpace(smiles)
	if s == "" {
		return "", omtx.Errorf(omtx.EInvalid, field, "is required")
	}
	if _, err := chem.ParseSMILES(s); err != nil {
		return "", omtx.Errorf(omtx.EInvalid, field, "invalid SMILES: %v", err)
	}
	return s, nil
}

// LigandName checks a ligand's display name and returns it trimmed; empty
// names get def.
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
		if r < 0x20 || r == 0x7f {
			return "", omtx.Errorf(omtx.EInvalid, field, "contains a control character")
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
	if p.Seed != nil && *p.Seed < 0 {
		return omtx.Errorf(omtx.EInvalid, field+".seed", "must not be negative")
	}
	return nil
}

// InputData checks and normalises a whole individual input in place.
func InputData(in *omtx.InputData) error {
	var err error
	if in.ProteinSequence, err = ProteinSequence("protein_sequence", in.ProteinSequence); err != nil {
		return err
	}
	if in.LigandSMILES, err = SMILES("ligand_smiles", in.LigandSMILES); err != nil {
		return err
	}
	if in.LigandName, err = LigandName("ligand_name", in.LigandName, "Ligand_1"); err != nil {
		return err
	}
	return Parameters("parameters", &in.Parameters)
}
