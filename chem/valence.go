package chem

import (
	"fmt"
	"math"
	"strings"
)

// This file checks a parsed molecule the way RDKit's sanitization does
// (MolOps::sanitizeMol as called by RDKit's SMILES reader): clean-up of
// pentavalent nitro-like groups and of halogen oxides, the explicit- and
// implicit-valence rules of Code/GraphMol/Atom.cpp with RDKit's periodic
// table, and kekulization of aromatic ring systems. The package
// documentation states the rules; testdata/rdkit_valence.tsv holds RDKit's
// own verdicts, which TestParseSMILES_AgreesWithRDKit compares against.

// finish runs the whole-molecule steps after the syntax has been accepted:
// ring perception, valence checks with implicit hydrogens, and aromatic
// sanity (ring membership and kekulization).
func (p *parser) finish() *SMILESError {
	m := p.mol
	ring := ringBondFlags(len(m.Atoms), m.Bonds)
	s := newSanitizer(m, p.atomPos, p.directional)
	p.san = s
	for i := range m.Bonds {
		b := &m.Bonds[i]
		b.Ring = ring[i]
		// An unwritten bond between two aromatic atoms is aromatic only
		// inside a ring; between rings (c1ccccc1c1ccccc1) it is single.
		// RDKit checks valences before it makes that bond single, so the
		// sanitizer keeps it aromatic (newSanitizer copied the order).
		if !b.Ring && p.implicit[i] && b.Order == 1.5 {
			b.Order = 1
		}
	}
	s.prepare()

	s.cleanUp()
	s.cleanUpOrganometallics()
	if err := s.checkValences(); err != nil {
		return err
	}
	for i, a := range m.Atoms {
		if a.Aromatic && !s.inRing[i] {
			return errAt(p.atomPos[i], "aromatic atom %q outside a ring", strings.ToLower(a.Element))
		}
	}
	return s.kekulize()
}

// sanitizer is a working copy of the charges and bond orders that RDKit's
// clean-up step rewrites (CN(=O)=O is checked as C[N+](=O)[O-]). The
// Molecule itself keeps what was written, except the implicit hydrogen
// counts of organic-subset atoms, which checkValences fills in.
//
// Hydrogens written as atoms ([H]) are handled as RDKit's SMILES reader
// does: one with a single bond to a heavy atom (not isotopic, not a
// hydride, not defining a double bond's geometry, not on an atom with
// square-planar, bipyramidal or octahedral chirality) is folded into that
// atom as one more hydrogen, whatever its bond order; others stay atoms.
type sanitizer struct {
	m   *Molecule
	pos []int // byte offset of each atom

	z        []int     // atomic number per atom
	charge   []int     // formal charge per atom, after clean-up
	order    []float64 // per bond: 1, 2, 3, 4, or 1.5 (aromatic), after clean-up
	donor    []int     // per bond: the atom a dative bond does not count for, or -1
	bondsOf  [][]int   // bond indices per atom, without the bonds of folded hydrogens
	folded   []int     // per atom: [H] atoms folded into it
	removed  []bool    // per atom: a [H] folded into its neighbour
	aromatic []bool    // per atom: written aromatic, or has an aromatic bond (RDKit's isAromaticAtom)
	inRing   []bool    // per atom: lies on a cycle
	implicit []int     // implicit hydrogens per atom (organic subset only)
	valence  []int     // explicit valence per atom, set by checkValences
}

// newSanitizer copies the atoms and bonds of m; bond orders are copied
// before finish makes unwritten non-ring aromatic bonds single, as RDKit
// keeps them aromatic while it checks valences. prepare completes it once
// the ring flags are set.
func newSanitizer(m *Molecule, pos []int, directional []bool) *sanitizer {
	n := len(m.Atoms)
	s := &sanitizer{
		m: m, pos: pos,
		z:        make([]int, n),
		charge:   make([]int, n),
		order:    make([]float64, len(m.Bonds)),
		donor:    make([]int, len(m.Bonds)),
		bondsOf:  make([][]int, n),
		folded:   make([]int, n),
		removed:  make([]bool, n),
		aromatic: make([]bool, n),
		inRing:   make([]bool, n),
		implicit: make([]int, n),
		valence:  make([]int, n),
	}
	for i, a := range m.Atoms {
		s.z[i] = atomicNumber(a.Element)
		s.charge[i] = a.Charge
		s.aromatic[i] = a.Aromatic
	}
	// One backing array for every atom's bond list.
	degree := make([]int, n)
	for i, b := range m.Bonds {
		s.order[i] = b.Order
		s.donor[i] = -1
		if m.IsDative(i) {
			s.donor[i] = b.A
		}
		degree[b.A]++
		degree[b.B]++
	}
	flat := make([]int, 2*len(m.Bonds))
	for i, off := 0, 0; i < n; i++ {
		s.bondsOf[i] = flat[off : off : off+degree[i]]
		off += degree[i]
	}
	for i, b := range m.Bonds {
		s.bondsOf[b.A] = append(s.bondsOf[b.A], i)
		s.bondsOf[b.B] = append(s.bondsOf[b.B], i)
	}
	foldedBond := make([]bool, len(m.Bonds))
	for i, a := range m.Atoms {
		if a.Element != "H" || a.Isotope != 0 || a.Charge == -1 || degree[i] != 1 {
			continue
		}
		bi := s.bondsOf[i][0]
		j := s.other(bi, i)
		nb := m.Atoms[j]
		switch {
		case nb.Element == "H":
			continue
		case strings.HasPrefix(nb.Chiral, "@SP"), strings.HasPrefix(nb.Chiral, "@TB"), strings.HasPrefix(nb.Chiral, "@OH"):
			continue
		case directional[bi] && degree[j] == 2 && s.hasDoubleBond(j):
			continue
		}
		s.removed[i] = true
		s.folded[j]++
		foldedBond[bi] = true
	}
	for i := range s.bondsOf {
		kept := s.bondsOf[i][:0]
		for _, bi := range s.bondsOf[i] {
			if !foldedBond[bi] {
				kept = append(kept, bi)
				if s.order[bi] == 1.5 {
					s.aromatic[i] = true
				}
			}
		}
		s.bondsOf[i] = kept
	}
	return s
}

func (s *sanitizer) hasDoubleBond(i int) bool {
	for _, bi := range s.bondsOf[i] {
		if s.order[bi] == 2 {
			return true
		}
	}
	return false
}

// prepare records ring membership, once the bonds' ring flags are set.
func (s *sanitizer) prepare() {
	for _, b := range s.m.Bonds {
		if b.Ring {
			s.inRing[b.A], s.inRing[b.B] = true, true
		}
	}
}

func (s *sanitizer) other(bond, atom int) int {
	if b := s.m.Bonds[bond]; b.A == atom {
		return b.B
	} else {
		return b.A
	}
}

// contrib is what a bond adds to an atom's valence: its order, or nothing
// for the donor end of a dative bond.
func (s *sanitizer) contrib(bond, atom int) float64 {
	if s.donor[bond] == atom {
		return 0
	}
	return s.order[bond]
}

func (s *sanitizer) organic(i int) bool { return !s.m.Atoms[i].Bracket }

// effectiveAtomicNumber is the atomic number of the element an ion is
// isoelectronic with (N+ counts as C, O- as F), clamped to the table, as
// long as the element has a valence list at all.
func (s *sanitizer) effectiveAtomicNumber(i int) int {
	z := s.z[i]
	if ov := allowedValences[z]; len(ov) == 1 && ov[0] == -1 {
		return z
	}
	return min(max(z-s.charge[i], 0), maxAtomicNumber)
}

// canBeHypervalent reports RDKit's exception for anionic P, S, As and Se:
// isoelectronic with Cl/Ar or Br/Kr, they still get their own element's
// hypervalent forms.
func canBeHypervalent(z, eff int) bool {
	return (eff > 16 && (z == 15 || z == 16)) || (eff > 34 && (z == 33 || z == 34))
}

func last(v []int) int { return v[len(v)-1] }

// explicitValence is RDKit's explicit valence of atom i: its bond orders
// (aromatic bonds 1.5) plus written hydrogens, where an aromatic atom whose
// sum lies above the default valence but within 1.5 of an allowed one is
// taken at that valence (the N of c1cccn1C counts 3, not 4), rounded with
// x.5 going up. With strict it also returns an error when the valence is
// above the largest one allowed for the atom's effective element.
func (s *sanitizer) explicitValence(i int, strict bool) (int, *SMILESError) {
	a := &s.m.Atoms[i]
	accum := float64(s.folded[i])
	if a.Bracket {
		accum += float64(a.HCount)
	}
	for _, b := range s.bondsOf[i] {
		accum += s.contrib(b, i)
	}
	z, eff := s.z[i], s.effectiveAtomicNumber(i)
	ov, valens := allowedValences[z], allowedValences[eff]
	dv := valens[0]
	if accum > float64(dv) && s.aromatic[i] {
		pval := dv
		for _, v := range valens {
			if v == -1 || float64(v) > accum {
				break
			}
			pval = v
		}
		if accum-float64(pval) <= 1.5 {
			accum = float64(pval)
		}
	}
	res := int(math.Round(accum + 0.1))
	if !strict {
		return res, nil
	}
	maxV, offset := last(valens), 0
	if canBeHypervalent(z, eff) {
		maxV, offset = last(ov), -s.charge[i]
	}
	if z == 1 && s.charge[i] == -1 {
		maxV = 2 // RDKit accepts a two-coordinate [H-]
	}
	if maxV >= 0 && last(ov) >= 0 && res+offset > maxV {
		return res, s.valenceError(i, res, maxV-offset)
	}
	return res, nil
}

// implicitHydrogens is RDKit's implicit valence of an organic-subset atom
// whose explicit valence is ev: the hydrogens that bring it to its next
// allowed valence, or, for an aromatic atom, to its default valence. Bracket
// atoms get none. With strict it also returns an error when no allowed
// valence fits.
func (s *sanitizer) implicitHydrogens(i, ev int, strict bool) (int, *SMILESError) {
	if !s.organic(i) {
		return 0, nil
	}
	z, eff := s.z[i], s.effectiveAtomicNumber(i)
	if eff == 0 {
		return 0, nil
	}
	dv := allowedValences[eff][0]
	if dv == -1 {
		return 0, nil
	}
	v := ev
	if canBeHypervalent(z, eff) {
		eff = z
		v -= s.charge[i]
	}
	valens := allowedValences[eff]
	if s.aromatic[i] {
		if v <= dv {
			return dv - v, nil
		}
		for _, allowed := range valens {
			if allowed <= 0 {
				break
			}
			if v == allowed {
				return 0, nil
			}
		}
		if strict {
			return 0, errAt(s.pos[i], "aromatic %s at position %d has valence %d, which is none of its allowed valences %s",
				elementName(s.m.Atoms[i].Element), s.pos[i]+1, v, formatValences(valens))
		}
		return 0, nil
	}
	for _, allowed := range valens {
		if allowed < 0 {
			break
		}
		if v <= allowed {
			return allowed - v, nil
		}
	}
	if strict && last(valens) != -1 && last(allowedValences[z]) > 0 {
		return 0, s.valenceError(i, v, last(valens))
	}
	return 0, nil
}

func (s *sanitizer) valenceError(i, v, maxV int) *SMILESError {
	a := s.m.Atoms[i]
	name := elementName(a.Element)
	if s.aromatic[i] {
		name = "aromatic " + name
	}
	limit := fmt.Sprintf("max %d", maxV)
	if a.Charge != 0 {
		limit += " for charge " + formatCharge(a.Charge)
	}
	var counting []string
	if s.aromatic[i] {
		counting = append(counting, "aromatic bonds as 1.5")
	}
	if a.Bracket && a.HCount > 0 {
		counting = append(counting, fmt.Sprintf("its %d written hydrogen%s", a.HCount, map[bool]string{true: "s"}[a.HCount > 1]))
	}
	how := ""
	if len(counting) > 0 {
		how = ", counting " + strings.Join(counting, " and ")
	}
	return errAt(s.pos[i], "%s at position %d has valence %d (%s)%s", name, s.pos[i]+1, v, limit, how)
}

func formatValences(v []int) string {
	parts := make([]string, 0, len(v))
	for _, x := range v {
		if x >= 0 {
			parts = append(parts, fmt.Sprint(x))
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// checkValences runs RDKit's strict valence checks atom by atom and sets
// the implicit hydrogen counts of organic-subset atoms.
func (s *sanitizer) checkValences() *SMILESError {
	for i := range s.m.Atoms {
		if s.removed[i] {
			continue
		}
		ev, err := s.explicitValence(i, true)
		if err != nil {
			return err
		}
		h, err := s.implicitHydrogens(i, ev, true)
		if err != nil {
			return err
		}
		s.valence[i], s.implicit[i] = ev, h
		if s.organic(i) {
			s.m.Atoms[i].HCount = h
		}
	}
	return nil
}

// cleanUp rewrites, in the working copy, the neutral hypervalent forms RDKit
// converts to charge-separated ones before checking valences
// (MolOps::cleanUp):
//
//   - N with valence 5: a double bond to a neutral O becomes [N+]-[O-]
//     (CN(=O)=O, the neutral form of a nitro group, or an N-oxide
//     O=n1ccccc1), and then a triple bond to a neutral N becomes [N+]=[N-]
//     (the azide CN=N#N);
//   - P with valence 5 and three neighbours, a double bond to a neutral O
//     and one to a C or N with two or more neighbours: P=O becomes
//     [P+]-[O-];
//   - Cl, Br or I with valence 3, 5 or 7 and only O neighbours: each X=O
//     becomes [X+]-[O-] (OCl(=O)(=O)=O, perchloric acid).
func (s *sanitizer) cleanUp() {
	var fivefold []int
	for i := range s.m.Atoms {
		if s.z[i] != 7 || s.charge[i] != 0 {
			continue
		}
		if ev, _ := s.explicitValence(i, false); ev != 5 {
			continue
		}
		fivefold = append(fivefold, i)
		s.separate(i, 8, 2)
	}
	for _, i := range fivefold {
		s.separate(i, 7, 3)
	}
	for i := range s.m.Atoms {
		switch s.z[i] {
		case 15:
			s.cleanUpPhosphorus(i)
		case 17, 35, 53:
			s.cleanUpHalogen(i)
		}
	}
}

// separate finds the first neutral neighbour of element z joined to the N
// atom i by a bond of the given order, lowers that bond by one, and sets
// the charges to [N+] and -1 on the neighbour (set, not added, as RDKit
// does: an N that had both an N=O and an N#N ends up +1).
func (s *sanitizer) separate(i, z int, order float64) {
	for _, b := range s.bondsOf[i] {
		j := s.other(b, i)
		if s.z[j] == z && s.charge[j] == 0 && s.order[b] == order {
			s.order[b]--
			s.charge[i] = 1
			s.charge[j] = -1
			return
		}
	}
}

func (s *sanitizer) cleanUpPhosphorus(i int) {
	if s.charge[i] != 0 || len(s.bondsOf[i]) != 3 {
		return
	}
	if ev, _ := s.explicitValence(i, false); ev != 5 {
		return
	}
	toO, toCN := -1, false
	for _, b := range s.bondsOf[i] {
		j := s.other(b, i)
		switch {
		case s.z[j] == 8 && s.charge[j] == 0 && s.order[b] == 2:
			toO = b
		case (s.z[j] == 6 || s.z[j] == 7) && len(s.bondsOf[j]) >= 2 && s.order[b] == 2:
			toCN = true
		}
	}
	if toO >= 0 && toCN {
		s.order[toO] = 1
		s.charge[i]++
		s.charge[s.other(toO, i)]--
	}
}

func (s *sanitizer) cleanUpHalogen(i int) {
	if s.charge[i] != 0 {
		return
	}
	if ev, _ := s.explicitValence(i, false); ev != 3 && ev != 5 && ev != 7 {
		return
	}
	for _, b := range s.bondsOf[i] {
		if s.z[s.other(b, i)] != 8 {
			return
		}
	}
	for _, b := range s.bondsOf[i] {
		if s.order[b] == 2 {
			s.order[b] = 1
			s.charge[i]++
			s.charge[s.other(b, i)] = -1
		}
	}
}

// cleanUpOrganometallics turns, as RDKit does, one single bond from a
// non-metal above its allowed valence to a metal into a dative bond that
// does not count for the non-metal ([NH3][Pt]([NH3])(Cl)Cl, cisplatin).
// H, He, F and Ne never donate.
func (s *sanitizer) cleanUpOrganometallics() {
	for i := range s.m.Atoms {
		switch s.z[i] {
		case 1, 2, 9, 10:
			continue
		}
		if !s.hypervalentNonMetal(i) {
			continue
		}
		for _, b := range s.bondsOf[i] {
			if j := s.other(b, i); s.order[b] == 1 && s.donor[b] < 0 && !nonMetals[s.z[j]] {
				s.donor[b] = i
				break
			}
		}
	}
}

func (s *sanitizer) hypervalentNonMetal(i int) bool {
	if !nonMetals[s.z[i]] {
		return false
	}
	eff := s.z[i] - s.charge[i]
	if eff <= 0 || eff > maxAtomicNumber {
		return false
	}
	maxV := last(allowedValences[eff])
	if maxV <= 0 {
		return false
	}
	ev, _ := s.explicitValence(i, false)
	if ev > maxV {
		return true
	}
	if ev == maxV && s.m.Atoms[i].Aromatic {
		return len(s.bondsOf[i])+s.hydrogens(i, ev) == 4
	}
	return false
}

// hydrogens is RDKit's total hydrogen count of atom i with explicit
// valence ev: written, folded [H] atoms, and implicit.
func (s *sanitizer) hydrogens(i, ev int) int {
	h := s.folded[i]
	if s.m.Atoms[i].Bracket {
		return h + s.m.Atoms[i].HCount
	}
	implicit, _ := s.implicitHydrogens(i, ev, false)
	return h + implicit
}

// kekulize checks that the aromatic ring atoms can be given alternating
// single and double bonds, as RDKit's Kekulize does: an aromatic ring atom
// needs a double bond when its bonds and hydrogens leave exactly one of its
// valence unused (benzene c, pyridine n), and those atoms must pair up
// along aromatic ring bonds. Pyrrole written c1ccnc1 fails: five atoms
// each want a double bond.
func (s *sanitizer) kekulize() *SMILESError {
	m := s.m
	var cands []int
	local := make([]int, len(m.Atoms))
	for i := range m.Atoms {
		local[i] = -1
		if s.inRing[i] && s.aromatic[i] && s.wantsDoubleBond(i) {
			local[i] = len(cands)
			cands = append(cands, i)
		}
	}
	adj := make([][]int, len(cands))
	bondTo := make(map[[2]int]int)
	for bi, b := range m.Bonds {
		if s.order[bi] != 1.5 || !b.Ring || local[b.A] < 0 || local[b.B] < 0 {
			continue
		}
		u, v := local[b.A], local[b.B]
		adj[u] = append(adj[u], v)
		adj[v] = append(adj[v], u)
		bondTo[[2]int{min(u, v), max(u, v)}] = bi
	}
	match := maxMatching(adj)
	for li, mate := range match {
		if mate < 0 {
			return s.kekuleError(cands[li], local)
		}
	}
	return s.checkKekule(match, bondTo)
}

// checkKekule gives the aromatic bonds the single and double orders of the
// pairing found, clears the aromatic flags and checks the valences again,
// as RDKit does after kekulizing: an atom that passed only because
// aromatic bonds count 1.5, or because an aromatic atom's valence is
// rounded down to an allowed one, fails here (the Br of C1:BrC:C:C:C:C:1,
// the n of C1#nCCCCC1). An aromatic bond outside any ring becomes single
// too when one of its atoms is in a ring (RDKit's Kekulize makes every
// aromatic bond of a ring atom single first); between two chain atoms it
// stays aromatic (RDKit accepts C:BrC). As
// RDKit does, a neutral aromatic N or P with one written hydrogen drops it
// first (Github issue 141) and takes its hydrogens from its new valence.
// ParseSMILES does not perceive aromaticity again afterwards, as RDKit
// does; the few molecules that RDKit then accepts with an atom over its
// valence (C=1ccccc1=C) are refused here.
func (s *sanitizer) checkKekule(match []int, bondTo map[[2]int]int) *SMILESError {
	m := s.m
	for bi, b := range m.Bonds {
		if s.order[bi] == 1.5 && (s.inRing[b.A] || s.inRing[b.B]) {
			s.order[bi] = 1
		}
	}
	for u, v := range match {
		if u < v {
			s.order[bondTo[[2]int{u, v}]] = 2
		}
	}
	var check []int
	for i, a := range m.Atoms {
		if s.removed[i] || !s.aromatic[i] {
			continue
		}
		s.aromatic[i] = false
		for _, bi := range s.bondsOf[i] {
			if s.order[bi] == 1.5 {
				s.aromatic[i] = true
			}
		}
		z := s.z[i]
		if (z == 7 || z == 15) && s.charge[i] == 0 && s.hydrogens(i, s.valence[i]) == 1 && (a.Bracket || s.folded[i] == 1) {
			s.folded[i] = 0
			if a.Bracket {
				continue // it then gets implicit hydrogens: it fits
			}
		}
		check = append(check, i)
	}
	for _, i := range check {
		ev, err := s.explicitValence(i, true)
		if err == nil {
			_, err = s.implicitHydrogens(i, ev, true)
		}
		if err != nil {
			err.Reason += " once its aromatic bonds are made single and double"
			return err
		}
	}
	return nil
}

// kekuleError describes the ring system of atom i, an aromatic atom left
// without a double bond: its first atom's position, how many of its atoms
// need a double bond, and the usual cause when it has one (a pyrrole-type
// nitrogen written n instead of [nH]).
func (s *sanitizer) kekuleError(i int, local []int) *SMILESError {
	m := s.m
	seen := map[int]bool{i: true}
	stack := []int{i}
	first, need, bareN := i, 0, false
	for len(stack) > 0 {
		u := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		first = min(first, u)
		if local[u] >= 0 {
			need++
		}
		if a := m.Atoms[u]; a.Element == "N" && a.Aromatic && !a.Bracket && len(s.bondsOf[u]) == 2 {
			bareN = true
		}
		for _, b := range s.bondsOf[u] {
			if v := s.other(b, u); s.order[b] == 1.5 && m.Bonds[b].Ring && !seen[v] {
				seen[v] = true
				stack = append(stack, v)
			}
		}
	}
	hint := ""
	if bareN {
		hint = "; a pyrrole-type nitrogen must carry its hydrogen, written [nH]"
	}
	return errAt(s.pos[first], "cannot kekulize the aromatic ring system at position %d: %d of its %d atoms need a double bond and cannot all be paired along aromatic bonds%s",
		s.pos[first]+1, need, len(seen), hint)
}

// wantsDoubleBond is RDKit's test for an aromatic atom that must take one
// of the double bonds of its ring system (markDbondCands in
// Code/GraphMol/Kekulize.cpp).
func (s *sanitizer) wantsDoubleBond(i int) bool {
	a := s.m.Atoms[i]
	sbo, ignored := 0, 0
	for _, b := range s.bondsOf[i] {
		if s.order[b] == 1.5 {
			sbo++
			continue
		}
		c := int(math.Round(s.contrib(b, i)))
		sbo += c
		if c == 0 {
			ignored++
		}
	}
	hs := s.hydrogens(i, s.valence[i])
	sbo += hs
	z := s.z[i]
	valList := allowedValences[z]
	chrg := s.charge[i]
	if earlyElements[z] || (z == 6 && chrg > 0) {
		chrg = -chrg
	}
	dv := valList[0] + chrg
	tbo := s.valence[i] + s.implicit[i]
	degree := len(s.bondsOf[i]) + s.implicit[i] - ignored
	for vi := 1; tbo > dv && vi < len(valList) && valList[vi] > 0; vi++ {
		dv = valList[vi] + chrg
	}
	// Neutral aromatic N-oxides such as O=n1ccccc1 (only reached when
	// clean-up has not already separated the charges).
	if tbo == 5 && sbo == 4 && dv == 3 && degree == 3 && chrg == 0 && hs == 0 && (z == 7 || z == 15 || z == 33) {
		dv = 5
	}
	if degree >= dv {
		return false
	}
	return dv == sbo+1 || (a.Bracket && dv == sbo+2)
}

func formatCharge(c int) string {
	if c > 0 {
		return fmt.Sprintf("+%d", c)
	}
	return fmt.Sprint(c)
}
