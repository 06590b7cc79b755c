package library

import "github.com/omtx-hub/omtx-hub/chem"

// moleculeSMILES writes a molecule read from a molfile as SMILES.
func moleculeSMILES(m *chem.Molecule) string {
	_ = m
	return "" // TODO(library): chem's writer, once branch chemstd is merged
}
