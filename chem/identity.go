package chem

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// This file gives each molecule one identity: a canonical SMILES written
// from the perceived Structure (Perceive), so that Kekulé and aromatic
// spellings, and any atom order, of one molecule give one string, stereo
// included. The approach is that of RDKit's canonical atom ranking
// (Code/GraphMol/new_canon.h, Canon::rankMolAtoms; Schneider, Sayle and
// Landrum, J. Chem. Inf. Model. 2015, 55, 2111): atoms are ranked by
// invariants, the ranks are refined by the neighbours' ranks until they are
// stable, the stereo marks are added as invariants once the graph alone has
// ranked the atoms, and remaining ties are broken one at a time, each
// followed by a refinement. Ties among a stereo centre's alike neighbours
// are broken every way and the smallest string kept (breakTies), where
// RDKit has its own special cases. The string itself is ours, not RDKit's:
// the tests hold it to RDKit's verdicts (two spellings are one identity
// exactly where RDKit's canonical SMILES are equal, and RDKit reads each
// identity back as the molecule it came from), not to RDKit's characters.

//go:generate sh -c "cd .. && node scripts/rdkit/identity.mjs < chem/testdata/rdkit_identity.tsv > chem/testdata/rdkit_identity.tsv.new && mv chem/testdata/rdkit_identity.tsv.new chem/testdata/rdkit_identity.tsv"

// identityLeafBudget bounds the tie-breaking search that is needed only
// where a stereo centre's neighbours are alike (ring stereo such as
// cis-1,4-dimethylcyclohexane): the smallest string over at most this many
// complete rankings is taken.
const identityLeafBudget = 256

// Identity returns the canonical identity of a SMILES string: a canonical
// SMILES of the molecule as RDKit perceives it (aromatic form, hydrogens as
// counts), with tetrahedral and double-bond stereo. It refuses what
// ParseSMILES refuses, with the same error.
func Identity(smiles string) (string, error) {
	st, err := Perceive(smiles)
	if err != nil {
		return "", err
	}
	return st.Identity(), nil
}

// Identity returns the structure's canonical identity (see the package
// function Identity), for a Structure from Perceive.
func (st *Structure) Identity() string {
	c := newCanon(st)
	return c.run()
}

// canon holds one canonicalization.
type canon struct {
	st  *Structure
	n   int
	adj [][]edge
	// chiral is, per atom, +1 (@) or -1 (@@) for a kept tetrahedral
	// centre, for its neighbours listed hydrogen first, then in structure
	// index order; 0 where there is none.
	chiral []int
	// dbl lists the kept stereo double bonds, trans set where the lowest
	// ranked substituents of the two ends are on opposite sides.
	dbl   []dblStereo
	bonds []int // per structure bond: its index in st.Molecule.Bonds
}

// dblStereo is one stereo double bond between atoms a and b.
type dblStereo struct {
	a, b   int
	ra, rb int // the substituents the geometry is given for
	trans  bool
}

func newCanon(st *Structure) *canon {
	c := &canon{st: st, n: len(st.Atoms), adj: st.adj, chiral: make([]int, len(st.Atoms))}
	m := st.Molecule
	idx := make([]int, len(m.Atoms))
	for i := range idx {
		idx[i] = -1
	}
	for i, a := range st.Atoms {
		idx[a.Source] = i
	}
	for bi, b := range m.Bonds {
		if idx[b.A] >= 0 && idx[b.B] >= 0 {
			c.bonds = append(c.bonds, bi)
		}
	}
	c.readChirality(idx)
	return c
}

// readChirality records each written tetrahedral mark as a sign relative to
// the neighbours in structure-index order, the hydrogen first.
func (c *canon) readChirality(idx []int) {
	m := c.st.Molecule
	if len(m.written) != len(m.Atoms) {
		return
	}
	for i, a := range c.st.Atoms {
		mark := m.Atoms[a.Source].Chiral
		var sign int
		switch mark {
		case "@", "@TH1":
			sign = 1
		case "@@", "@TH2":
			sign = -1
		default:
			continue
		}
		var in []int
		hs := 0
		for _, x := range m.written[a.Source] {
			if x == hSlot || (x >= 0 && idx[x] < 0) {
				in = append(in, -1)
				hs++
				continue
			}
			in = append(in, idx[x])
		}
		if hs > 1 || hs != a.Hs || len(in) < 3 || len(in) > 4 {
			continue
		}
		out := slices.Clone(in)
		slices.Sort(out) // -1 (the hydrogen) first
		odd, ok := permutationParity(in, out)
		if !ok {
			continue
		}
		if odd {
			sign = -sign
		}
		c.chiral[i] = sign
	}
}

// invariants are the atoms' initial invariants, as ranks: degree first, so
// that the string starts at a terminal atom, then element, isotope, charge,
// hydrogens, aromaticity, ring membership and radicals.
func (c *canon) invariants() []int {
	type inv [8]int
	keys := make([]inv, c.n)
	for i, a := range c.st.Atoms {
		ring := 0
		for _, e := range c.adj[i] {
			if c.st.Bonds[e.bond].Ring {
				ring = 1
			}
		}
		arom := 0
		if a.Aromatic {
			arom = 1
		}
		keys[i] = inv{len(c.adj[i]), a.Number, a.Isotope, a.Charge, a.Hs, arom, ring, a.Radicals}
	}
	return rankBy(c.n, func(i, j int) int { return slices.Compare(keys[i][:], keys[j][:]) })
}

// rankBy gives each atom the number of atoms that sort strictly before it.
func rankBy(n int, cmpf func(i, j int) int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, cmpf)
	rank := make([]int, n)
	for k, i := range order {
		if k > 0 && cmpf(order[k-1], i) == 0 {
			rank[i] = rank[order[k-1]]
		} else {
			rank[i] = k
		}
	}
	return rank
}

// bondCode is a bond's label in the refinement.
func (c *canon) bondCode(bi int) int {
	b := c.st.Bonds[bi]
	switch {
	case b.Aromatic:
		return 5
	case b.ChainAromatic:
		return 6
	}
	return b.Order
}

// refine splits ranks by the sorted (rank, bond) lists of the neighbours
// until the number of classes stops growing. Distinct ranks keep their order.
func (c *canon) refine(rank []int) []int {
	for {
		nb := make([][]int, c.n)
		for i := range nb {
			for _, e := range c.adj[i] {
				nb[i] = append(nb[i], rank[e.to]*8+c.bondCode(e.bond))
			}
			slices.Sort(nb[i])
		}
		next := rankBy(c.n, func(i, j int) int {
			if d := cmp.Compare(rank[i], rank[j]); d != 0 {
				return d
			}
			return slices.Compare(nb[i], nb[j])
		})
		if classes(next) == classes(rank) {
			return next
		}
		rank = next
	}
}

func classes(rank []int) int {
	seen := make(map[int]bool, len(rank))
	for _, r := range rank {
		seen[r] = true
	}
	return len(seen)
}

// distinctNeighbours reports whether atom i's neighbours (and its hydrogen,
// which is one of a kind) have pairwise different ranks.
func (c *canon) distinctNeighbours(i, except int, rank []int) bool {
	seen := map[int]bool{}
	for _, e := range c.adj[i] {
		if e.to == except {
			continue
		}
		if seen[rank[e.to]] {
			return false
		}
		seen[rank[e.to]] = true
	}
	return true
}

// legalCentre is RDKit's test of an atom that may carry tetrahedral stereo:
// four neighbours counting hydrogens (three for S, Se, P, As, and for N in a
// three-membered ring), at most one hydrogen, not aromatic.
func (c *canon) legalCentre(i int) bool {
	a := c.st.Atoms[i]
	total := len(c.adj[i]) + a.Hs
	if a.Hs > 1 || a.Aromatic {
		return false
	}
	switch total {
	case 4:
		return true
	case 3:
		switch a.Number {
		case 16, 34, 15, 33:
			return true
		case 7:
			for _, r := range c.st.Rings {
				if len(r) == 3 && slices.Contains(r, i) {
					return true
				}
			}
		}
	}
	return false
}

// sameRing reports whether atoms i and j lie in one ring.
func (c *canon) sameRing(i, j int) bool {
	for _, r := range c.st.Rings {
		if slices.Contains(r, i) && slices.Contains(r, j) {
			return true
		}
	}
	return false
}

// stereo drops the marks that are not stereo, as RDKit's stereo
// perception drops them: a mark on an atom that cannot be a centre
// (legalCentre); a centre with two neighbours alike, unless another centre
// shares a ring with it (ring stereo, as in cis-1,4-dimethylcyclohexane;
// C[C@H]1CCCC1 has none); a double bond in a ring of fewer than eight
// atoms, or with an end whose substituents are alike, unmarked, or marked
// in contradiction. The table of RDKit's verdicts is the judge of these
// rules, not a port of RDKit's code.
func (c *canon) stereo(sym []int) {
	ringCand := []int{}
	for i := range c.chiral {
		if c.chiral[i] == 0 {
			continue
		}
		switch {
		case !c.legalCentre(i):
			c.chiral[i] = 0
		case !c.distinctNeighbours(i, -1, sym):
			ringCand = append(ringCand, i)
		}
	}
	for _, i := range ringCand {
		keep := false
		for _, j := range ringCand {
			if j != i && c.sameRing(i, j) {
				keep = true
			}
		}
		for j := range c.chiral {
			if c.chiral[j] != 0 && j != i && !slices.Contains(ringCand, j) && c.sameRing(i, j) {
				keep = true
			}
		}
		if !keep {
			c.chiral[i] = 0
		}
	}
	m := c.st.Molecule
	if m.dirs == nil {
		return
	}
	for bi, b := range c.st.Bonds {
		if b.Order != 2 || b.Aromatic || (b.Ring && c.smallestRing(bi) < 8) {
			continue
		}
		ra, sa, okA := c.side(b.A, b.B, sym)
		rb, sb, okB := c.side(b.B, b.A, sym)
		if !okA || !okB {
			continue
		}
		c.dbl = append(c.dbl, dblStereo{a: b.A, b: b.B, ra: ra, rb: rb, trans: sa != sb})
	}
}

// smallestRing is the size of the smallest ring holding bond bi.
func (c *canon) smallestRing(bi int) int {
	best := 1 << 30
	for k, r := range c.st.RingBonds {
		if slices.Contains(r, bi) {
			best = min(best, len(c.st.Rings[k]))
		}
	}
	return best
}

// side finds, for double-bond end a (other end b), its lowest-ranked
// substituent and whether the marks put it above a. ok is false where the
// end has no substituent, two alike, or no '/' or '\' mark.
func (c *canon) side(a, b int, sym []int) (ref int, above bool, ok bool) {
	var subs []edge
	for _, e := range c.adj[a] {
		if e.to != b {
			subs = append(subs, e)
		}
	}
	if len(subs) == 0 || len(subs) > 2 || !c.distinctNeighbours(a, b, sym) {
		return 0, false, false
	}
	if len(subs)+c.st.Atoms[a].Hs > 2 {
		return 0, false, false
	}
	slices.SortFunc(subs, func(x, y edge) int { return cmp.Compare(sym[x.to], sym[y.to]) })
	ref = subs[0].to
	m := c.st.Molecule
	marks := 0
	for k, e := range subs {
		mb := c.bonds[e.bond]
		d := m.dirs[mb]
		if d == 0 {
			continue
		}
		// '/' read from Bond.A to Bond.B goes up: B is above A.
		srcA := c.st.Atoms[a].Source
		up := d == '/'
		if m.Bonds[mb].A != srcA {
			up = !up // read from the substituent: a is above it, it is below a
		}
		if k > 0 {
			up = !up // the other substituent is on the other side
		}
		if marks > 0 && up != above {
			return 0, false, false // marks that contradict each other say nothing, as in RDKit
		}
		above = up
		marks++
	}
	return ref, above, marks > 0
}

// stereoInvariants are the per-atom stereo labels added to the ranking once
// the graph alone has ranked the atoms: a centre's sign relative to its
// neighbours' ranks where they differ, and a double bond's cis or trans.
func (c *canon) stereoInvariants(rank []int) []int {
	inv := make([]int, c.n)
	for i, s := range c.chiral {
		if s == 0 {
			continue
		}
		inv[i] = 1
		if c.distinctNeighbours(i, -1, rank) {
			inv[i] = 2 + (c.signByRank(i, rank)+1)/2
		}
	}
	for _, d := range c.dbl {
		v := 4
		if d.trans {
			v = 5
		}
		inv[d.a] = inv[d.a]*8 + v
		inv[d.b] = inv[d.b]*8 + v
	}
	return inv
}

// signByRank is centre i's sign with its neighbours listed hydrogen first,
// then by rank (index order breaking ties).
func (c *canon) signByRank(i int, rank []int) int {
	var in []int
	if c.st.Atoms[i].Hs == 1 {
		in = append(in, -1)
	}
	var nb []int
	for _, e := range c.adj[i] {
		nb = append(nb, e.to)
	}
	slices.Sort(nb)
	in = append(in, nb...)
	out := slices.Clone(in)
	slices.SortStableFunc(out, func(x, y int) int {
		rx, ry := -1, -1
		if x >= 0 {
			rx = rank[x]
		}
		if y >= 0 {
			ry = rank[y]
		}
		return cmp.Compare(rx, ry)
	})
	odd, _ := permutationParity(in, out)
	if odd {
		return -c.chiral[i]
	}
	return c.chiral[i]
}

func (c *canon) run() string {
	if c.n == 0 {
		return ""
	}
	sym := c.refine(c.invariants())
	c.stereo(sym)
	inv := c.stereoInvariants(sym)
	rank := c.refine(rankBy(c.n, func(i, j int) int {
		return cmp.Or(cmp.Compare(sym[i], sym[j]), cmp.Compare(inv[i], inv[j]))
	}))
	best := ""
	budget := identityLeafBudget
	c.breakTies(rank, &budget, &best)
	return best
}

// breakTies breaks one tie, refines, and goes on until every atom has its
// own rank, then writes the molecule and keeps the smallest string. A tie
// among the neighbours of a stereo centre (ring stereo: the mark's meaning
// depends on which of two alike neighbours ranks first) is broken every
// way, and those are broken first; any other tie is between atoms the
// refinement found alike, and is broken at its first atom only, as RDKit
// does. budget bounds the number of complete rankings written.
func (c *canon) breakTies(rank []int, budget *int, best *string) {
	tie, branch := -1, false
	for i, s := range c.chiral {
		if s == 0 {
			continue
		}
		for _, e := range c.adj[i] {
			for _, f := range c.adj[i] {
				if e.to != f.to && rank[e.to] == rank[f.to] && (!branch || rank[e.to] < rank[tie]) {
					tie, branch = e.to, true
				}
			}
		}
	}
	if !branch {
		for i, r := range rank {
			for j := range rank {
				if j != i && rank[j] == r && (tie < 0 || r < rank[tie]) {
					tie = i
				}
			}
		}
	}
	if tie < 0 {
		s := c.write(rank)
		if *best == "" || s < *best {
			*best = s
		}
		*budget--
		return
	}
	r := rank[tie]
	for i := range rank {
		if rank[i] != r || *budget <= 0 {
			continue
		}
		next := slices.Clone(rank)
		for j := range next {
			if next[j] == r && j != i {
				next[j] = r + 1
			}
		}
		c.breakTies(c.refine(next), budget, best)
		if !branch {
			return
		}
	}
}

// write prints the molecule in the order of a complete ranking: each
// fragment from its lowest-ranked atom, neighbours in rank order, fragments
// sorted.
func (c *canon) write(rank []int) string {
	w := &canonWriter{c: c, rank: rank, spanning: newSpanning(c.n, len(c.st.Bonds))}
	for i := range w.adj {
		w.adj[i] = slices.Clone(c.adj[i])
		slices.SortFunc(w.adj[i], func(a, b edge) int { return cmp.Compare(rank[a.to], rank[b.to]) })
	}
	order := make([]int, c.n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(rank[a], rank[b]) })
	var frags []string
	for _, root := range order {
		if w.visited[root] {
			continue
		}
		w.parent[root] = -1
		w.search(root, -1)
	}
	w.assignDirections()
	for i := range w.visited {
		w.visited[i] = false
	}
	for _, root := range order {
		if w.visited[root] {
			continue
		}
		w.sb.Reset()
		w.write(root)
		frags = append(frags, w.sb.String())
	}
	slices.Sort(frags)
	return strings.Join(frags, ".")
}

type canonWriter struct {
	c    *canon
	rank []int
	// up is, per bond, +1 where going from its A to its B is up, -1 where
	// down, 0 where it carries no mark.
	up []int
	spanning
}

// assignDirections marks the substituent bonds of each stereo double bond,
// in rank order, with directions that give its geometry: the lowest-ranked
// substituent of its first end goes up, unless a mark already on one of its
// bonds (shared with an earlier double bond) decides.
func (w *canonWriter) assignDirections() {
	st := w.c.st
	w.up = make([]int, len(st.Bonds))
	dbl := slices.Clone(w.c.dbl)
	for k := range dbl {
		if w.rank[dbl[k].a] > w.rank[dbl[k].b] {
			d := &dbl[k]
			d.a, d.b, d.ra, d.rb = d.b, d.a, d.rb, d.ra
		}
	}
	slices.SortFunc(dbl, func(x, y dblStereo) int {
		return cmp.Or(cmp.Compare(w.rank[x.a], w.rank[y.a]), cmp.Compare(w.rank[x.b], w.rank[y.b]))
	})
	for _, d := range dbl {
		// above(x, y) for substituent y of end x, relative to ra above a.
		want := map[[2]int]bool{}
		for _, e := range w.c.adj[d.a] {
			if e.to != d.b {
				want[[2]int{d.a, e.bond}] = e.to == d.ra
			}
		}
		for _, e := range w.c.adj[d.b] {
			if e.to != d.a {
				// rb is on ra's side when cis.
				want[[2]int{d.b, e.bond}] = (e.to == d.rb) != d.trans
			}
		}
		flip := false
		for k, v := range want {
			if got := w.above(k[0], k[1]); got != 0 {
				flip = (got > 0) != v
				break
			}
		}
		for k, v := range want {
			if w.up[k[1]] != 0 {
				continue
			}
			w.setAbove(k[0], k[1], v != flip)
		}
	}
}

// above is +1 where bond bi's other atom is above atom x, -1 below, 0 unset.
func (w *canonWriter) above(x, bi int) int {
	if w.c.st.Bonds[bi].A == x {
		return w.up[bi]
	}
	return -w.up[bi]
}

func (w *canonWriter) setAbove(x, bi int, above bool) {
	v := -1
	if above {
		v = 1
	}
	if w.c.st.Bonds[bi].A != x {
		v = -v
	}
	w.up[bi] = v
}

func (w *canonWriter) write(a int) {
	w.visited[a] = true
	w.writeAtom(a)
	var freed []int
	for _, e := range w.ringAt[a] {
		if d := w.digit[e.bond]; d > 0 {
			w.writeRing(d)
			freed = append(freed, d)
		}
	}
	for _, e := range w.ringAt[a] {
		if w.digit[e.bond] > 0 {
			continue
		}
		d := 1
		for d < len(w.inUse)-1 && w.inUse[d] {
			d++
		}
		w.inUse[d] = true
		w.digit[e.bond] = d
		w.sb.WriteString(w.bondSymbol(e.bond, a))
		w.writeRing(d)
	}
	for _, d := range freed {
		w.inUse[d] = false
	}
	for k, e := range w.children[a] {
		last := k == len(w.children[a])-1
		if !last {
			w.sb.WriteByte('(')
		}
		w.sb.WriteString(w.bondSymbol(e.bond, a))
		w.write(e.to)
		if !last {
			w.sb.WriteByte(')')
		}
	}
}

func (w *canonWriter) writeRing(d int) {
	if d >= 10 {
		w.sb.WriteByte('%')
	}
	w.sb.WriteString(strconv.Itoa(d))
}

func (w *canonWriter) bondSymbol(bi, from int) string {
	b := w.c.st.Bonds[bi]
	if u := w.up[bi]; u != 0 {
		if b.A != from {
			u = -u
		}
		if u > 0 {
			return "/"
		}
		return "\\"
	}
	arom := w.c.st.Atoms[b.A].Aromatic && w.c.st.Atoms[b.B].Aromatic
	switch {
	case b.Aromatic && arom:
		return ""
	case b.Aromatic || b.ChainAromatic:
		return ":"
	case b.Order == 2:
		return "="
	case b.Order == 3:
		return "#"
	case b.Order == 4:
		return "$"
	case arom:
		return "-"
	}
	return ""
}

// organic lists the elements written without brackets, with the valences
// that then imply their hydrogens.
var organic = map[int][]int{5: {3}, 6: {4}, 7: {3, 5}, 8: {2}, 9: {1}, 15: {3, 5}, 16: {2, 4, 6}, 17: {1}, 35: {1}, 53: {1}}

// plain reports whether atom i may be written without brackets: its
// hydrogens are then implied by what the string shows (bond orders, or for
// an aromatic atom its degree).
func (w *canonWriter) plain(i int) bool {
	a := w.c.st.Atoms[i]
	vals, ok := organic[a.Number]
	if !ok || a.Charge != 0 || a.Isotope != 0 || a.Radicals != 0 || w.chiralMark(i) != "" {
		return false
	}
	deg := len(w.c.adj[i])
	if a.Aromatic {
		switch a.Number {
		case 6:
			return a.Hs+deg == 3
		case 7, 8, 16:
			return a.Hs == 0
		}
		return false
	}
	v := 0
	for _, e := range w.c.adj[i] {
		b := w.c.st.Bonds[e.bond]
		if b.Aromatic || b.ChainAromatic {
			return false
		}
		v += b.Order
	}
	for _, x := range vals {
		if x >= v {
			return a.Hs == x-v
		}
	}
	return false
}

func (w *canonWriter) writeAtom(i int) {
	a := w.c.st.Atoms[i]
	sym := a.Element
	if a.Aromatic {
		sym = strings.ToLower(sym)
	}
	if w.plain(i) {
		w.sb.WriteString(sym)
		return
	}
	writeBracketAtom(&w.sb, a.Isotope, sym, w.chiralMark(i), a.Hs, a.Charge)
}

// chiralMark is centre i's mark for the output's neighbour order: the
// preceding atom, the hydrogen, the ring numbers, then the branches.
func (w *canonWriter) chiralMark(i int) string {
	s := w.c.chiral[i]
	if s == 0 {
		return ""
	}
	// The sign is relative to: hydrogen first, then structure index order.
	var in []int
	if w.c.st.Atoms[i].Hs == 1 {
		in = append(in, -1)
	}
	var nb []int
	for _, e := range w.c.adj[i] {
		nb = append(nb, e.to)
	}
	slices.Sort(nb)
	in = append(in, nb...)
	var out []int
	if p := w.parent[i]; p >= 0 {
		out = append(out, p)
	}
	if w.c.st.Atoms[i].Hs == 1 {
		out = append(out, -1)
	}
	for _, closing := range []bool{true, false} {
		for _, e := range w.ringAt[i] {
			if (w.digit[e.bond] > 0) == closing {
				out = append(out, e.to)
			}
		}
	}
	for _, e := range w.children[i] {
		out = append(out, e.to)
	}
	odd, ok := permutationParity(in, out)
	if !ok {
		return ""
	}
	if odd {
		s = -s
	}
	if s > 0 {
		return "@"
	}
	return "@@"
}
