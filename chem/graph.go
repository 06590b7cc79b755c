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
