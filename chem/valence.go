package chem

import (
	"fmt"
	"math"
	"strings"
)

// finish runs the whole-molecule steps after the syntax has been accepted:
// ring perception, aromatic sanity, implicit hydrogens and valence checks.
func (p *parser) finish() *SMILESError {
	m := p.mol
	ring := ringBondFlags(len(m.Atoms), m.Bonds)
	for i := range m.Bonds {
		b := &m.Bonds[i]
		b.Ring = ring[i]
		// An unwritten bond between two aromatic atoms is aromatic only
		// inside a ring; between rings (c1ccccc1c1ccccc1) it is single.
		if !b.Ring && p.implicit[i] && b.Order == 1.5 {
			b.Order = 1
		}
	}

	inRing := make([]bool, len(m.Atoms))
	for _, b := range m.Bonds {
		if b.Ring {
			inRing[b.A], inRing[b.B] = true, true
		}
	}
	for i, a := range m.Atoms {
		if a.Aromatic && !inRing[i] {
			return errAt(p.atomPos[i], "aromatic atom %q outside a ring", strings.ToLower(a.Element))
		}
	}

	bondsOf := make([][]int, len(m.Atoms))
	for i, b := range m.Bonds {
		bondsOf[b.A] = append(bondsOf[b.A], i)
		bondsOf[b.B] = append(bondsOf[b.B], i)
	}
	for i := range m.Atoms {
		a := &m.Atoms[i]
		v := atomValence(a, bondsOf[i], m.Bonds)
		if a.Bracket {
			if err := checkBracketValence(a, v, p.atomPos[i]); err != nil {
				return err
			}
			continue
		}
		if err := assignImplicitH(a, v, p.atomPos[i]); err != nil {
			return err
		}
	}
	return nil
}

// valence summarises the bonds of one atom.
type valence struct {
	// sigma is the bond-order sum with aromatic bonds counted as 1 for an
	// aromatic atom (as 1.5 for a non-aromatic one), rounded up.
	sigma int
	// multiple reports a non-aromatic double, triple or quadruple bond.
	multiple bool
}

func atomValence(a *Atom, bondIdx []int, bonds []Bond) valence {
	var v valence
	sum := 0.0
	for _, bi := range bondIdx {
		o := bonds[bi].Order
		switch {
		case o == 1.5 && a.Aromatic:
			sum++
		default:
			sum += o
			if o >= 2 {
				v.multiple = true
			}
		}
	}
	v.sigma = int(math.Ceil(sum))
	return v
}

// assignImplicitH sets HCount for an organic-subset atom and rejects
// impossible valences. See the package documentation for the rule.
func assignImplicitH(a *Atom, v valence, pos int) *SMILESError {
	allowed := organicValences[a.Element]
	maxV := allowed[len(allowed)-1]
	used := v.sigma
	if a.Aromatic && contributesPiBond(a.Element, v) {
		used++
	}
	if used > maxV {
		return errAt(pos, "%s at position %d has valence %d (max %d)",
			elementName(a.Element), pos, used, maxV)
	}
	if a.Aromatic {
		a.HCount = max(0, allowed[0]-used)
		return nil
	}
	for _, val := range allowed {
		if val >= used {
			a.HCount = val - used
			break
		}
	}
	return nil
}

// contributesPiBond reports whether an aromatic organic-subset atom uses one
// valence for the ring's pi system (c, pyridine-type n and p) rather than a
// lone pair or an empty orbital (o, s, b, pyrrole-type n and p with three
// sigma bonds), or an exocyclic/explicit double bond.
func contributesPiBond(el string, v valence) bool {
	if v.multiple {
		return false
	}
	switch el {
	case "C":
		return true
	case "N", "P":
		return v.sigma < 3
	}
	return false
}

// bracketMaxValence gives the highest valence accepted for bracket C, N and
// O atoms by formal charge; other elements and charges are not checked.
var bracketMaxValence = map[string]map[int]int{
	"C": {-1: 3, 0: 4, 1: 3},
	"N": {-2: 1, -1: 2, 0: 5, 1: 4},
	"O": {-2: 0, -1: 1, 0: 2, 1: 3},
}

// checkBracketValence rejects bracket C/N/O atoms whose bonds plus explicit
// hydrogens exceed the charge-adjusted maximum. Aromatic bonds count as 1
// here, so the check never rejects a plausible aromatic ring atom.
func checkBracketValence(a *Atom, v valence, pos int) *SMILESError {
	maxV, ok := bracketMaxValence[a.Element][a.Charge]
	if !ok {
		return nil
	}
	used := v.sigma + a.HCount
	if used <= maxV {
		return nil
	}
	return errAt(pos, "%s at position %d has valence %d (max %d for charge %s)",
		elementName(a.Element), pos, used, maxV, formatCharge(a.Charge))
}

func formatCharge(c int) string {
	if c > 0 {
		return fmt.Sprintf("+%d", c)
	}
	return fmt.Sprint(c)
}
