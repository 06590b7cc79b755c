package structure

import "bytes"

// Atom is one atom site: one row of an mmCIF _atom_site table or one
// ATOM/HETATM record of a PDB file.
type Atom struct {
	Serial    int
	Name      string
	AltLoc    string
	ResName   string
	Chain     string
	ResSeq    int
	ICode     string
	X, Y, Z   float64
	Occupancy float64
	BFactor   float64 // Boltz writes per-atom pLDDT (0-100) here
	Element   string
	HETATM    bool
	Model     int
}

// Structure is a list of atoms, in file order, from one or more models.
type Structure struct {
	Title string
	Atoms []Atom
}

// Ligand summarises one ligand residue: a non-water residue made of HETATM
// records.
type Ligand struct {
	Chain   string
	ResName string
	ResSeq  int
	ICode   string
	Atoms   int
}

// CIFToPDB converts an mmCIF file to a PDB file. See ParseCIF and WritePDB
// for what is read, written and refused.
func CIFToPDB(cif []byte) ([]byte, error) {
	s, err := ParseCIF(bytes.NewReader(cif))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := WritePDB(&b, s); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Chains returns the distinct chain ids in order of first appearance.
func (s *Structure) Chains() []string {
	if s == nil {
		return nil
	}
	seen := make(map[string]bool)
	var out []string
	for i := range s.Atoms {
		c := s.Atoms[i].Chain
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// residueKey identifies a residue within one model.
type residueKey struct {
	chain   string
	resSeq  int
	iCode   string
	resName string
}

func keyOf(a *Atom) residueKey {
	return residueKey{chain: a.Chain, resSeq: a.ResSeq, iCode: a.ICode, resName: a.ResName}
}

// firstModel returns the atoms of the model of the first atom.
func (s *Structure) firstModel() []Atom {
	if s == nil || len(s.Atoms) == 0 {
		return nil
	}
	m := s.Atoms[0].Model
	out := make([]Atom, 0, len(s.Atoms))
	for _, a := range s.Atoms {
		if a.Model == m {
			out = append(out, a)
		}
	}
	return out
}

// ResidueCounts returns the number of distinct residues (chain, residue
// number, insertion code, residue name) in each chain of the first model,
// ligands and waters included.
func (s *Structure) ResidueCounts() map[string]int {
	counts := make(map[string]int)
	seen := make(map[residueKey]bool)
	for _, a := range s.firstModel() {
		k := keyOf(&a)
		if !seen[k] {
			seen[k] = true
			counts[a.Chain]++
		}
	}
	return counts
}

// isWater reports whether a residue name is one of the usual water names.
func isWater(resName string) bool {
	switch resName {
	case "HOH", "WAT", "H2O", "DOD", "D2O", "TIP", "TIP3", "SOL":
		return true
	}
	return false
}

// Ligands returns the ligand residues of the first model in order of first
// appearance: residues with HETATM records, except waters, with the number
// of HETATM records of each.
func (s *Structure) Ligands() []Ligand {
	var out []Ligand
	index := make(map[residueKey]int)
	for _, a := range s.firstModel() {
		if !a.HETATM || isWater(a.ResName) {
			continue
		}
		k := keyOf(&a)
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, Ligand{Chain: a.Chain, ResName: a.ResName, ResSeq: a.ResSeq, ICode: a.ICode})
		}
		out[i].Atoms++
	}
	return out
}
