package chem

import "fmt"

// CCDHeavyAtoms are the heavy-atom counts of common cofactors, ions and
// crystallization additives, by wwPDB Chemical Component Dictionary code,
// from each component's formula in the CCD (https://www.wwpdb.org/data/ccd;
// the formula is on each code's page at https://www.rcsb.org/ligand/CODE).
// Boltz-2 tokenizes a CCD ligand one token per heavy atom (tokenize/
// boltz2.py, "Non-standard are tokenized per atom"), so these size a
// target's cofactors for routing and bounds before any work. The table is
// small on purpose: a code not in it counts as DefaultCCDHeavyAtoms.
var CCDHeavyAtoms = map[string]int{
	// Monatomic ions.
	"MG": 1, "ZN": 1, "CA": 1, "MN": 1, "FE": 1, "FE2": 1, "NA": 1, "CL": 1, "K": 1,
	"CO": 1, "NI": 1, "CU": 1, "CU1": 1, "CD": 1, "BR": 1, "IOD": 1,
	// Anions and additives.
	"SO4": 5, // O4 S
	"PO4": 5, // O4 P
	"GOL": 6, // C3 H8 O3
	"EDO": 4, // C2 H6 O2
	"ACT": 4, // C2 H3 O2
	// Nucleotides.
	"ATP": 31, // C10 H16 N5 O13 P3
	"ADP": 27, // C10 H15 N5 O10 P2
	"AMP": 23, // C10 H14 N5 O7 P
	"ANP": 31, // C10 H17 N6 O12 P3
	"GTP": 32, // C10 H16 N5 O14 P3
	"GDP": 28, // C10 H15 N5 O11 P2
	// Redox cofactors.
	"HEM": 43, // C34 H32 Fe N4 O4
	"HEC": 43, // C34 H34 Fe N4 O4
	"NAD": 44, // C21 H27 N7 O14 P2
	"NAP": 48, // C21 H28 N7 O17 P3
	"NDP": 48, // C21 H30 N7 O17 P3
	"FAD": 53, // C27 H33 N9 O15 P2
	"FMN": 31, // C17 H21 N4 O9 P
	"PLP": 16, // C8 H10 N O6 P
	// Methyl and acyl carriers.
	"SAM": 27, // C15 H22 N6 O5 S
	"SAH": 26, // C14 H20 N6 O5 S
	"COA": 48, // C21 H36 N7 O16 P3 S
	"ACO": 51, // C23 H38 N7 O17 P3 S
}

// DefaultCCDHeavyAtoms is what a CCD code not in CCDHeavyAtoms counts
// as: an upper estimate (larger than every entry of the table but the
// flavin and coenzyme A), so that a complex with an unknown cofactor is
// routed to a class that holds it rather than refused. Boltz reads the
// real component from its CCD at run time.
const DefaultCCDHeavyAtoms = 50

// AtomCounter counts a fixed ligand's atoms as Boltz-2 tokenizes them:
// a SMILES ligand's heavy atoms and isotopic hydrogens (the atoms RDKit's
// RemoveHs keeps; Boltz does not standardize a ligand that is not the
// affinity binder, so every fragment counts), a CCD code's from
// CCDHeavyAtoms. It implements package target's AtomCounter.
type AtomCounter struct{}

// HeavyAtoms counts smiles's atoms, or ccd's (exactly one is set).
func (AtomCounter) HeavyAtoms(smiles, ccd string) (int, error) {
	if ccd != "" {
		if n, ok := CCDHeavyAtoms[ccd]; ok {
			return n, nil
		}
		return DefaultCCDHeavyAtoms, nil
	}
	m, err := ParseSMILES(smiles)
	if err != nil {
		return 0, fmt.Errorf("SMILES %s", err)
	}
	n := 0
	for _, a := range m.Atoms {
		if a.Element != "H" || a.Isotope > 0 {
			n++
		}
	}
	return n, nil
}

// KnownCCD says whether ccd's size is in CCDHeavyAtoms rather than the
// default.
func KnownCCD(ccd string) bool { _, ok := CCDHeavyAtoms[ccd]; return ok }
