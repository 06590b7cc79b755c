package chem

import (
	"math/bits"
	"sort"
)

// maxRingCandidates bounds the candidate cycles relevantCycles examines, so
// that a pathological cage (thousands of equally short cycles) costs a
// bounded time; drug-like molecules have a few dozen.
const maxRingCandidates = 4000

// ring is one cycle: its atoms and bonds (indices into a Structure).
type ring struct {
	atoms []int
	bonds []int
}

// bitset is a set of bond indices.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) xor(o bitset) {
	for i := range b {
		b[i] ^= o[i]
	}
}

// lowest returns the smallest member, or -1 for the empty set.
func (b bitset) lowest() int {
	for i, w := range b {
		if w != 0 {
			return i*64 + bits.TrailingZeros64(w)
		}
	}
	return -1
}

// relevantCycles returns the relevant cycles of the graph: the cycles that
// are not the sum (symmetric difference of bond sets) of strictly shorter
// cycles. They are the union of all minimum cycle bases, which is what
// RDKit's sanitization stores as its ring information (symmetrizeSSSR in
// Code/GraphMol/FindRings.cpp, lines 1085-1114, takes RingDecomposerLib's
// atomRelevantCycles): one ring for each ring of an SSSR, plus the
// equally short alternatives a symmetric system has (adamantane has 4, its
// SSSR 3).
//
// Candidates are Vismara's: for each root atom, the shortest paths of a
// breadth-first search joined across one edge (odd cycles) or at one atom
// reached along two different shortest paths (even cycles), kept only when
// the two paths meet nowhere else. Candidates are then taken shortest
// first, and a candidate is relevant when the shorter relevant cycles do
// not already span it (Gaussian elimination over GF(2)).
func relevantCycles(n int, bonds []Bond, inRing []bool) []ring {
	adj := make([][]edge, n)
	for i, b := range bonds {
		if inRing[i] {
			adj[b.A] = append(adj[b.A], edge{to: b.B, bond: i})
			adj[b.B] = append(adj[b.B], edge{to: b.A, bond: i})
		}
	}
	var cands []cand
	seen := map[string]bool{}
	dist := make([]int, n)
	parentEdge := make([]edge, n)
	order := make([]int, 0, n)
	add := func(path1, path2 []int, closing int) bool {
		set := newBitset(len(bonds))
		for _, bi := range path1 {
			set.set(bi)
		}
		for _, bi := range path2 {
			if set.has(bi) {
				return true // not a simple cycle
			}
			set.set(bi)
		}
		if closing >= 0 {
			if set.has(closing) {
				return true
			}
			set.set(closing)
		}
		size := len(path1) + len(path2)
		if closing >= 0 {
			size++
		}
		key := string(bitsetKey(set))
		if seen[key] {
			return true
		}
		seen[key] = true
		cands = append(cands, cand{set: set, size: size, key: key})
		return len(cands) < maxRingCandidates
	}
	pathTo := func(v int) []int {
		var p []int
		for dist[v] > 0 {
			e := parentEdge[v]
			p = append(p, e.bond)
			v = e.to
		}
		return p
	}
	// disjoint reports whether the atoms of two root paths are disjoint apart
	// from the root.
	disjoint := func(a, b int) bool {
		on := map[int]bool{}
		for v := a; dist[v] > 0; v = parentEdge[v].to {
			on[v] = true
		}
		for v := b; dist[v] > 0; v = parentEdge[v].to {
			if on[v] {
				return false
			}
		}
		return true
	}
	for root := 0; root < n; root++ {
		if len(adj[root]) < 2 {
			continue
		}
		for i := range dist {
			dist[i] = -1
		}
		dist[root] = 0
		order = append(order[:0], root)
		for qh := 0; qh < len(order); qh++ {
			v := order[qh]
			for _, e := range adj[v] {
				// Vismara: only atoms ordered below the root, so each
				// cycle is found from its highest atom.
				if e.to > root || dist[e.to] >= 0 {
					continue
				}
				dist[e.to] = dist[v] + 1
				parentEdge[e.to] = edge{to: v, bond: e.bond}
				order = append(order, e.to)
			}
		}
		for _, y := range order {
			// Even cycles: y reached from two predecessors x1, x2.
			var preds []edge
			for _, e := range adj[y] {
				if dist[e.to] >= 0 && dist[e.to] == dist[y]-1 {
					preds = append(preds, e)
				}
			}
			for i := 0; i < len(preds); i++ {
				for j := i + 1; j < len(preds); j++ {
					x1, x2 := preds[i], preds[j]
					if !disjoint(x1.to, x2.to) {
						continue
					}
					p1 := append(pathTo(x1.to), x1.bond)
					p2 := append(pathTo(x2.to), x2.bond)
					if !add(p1, p2, -1) {
						return pickRelevant(n, bonds, sortedSets(cands))
					}
				}
			}
			// Odd cycles: an edge (y, z) with both ends at the same depth.
			for _, e := range adj[y] {
				z := e.to
				if z < y || dist[z] < 0 || dist[z] != dist[y] || dist[y] == 0 {
					continue
				}
				if !disjoint(y, z) {
					continue
				}
				if !add(pathTo(y), pathTo(z), e.bond) {
					return pickRelevant(n, bonds, sortedSets(cands))
				}
			}
		}
	}
	return pickRelevant(n, bonds, sortedSets(cands))
}

// cand is a candidate cycle of relevantCycles.
type cand struct {
	set  bitset
	size int
	key  string
}

// sortedSets orders candidates by size, then by bond set, so the result
// does not depend on the search order.
func sortedSets(cands []cand) []bitset {
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].size != cands[j].size {
			return cands[i].size < cands[j].size
		}
		return cands[i].key < cands[j].key
	})
	sets := make([]bitset, len(cands))
	for i, c := range cands {
		sets[i] = c.set
	}
	return sets
}

func popcount(b bitset) int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

func bitsetKey(b bitset) []byte {
	out := make([]byte, 0, 8*len(b))
	for _, w := range b {
		for k := 0; k < 8; k++ {
			out = append(out, byte(w>>(8*k)))
		}
	}
	return out
}

// pickRelevant keeps, from candidates sorted by size, those not spanned by
// the strictly shorter ones kept before them.
func pickRelevant(n int, bonds []Bond, sets []bitset) []ring {
	var out []ring
	basis := map[int]bitset{} // pivot bond -> reduced row
	reduce := func(s bitset) bitset {
		r := append(bitset(nil), s...)
		for {
			p := r.lowest()
			if p < 0 {
				return r
			}
			row, ok := basis[p]
			if !ok {
				return r
			}
			r.xor(row)
		}
	}
	for start := 0; start < len(sets); {
		size := popcount(sets[start])
		end := start
		for end < len(sets) && popcount(sets[end]) == size {
			end++
		}
		var kept []bitset
		for _, s := range sets[start:end] {
			if reduce(s).lowest() >= 0 {
				kept = append(kept, s)
				out = append(out, ringFromSet(n, bonds, s))
			}
		}
		for _, s := range kept {
			if r := reduce(s); r.lowest() >= 0 {
				basis[r.lowest()] = r
			}
		}
		start = end
	}
	return out
}

// ringFromSet lists a cycle's bonds and atoms in index order.
func ringFromSet(n int, bonds []Bond, s bitset) ring {
	var r ring
	on := make(map[int]bool)
	for bi := range bonds {
		if s.has(bi) {
			r.bonds = append(r.bonds, bi)
			on[bonds[bi].A], on[bonds[bi].B] = true, true
		}
	}
	for a := 0; a < n; a++ {
		if on[a] {
			r.atoms = append(r.atoms, a)
		}
	}
	return r
}
