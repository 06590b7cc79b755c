package chem

// PerceivedDescriptors are ComputeDescriptors for a perceived molecule:
// the same counts, except that AromaticAtoms and AromaticRings come from
// perception instead of the spelling. Kekulé and aromatic spellings of one
// molecule (CC(=O)OC1=CC=CC=C1C(=O)O and CC(=O)Oc1ccccc1C(=O)O) then get
// the same descriptors, where ComputeDescriptors gives the Kekulé one no
// aromatic ring. AromaticAtoms is the number of perceived aromatic atoms;
// AromaticRings the number of rings of st.Rings (RDKit's ring set) whose
// atoms are all aromatic, which for isolated and fused aromatic systems is
// the count ComputeDescriptors gives their aromatic spelling.
func PerceivedDescriptors(st *Structure) Descriptors {
	if st == nil {
		return Descriptors{}
	}
	d := ComputeDescriptors(st.Molecule)
	d.AromaticAtoms = len(st.AromaticAtoms())
	d.AromaticRings = 0
	for _, r := range st.Rings {
		all := true
		for _, a := range r {
			if !st.Atoms[a].Aromatic {
				all = false
				break
			}
		}
		if all {
			d.AromaticRings++
		}
	}
	return d
}
