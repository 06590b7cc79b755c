package chem

import (
	"errors"
	"fmt"
)

// DefaultMatchBudget is the number of search steps (candidate atom
// pairings tried, recursive SMARTS included) a Matcher allows per
// molecule unless told otherwise. Drug-like molecules against the PAINS
// and Brenk catalogs together take a few hundred thousand.
const DefaultMatchBudget = 5_000_000

// ErrMatchBudget is returned (wrapped in a *MatchBudgetError) when a
// substructure search runs out of steps.
var ErrMatchBudget = errors.New("substructure search exceeded its step budget")

// MatchBudgetError says which pattern exhausted the budget.
type MatchBudgetError struct {
	Pattern string
	Budget  int
}

// Error implements error.
func (e *MatchBudgetError) Error() string {
	return fmt.Sprintf("substructure search for %q exceeded its budget of %d steps", e.Pattern, e.Budget)
}

// Unwrap makes errors.Is(err, ErrMatchBudget) true.
func (e *MatchBudgetError) Unwrap() error { return ErrMatchBudget }

// Matcher matches queries against one Structure, sharing one step budget
// and the derived atom properties across queries.
type Matcher struct {
	st     *Structure
	budget int
	steps  int

	hTotal    []int // hydrogens, counted and as atoms
	ringCount []int
	ringSize  []int // smallest ring, 0 if none
	ringBonds []int
	recursive map[*Query][]int8 // per atom: 0 unknown, 1 match, 2 no match
}

// NewMatcher prepares st for matching with a budget of steps (0 means
// DefaultMatchBudget).
func NewMatcher(st *Structure, budget int) *Matcher {
	if budget <= 0 {
		budget = DefaultMatchBudget
	}
	n := len(st.Atoms)
	m := &Matcher{st: st, budget: budget,
		hTotal: make([]int, n), ringCount: make([]int, n), ringSize: make([]int, n), ringBonds: make([]int, n),
		recursive: map[*Query][]int8{},
	}
	for i, a := range st.Atoms {
		m.hTotal[i] = a.Hs
		for _, e := range st.adj[i] {
			if st.Atoms[e.to].Number == 1 {
				m.hTotal[i]++
			}
			if st.Bonds[e.bond].Ring {
				m.ringBonds[i]++
			}
		}
	}
	for _, r := range st.Rings {
		for _, a := range r {
			m.ringCount[a]++
			if m.ringSize[a] == 0 || len(r) < m.ringSize[a] {
				m.ringSize[a] = len(r)
			}
		}
	}
	return m
}

// Matches reports whether q occurs in the structure.
func (m *Matcher) Matches(q *Query) (bool, error) {
	ok, err := m.search(q, -1)
	if errors.Is(err, ErrMatchBudget) {
		return false, &MatchBudgetError{Pattern: q.src, Budget: m.budget}
	}
	return ok, err
}

// search looks for one embedding of q; with root >= 0, query atom 0 must
// map to atom root (recursive SMARTS).
func (m *Matcher) search(q *Query, root int) (bool, error) {
	nq := len(q.atoms)
	order, parent := matchOrder(q)
	mapping := make([]int, nq)
	for i := range mapping {
		mapping[i] = -1
	}
	used := make([]bool, len(m.st.Atoms))
	var try func(k int) (bool, error)
	try = func(k int) (bool, error) {
		if k == nq {
			return true, nil
		}
		qa := order[k]
		var cands []int
		switch {
		case qa == 0 && root >= 0:
			cands = []int{root}
		case parent[k] >= 0:
			pa := mapping[parent[k]]
			for _, e := range m.st.adj[pa] {
				cands = append(cands, e.to)
			}
		default:
			cands = make([]int, len(m.st.Atoms))
			for i := range cands {
				cands[i] = i
			}
		}
		for _, t := range cands {
			if used[t] {
				continue
			}
			m.steps++
			if m.steps > m.budget {
				return false, ErrMatchBudget
			}
			ok, err := m.atomMatches(q.atoms[qa], t)
			if err != nil {
				return false, err
			}
			if !ok || !m.bondsFit(q, qa, t, mapping) {
				continue
			}
			mapping[qa], used[t] = t, true
			found, err := try(k + 1)
			if err != nil || found {
				return found, err
			}
			mapping[qa], used[t] = -1, false
		}
		return false, nil
	}
	return try(0)
}

// matchOrder is a depth-first order of the query atoms, each component
// from its lowest atom, and each atom's already-ordered neighbour (or -1).
func matchOrder(q *Query) (order, parent []int) {
	seen := make([]bool, len(q.atoms))
	for r := range q.atoms {
		if seen[r] {
			continue
		}
		seen[r] = true
		order = append(order, r)
		parent = append(parent, -1)
		stack := []int{r}
		for len(stack) > 0 {
			v := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for i := len(q.adj[v]) - 1; i >= 0; i-- {
				e := q.adj[v][i]
				if !seen[e.to] {
					seen[e.to] = true
					order = append(order, e.to)
					parent = append(parent, v)
					stack = append(stack, e.to)
				}
			}
		}
	}
	return order, parent
}

// bondsFit checks every query bond from qa to an already mapped atom.
func (m *Matcher) bondsFit(q *Query, qa, t int, mapping []int) bool {
	for _, e := range q.adj[qa] {
		other := mapping[e.to]
		if other < 0 {
			continue
		}
		bi := m.bondBetween(t, other)
		if bi < 0 || !m.bondMatches(q.bonds[e.bond].e, bi) {
			return false
		}
	}
	return true
}

func (m *Matcher) bondBetween(a, b int) int {
	for _, e := range m.st.adj[a] {
		if e.to == b {
			return e.bond
		}
	}
	return -1
}

func (m *Matcher) bondMatches(e *expr, bi int) bool {
	b := m.st.Bonds[bi]
	aromatic := b.Aromatic || b.ChainAromatic
	switch e.op {
	case opNot:
		return !m.bondMatches(e.kids[0], bi)
	case opAnd:
		for _, k := range e.kids {
			if !m.bondMatches(k, bi) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range e.kids {
			if m.bondMatches(k, bi) {
				return true
			}
		}
		return false
	}
	switch e.kind {
	case pAny:
		return true
	case bSingle:
		return b.Order == 1 && !aromatic
	case bDouble:
		return b.Order == 2 && !aromatic
	case bTriple:
		return b.Order == 3
	case bAromatic:
		return aromatic
	case bRing:
		return b.Ring
	case bDefault:
		return aromatic || b.Order == 1
	}
	return false
}

func (m *Matcher) atomMatches(e *expr, t int) (bool, error) {
	switch e.op {
	case opNot:
		ok, err := m.atomMatches(e.kids[0], t)
		return !ok, err
	case opAnd:
		for _, k := range e.kids {
			ok, err := m.atomMatches(k, t)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case opOr:
		for _, k := range e.kids {
			ok, err := m.atomMatches(k, t)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	a := m.st.Atoms[t]
	switch e.kind {
	case pAny, pTrue:
		return true, nil
	case pAromatic:
		return a.Aromatic, nil
	case pAliphatic:
		return !a.Aromatic, nil
	case pElement:
		return a.Number == e.val && (e.arom == 2 || (e.arom == 1) == a.Aromatic), nil
	case pTotalH:
		return m.hTotal[t] == e.val, nil
	case pImplicitH:
		// RDKit's queryAtomImplicitHCount: getTotalNumHs(false), the
		// hydrogens not present as atoms, written or implicit.
		if !e.given {
			return a.Hs > 0, nil
		}
		return a.Hs == e.val, nil
	case pDegree:
		return m.st.Degree(t) == e.val, nil
	case pHeavyDegree:
		d := 0
		for _, nb := range m.st.adj[t] {
			if at := m.st.Atoms[nb.to]; at.Number != 1 || at.Isotope > 1 {
				d++
			}
		}
		return d == e.val, nil
	case pTotalDegree:
		return m.st.Degree(t)+a.Hs == e.val, nil
	case pRingCount:
		if !e.given {
			return m.ringCount[t] > 0, nil
		}
		return m.ringCount[t] == e.val, nil
	case pRingSize:
		if !e.given {
			return m.ringSize[t] > 0, nil
		}
		return m.ringSize[t] == e.val, nil
	case pRingBonds:
		if !e.given {
			return m.ringBonds[t] > 0, nil
		}
		return m.ringBonds[t] == e.val, nil
	case pValence:
		return m.st.TotalValence(t) == e.val, nil
	case pCharge:
		return a.Charge == e.val, nil
	case pIsotope:
		return a.Isotope == e.val, nil
	case pRecursive:
		memo := m.recursive[e.sub]
		if memo == nil {
			memo = make([]int8, len(m.st.Atoms))
			m.recursive[e.sub] = memo
		}
		if memo[t] == 0 {
			ok, err := m.search(e.sub, t)
			if err != nil {
				return false, err
			}
			memo[t] = 2
			if ok {
				memo[t] = 1
			}
		}
		return memo[t] == 1, nil
	}
	return false, nil
}

// MatchSMARTS reports whether the SMARTS pattern occurs in the molecule
// written as smiles, with the default step budget.
func MatchSMARTS(smiles, smarts string) (bool, error) {
	st, err := Perceive(smiles)
	if err != nil {
		return false, err
	}
	q, err := ParseSMARTS(smarts)
	if err != nil {
		return false, err
	}
	return NewMatcher(st, 0).Matches(q)
}
