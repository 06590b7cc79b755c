package chem

// This file reads MDL molfiles (the connection tables of an SD file), V2000
// and V3000, into a Molecule checked by the same RDKit rules as ParseSMILES.
// The formats are those of BIOVIA's "CTfile Formats" (2020); where the
// specification leaves a choice, RDKit's reader decides
// (Code/GraphMol/FileParsers/MolFileParser.cpp): the charge field of the
// atom block, M  CHG replacing every atom-block charge and radical once it
// appears, hydrogens counted by the valence model unless a valence or a
// radical is given, and the H atoms of a drawing folded into their heavy
// atom as RDKit's removeHs does.

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits on a molfile, checked as it is read.
const (
	// MaxMolfileAtoms bounds the atoms of one connection table, hydrogens
	// drawn as atoms included (V2000's three-digit count allows 999).
	MaxMolfileAtoms = 999
	// MaxMolfileBonds bounds its bonds.
	MaxMolfileBonds = 999
	// MaxMolfileLines bounds its lines.
	MaxMolfileLines = 10_000
)

// MolfileError reports why a molfile is refused. Line is the 1-based line
// within the molfile (the title is line 1), or 0 when the problem is the
// molecule as a whole.
type MolfileError struct {
	Line   int
	Reason string
}

// Error implements error, e.g. "line 5: atom 1: unknown element "Xx"".
func (e *MolfileError) Error() string {
	if e.Line <= 0 {
		return e.Reason
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
}

func molErr(line int, format string, args ...any) *MolfileError {
	return &MolfileError{Line: line, Reason: fmt.Sprintf(format, args...)}
}

// Molfile is a parsed molfile: its title line (the compound's name in an
// SD file) and its molecule.
type Molfile struct {
	Title    string
	Molecule *Molecule
}

// molAtom is an atom as read, before hydrogens are folded.
type molAtom struct {
	Atom
	line    int
	valence int // V2000 vvv or V3000 VAL: 0 none, -1 zero (15 or VAL=-1)
	radical int // 0 none, 1 singlet, 2 doublet, 3 triplet
}

type molBond struct {
	a, b  int
	order float64
	line  int
}

// ParseMolfile reads one molfile (V2000 or V3000, up to and including its
// "M  END" line; what follows is ignored) and checks the molecule as
// ParseSMILES checks a SMILES: valences, aromatic rings and the heavy-atom
// limit. Lines may end in CRLF.
//
// What it makes of the connection table:
//   - Elements by symbol; "D" and "T" are hydrogen with mass 2 and 3. Query
//     atoms (A, Q, *, L, R#, atom lists) and query bond types (5 to 8) are
//     refused: they are not one molecule.
//   - Formal charges from the atom block's charge field (V2000: 1, 2, 3 are
//     +3, +2, +1; 5, 6, 7 are -1, -2, -3; 4, a doublet radical, is ignored
//     as RDKit ignores it) or CHG= (V3000); the first "M  CHG" or "M  RAD"
//     line clears every charge of the atom block, as the specification
//     says. Radicals come from "M  RAD" or RAD= (V3000).
//   - Isotopes from "M  ISO" or MASS= (V3000), or from the atom block's mass
//     difference (added to the rounded standard atomic weight).
//   - Bond types 1, 2, 3 and 4 (aromatic, order 1.5; both atoms become
//     aromatic, as written lower case in SMILES).
//   - Hydrogens: an atom gets the hydrogens RDKit's valence model gives it
//     (what an unbracketed atom gets in SMILES, charged atoms included),
//     less one per unpaired electron of a radical, unless it has a valence
//     field: then exactly the valence less its bonds. A hydrogen drawn as an atom, with one single
//     bond to a heavy atom and no charge or isotope, is folded into that
//     atom; it sets the atom's count when the atom is an aromatic N or P or
//     has more drawn hydrogens than the model gives, as RDKit's removeHs
//     keeps them ([nH]).
//   - Stereo (wedge bonds, parity, V3000 CFG) is ignored: the Molecule has
//     no chirality, as a SMILES without @ and / \ has none.
//
// Atoms are Bracket exactly when SMILES must write them in brackets
// (charge, isotope, an element outside the organic subset, or a hydrogen
// count the valence model would not give). A non-nil error is a
// *MolfileError.
func ParseMolfile(block string) (*Molfile, error) {
	lines := strings.Split(strings.TrimSuffix(block, "\n"), "\n")
	if len(lines) > MaxMolfileLines+1 {
		return nil, molErr(0, "has more than %d lines", MaxMolfileLines)
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	if len(lines) < 4 {
		return nil, molErr(len(lines), "ends before the counts line (line 4)")
	}
	r := &molReader{lines: lines}
	counts := lines[3]
	var err *MolfileError
	if strings.Contains(counts, "V3000") {
		err = r.readV3000()
	} else {
		err = r.readV2000()
	}
	if err != nil {
		return nil, err
	}
	m, err := r.molecule()
	if err != nil {
		return nil, err
	}
	return &Molfile{Title: strings.TrimSpace(lines[0]), Molecule: m}, nil
}

type molReader struct {
	lines []string
	atoms []molAtom
	bonds []molBond
	pairs map[[2]int]int // atom pair (1-based, smaller first) -> line of its bond
}

// field returns columns [from, to) of s, trimmed; "" when s is shorter.
func field(s string, from, to int) string {
	if from >= len(s) {
		return ""
	}
	return strings.TrimSpace(s[from:min(to, len(s))])
}

// intField parses a fixed-width integer column; a blank column is 0.
func intField(s string, from, to, line int, what string) (int, *MolfileError) {
	f := field(s, from, to)
	if f == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(f)
	if err != nil {
		return 0, molErr(line, "%s %q is not a number", what, f)
	}
	return n, nil
}

func (r *molReader) readV2000() *MolfileError {
	counts := r.lines[3]
	na, err := intField(counts, 0, 3, 4, "atom count")
	if err != nil {
		return err
	}
	nb, err := intField(counts, 3, 6, 4, "bond count")
	if err != nil {
		return err
	}
	if na < 0 || nb < 0 {
		return molErr(4, "negative atom or bond count")
	}
	if len(r.lines) < 4+na+nb {
		return molErr(len(r.lines), "ends within the atom and bond blocks (%d atoms and %d bonds announced on line 4)", na, nb)
	}
	r.atoms = make([]molAtom, 0, na)
	for i := range na {
		ln := 5 + i
		s := r.lines[ln-1]
		if len(s) < 34 {
			return molErr(ln, "atom %d: the line is %d characters, too short for an atom (34)", i+1, len(s))
		}
		a := molAtom{line: ln}
		if err := a.setElement(field(s, 31, 34), ln, i+1); err != nil {
			return err
		}
		dd, err := intField(s, 34, 36, ln, "mass difference")
		if err != nil {
			return err
		}
		if dd != 0 && a.Isotope == 0 {
			a.Isotope = int(math.Round(atomicWeight(a.Element))) + dd
			if a.Isotope <= 0 || a.Isotope > 999 {
				return molErr(ln, "atom %d: mass difference %d gives no isotope", i+1, dd)
			}
		}
		ccc, err := intField(s, 36, 39, ln, "charge")
		if err != nil {
			return err
		}
		switch {
		case ccc == 0:
		case ccc == 4:
			// "doublet radical" in the specification; RDKit's reader sets
			// nothing for it (a lone C with code 4 reads as methane), and
			// so neither do we: M  RAD is the radical RDKit reads.
		case ccc >= 1 && ccc <= 7:
			a.Charge = 4 - ccc
		default:
			return molErr(ln, "atom %d: charge code %d is not one of 0 to 7", i+1, ccc)
		}
		vvv, err := intField(s, 48, 51, ln, "valence")
		if err != nil {
			return err
		}
		switch {
		case vvv == 15:
			a.valence = -1
		case vvv > 0 && vvv < 15:
			a.valence = vvv
		case vvv != 0:
			return molErr(ln, "atom %d: valence %d is not one of 0 to 15", i+1, vvv)
		}
		r.atoms = append(r.atoms, a)
		if len(r.atoms) > MaxMolfileAtoms {
			return molErr(ln, "more than %d atoms", MaxMolfileAtoms)
		}
	}
	for i := range nb {
		ln := 5 + na + i
		s := r.lines[ln-1]
		a1, err := intField(s, 0, 3, ln, "first atom")
		if err != nil {
			return err
		}
		a2, err := intField(s, 3, 6, ln, "second atom")
		if err != nil {
			return err
		}
		t, err := intField(s, 6, 9, ln, "bond type")
		if err != nil {
			return err
		}
		if err := r.addBond(a1, a2, t, ln, i+1); err != nil {
			return err
		}
	}
	chargesReset := false
	for ln := 5 + na + nb; ln <= len(r.lines); ln++ {
		s := r.lines[ln-1]
		if strings.HasPrefix(s, "M  END") {
			return nil
		}
		tag := s[:min(len(s), 6)]
		if tag != "M  CHG" && tag != "M  RAD" && tag != "M  ISO" {
			continue // other properties (S-groups, aliases, ...) do not change the molecule
		}
		if (tag == "M  CHG" || tag == "M  RAD") && !chargesReset {
			chargesReset = true
			for j := range r.atoms {
				r.atoms[j].Charge, r.atoms[j].radical = 0, 0
			}
		}
		f := strings.Fields(s[6:])
		if len(f) == 0 {
			return molErr(ln, "%s has no entry count", tag)
		}
		n, perr := strconv.Atoi(f[0])
		// The specification allows 8 entries a line; RDKit reads more, and
		// so do we.
		if perr != nil || n < 1 || len(f) < 1+2*n {
			return molErr(ln, "%s: expected an entry count and that many atom-value pairs", tag)
		}
		for k := range n {
			ai, e1 := strconv.Atoi(f[1+2*k])
			v, e2 := strconv.Atoi(f[2+2*k])
			if e1 != nil || e2 != nil {
				return molErr(ln, "%s: entry %d is not two numbers", tag, k+1)
			}
			if ai < 1 || ai > len(r.atoms) {
				return molErr(ln, "%s: atom %d does not exist (%d atoms)", tag, ai, len(r.atoms))
			}
			a := &r.atoms[ai-1]
			switch tag {
			case "M  CHG":
				if v < -maxCharge || v > maxCharge {
					return molErr(ln, "M  CHG: charge %d of atom %d is beyond ±%d", v, ai, maxCharge)
				}
				a.Charge = v
			case "M  RAD":
				if v < 0 || v > 3 {
					return molErr(ln, "M  RAD: radical %d of atom %d is not one of 0 to 3", v, ai)
				}
				a.radical = v
			case "M  ISO":
				if v < 1 || v > 999 {
					return molErr(ln, "M  ISO: mass %d of atom %d is not from 1 to 999", v, ai)
				}
				a.Isotope = v
			}
		}
	}
	return molErr(len(r.lines), "has no \"M  END\" line")
}

// setElement sets the atom's element from a molfile symbol.
func (a *molAtom) setElement(sym string, line, n int) *MolfileError {
	switch sym {
	case "D":
		a.Element, a.Isotope = "H", 2
		return nil
	case "T":
		a.Element, a.Isotope = "H", 3
		return nil
	case "":
		return molErr(line, "atom %d has no element symbol", n)
	case "A", "Q", "*", "L", "R#", "R", "AH", "QH", "X", "XH", "M", "MH", "LP":
		return molErr(line, "atom %d is a query atom (%q), not an element: a library needs one molecule per record", n, sym)
	}
	if !isElement(sym) {
		return molErr(line, "atom %d: unknown element %q", n, sym)
	}
	a.Element = sym
	return nil
}

// addBond records bond n of type t between atoms a1 and a2 (1-based).
func (r *molReader) addBond(a1, a2, t, line, n int) *MolfileError {
	if a1 < 1 || a1 > len(r.atoms) || a2 < 1 || a2 > len(r.atoms) {
		return molErr(line, "bond %d joins atoms %d and %d, but there are %d atoms", n, a1, a2, len(r.atoms))
	}
	if a1 == a2 {
		return molErr(line, "bond %d joins atom %d to itself", n, a1)
	}
	var order float64
	switch t {
	case 1, 2, 3:
		order = float64(t)
	case 4:
		order = 1.5
	case 5, 6, 7, 8:
		return molErr(line, "bond %d has query type %d (single or double, any, ...): a library needs one molecule per record", n, t)
	case 9:
		// V3000 coordination bond: RDKit reads it as a dative bond, which
		// a SMILES without "->" cannot hold.
		return molErr(line, "bond %d is a coordination bond (type 9), which is not supported", n)
	default:
		return molErr(line, "bond %d has unknown type %d", n, t)
	}
	pair := [2]int{min(a1, a2), max(a1, a2)}
	if first, dup := r.pairs[pair]; dup {
		return molErr(line, "bond %d joins atoms %d and %d a second time (first on line %d)", n, a1, a2, first)
	}
	if len(r.bonds) >= MaxMolfileBonds {
		return molErr(line, "more than %d bonds", MaxMolfileBonds)
	}
	if r.pairs == nil {
		r.pairs = map[[2]int]int{}
	}
	r.pairs[pair] = line
	r.bonds = append(r.bonds, molBond{a: a1 - 1, b: a2 - 1, order: order, line: line})
	return nil
}

// v3000Line returns the V3000 content of line ln (after "M  V30 "), with
// continuation lines (ending in '-') joined, and the line after it.
func (r *molReader) v3000Line(ln int) (string, int, *MolfileError) {
	var b strings.Builder
	for {
		if ln > len(r.lines) {
			return "", ln, molErr(len(r.lines), "ends within the V3000 connection table (no \"M  END\")")
		}
		s := r.lines[ln-1]
		rest, ok := strings.CutPrefix(s, "M  V30 ")
		if !ok {
			if strings.HasPrefix(s, "M  END") {
				return "", ln, molErr(ln, "\"M  END\" before \"M  V30 END CTAB\"")
			}
			return "", ln, molErr(ln, "expected a V3000 line starting \"M  V30 \"")
		}
		if b.Len() > 8<<10 {
			return "", ln, molErr(ln, "V3000 line continued beyond 8 KiB")
		}
		if c, more := strings.CutSuffix(rest, "-"); more {
			b.WriteString(c)
			ln++
			continue
		}
		b.WriteString(rest)
		return b.String(), ln + 1, nil
	}
}

// readV3000 reads a V3000 connection table: lines 5 on, "M  V30 BEGIN CTAB"
// to "M  V30 END CTAB", then the property block up to "M  END".
func (r *molReader) readV3000() *MolfileError {
	ln := 5
	var s string
	var err *MolfileError
	at := ln // the first line of the last V3000 line read
	next := func() bool {
		at = ln
		s, ln, err = r.v3000Line(ln)
		s = strings.TrimSpace(s)
		return err == nil
	}
	startOf := func() int { return at }
	if !next() {
		return err
	}
	if s != "BEGIN CTAB" {
		return molErr(startOf(), "expected \"M  V30 BEGIN CTAB\"")
	}
	if !next() {
		return err
	}
	f := strings.Fields(s)
	if len(f) < 3 || f[0] != "COUNTS" {
		return molErr(startOf(), "expected \"M  V30 COUNTS\" with atom and bond counts")
	}
	na, e1 := strconv.Atoi(f[1])
	nb, e2 := strconv.Atoi(f[2])
	if e1 != nil || e2 != nil || na < 0 || nb < 0 {
		return molErr(startOf(), "COUNTS %q %q are not atom and bond counts", f[1], f[2])
	}
	if na > MaxMolfileAtoms {
		return molErr(startOf(), "%d atoms, more than %d", na, MaxMolfileAtoms)
	}
	if nb > MaxMolfileBonds {
		return molErr(startOf(), "%d bonds, more than %d", nb, MaxMolfileBonds)
	}
	index := make(map[int]int, na) // V3000 atom index -> position
	for {
		if !next() {
			return err
		}
		switch at := startOf(); {
		case s == "END CTAB":
			if len(r.atoms) != na || len(r.bonds) != nb {
				return molErr(at, "COUNTS announced %d atoms and %d bonds, the blocks hold %d and %d", na, nb, len(r.atoms), len(r.bonds))
			}
			for ; ln <= len(r.lines); ln++ {
				if strings.HasPrefix(r.lines[ln-1], "M  END") {
					return nil
				}
			}
			return molErr(len(r.lines), "has no \"M  END\" line")
		case s == "BEGIN ATOM":
			for {
				if !next() {
					return err
				}
				if s == "END ATOM" {
					break
				}
				if len(r.atoms) == na {
					return molErr(startOf(), "more atoms than the %d COUNTS announced", na)
				}
				if err := r.v3000Atom(s, startOf(), index); err != nil {
					return err
				}
			}
		case s == "BEGIN BOND":
			for {
				if !next() {
					return err
				}
				if s == "END BOND" {
					break
				}
				if len(r.bonds) == nb {
					return molErr(startOf(), "more bonds than the %d COUNTS announced", nb)
				}
				if err := r.v3000Bond(s, startOf(), index); err != nil {
					return err
				}
			}
		case strings.HasPrefix(s, "BEGIN "):
			// S-groups, collections, 3D features: nothing that changes the
			// molecule's graph. Skip to the matching END.
			end := "END " + strings.TrimPrefix(s, "BEGIN ")
			for {
				if !next() {
					return err
				}
				if s == end {
					break
				}
			}
		default:
			return molErr(at, "unexpected V3000 line %q", clipText(s, 40))
		}
	}
}

// v3000Atom reads "index type x y z aamap [KEY=value ...]".
func (r *molReader) v3000Atom(s string, ln int, index map[int]int) *MolfileError {
	f := v3000Fields(s)
	n := len(r.atoms) + 1
	if len(f) < 6 {
		return molErr(ln, "atom %d: expected index, type, x, y, z and map", n)
	}
	idx, perr := strconv.Atoi(f[0])
	if perr != nil || idx < 1 {
		return molErr(ln, "atom %d: index %q is not a positive number", n, f[0])
	}
	if _, dup := index[idx]; dup {
		return molErr(ln, "atom index %d is used twice", idx)
	}
	a := molAtom{line: ln}
	if strings.HasPrefix(f[1], "[") || strings.HasPrefix(f[1], "NOT") {
		return molErr(ln, "atom %d is an atom list (%s), not an element: a library needs one molecule per record", n, clipText(f[1], 20))
	}
	if err := a.setElement(f[1], ln, n); err != nil {
		return err
	}
	for _, kv := range f[6:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		num := func(lo, hi int) (int, *MolfileError) {
			x, err := strconv.Atoi(v)
			if err != nil || x < lo || x > hi {
				return 0, molErr(ln, "atom %d: %s=%s is not a number from %d to %d", n, k, clipText(v, 12), lo, hi)
			}
			return x, nil
		}
		var err *MolfileError
		switch k {
		case "CHG":
			a.Charge, err = num(-maxCharge, maxCharge)
		case "MASS":
			a.Isotope, err = num(1, 999)
		case "RAD":
			a.radical, err = num(0, 3)
		case "VAL":
			a.valence, err = num(-1, 14)
		}
		if err != nil {
			return err
		}
	}
	index[idx] = len(r.atoms)
	r.atoms = append(r.atoms, a)
	return nil
}

// v3000Bond reads "index type atom1 atom2 [KEY=value ...]".
func (r *molReader) v3000Bond(s string, ln int, index map[int]int) *MolfileError {
	f := v3000Fields(s)
	n := len(r.bonds) + 1
	if len(f) < 4 {
		return molErr(ln, "bond %d: expected index, type and two atoms", n)
	}
	var v [3]int
	for i := range v {
		x, err := strconv.Atoi(f[1+i])
		if err != nil {
			return molErr(ln, "bond %d: %q is not a number", n, clipText(f[1+i], 12))
		}
		v[i] = x
	}
	a1, ok1 := index[v[1]]
	a2, ok2 := index[v[2]]
	if !ok1 || !ok2 {
		return molErr(ln, "bond %d joins atoms %d and %d, and one of them is not in the atom block", n, v[1], v[2])
	}
	return r.addBond(a1+1, a2+1, v[0], ln, n)
}

// v3000Fields splits a V3000 line at spaces, keeping quoted strings and
// parenthesised lists (ATTCHORD=(...)) in one field.
func v3000Fields(s string) []string {
	var out []string
	depth, quoted, start := 0, false, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if start < 0 && c != ' ' {
			start = i
		}
		switch {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case c == ' ' && depth == 0 && start >= 0:
			out = append(out, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// molecule folds the drawn hydrogens, builds the Molecule and checks it
// with the SMILES rules.
func (r *molReader) molecule() (*Molecule, *MolfileError) {
	n := len(r.atoms)
	if n == 0 {
		return nil, molErr(4, "has no atoms")
	}
	degree := make([]int, n)
	for _, b := range r.bonds {
		degree[b.a]++
		degree[b.b]++
	}
	// Hydrogens folded as RDKit's removeHs folds them: neutral, no isotope,
	// one single bond, to an atom that is not a hydrogen.
	fold := make([]bool, n)
	drawnH := make([]int, n)
	for _, b := range r.bonds {
		for _, e := range [2][2]int{{b.a, b.b}, {b.b, b.a}} {
			h, heavy := e[0], e[1]
			ha := r.atoms[h]
			if ha.Element == "H" && ha.Isotope == 0 && ha.Charge == 0 && ha.radical == 0 && degree[h] == 1 &&
				b.order == 1 && r.atoms[heavy].Element != "H" {
				fold[h] = true
				drawnH[heavy]++
			}
		}
	}
	aromaticAtom := make([]bool, n)
	for _, b := range r.bonds {
		if b.order == 1.5 {
			aromaticAtom[b.a], aromaticAtom[b.b] = true, true
		}
	}
	newIndex := make([]int, n)
	m := &Molecule{}
	var lineOf, numOf []int
	heavy := 0
	for i, a := range r.atoms {
		if fold[i] {
			newIndex[i] = -1
			continue
		}
		newIndex[i] = len(m.Atoms)
		at := a.Atom
		// The valence model gives the hydrogens of an unbracketed atom;
		// a radical or a valence field fixes them (below), and so do drawn
		// hydrogens on an aromatic N or P, which RDKit's removeHs keeps
		// as the atom's own ([nH]): the ring needs them to kekulize.
		at.Bracket = a.valence != 0 ||
			(drawnH[i] > 0 && aromaticAtom[i] && (a.Element == "N" || a.Element == "P"))
		m.Atoms = append(m.Atoms, at)
		lineOf = append(lineOf, a.line)
		numOf = append(numOf, i+1)
		if a.Element != "H" {
			heavy++
		}
	}
	if heavy > MaxHeavyAtoms {
		return nil, molErr(0, "too many heavy atoms: %d (max %d)", heavy, MaxHeavyAtoms)
	}
	bondSum := make([]float64, n)
	for _, b := range r.bonds {
		if fold[b.a] || fold[b.b] {
			continue
		}
		ia, ib := newIndex[b.a], newIndex[b.b]
		m.Bonds = append(m.Bonds, Bond{A: ia, B: ib, Order: b.order})
		bondSum[b.a] += b.order
		bondSum[b.b] += b.order
		if b.order == 1.5 {
			m.Atoms[ia].Aromatic, m.Atoms[ib].Aromatic = true, true
		}
	}
	for i, a := range r.atoms {
		if fold[i] || !m.Atoms[newIndex[i]].Bracket {
			continue
		}
		// A valence field leaves exactly the hydrogens that make it up
		// (RDKit's explicit valence); an aromatic N or P keeps its drawn
		// ones.
		h := drawnH[i]
		if a.valence > 0 {
			h = max(h, a.valence-int(math.Ceil(bondSum[i])))
		}
		m.Atoms[newIndex[i]].HCount = h
	}
	if err := r.check(m, lineOf, numOf); err != nil {
		return nil, err
	}
	// More drawn hydrogens than the model gives stay explicit, as in
	// RDKit's reading, where they are atoms when valences are checked;
	// then check again with the counts set.
	// A radical's unpaired electrons take the place of hydrogens: RDKit
	// reads a doublet C with one bond as [CH2]C (M  RAD 2 is one electron,
	// 1 and 3 are two).
	changed := false
	for i, a := range r.atoms {
		if fold[i] {
			continue
		}
		at := &m.Atoms[newIndex[i]]
		if at.Bracket {
			continue
		}
		if a.radical != 0 {
			e := 2
			if a.radical == 2 {
				e = 1
			}
			at.Bracket, at.HCount = true, max(0, at.HCount-e)
			changed = true
			continue
		}
		if drawnH[i] > at.HCount {
			at.Bracket, at.HCount = true, drawnH[i]
			changed = true
		}
	}
	if changed {
		for i := range m.Atoms {
			if !m.Atoms[i].Bracket {
				m.Atoms[i].HCount = 0
			}
		}
		if err := r.check(m, lineOf, numOf); err != nil {
			return nil, err
		}
	}
	for i := range m.Atoms {
		a := &m.Atoms[i]
		if a.Charge != 0 || a.Isotope != 0 || !organicSubset[a.Element] { // organicSubset: standardize.go
			a.Bracket = true
		}
	}
	return m, nil
}

// check runs ParseSMILES's whole-molecule checks (rings, valences with the
// hydrogens of unbracketed atoms, kekulization) on m, whose atom i was read
// on line lineOf[i] as the molfile's atom numOf[i].
func (r *molReader) check(m *Molecule, lineOf, numOf []int) *MolfileError {
	pos := make([]int, len(m.Atoms))
	for i := range pos {
		pos[i] = i
	}
	p := &parser{mol: m, atomPos: pos, implicit: make([]bool, len(m.Bonds)), directional: make([]bool, len(m.Bonds))}
	if err := p.finish(); err != nil {
		// The SMILES checks name atoms by byte position, which here is the
		// atom's 0-based index: name the atom by its number and line.
		if err.Pos < 0 || err.Pos >= len(lineOf) {
			return molErr(0, "%s", err.Reason)
		}
		reason := strings.ReplaceAll(err.Reason, fmt.Sprintf("at position %d", err.Pos+1), fmt.Sprintf("(atom %d)", numOf[err.Pos]))
		return molErr(lineOf[err.Pos], "%s", reason)
	}
	return nil
}
