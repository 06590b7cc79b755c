package chem

// Descriptors are simple whole-molecule ligand descriptors for the model
// featurizer and for input sanity checks.
type Descriptors struct {
	HeavyAtoms int
	Carbons    int
	Nitrogens  int
	Oxygens    int
	Sulfurs    int
	Phosphorus int
	Halogens   int // F, Cl, Br, I

	// HBondDonors is the Lipinski donor count: N and O atoms bearing at
	// least one hydrogen (implicit, bracket or explicit [H] neighbour).
	HBondDonors int
	// HBondAcceptors is the Lipinski acceptor count: all N and O atoms.
	HBondAcceptors int
	// RotatableBonds counts single, non-ring bonds between two heavy atoms
	// that each have more than one heavy neighbour, excluding bonds to an
	// atom that carries a triple bond. Amide C–N bonds are counted.
	RotatableBonds int
	// RingCount is the size of the smallest set of smallest rings, computed
	// as the cycle rank: bonds - atoms + connected components.
	RingCount int
	// AromaticRings is the cycle rank of the subgraph of aromatic bonds
	// (bonds between two atoms written in lower case inside a ring). For
	// isolated and fused aromatic systems this equals the number of SSSR
	// rings made only of aromatic atoms. Rings written in Kekulé form
	// (C1=CC=CC=C1) are not perceived as aromatic and are not counted.
	AromaticRings int
	// AromaticAtoms counts atoms written aromatic (lower case).
	AromaticAtoms int
	// FormalCharge is the sum of the formal charges.
	FormalCharge int
	// MolecularWeight is the average molecular weight in g/mol, including
	// implicit, bracket and explicit hydrogens. Isotope-labelled atoms use
	// their mass number as an approximation of the isotopic mass.
	MolecularWeight float64
	// FractionCSP3 is the number of sp3 carbons divided by the number of
	// carbons (0 when there are none). A carbon is sp3 when it is not
	// aromatic and has no double, triple or aromatic bond.
	FractionCSP3 float64
	// Components is the number of disconnected fragments.
	Components int
}

// ComputeDescriptors computes descriptors for a molecule returned by
// ParseSMILES. A nil molecule yields zero descriptors.
func ComputeDescriptors(m *Molecule) Descriptors {
	var d Descriptors
	if m == nil {
		return d
	}
	n := len(m.Atoms)
	isHeavy := func(i int) bool { return m.Atoms[i].Element != "H" }

	heavyDegree := make([]int, n)
	explicitH := make([]int, n)
	hasTriple := make([]bool, n)
	unsaturated := make([]bool, n)
	for _, b := range m.Bonds {
		if isHeavy(b.A) && isHeavy(b.B) {
			heavyDegree[b.A]++
			heavyDegree[b.B]++
		}
		if !isHeavy(b.A) {
			explicitH[b.B]++
		}
		if !isHeavy(b.B) {
			explicitH[b.A]++
		}
		if b.Order >= 3 {
			hasTriple[b.A], hasTriple[b.B] = true, true
		}
		if b.Order != 1 {
			unsaturated[b.A], unsaturated[b.B] = true, true
		}
	}

	sp3 := 0
	for i, a := range m.Atoms {
		d.MolecularWeight += atomMass(a) + float64(a.HCount)*hydrogenWeight
		d.FormalCharge += a.Charge
		if a.Aromatic {
			d.AromaticAtoms++
		}
		if a.Element == "H" {
			continue
		}
		d.HeavyAtoms++
		switch a.Element {
		case "C":
			d.Carbons++
			if !a.Aromatic && !unsaturated[i] {
				sp3++
			}
		case "N", "O":
			if a.Element == "N" {
				d.Nitrogens++
			} else {
				d.Oxygens++
			}
			d.HBondAcceptors++
			if a.HCount+explicitH[i] > 0 {
				d.HBondDonors++
			}
		case "S":
			d.Sulfurs++
		case "P":
			d.Phosphorus++
		case "F", "Cl", "Br", "I":
			d.Halogens++
		}
	}
	if d.Carbons > 0 {
		d.FractionCSP3 = float64(sp3) / float64(d.Carbons)
	}

	for _, b := range m.Bonds {
		if b.Order != 1 || b.Ring || !isHeavy(b.A) || !isHeavy(b.B) {
			continue
		}
		if heavyDegree[b.A] < 2 || heavyDegree[b.B] < 2 || hasTriple[b.A] || hasTriple[b.B] {
			continue
		}
		d.RotatableBonds++
	}

	d.Components = componentCount(n, m.Bonds, nil, nil)
	d.RingCount = len(m.Bonds) - n + d.Components

	aromaticBond := func(b Bond) bool {
		return b.Ring && b.Order == 1.5 && m.Atoms[b.A].Aromatic && m.Atoms[b.B].Aromatic
	}
	inAromatic := make([]bool, n)
	aromaticBonds := 0
	for _, b := range m.Bonds {
		if aromaticBond(b) {
			aromaticBonds++
			inAromatic[b.A], inAromatic[b.B] = true, true
		}
	}
	aromaticAtoms := 0
	for _, in := range inAromatic {
		if in {
			aromaticAtoms++
		}
	}
	if aromaticBonds > 0 {
		comps := componentCount(n, m.Bonds, func(i int) bool { return inAromatic[i] }, aromaticBond)
		d.AromaticRings = aromaticBonds - aromaticAtoms + comps
	}
	return d
}

// atomMass is the mass of one atom without its attached hydrogens.
func atomMass(a Atom) float64 {
	if a.Isotope > 0 {
		return float64(a.Isotope)
	}
	return atomicWeight(a.Element)
}
