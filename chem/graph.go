package chem

// edge is one entry of an adjacency list.
type edge struct {
	to   int // neighbouring atom
	bond int // index into Molecule.Bonds
}

// adjacency builds adjacency lists for n atoms.
func adjacency(n int, bonds []Bond) [][]edge {
	adj := make([][]edge, n)
	for i, b := range bonds {
		adj[b.A] = append(adj[b.A], edge{to: b.B, bond: i})
		adj[b.B] = append(adj[b.B], edge{to: b.A, bond: i})
	}
	return adj
}

// ringBondFlags reports, for each bond, whether it lies on a cycle, i.e. is
// not a bridge. It uses an iterative depth-first search with low-link values
// so deep chains cannot exhaust the stack.
func ringBondFlags(n int, bonds []Bond) []bool {
	adj := adjacency(n, bonds)
	disc := make([]int, n) // discovery time, 0 = unvisited
	low := make([]int, n)
	inRing := make([]bool, len(bonds))
	for i := range inRing {
		inRing[i] = true
	}
	type frame struct {
		v, parentBond, next int
	}
	t := 0
	var stack []frame
	for root := 0; root < n; root++ {
		if disc[root] != 0 {
			continue
		}
		t++
		disc[root], low[root] = t, t
		stack = append(stack[:0], frame{v: root, parentBond: -1})
		for len(stack) > 0 {
			top := len(stack) - 1
			v := stack[top].v
			if stack[top].next < len(adj[v]) {
				e := adj[v][stack[top].next]
				stack[top].next++
				if e.bond == stack[top].parentBond {
					continue
				}
				if disc[e.to] == 0 {
					t++
					disc[e.to], low[e.to] = t, t
					stack = append(stack, frame{v: e.to, parentBond: e.bond})
				} else if disc[e.to] < low[v] {
					low[v] = disc[e.to]
				}
				continue
			}
			parentBond := stack[top].parentBond
			stack = stack[:top]
			if top == 0 {
				continue
			}
			u := stack[top-1].v
			if low[v] < low[u] {
				low[u] = low[v]
			}
			if low[v] > disc[u] {
				inRing[parentBond] = false
			}
		}
	}
	return inRing
}

// componentCount returns the number of connected components among the
// atoms selected by include (all atoms when include is nil), using only
// bonds for which useBond returns true (all bonds when useBond is nil).
func componentCount(n int, bonds []Bond, include func(int) bool, useBond func(Bond) bool) int {
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	find := func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for _, b := range bonds {
		if useBond != nil && !useBond(b) {
			continue
		}
		ra, rb := find(b.A), find(b.B)
		if ra != rb {
			parent[ra] = rb
		}
	}
	count := 0
	for i := 0; i < n; i++ {
		if (include == nil || include(i)) && find(i) == i {
			count++
		}
	}
	return count
}

// maxMatching returns a maximum matching of the undirected graph adj
// (match[v] is v's partner, or -1), by Edmonds' blossom algorithm: a greedy
// start, then one augmenting-path search from each unmatched vertex. Odd
// rings (five-membered aromatic rings) need the blossom contraction that a
// bipartite matcher lacks.
func maxMatching(adj [][]int) []int {
	n := len(adj)
	match := make([]int, n)
	for i := range match {
		match[i] = -1
	}
	for v := range adj {
		if match[v] >= 0 {
			continue
		}
		for _, u := range adj[v] {
			if match[u] < 0 {
				match[v], match[u] = u, v
				break
			}
		}
	}
	b := &blossom{
		adj: adj, match: match,
		parent: make([]int, n), base: make([]int, n),
		used: make([]bool, n), inBlossom: make([]bool, n), onPath: make([]bool, n),
	}
	for v := range adj {
		if match[v] >= 0 {
			continue
		}
		for u := b.augmentingPath(v); u >= 0; {
			pv := b.parent[u]
			next := match[pv]
			match[u], match[pv] = pv, u
			u = next
		}
	}
	return match
}

// blossom holds the search state of maxMatching.
type blossom struct {
	adj       [][]int
	match     []int
	parent    []int
	base      []int
	used      []bool
	inBlossom []bool
	onPath    []bool
	queue     []int
}

// augmentingPath searches, breadth first, for an augmenting path from the
// unmatched vertex root and returns its free end, or -1; parent then links
// the path back to root.
func (b *blossom) augmentingPath(root int) int {
	for i := range b.adj {
		b.used[i], b.parent[i], b.base[i] = false, -1, i
	}
	b.used[root] = true
	b.queue = append(b.queue[:0], root)
	for qh := 0; qh < len(b.queue); qh++ {
		v := b.queue[qh]
		for _, to := range b.adj[v] {
			if b.base[v] == b.base[to] || b.match[v] == to {
				continue
			}
			if to == root || (b.match[to] >= 0 && b.parent[b.match[to]] >= 0) {
				cur := b.lca(v, to)
				for i := range b.inBlossom {
					b.inBlossom[i] = false
				}
				b.markPath(v, cur, to)
				b.markPath(to, cur, v)
				for i := range b.adj {
					if b.inBlossom[b.base[i]] {
						b.base[i] = cur
						if !b.used[i] {
							b.used[i] = true
							b.queue = append(b.queue, i)
						}
					}
				}
			} else if b.parent[to] < 0 {
				b.parent[to] = v
				if b.match[to] < 0 {
					return to
				}
				b.used[b.match[to]] = true
				b.queue = append(b.queue, b.match[to])
			}
		}
	}
	return -1
}

// lca finds the base of the blossom closed by the edge (a, c).
func (b *blossom) lca(a, c int) int {
	for i := range b.onPath {
		b.onPath[i] = false
	}
	for {
		a = b.base[a]
		b.onPath[a] = true
		if b.match[a] < 0 {
			break
		}
		a = b.parent[b.match[a]]
	}
	for {
		c = b.base[c]
		if b.onPath[c] {
			return c
		}
		c = b.parent[b.match[c]]
	}
}

// markPath marks the blossom vertices from v down to base, pointing their
// parents into the blossom.
func (b *blossom) markPath(v, base, child int) {
	for b.base[v] != base {
		b.inBlossom[b.base[v]] = true
		b.inBlossom[b.base[b.match[v]]] = true
		b.parent[v] = child
		child = b.match[v]
		v = b.parent[b.match[v]]
	}
}
