package chem

import (
	"slices"
	"strconv"
	"strings"
)

// This file writes a Molecule back as SMILES. The output is not canonical:
// it follows the atom order, which for a molecule from ParseSMILES is the
// order written, so that a written SMILES reads like the one submitted. What
// it keeps: elements, aromatic (lower-case) atoms as parsed, bond orders,
// formal charges, isotopes, bracket hydrogen counts, dative bonds, the '/'
// and '\' marks of double-bond geometry (turned round where the writer
// writes the bond the other way), and tetrahedral chirality marks (@, @@,
// @TH1, @TH2), re-oriented for the order the writer names each centre's
// neighbours in. What it drops, because ParseSMILES does not keep it: atom
// classes (:n). A non-tetrahedral mark (@SP, @TB, @OH, @AL) is kept only where
// the centre's neighbours come out in the order they went in, and dropped
// otherwise rather than written with a changed meaning.

// hSlot stands for a bracket atom's own hydrogens in Molecule.written.
const hSlot = -2

// SMILES writes the whole molecule, its fragments joined by '.'.
func (m *Molecule) SMILES() string {
	return m.SubsetSMILES(nil)
}

// Fragments returns the molecule's connected components, each as its atom
// indices in increasing order; components are ordered by their first atom.
func (m *Molecule) Fragments() [][]int {
	n := len(m.Atoms)
	adj := adjacency(n, m.Bonds)
	seen := make([]bool, n)
	var frags [][]int
	for root := 0; root < n; root++ {
		if seen[root] {
			continue
		}
		seen[root] = true
		frag := []int{root}
		for q := 0; q < len(frag); q++ {
			for _, e := range adj[frag[q]] {
				if !seen[e.to] {
					seen[e.to] = true
					frag = append(frag, e.to)
				}
			}
		}
		slices.Sort(frag)
		frags = append(frags, frag)
	}
	return frags
}

// SubsetSMILES writes only the atoms listed (all atoms when atoms is nil),
// normally whole fragments from Fragments. A bond to an atom left out is
// dropped; an atom that loses a bond is written in brackets with its
// hydrogen count, so that its hydrogens do not change.
func (m *Molecule) SubsetSMILES(atoms []int) string {
	n := len(m.Atoms)
	w := &smilesWriter{m: m, keep: make([]bool, n), bracket: make([]bool, n), spanning: newSpanning(n, len(m.Bonds))}
	if atoms == nil {
		for i := range w.keep {
			w.keep[i] = true
		}
	}
	for _, i := range atoms {
		if i >= 0 && i < n {
			w.keep[i] = true
		}
	}
	for bi, b := range m.Bonds {
		switch {
		case w.keep[b.A] && w.keep[b.B]:
			w.adj[b.A] = append(w.adj[b.A], edge{to: b.B, bond: bi})
			w.adj[b.B] = append(w.adj[b.B], edge{to: b.A, bond: bi})
		case w.keep[b.A]:
			w.bracket[b.A] = true
		case w.keep[b.B]:
			w.bracket[b.B] = true
		}
	}
	// Visiting neighbours in atom order retraces the input's own tree
	// where the molecule came from ParseSMILES (atoms are numbered in the
	// order written), and makes writing a written SMILES again stable.
	for i := range w.adj {
		slices.SortFunc(w.adj[i], func(a, b edge) int { return a.to - b.to })
	}
	first := true
	for root := 0; root < n; root++ {
		if !w.keep[root] || w.visited[root] {
			continue
		}
		w.parent[root] = -1
		w.search(root, -1)
		if !first {
			w.sb.WriteByte('.')
		}
		first = false
		w.write(root, -1)
	}
	return w.sb.String()
}

// smilesWriter holds the state of one SubsetSMILES call: a depth-first
// search fixes the spanning tree and the ring closures, then write prints
// them.
type smilesWriter struct {
	m       *Molecule
	keep    []bool
	bracket []bool // written in brackets although parsed without
	spanning
}

// spanning is the depth-first spanning tree a SMILES is written along: the
// SMILES writer and the canonical identity both fill it with search, each
// from its own neighbour order (adj), then print it.
type spanning struct {
	adj      [][]edge
	visited  []bool
	isTree   []bool // per bond: a branch or chain bond of the output
	isRing   []bool // per bond: a ring-closure bond of the output
	parent   []int
	children [][]edge // per atom, in output order
	ringAt   [][]edge // per atom: its ring-closure bonds, in output order
	digit    []int    // per ring-closure bond: its ring number, once opened
	inUse    [100]bool
	sb       strings.Builder
}

// newSpanning sizes a spanning tree for atoms atoms and bonds bonds; the
// caller fills adj.
func newSpanning(atoms, bonds int) spanning {
	return spanning{
		adj: make([][]edge, atoms), visited: make([]bool, atoms), parent: make([]int, atoms),
		children: make([][]edge, atoms), ringAt: make([][]edge, atoms),
		isTree: make([]bool, bonds), isRing: make([]bool, bonds), digit: make([]int, bonds),
	}
}

// search is the depth-first search from atom a, reached by bond in (-1 at
// a fragment's first atom). A bond to an atom already visited closes a ring:
// that atom, written earlier, opens the ring number and a closes it.
func (w *spanning) search(a, in int) {
	w.visited[a] = true
	for _, e := range w.adj[a] {
		switch {
		case e.bond == in || w.isTree[e.bond] || w.isRing[e.bond]:
		case !w.visited[e.to]:
			w.isTree[e.bond] = true
			w.parent[e.to] = a
			w.children[a] = append(w.children[a], e)
			w.search(e.to, e.bond)
		default:
			w.isRing[e.bond] = true
			w.ringAt[e.to] = append(w.ringAt[e.to], edge{to: a, bond: e.bond})
			w.ringAt[a] = append(w.ringAt[a], e)
		}
	}
}

// write prints atom a (reached by bond in), its ring numbers, and its
// subtree.
func (w *smilesWriter) write(a, in int) {
	w.writeAtom(a)
	// Close rings before opening new ones, and only reuse a number on a
	// later atom, so that "C11" never means close-then-open.
	var freed []int
	for _, e := range w.ringAt[a] {
		if d := w.digit[e.bond]; d > 0 {
			w.writeRingNumber(d)
			freed = append(freed, d)
		}
	}
	for _, e := range w.ringAt[a] {
		if w.digit[e.bond] > 0 {
			continue
		}
		d := 1
		for d < len(w.inUse) && w.inUse[d] {
			d++
		}
		w.inUse[d] = true
		w.digit[e.bond] = d
		w.sb.WriteString(w.bondSymbol(e.bond, a))
		w.writeRingNumber(d)
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
		w.write(e.to, e.bond)
		if !last {
			w.sb.WriteByte(')')
		}
	}
}

func (w *smilesWriter) writeRingNumber(d int) {
	if d >= 10 {
		w.sb.WriteByte('%')
	}
	w.sb.WriteString(strconv.Itoa(d))
}

// bondSymbol is the symbol for bond bi written after atom from; a dative
// bond's arrow points from its donor to its acceptor. A single
// bond between aromatic atoms is written '-', or it would read as aromatic;
// an aromatic bond is written only where an end is not aromatic.
func (w *smilesWriter) bondSymbol(bi, from int) string {
	b := w.m.Bonds[bi]
	if w.m.IsDative(bi) {
		if from == b.A {
			return "->"
		}
		return "<-"
	}
	if bi < len(w.m.dirs) && w.m.dirs[bi] != 0 {
		d := w.m.dirs[bi]
		if from != b.A {
			d ^= '/' ^ '\\'
		}
		return string(d)
	}
	arom := w.m.Atoms[b.A].Aromatic && w.m.Atoms[b.B].Aromatic
	switch b.Order {
	case 1.5:
		if arom {
			return ""
		}
		return ":"
	case 2:
		return "="
	case 3:
		return "#"
	case 4:
		return "$"
	}
	if arom {
		return "-"
	}
	return ""
}

// writeAtom prints atom a, unbracketed where it was parsed so and keeps all
// its bonds, otherwise as a bracket atom.
func (w *smilesWriter) writeAtom(a int) {
	at := w.m.Atoms[a]
	sym := at.Element
	if at.Aromatic {
		sym = strings.ToLower(sym)
	}
	if !at.Bracket && !w.bracket[a] {
		w.sb.WriteString(sym)
		return
	}
	writeBracketAtom(&w.sb, at.Isotope, sym, w.chirality(a), at.HCount, at.Charge)
}

// writeBracketAtom writes a bracket atom: [isotope symbol chirality
// hydrogens charge], each part only where it says something. The SMILES
// writer and the canonical identity both write atoms with it.
func writeBracketAtom(sb *strings.Builder, isotope int, sym, chiral string, hs, charge int) {
	sb.WriteByte('[')
	if isotope > 0 {
		sb.WriteString(strconv.Itoa(isotope))
	}
	sb.WriteString(sym)
	sb.WriteString(chiral)
	switch {
	case hs == 1:
		sb.WriteByte('H')
	case hs > 1:
		sb.WriteByte('H')
		sb.WriteString(strconv.Itoa(hs))
	}
	switch {
	case charge == 1:
		sb.WriteByte('+')
	case charge == -1:
		sb.WriteByte('-')
	case charge > 1:
		sb.WriteByte('+')
		sb.WriteString(strconv.Itoa(charge))
	case charge < -1:
		sb.WriteString(strconv.Itoa(charge))
	}
	sb.WriteByte(']')
}

// chirality is atom a's chirality mark for the output's neighbour order. A
// tetrahedral mark says whether the neighbours, looked at from the first,
// turn anticlockwise (@) or clockwise (@@) in the order written: the
// preceding atom, the bracket hydrogens, the ring numbers, then the
// branches and the next atom (OpenSMILES 3.9.3). An odd permutation of
// that order flips the mark.
func (w *smilesWriter) chirality(a int) string {
	mark := w.m.Atoms[a].Chiral
	if mark == "" || len(w.m.written) != len(w.m.Atoms) {
		return mark
	}
	var in []int
	for _, x := range w.m.written[a] {
		if x == hSlot || (x >= 0 && w.keep[x]) {
			in = append(in, x)
		}
	}
	var out []int
	if p := w.parent[a]; p >= 0 {
		out = append(out, p)
	}
	if w.m.Atoms[a].HCount > 0 {
		out = append(out, hSlot)
	}
	for _, e := range w.ringAt[a] {
		out = append(out, e.to)
	}
	for _, e := range w.children[a] {
		out = append(out, e.to)
	}
	switch mark {
	case "@", "@@", "@TH1", "@TH2":
	default:
		if !slices.Equal(in, out) {
			return "" // a non-tetrahedral mark whose neighbours were reordered
		}
		return mark
	}
	odd, ok := permutationParity(in, out)
	switch {
	case !ok:
		return ""
	case !odd:
		return mark
	}
	switch mark {
	case "@", "@TH1":
		return "@@"
	}
	return "@" // "@@" or "@TH2"
}

// permutationParity reports whether out is an odd permutation of in; ok is
// false when out is not a permutation of in.
func permutationParity(in, out []int) (odd, ok bool) {
	if len(in) != len(out) {
		return false, false
	}
	pos := make([]int, len(in))
	for i, x := range in {
		k := slices.Index(out, x)
		if k < 0 {
			return false, false
		}
		pos[i] = k
	}
	inversions := 0
	for i := range pos {
		for j := i + 1; j < len(pos); j++ {
			if pos[i] > pos[j] {
				inversions++
			}
		}
	}
	return inversions%2 == 1, true
}
