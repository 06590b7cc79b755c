package sdf

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/structure"
)

// ErrNoPose is wrapped by every error of Pose: the structure holds no pose
// that can be given the modelled molecule's bonds.
var ErrNoPose = errors.New("no pose")

// maxMatchSteps bounds the search of one match, so that one odd structure
// cannot hold a poses.sdf request: each step tries one of the chain's
// atoms for one of the molecule's (fits, a pass over the atoms placed).
// A real pose needs at most about one step per pair of same-element atoms.
const maxMatchSteps = 200_000

// bondSlack is how much longer than the sum of two covalent radii a
// predicted bond may be (Å), as bond perception from coordinates usually
// allows (Open Babel's ConnectTheDots uses 0.45).
const bondSlack = 0.45

// nonBondedMargin is how much longer than the sum of two covalent radii
// two atoms the molecule does not bond must be (Å): shorter is a bond it
// lacks. Not bondSlack: strained non-bonded pairs sit in between, as
// bicyclo[1.1.1]pentane's bridgeheads at about 1.87 Å.
const nonBondedMargin = 0.1

// covalentRadius is in Å (Cordero et al., Dalton Trans. 2008, 2832), for
// the elements of drug-like ligands; others get 1.5.
var covalentRadius = map[string]float64{
	"H": 0.31, "B": 0.84, "C": 0.76, "N": 0.71, "O": 0.66, "F": 0.57,
	"Si": 1.11, "P": 1.07, "S": 1.05, "Cl": 1.02, "As": 1.19, "Se": 1.20,
	"Br": 1.20, "Te": 1.38, "I": 1.39,
}

func radius(el string) float64 {
	if r, ok := covalentRadius[el]; ok {
		return r
	}
	return 1.5
}

// PoseOptions choose the ligand's chain.
type PoseOptions struct {
	// Chain is the screened ligand's chain id; empty: the last chain of
	// the first model (see the package documentation).
	Chain string
}

// Pose reads a complex's mmCIF and returns the modelled molecule (smiles,
// perceived as RDKit would hold it) with the coordinates of its atoms in
// the screened ligand's chain, one per atom of the Structure. It fails
// (wrapping ErrNoPose) when the chain's atoms are not the molecule's heavy
// atoms (count, elements), when no assignment of them gives every bond a
// bonding distance, or when the molecule has hydrogen atoms of its own
// (an isotope such as [2H]), which the structure does not place.
func Pose(cif []byte, smiles string, o PoseOptions) (*chem.Structure, [][3]float64, error) {
	st, err := chem.Perceive(smiles)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: modelled SMILES: %v", ErrNoPose, err)
	}
	s, err := structure.ParseCIF(bytes.NewReader(cif))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNoPose, err)
	}
	atoms := ligandAtoms(s, o.Chain)
	if len(atoms) == 0 {
		return nil, nil, fmt.Errorf("%w: the structure has no ligand chain %q", ErrNoPose, o.Chain)
	}
	for _, a := range st.Atoms {
		if a.Element == "H" {
			return nil, nil, fmt.Errorf("%w: the molecule has hydrogen atoms of its own, which the structure does not place", ErrNoPose)
		}
	}
	if len(atoms) != len(st.Atoms) {
		return nil, nil, fmt.Errorf("%w: chain %s has %d atoms, the molecule %d heavy atoms", ErrNoPose, atoms[0].Chain, len(atoms), len(st.Atoms))
	}
	m := newMatcher(st, atoms)
	if !m.run() {
		return nil, nil, fmt.Errorf("%w: the atoms of chain %s cannot be given the molecule's bonds (%s)", ErrNoPose, atoms[0].Chain, m.why)
	}
	coords := make([][3]float64, len(st.Atoms))
	for i, j := range m.to {
		a := atoms[j]
		coords[i] = [3]float64{a.X, a.Y, a.Z}
	}
	return st, coords, nil
}

// ligandAtoms are the atoms of chain (or of the last chain) in the first
// model, without hydrogens, in file order.
func ligandAtoms(s *structure.Structure, chain string) []structure.Atom {
	if len(s.Atoms) == 0 {
		return nil
	}
	model := s.Atoms[0].Model
	if chain == "" {
		for _, a := range s.Atoms {
			if a.Model == model {
				chain = a.Chain
			}
		}
	}
	var out []structure.Atom
	for _, a := range s.Atoms {
		if a.Model == model && a.Chain == chain && atomElement(a) != "H" {
			out = append(out, a)
		}
	}
	return out
}

// atomElement is the element an atom's name gives, as Boltz names a
// ligand's atoms (symbol in upper case, then digits), in chem's
// capitalisation; the element column where the name has no letters.
func atomElement(a structure.Atom) string {
	letters := strings.TrimRight(a.Name, "0123456789")
	if letters == "" || strings.ContainsAny(letters, "0123456789") {
		letters = a.Element
	}
	if letters == "" {
		return ""
	}
	return strings.ToUpper(letters[:1]) + strings.ToLower(letters[1:])
}

// matcher assigns each atom of the molecule an atom of the chain.
type matcher struct {
	st    *chem.Structure
	atoms []structure.Atom
	el    []string // per chain atom
	adj   [][]int  // per molecule atom: bonded atoms
	order []int    // molecule atoms, each after a bonded one where it can
	to    []int    // molecule atom -> chain atom, -1 unset
	used  []bool   // per chain atom
	steps int
	why   string
}

func newMatcher(st *chem.Structure, atoms []structure.Atom) *matcher {
	m := &matcher{st: st, atoms: atoms, el: make([]string, len(atoms)), adj: make([][]int, len(st.Atoms)),
		to: make([]int, len(st.Atoms)), used: make([]bool, len(atoms))}
	for j, a := range atoms {
		m.el[j] = atomElement(a)
	}
	for _, b := range st.Bonds {
		m.adj[b.A] = append(m.adj[b.A], b.B)
		m.adj[b.B] = append(m.adj[b.B], b.A)
	}
	// Breadth first from each fragment's first atom: every atom but a
	// fragment's first has a bonded atom placed before it.
	seen := make([]bool, len(st.Atoms))
	for s := range st.Atoms {
		if seen[s] {
			continue
		}
		seen[s] = true
		queue := []int{s}
		for len(queue) > 0 {
			u := queue[0]
			queue = queue[1:]
			m.order = append(m.order, u)
			for _, v := range m.adj[u] {
				if !seen[v] {
					seen[v] = true
					queue = append(queue, v)
				}
			}
		}
	}
	for i := range m.to {
		m.to[i] = -1
	}
	return m
}

func (m *matcher) run() bool {
	need := map[string]int{}
	for _, a := range m.st.Atoms {
		need[a.Element]++
	}
	for _, e := range m.el {
		need[e]--
	}
	for e, n := range need {
		if n != 0 {
			m.why = fmt.Sprintf("the chain's atom names hold another count of %s", e)
			return false
		}
	}
	if m.place(0) {
		return true
	}
	m.why = "no assignment gives every bond a bonding distance"
	if m.steps >= maxMatchSteps {
		m.why = "the search gave up"
	}
	return false
}

// place assigns m.order[k:] by backtracking.
func (m *matcher) place(k int) bool {
	if k == len(m.order) {
		return true
	}
	u := m.order[k]
	for j := range m.atoms {
		if m.used[j] || m.el[j] != m.st.Atoms[u].Element {
			continue
		}
		if m.steps++; m.steps > maxMatchSteps {
			return false
		}
		if !m.fits(u, j) {
			continue
		}
		m.to[u], m.used[j] = j, true
		if m.place(k + 1) {
			return true
		}
		m.to[u], m.used[j] = -1, false
	}
	return false
}

// fits reports whether chain atom j, given to u, is at bonding distance
// from the chain atoms given to u's bonded atoms, and farther than a bond
// (nonBondedMargin) from those given to every other atom: the pose's contacts are the
// molecule's bonds, so a ring the molecule does not have (a chain drawn
// over a ring's atoms) does not fit.
func (m *matcher) fits(u, j int) bool {
	a := m.atoms[j]
	for _, v := range m.order {
		w := m.to[v]
		if w < 0 || v == u {
			continue
		}
		b := m.atoms[w]
		d := math.Sqrt((a.X-b.X)*(a.X-b.X) + (a.Y-b.Y)*(a.Y-b.Y) + (a.Z-b.Z)*(a.Z-b.Z))
		sum := radius(m.st.Atoms[u].Element) + radius(m.st.Atoms[v].Element)
		if slices.Contains(m.adj[u], v) {
			if d > sum+bondSlack {
				return false
			}
		} else if d <= sum+nonBondedMargin {
			return false
		}
	}
	return true
}
