package chem

// This file perceives aromaticity as RDKit's default model does
// (aromaticityHelper and its helpers in Code/GraphMol/Aromaticity.cpp),
// starting, as RDKit's sanitization does, from the Kekulé form: a ring
// written C1=CC=CC=C1 and one written c1ccccc1 come out the same.

// Structure is a molecule as RDKit holds it after sanitization: hydrogens
// that RDKit folds into their neighbour are counts, not atoms; nitro-like
// groups are charge-separated; every bond has its Kekulé order; aromatic
// atoms and bonds are those RDKit's aromaticity model perceives; and the
// rings are RDKit's (the relevant cycles). It is what SMARTS queries match.
type Structure struct {
	// Molecule is the parsed molecule, as written (ParseSMILES's result).
	Molecule *Molecule

	Atoms []StructAtom
	Bonds []StructBond
	// Rings lists each ring's atom indices, in index order.
	Rings [][]int
	// RingBonds lists each ring's bond indices, in index order.
	RingBonds [][]int

	adj [][]edge
}

// StructAtom is one atom of a Structure.
type StructAtom struct {
	Element  string // capitalised symbol
	Number   int    // atomic number
	Charge   int
	Isotope  int
	Aromatic bool // perceived
	// Hs is the total number of hydrogens (implicit and written) not
	// present as atoms.
	Hs int
	// ExplicitHs is the part of Hs written in brackets (or folded from a
	// [H] atom); RDKit counts it in the explicit valence.
	ExplicitHs int
	// Radicals is RDKit's count of radical electrons, which only bracket
	// atoms short of an allowed valence have ([CH3], [C]1[C][C]1).
	Radicals int
	// Source is the atom's index in the parsed Molecule.
	Source int
}

// StructBond is one bond of a Structure.
type StructBond struct {
	A, B int
	// Order is the Kekulé order: 1, 2, 3 or 4.
	Order int
	// Aromatic is set for bonds perceived aromatic (RDKit's bond type
	// AROMATIC, or its aromatic flag on a triple bond in an aromatic ring).
	Aromatic bool
	// ChainAromatic marks an aromatic bond written between two chain
	// atoms (C:C): RDKit keeps its aromatic bond type, which SMARTS bond
	// primitives see, without perceiving it aromatic.
	ChainAromatic bool
	Ring          bool
}

// Perceive parses a SMILES string (with ParseSMILES's rules and errors)
// and returns the molecule RDKit's sanitization would hold.
func Perceive(smiles string) (*Structure, error) {
	p, err := parseKeeping(smiles)
	if err != nil {
		return nil, err
	}
	return newStructure(p.mol, p.san), nil
}

// parseKeeping is ParseSMILES, keeping the parser (and its sanitizer).
func parseKeeping(s string) (*parser, error) {
	if s == "" || len(s) > MaxSMILESLength {
		_, err := ParseSMILES(s) // the same refusal
		return nil, err
	}
	p := &parser{s: s, mol: &Molecule{}, prev: -1, rings: make(map[int]openRing), pairs: make(map[[2]int]bool)}
	if err := p.parse(); err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	p.mol.written = p.written // as ParseSMILES keeps it: chirality needs it
	return p, nil
}

// newStructure builds the Structure from a sanitized molecule: s holds the
// Kekulé orders, clean-up charges and folded hydrogens.
func newStructure(m *Molecule, s *sanitizer) *Structure {
	idx := make([]int, len(m.Atoms))
	st := &Structure{Molecule: m}
	for i, a := range m.Atoms {
		idx[i] = -1
		if s.removed[i] {
			continue
		}
		idx[i] = len(st.Atoms)
		st.Atoms = append(st.Atoms, StructAtom{
			Element: a.Element, Number: s.z[i], Charge: s.charge[i], Isotope: a.Isotope, Source: i,
		})
	}
	for bi, b := range m.Bonds {
		if idx[b.A] < 0 || idx[b.B] < 0 {
			continue
		}
		sb := StructBond{A: idx[b.A], B: idx[b.B], Order: int(s.order[bi])}
		if s.order[bi] == 1.5 {
			// An aromatic bond between two chain atoms (C:C) stays
			// aromatic, as RDKit leaves it; its Kekulé order is taken as 1.
			sb.Order, sb.ChainAromatic = 1, true
		}
		st.Bonds = append(st.Bonds, sb)
	}
	st.adj = adjacency(len(st.Atoms), structBonds(st.Bonds))
	// Hydrogens, from the Kekulé valence (RDKit recomputes them after
	// kekulizing; see checkKekule).
	for i := range st.Atoms {
		src := st.Atoms[i].Source
		a := m.Atoms[src]
		sa := &st.Atoms[i]
		switch {
		case a.Bracket && droppedH(m, s, src):
			ev := 0
			for _, e := range st.adj[i] {
				ev += st.Bonds[e.bond].Order
			}
			sa.Hs = nextValence(sa.Number, ev) - ev
		case a.Bracket:
			sa.ExplicitHs = a.HCount + s.folded[src]
			sa.Hs = sa.ExplicitHs
		default:
			// The sanitizer's valence after kekulizing: Kekulé orders,
			// aromatic chain bonds at 1.5, folded [H] atoms included.
			ev, _ := s.explicitValence(src, false)
			h, _ := s.implicitHydrogens(src, ev, false)
			sa.ExplicitHs = s.folded[src]
			sa.Hs = h + s.folded[src]
		}
	}
	for i := range st.Atoms {
		if a := m.Atoms[st.Atoms[i].Source]; a.Bracket && !droppedH(m, s, st.Atoms[i].Source) {
			st.Atoms[i].Radicals = st.radicals(i)
		}
	}
	inRing := ringBondFlags(len(st.Atoms), structBonds(st.Bonds))
	for i := range st.Bonds {
		st.Bonds[i].Ring = inRing[i]
	}
	for _, r := range relevantCycles(len(st.Atoms), structBonds(st.Bonds), inRing) {
		st.Rings = append(st.Rings, r.atoms)
		st.RingBonds = append(st.RingBonds, r.bonds)
	}
	st.perceiveAromaticity()
	return st
}

// droppedH reports RDKit's special case for a bracket atom: a neutral
// aromatic N or P written with one hydrogen drops it when kekulized and
// takes its hydrogens from its new valence (checkKekule).
func droppedH(m *Molecule, s *sanitizer, i int) bool {
	a := m.Atoms[i]
	if !(s.z[i] == 7 || s.z[i] == 15) || s.charge[i] != 0 || a.HCount != 1 || s.folded[i] != 0 {
		return false
	}
	if a.Aromatic {
		return true
	}
	for _, bi := range s.bondsOf[i] {
		if m.Bonds[bi].Order == 1.5 {
			return true
		}
	}
	return false
}

// radicals is RDKit's assignRadicals (Code/GraphMol/MolOps.cpp, lines
// 436-506) for an atom with no implicit hydrogens (a bracket atom).
func (st *Structure) radicals(i int) int {
	a := st.Atoms[i]
	outer, ok := outerElectrons[a.Number]
	if !ok || a.Number == 0 {
		return 0 // no valence rules (metals): bonded ones get none
	}
	valence := st.ExplicitValence(i)
	base := 8
	if a.Number <= 2 {
		base = 2
	}
	n := base - outer - valence + a.Charge
	if n < 0 {
		n = 0
		if vl := allowedValences[a.Number]; len(vl) > 1 {
			for _, v := range vl {
				if v-valence+a.Charge >= 0 {
					n = v - valence + a.Charge
					break
				}
			}
		}
	}
	if n2 := outer - valence - a.Charge; n2 >= 0 {
		n = min(n, n2)
	}
	return n
}

// nextValence is the smallest allowed valence of element z at or above v.
func nextValence(z, v int) int {
	for _, a := range allowedValences[z] {
		if a >= v {
			return a
		}
	}
	return v
}

func structBonds(bs []StructBond) []Bond {
	out := make([]Bond, len(bs))
	for i, b := range bs {
		out[i] = Bond{A: b.A, B: b.B, Order: float64(b.Order)}
	}
	return out
}

// Degree is the number of atoms bonded to atom i.
func (st *Structure) Degree(i int) int { return len(st.adj[i]) }

// ExplicitValence is RDKit's explicit valence: bond orders plus the
// hydrogens written in brackets.
func (st *Structure) ExplicitValence(i int) int {
	v := st.Atoms[i].ExplicitHs
	for _, e := range st.adj[i] {
		v += st.Bonds[e.bond].Order
	}
	return v
}

// TotalValence is the bond orders plus all hydrogens.
func (st *Structure) TotalValence(i int) int {
	v := st.Atoms[i].Hs
	for _, e := range st.adj[i] {
		v += st.Bonds[e.bond].Order
	}
	return v
}

// AromaticAtoms returns the indices of the aromatic atoms.
func (st *Structure) AromaticAtoms() []int {
	var out []int
	for i, a := range st.Atoms {
		if a.Aromatic {
			out = append(out, i)
		}
	}
	return out
}

// donorType is RDKit's ElectronDonorType.
type donorType int

const (
	vacantDonor donorType = iota
	oneDonor
	twoDonor
	oneOrTwoDonor
	anyDonor
	noDonor
)

// outerElectrons gives RDKit's number of outer-shell electrons
// (Code/GraphMol/atomic_data.cpp, 8th column) for the main-group
// elements; the others (metals) have no valence rules here.
var outerElectrons = map[int]int{
	1: 1, 2: 2, 3: 1, 4: 2, 5: 3, 6: 4, 7: 5, 8: 6, 9: 7, 10: 8,
	11: 1, 12: 2, 13: 3, 14: 4, 15: 5, 16: 6, 17: 7, 18: 8,
	19: 1, 20: 2, 31: 3, 32: 4, 33: 5, 34: 6, 35: 7, 36: 8,
	37: 1, 38: 2, 49: 3, 50: 4, 51: 5, 52: 6, 53: 7, 54: 8,
	55: 1, 56: 2, 81: 3, 82: 4, 83: 5, 84: 6, 85: 7, 86: 8,
}

func defaultValence(z int) int {
	if z < 0 || z > maxAtomicNumber {
		return -1
	}
	return allowedValences[z][0]
}

// moreElectronegative is RDKit's PeriodicTable::moreElectroNegative: more
// outer electrons, or as many and a lower atomic number.
func moreElectronegative(z1, z2 int) bool {
	n1, n2 := outerElectrons[z1], outerElectrons[z2]
	return n1 > n2 || (n1 == n2 && z1 < z2)
}

// countAtomElec is RDKit's MolOps::countAtomElec: the electrons atom i can
// give to a conjugated system, or -1.
func (st *Structure) countAtomElec(i int) int {
	a := st.Atoms[i]
	dv := defaultValence(a.Number)
	if dv <= 1 {
		return -1
	}
	degree := st.Degree(i) + a.Hs
	if degree > 3 {
		return -1
	}
	nlp := max(outerElectrons[a.Number]-dv-a.Charge, 0)
	res := (dv - degree) + nlp - a.Radicals
	if res > 1 && st.ExplicitValence(i)-st.Degree(i) > 1 {
		res = 1
	}
	return res
}

// multipleBond reports a bond of order 2 or more on atom i, in a ring or
// out of one as ring says, and the atom at its other end.
func (st *Structure) multipleBond(i int, ring bool) (int, bool) {
	for _, e := range st.adj[i] {
		b := st.Bonds[e.bond]
		if b.Ring == ring && b.Order >= 2 {
			return e.to, true
		}
	}
	return -1, false
}

// donor is RDKit's getAtomDonorTypeArom with exocyclic bonds stealing
// electrons (Aromaticity.cpp, lines 605-656).
func (st *Structure) donor(i int) donorType {
	nelec := st.countAtomElec(i)
	who, exo := st.multipleBond(i, false)
	switch {
	case nelec < 0:
		return noDonor
	case nelec == 0:
		if exo {
			return vacantDonor
		}
		if _, cyc := st.multipleBond(i, true); cyc {
			return oneDonor
		}
		return noDonor
	case nelec == 1:
		if exo {
			if moreElectronegative(st.Atoms[who].Number, st.Atoms[i].Number) {
				return vacantDonor
			}
			return oneDonor
		}
		if st.ExplicitValence(i) != st.Degree(i)+st.Atoms[i].ExplicitHs {
			return oneDonor
		}
		if st.Atoms[i].Charge == 1 {
			return vacantDonor
		}
		return noDonor
	default:
		if exo && moreElectronegative(st.Atoms[who].Number, st.Atoms[i].Number) {
			nelec--
		}
		if nelec%2 == 1 {
			return oneDonor
		}
		return twoDonor
	}
}

// candidate is RDKit's isAtomCandForArom with its default arguments
// (Aromaticity.cpp, lines 480-560).
func (st *Structure) candidate(i int, d donorType) bool {
	a := st.Atoms[i]
	if a.Number > 18 && a.Number != 34 && a.Number != 52 {
		return false
	}
	if d == noDonor {
		return false
	}
	if dv := defaultValence(a.Number); dv > 0 {
		eff := a.Number - a.Charge
		if eff < 0 || eff > maxAtomicNumber || st.TotalValence(i) > defaultValence(eff) {
			return false
		}
	}
	if a.Radicals > 0 && (a.Number != 6 || a.Charge != 0) {
		return false
	}
	if st.ExplicitValence(i)-st.Degree(i) > 1 {
		mult := 0
		for _, e := range st.adj[i] {
			if st.Bonds[e.bond].Order >= 2 {
				mult++
			}
		}
		if mult > 1 {
			return false
		}
	}
	return true
}

// electronRange is getMinMaxAtomElecs.
func electronRange(d donorType) (int, int) {
	switch d {
	case anyDonor, oneOrTwoDonor:
		return 1, 2
	case oneDonor:
		return 1, 1
	case twoDonor:
		return 2, 2
	}
	return 0, 0
}

// huckel is applyHuckel: the atoms' electrons can total 4n+2 (n >= 1), or
// exactly 2 (the cyclopropenyl cation).
func huckel(atoms []int, don []donorType) bool {
	lo, hi := 0, 0
	for _, a := range atoms {
		l, h := electronRange(don[a])
		lo += l
		hi += h
	}
	if hi >= 6 {
		for e := lo; e <= hi; e++ {
			if (e-2)%4 == 0 {
				return true
			}
		}
		return false
	}
	return hi == 2
}

// maxFusedAromaticRingSize: rings larger than this are not fused with
// others when searching for aromatic systems (Aromaticity.cpp, line 23).
const maxFusedAromaticRingSize = 24

// maxFusedRings is the largest number of rings combined in one Hückel test.
const maxFusedRings = 6

// perceiveAromaticity sets the aromatic flags (aromaticityHelper with
// includeFused, Aromaticity.cpp lines 830-930): the rings whose atoms are
// all candidates are grouped into fused systems (rings sharing exactly one
// bond), and every connected combination of up to six rings of a system
// whose atoms (those in at most two of the combined rings) pass Hückel's
// rule has the bonds on its perimeter marked aromatic, with their atoms.
func (st *Structure) perceiveAromaticity() {
	n := len(st.Atoms)
	don := make([]donorType, n)
	seen := make([]bool, n)
	cand := make([]bool, n)
	var cRings []int
	for ri, r := range st.Rings {
		all := true
		for _, a := range r {
			if seen[a] {
				if !cand[a] {
					all = false
				}
				continue
			}
			seen[a] = true
			d := st.donor(a)
			if d == twoDonor && len(r) >= 9 {
				at := st.Atoms[a]
				if (at.Number == 8 || at.Number == 16) && st.Degree(a) == 2 && at.Charge == 0 {
					if _, m1 := st.multipleBond(a, true); !m1 {
						if _, m2 := st.multipleBond(a, false); !m2 {
							d = noDonor
						}
					}
				}
			}
			don[a] = d
			cand[a] = st.candidate(a, d)
			if !cand[a] {
				all = false
			}
		}
		if all {
			cRings = append(cRings, ri)
		}
	}
	if len(cRings) == 0 {
		return
	}
	// Ring neighbours: both at most 24 atoms, sharing exactly one bond.
	nr := len(cRings)
	neigh := make([][]int, nr)
	for i := 0; i < nr; i++ {
		ri := st.RingBonds[cRings[i]]
		if len(ri) > maxFusedAromaticRingSize {
			continue
		}
		for j := i + 1; j < nr; j++ {
			rj := st.RingBonds[cRings[j]]
			if len(rj) > maxFusedAromaticRingSize {
				continue
			}
			if shared(ri, rj) == 1 {
				neigh[i] = append(neigh[i], j)
				neigh[j] = append(neigh[j], i)
			}
		}
	}
	done := make([]bool, nr)
	for start := 0; start < nr; start++ {
		if done[start] {
			continue
		}
		fused := pickFused(start, neigh, done)
		st.huckelFused(fused, cRings, neigh, don)
	}
}

// shared counts the common members of two sorted index lists.
func shared(a, b []int) int {
	n, i, j := 0, 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			n++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return n
}

// pickFused is RingUtils::pickFusedRings: the rings reachable from start
// through neighbours not yet done, in depth-first preorder.
func pickFused(start int, neigh [][]int, done []bool) []int {
	res := []int{start}
	done[start] = true
	type frame struct{ ring, next int }
	stack := []frame{{start, 0}}
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.next == len(neigh[top.ring]) {
			stack = stack[:len(stack)-1]
			continue
		}
		nb := neigh[top.ring][top.next]
		top.next++
		if done[nb] {
			continue
		}
		done[nb] = true
		res = append(res, nb)
		stack = append(stack, frame{nb, 0})
	}
	return res
}

// huckelFused is applyHuckelToFused (Aromaticity.cpp, lines 330-420) for
// one fused system (indices into cRings).
func (st *Structure) huckelFused(fused, cRings []int, neigh [][]int, don []donorType) {
	ringBonds := map[int]bool{}
	for _, f := range fused {
		for _, b := range st.RingBonds[cRings[f]] {
			ringBonds[b] = true
		}
	}
	doneBonds := map[int]bool{}
	nrings := len(fused)
	for size := 1; size <= min(nrings, maxFusedRings) && len(doneBonds) < len(ringBonds); size++ {
		if size == 3 && nrings > 300 {
			break
		}
		comb := make([]int, size)
		for i := range comb {
			comb[i] = i
		}
		for ok := true; ok; ok = nextCombination(comb, nrings) {
			cur := make([]int, size)
			for i, c := range comb {
				cur[i] = fused[c]
			}
			if !connectedRings(cur, neigh) {
				continue
			}
			count := make(map[int]int)
			for _, r := range cur {
				for _, a := range st.Rings[cRings[r]] {
					count[a]++
				}
			}
			var atoms []int
			for a, c := range count {
				if c == 1 || c == 2 {
					atoms = append(atoms, a)
				}
			}
			if !huckel(atoms, don) {
				continue
			}
			bondCount := make(map[int]int)
			for _, r := range cur {
				for _, b := range st.RingBonds[cRings[r]] {
					bondCount[b]++
				}
			}
			for b, c := range bondCount {
				if c != 1 {
					continue
				}
				bd := &st.Bonds[b]
				bd.Aromatic = true
				if bd.Order == 1 || bd.Order == 2 {
					st.Atoms[bd.A].Aromatic = true
					st.Atoms[bd.B].Aromatic = true
				}
				doneBonds[b] = true
			}
		}
	}
}

// nextCombination advances comb to the next size-k subset of 0..n-1 in
// lexicographic order, reporting false after the last.
func nextCombination(comb []int, n int) bool {
	k := len(comb)
	i := k - 1
	for i >= 0 && comb[i] == n-k+i {
		i--
	}
	if i < 0 {
		return false
	}
	comb[i]++
	for j := i + 1; j < k; j++ {
		comb[j] = comb[j-1] + 1
	}
	return true
}

// connectedRings is RingUtils::checkFused: the rings form one connected
// set through the neighbour relation.
func connectedRings(rs []int, neigh [][]int) bool {
	in := map[int]bool{}
	for _, r := range rs {
		in[r] = true
	}
	seen := map[int]bool{rs[0]: true}
	stack := []int{rs[0]}
	for len(stack) > 0 {
		r := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, nb := range neigh[r] {
			if in[nb] && !seen[nb] {
				seen[nb] = true
				stack = append(stack, nb)
			}
		}
	}
	return len(seen) == len(rs)
}

//go:generate sh -c "cd .. && node scripts/rdkit/aromatic.mjs < chem/testdata/aromatic_corpus.tsv > chem/testdata/rdkit_aromatic.tsv.new && mv chem/testdata/rdkit_aromatic.tsv.new chem/testdata/rdkit_aromatic.tsv"
