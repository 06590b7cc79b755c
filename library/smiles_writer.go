package library

import "github.com/omtx-hub/omtx-hub/chem"

// moleculeSMILES writes a molecule read from a molfile as SMILES, with
// chem's writer: in the molfile's atom order, aromatic atoms lower case,
// charges, isotopes and bracket hydrogens kept, no stereo (the molfile
// reader keeps none).
func moleculeSMILES(m *chem.Molecule) string { return m.SMILES() }
