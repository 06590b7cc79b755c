package chem

import (
	"fmt"
	"unicode/utf8"
)

// Input limits enforced by ParseSMILES.
const (
	// MaxSMILESLength is the longest SMILES string (in bytes) accepted.
	MaxSMILESLength = 2000
	// MaxHeavyAtoms is the largest number of non-hydrogen atoms accepted.
	MaxHeavyAtoms = 500
)

// maxCharge bounds the absolute formal charge of a bracket atom.
const maxCharge = 15

// SMILESError reports why a SMILES string is invalid. Pos is the 0-based byte
// offset of the offending character or atom, or -1 when the problem is not
// tied to a position (empty or over-long input). Messages count positions
// from 1, as residue positions are: Error and every position in Reason are
// Pos + 1.
type SMILESError struct {
	Pos    int
	Reason string
}

// Error implements error, e.g. "at position 6: unclosed ring bond 1" for
// Pos 5 (the sixth character).
func (e *SMILESError) Error() string {
	if e.Pos < 0 {
		return e.Reason
	}
	return fmt.Sprintf("at position %d: %s", e.Pos+1, e.Reason)
}

// Atom is one atom of a parsed SMILES string.
type Atom struct {
	Element  string // capitalised element symbol, also for aromatic atoms ("C", "N", "Cl", "Se")
	Aromatic bool   // written in lower case (c, n, [se], ...)
	Charge   int    // formal charge (bracket atoms only)
	Isotope  int    // mass number, 0 when not given
	Bracket  bool   // written in [ ]
	HCount   int    // explicit count for bracket atoms, implicit (computed) for organic-subset atoms
	Chiral   string // chirality mark as written: "", "@", "@@" (or an extended form such as "@TH1"); not interpreted
}

// Bond joins atoms A and B (indices into Molecule.Atoms).
type Bond struct {
	A, B int
	// Order is 1 (single, including '/' and '\'), 2, 3, 4 ('$', quadruple)
	// or 1.5 (aromatic).
	Order float64
	// Ring reports whether the bond is part of a ring (lies on a cycle).
	Ring bool
}

// Molecule is the graph described by a SMILES string. Hydrogens are normally
// carried in Atom.HCount; only hydrogens written as bracket atoms ("[H]",
// "[2H]") appear in Atoms.
type Molecule struct {
	Atoms []Atom
	Bonds []Bond

	// written is, per atom, its neighbours in the order the SMILES string
	// named them, with hSlot where a bracket atom's hydrogens stand; the
	// meaning of a chirality mark depends on that order (see smiles_write.go).
	// It is nil for a molecule not made by ParseSMILES.
	written [][]int
	// dative marks, per bond, a dative bond (see IsDative); nil when there
	// is none.
	dative []bool
	// dirs holds, per bond, the '/' or '\\' written on it, as read from
	// Bond.A to Bond.B (0 for none), so the writer keeps double-bond
	// geometry; nil when there is none.
	dirs []byte
}

// IsDative reports whether bond i is a dative bond, written "->" or "<-"
// (order 1). Its Bond.A is the donor and Bond.B the acceptor; as in RDKit,
// it counts toward the valence of the acceptor only.
func (m *Molecule) IsDative(i int) bool {
	return i < len(m.dative) && m.dative[i]
}

// HeavyAtomCount returns the number of non-hydrogen atoms.
func (m *Molecule) HeavyAtomCount() int {
	n := 0
	for _, a := range m.Atoms {
		if a.Element != "H" {
			n++
		}
	}
	return n
}

// ParseSMILES parses and checks a SMILES string (see the package
// documentation for the accepted grammar). The string must already be
// trimmed. A non-nil error is always a *SMILESError.
func ParseSMILES(s string) (*Molecule, error) {
	if s == "" {
		return nil, &SMILESError{Pos: -1, Reason: "empty SMILES string"}
	}
	if len(s) > MaxSMILESLength {
		return nil, &SMILESError{Pos: -1, Reason: fmt.Sprintf(
			"SMILES too long: %d characters (max %d)", len(s), MaxSMILESLength)}
	}
	p := &parser{
		s:     s,
		mol:   &Molecule{},
		prev:  -1,
		rings: make(map[int]openRing),
		pairs: make(map[[2]int]bool),
	}
	if err := p.parse(); err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, err
	}
	p.mol.written = p.written
	return p.mol, nil
}

// token kinds, used to check what may follow what.
type tokenKind int

const (
	tokStart tokenKind = iota
	tokAtom
	tokRing
	tokBond
	tokOpen
	tokClose
	tokDot
)

// openRing is a ring-closure digit waiting for its partner.
type openRing struct {
	atom    int
	bond    byte // bond symbol written before the digit, 0 if none
	bondPos int
	pos     int // position of the digit (or '%')
	slot    int // index of the partner's place in parser.written[atom]
}

// parser holds the state of one ParseSMILES call.
type parser struct {
	s   string
	i   int
	mol *Molecule

	atomPos     []int  // byte offset of each atom
	implicit    []bool // per bond: no bond symbol, or only / or \, was written
	directional []bool // per bond: written '/' or '\'
	heavy       int

	prev     int // atom the next atom bonds to, -1 after '.' or at start
	last     tokenKind
	bond     byte // pending bond symbol, 0 if none
	bondPos  int
	bondPrev tokenKind // token before the pending bond symbol
	branches []branch
	rings    map[int]openRing
	pairs    map[[2]int]bool
	written  [][]int // neighbours of each atom in written order (Molecule.written)

	san *sanitizer // set by finish; Perceive reads its Kekulé form
}

type branch struct {
	atom int
	pos  int
}

func errAt(pos int, format string, args ...any) *SMILESError {
	return &SMILESError{Pos: pos, Reason: fmt.Sprintf(format, args...)}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }

// describe renders the character at byte offset i for an error message.
func describe(s string, i int) string {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return fmt.Sprintf("%q", r)
}

func (p *parser) parse() *SMILESError {
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			return errAt(p.i, "whitespace is not allowed in a SMILES string")
		case c == '(':
			if err := p.openBranch(); err != nil {
				return err
			}
		case c == ')':
			if err := p.closeBranch(); err != nil {
				return err
			}
		case c == '.':
			if err := p.dot(); err != nil {
				return err
			}
		case (c == '-' && p.next() == '>') || (c == '<' && p.next() == '-'):
			// A dative bond, "->" or "<-", held as the pending symbol
			// '>' or '<'.
			sym := byte('>')
			if c == '<' {
				sym = '<'
			}
			if err := p.bondSymbol(sym); err != nil {
				return err
			}
			p.i++
		case c == '-' || c == '=' || c == '#' || c == '$' || c == ':' || c == '/' || c == '\\':
			if err := p.bondSymbol(c); err != nil {
				return err
			}
		case isDigit(c) || c == '%':
			if err := p.ringBond(); err != nil {
				return err
			}
		case c == '[':
			if err := p.bracketAtom(); err != nil {
				return err
			}
		case c == '*':
			return errAt(p.i, "wildcard atom '*' is not allowed in a ligand")
		case isUpper(c) || isLower(c):
			if err := p.organicAtom(); err != nil {
				return err
			}
		case c == ']':
			return errAt(p.i, "unexpected ']' without a matching '['")
		default:
			return errAt(p.i, "unexpected character %s", describe(p.s, p.i))
		}
	}
	switch p.last {
	case tokBond:
		return errAt(p.bondPos, "bond symbol %q with no following atom", p.bond)
	case tokDot:
		return errAt(len(p.s)-1, "'.' with no following atom")
	}
	if n := len(p.branches); n > 0 {
		return errAt(p.branches[n-1].pos, "unclosed branch")
	}
	if len(p.rings) > 0 {
		// Report the earliest unclosed ring. Ring numbers are 0..99, so
		// walk them rather than the map: the result is deterministic, as
		// workflow code (which validates SMILES) requires.
		first := -1
		for n := 0; n <= 99; n++ {
			if r, ok := p.rings[n]; ok && (first < 0 || r.pos < p.rings[first].pos) {
				first = n
			}
		}
		return errAt(p.rings[first].pos, "unclosed ring bond %s", ringLabel(first))
	}
	return nil
}

// dirByte keeps a '/' or '\\' bond symbol and maps any other to 0.
func dirByte(sym byte) byte {
	if sym == '/' || sym == '\\' {
		return sym
	}
	return 0
}

// next returns the byte after the current one, or 0 at the end.
func (p *parser) next() byte {
	if p.i+1 < len(p.s) {
		return p.s[p.i+1]
	}
	return 0
}

func ringLabel(n int) string {
	if n >= 10 {
		return fmt.Sprintf("%%%d", n)
	}
	return fmt.Sprint(n)
}

// afterAtom reports whether the previous token leaves us "on" an atom, so
// that a bond symbol, ring bond or branch may follow.
func (p *parser) afterAtom() bool {
	return p.last == tokAtom || p.last == tokRing || p.last == tokClose
}

func (p *parser) openBranch() *SMILESError {
	switch {
	case p.last == tokBond:
		return errAt(p.bondPos, "bond symbol %q with no following atom", p.bond)
	case p.last == tokOpen:
		return errAt(p.i, "branch must start with an atom or a bond symbol")
	case !p.afterAtom():
		return errAt(p.i, "branch '(' without a preceding atom")
	}
	p.branches = append(p.branches, branch{atom: p.prev, pos: p.i})
	p.last = tokOpen
	p.i++
	return nil
}

func (p *parser) closeBranch() *SMILESError {
	switch {
	case len(p.branches) == 0:
		return errAt(p.i, "unmatched ')'")
	case p.last == tokBond:
		return errAt(p.bondPos, "bond symbol %q with no following atom", p.bond)
	case p.last == tokOpen:
		return errAt(p.i, "empty branch '()'")
	case p.last == tokDot:
		return errAt(p.i-1, "'.' with no following atom")
	}
	n := len(p.branches)
	p.prev = p.branches[n-1].atom
	p.branches = p.branches[:n-1]
	p.last = tokClose
	p.i++
	return nil
}

func (p *parser) dot() *SMILESError {
	switch p.last {
	case tokStart:
		return errAt(p.i, "'.' without a preceding atom")
	case tokDot:
		return errAt(p.i, "empty fragment between '.' separators")
	case tokBond:
		return errAt(p.bondPos, "bond symbol %q with no following atom", p.bond)
	}
	p.prev = -1
	p.last = tokDot
	p.i++
	return nil
}

func (p *parser) bondSymbol(c byte) *SMILESError {
	switch {
	case p.last == tokBond:
		return errAt(p.i, "two consecutive bond symbols")
	case !(p.afterAtom() || p.last == tokOpen):
		return errAt(p.i, "bond symbol %q without a preceding atom", c)
	}
	p.bond = c
	p.bondPos = p.i
	p.bondPrev = p.last
	p.last = tokBond
	p.i++
	return nil
}

// bondOrder maps a written bond symbol to its order; -, / and \ are single.
func bondOrder(c byte) float64 {
	switch c {
	case '=':
		return 2
	case '#':
		return 3
	case '$':
		return 4
	case ':':
		return 1.5
	}
	return 1
}

func (p *parser) ringBond() *SMILESError {
	start := p.i
	var num int
	if p.s[p.i] == '%' {
		if p.i+2 >= len(p.s) || !isDigit(p.s[p.i+1]) || !isDigit(p.s[p.i+2]) {
			return errAt(start, "'%%' must be followed by two digits")
		}
		if p.s[p.i+1] == '0' {
			return errAt(start, "ring bond %s: after '%%' the number must be 10 to 99 (write 0-9 without '%%')", p.s[start:start+3])
		}
		num = int(p.s[p.i+1]-'0')*10 + int(p.s[p.i+2]-'0')
		p.i += 3
	} else {
		num = int(p.s[p.i] - '0')
		p.i++
	}

	ok := p.afterAtom() || (p.last == tokBond && p.bondPrev != tokOpen)
	if !ok {
		if p.last == tokBond {
			return errAt(p.bondPos, "bond symbol %q with no following atom", p.bond)
		}
		return errAt(start, "ring bond %s without a preceding atom", ringLabel(num))
	}
	var sym byte
	symPos := -1
	if p.last == tokBond {
		sym, symPos = p.bond, p.bondPos
		p.bond = 0
	}
	cur := p.prev

	open, isOpen := p.rings[num]
	if !isOpen {
		p.rings[num] = openRing{atom: cur, bond: sym, bondPos: symPos, pos: start, slot: len(p.written[cur])}
		p.written[cur] = append(p.written[cur], -1) // the partner, once closed
		p.last = tokRing
		return nil
	}
	delete(p.rings, num)
	if open.atom == cur {
		return errAt(start, "ring closure to the same atom (ring bond %s)", ringLabel(num))
	}
	if open.bond != 0 && sym != 0 && bondOrder(open.bond) != bondOrder(sym) {
		return errAt(start, "conflicting ring-bond orders %q and %q for ring bond %s",
			open.bond, sym, ringLabel(num))
	}
	// A dative or directional symbol reads from the atom it is written on
	// to the ring partner, as in RDKit: "N->1...[Zn]1" and "N1...[Zn]<-1"
	// both make N the donor. addBond reads from open.atom, so one written
	// at the closure is turned round.
	switch sym {
	case '>':
		sym = '<'
	case '<':
		sym = '>'
	case '/':
		sym = '\\'
	case '\\':
		sym = '/'
	case 0:
		sym = open.bond
	}
	if err := p.addBond(open.atom, cur, sym, start); err != nil {
		return err
	}
	p.written[open.atom][open.slot] = cur
	p.written[cur] = append(p.written[cur], open.atom)
	p.last = tokRing
	return nil
}

// addBond records a bond written with the bond symbol sym (0 if none).
func (p *parser) addBond(a, b int, sym byte, pos int) *SMILESError {
	key := [2]int{min(a, b), max(a, b)}
	if p.pairs[key] {
		return errAt(pos, "duplicate bond between atoms at positions %d and %d",
			p.atomPos[key[0]]+1, p.atomPos[key[1]]+1)
	}
	p.pairs[key] = true
	if sym == '>' || sym == '<' {
		if sym == '<' {
			a, b = b, a
		}
		if p.mol.dative == nil {
			p.mol.dative = make([]bool, len(p.mol.Bonds), len(p.mol.Bonds)+1)
		}
		p.mol.Bonds = append(p.mol.Bonds, Bond{A: a, B: b, Order: 1})
		p.mol.dative = append(p.mol.dative, true)
		if p.mol.dirs != nil {
			p.mol.dirs = append(p.mol.dirs, 0)
		}
		p.implicit = append(p.implicit, false)
		p.directional = append(p.directional, false)
		return nil
	}
	// An unwritten bond, or a directional one (/ and \ say nothing of the
	// order), between two aromatic atoms is aromatic, as in RDKit.
	directional := sym == '/' || sym == '\\'
	unspecified := sym == 0 || directional
	order := bondOrder(sym)
	if unspecified && p.mol.Atoms[a].Aromatic && p.mol.Atoms[b].Aromatic {
		order = 1.5
	}
	p.mol.Bonds = append(p.mol.Bonds, Bond{A: a, B: b, Order: order})
	if p.mol.dative != nil {
		p.mol.dative = append(p.mol.dative, false)
	}
	if directional && p.mol.dirs == nil {
		p.mol.dirs = make([]byte, len(p.mol.Bonds)-1, len(p.mol.Bonds))
	}
	if p.mol.dirs != nil {
		p.mol.dirs = append(p.mol.dirs, dirByte(sym))
	}
	p.implicit = append(p.implicit, unspecified)
	p.directional = append(p.directional, directional)
	return nil
}

// addAtom appends an atom at byte offset pos and bonds it to the previous
// atom, if any.
func (p *parser) addAtom(a Atom, pos int) *SMILESError {
	if a.Element != "H" {
		p.heavy++
		if p.heavy > MaxHeavyAtoms {
			return errAt(pos, "too many heavy atoms (max %d)", MaxHeavyAtoms)
		}
	}
	idx := len(p.mol.Atoms)
	p.mol.Atoms = append(p.mol.Atoms, a)
	p.atomPos = append(p.atomPos, pos)
	var nb []int
	if p.prev >= 0 {
		nb = append(nb, p.prev)
		p.written[p.prev] = append(p.written[p.prev], idx)
	}
	if a.Bracket && a.HCount > 0 {
		nb = append(nb, hSlot)
	}
	p.written = append(p.written, nb)
	if p.prev >= 0 {
		var sym byte
		if p.last == tokBond {
			sym = p.bond
		}
		if err := p.addBond(p.prev, idx, sym, pos); err != nil {
			return err
		}
	}
	p.bond = 0
	p.prev = idx
	p.last = tokAtom
	return nil
}

// organicAtom parses an unbracketed atom (organic subset).
func (p *parser) organicAtom() *SMILESError {
	s, start := p.s, p.i
	c := s[start]
	var sym string
	aromatic := false
	switch {
	case c == 'C' && start+1 < len(s) && s[start+1] == 'l':
		sym = "Cl"
	case c == 'B' && start+1 < len(s) && s[start+1] == 'r':
		sym = "Br"
	case c == 'B' || c == 'C' || c == 'N' || c == 'O' || c == 'P' || c == 'S' || c == 'F' || c == 'I':
		sym = string(c)
	case c == 'b' || c == 'c' || c == 'n' || c == 'o' || c == 'p' || c == 's':
		sym = string(c - 'a' + 'A')
		aromatic = true
	default:
		return p.badLetter()
	}
	p.i += len(sym)
	return p.addAtom(Atom{Element: sym, Aromatic: aromatic}, start)
}

// badLetter explains a letter that cannot start an unbracketed atom.
func (p *parser) badLetter() *SMILESError {
	s, i := p.s, p.i
	c := s[i]
	if isUpper(c) {
		if c == 'H' && !(i+1 < len(s) && isLower(s[i+1]) && isElement(s[i:i+2])) {
			return errAt(i, "hydrogen must be written in brackets, e.g. [H]")
		}
		if i+1 < len(s) && isLower(s[i+1]) && isElement(s[i:i+2]) {
			return errAt(i, "element %q must be written in brackets, e.g. [%s]", s[i:i+2], s[i:i+2])
		}
		if isElement(string(c)) {
			return errAt(i, "element %q must be written in brackets, e.g. [%c]", string(c), c)
		}
		if i+1 < len(s) && isLower(s[i+1]) {
			return errAt(i, "unknown element %q", s[i:i+2])
		}
		return errAt(i, "unknown element %q", string(c))
	}
	// Lower case: maybe the second letter of an element written without
	// brackets ("Na", "se").
	if i > 0 && isLower(c) {
		two := s[i-1 : i+1]
		if isElement(two) {
			return errAt(i-1, "element %q must be written in brackets, e.g. [%s]", two, two)
		}
		if _, ok := aromaticBracketSymbols[two]; ok {
			return errAt(i-1, "aromatic %q must be written in brackets, e.g. [%s]", two, two)
		}
	}
	return errAt(i, "unexpected character %s", describe(s, i))
}

// bracketAtom parses "[isotope? symbol chiral? hcount? charge? class?]".
func (p *parser) bracketAtom() *SMILESError {
	s, start := p.s, p.i
	end := start + 1
	for end < len(s) && s[end] != ']' {
		if s[end] == '[' {
			break
		}
		end++
	}
	if end >= len(s) || s[end] != ']' {
		return errAt(start, "unterminated bracket atom '['")
	}
	body := s[start+1 : end]
	off := start + 1 // position of body[0] in s
	i := 0
	a := Atom{Bracket: true}

	// Isotope.
	if len(body) > 1 && body[0] == '0' && isDigit(body[1]) {
		return errAt(off, "isotope number with a leading zero")
	}
	for i < len(body) && isDigit(body[i]) {
		if i >= 3 {
			return errAt(off, "isotope number too large")
		}
		a.Isotope = a.Isotope*10 + int(body[i]-'0')
		i++
	}

	// Element symbol.
	if i >= len(body) {
		return errAt(off+i, "missing element symbol in bracket atom")
	}
	c := body[i]
	switch {
	case c == '*':
		return errAt(off+i, "wildcard atom '*' is not allowed in a ligand")
	case isUpper(c):
		switch {
		case i+1 < len(body) && isLower(body[i+1]) && isElement(body[i:i+2]):
			a.Element = body[i : i+2]
		case i+1 < len(body) && isLower(body[i+1]):
			return errAt(off+i, "unknown element %q", body[i:i+2])
		case isElement(string(c)):
			a.Element = string(c)
		default:
			return errAt(off+i, "unknown element %q", string(c))
		}
	case isLower(c):
		a.Aromatic = true
		if i+1 < len(body) && isLower(body[i+1]) {
			el, ok := aromaticBracketSymbols[body[i:i+2]]
			if !ok {
				return errAt(off+i, "unknown aromatic element %q", body[i:i+2])
			}
			a.Element = el
		} else {
			el, ok := aromaticBracketSymbols[string(c)]
			if !ok {
				return errAt(off+i, "unknown aromatic element %q", string(c))
			}
			a.Element = el
		}
	default:
		return errAt(off+i, "expected an element symbol in bracket atom, found %s", describe(s, off+i))
	}
	i += len(a.Element)

	// Chirality.
	if i < len(body) && body[i] == '@' {
		j := i + 1
		switch {
		case j < len(body) && body[j] == '@':
			j++
		case j+2 < len(body) && isChiralClass(body[j:j+2]) && isDigit(body[j+2]):
			j += 2
			n := 0
			for j < len(body) && isDigit(body[j]) && j-i < 6 {
				n = n*10 + int(body[j]-'0')
				j++
			}
			class := body[i+1 : i+3]
			switch hi := chiralClassMax[class]; {
			case body[i+3] == '0':
				return errAt(off+i, "chirality %s: the number cannot be zero or start with 0", body[i:j])
			case n > hi:
				return errAt(off+i, "chirality %s out of range (@%s1 to @%s%d)", body[i:j], class, class, hi)
			}
		}
		a.Chiral = body[i:j]
		i = j
	}

	// Hydrogen count.
	if i < len(body) && body[i] == 'H' {
		i++
		a.HCount = 1
		if i < len(body) && isDigit(body[i]) {
			a.HCount = int(body[i] - '0')
			i++
		}
	}

	// Charge.
	if i < len(body) && (body[i] == '+' || body[i] == '-') {
		sign := body[i]
		unit := 1
		if sign == '-' {
			unit = -1
		}
		chargePos := off + i
		i++
		switch {
		case i+1 < len(body) && body[i] == '0' && isDigit(body[i+1]):
			return errAt(chargePos, "charge with a leading zero")
		case i < len(body) && isDigit(body[i]):
			n := 0
			for i < len(body) && isDigit(body[i]) {
				n = n*10 + int(body[i]-'0')
				i++
				if n > maxCharge {
					return errAt(chargePos, "charge out of range (max %d)", maxCharge)
				}
			}
			a.Charge = unit * n
		default:
			n := 1
			for i < len(body) && body[i] == sign {
				n++
				i++
			}
			if n > 2 {
				return errAt(chargePos, "charge %q: write more than two charges as a number, e.g. %c%d",
					body[chargePos-off:i], sign, n)
			}
			a.Charge = unit * n
		}
	}

	// Atom class.
	if i < len(body) && body[i] == ':' {
		i++
		if i >= len(body) || !isDigit(body[i]) {
			return errAt(off+i-1, "atom class ':' must be followed by digits")
		}
		for i < len(body) && isDigit(body[i]) {
			i++
		}
	}

	if i < len(body) {
		return errAt(off+i, "unexpected character %s in bracket atom", describe(s, off+i))
	}
	p.i = end + 1
	return p.addAtom(a, start)
}

// chiralClassMax gives the highest number of each extended chirality class
// (OpenSMILES: @TH1-2, @AL1-2, @SP1-3, @TB1-20, @OH1-30).
var chiralClassMax = map[string]int{"TH": 2, "AL": 2, "SP": 3, "TB": 20, "OH": 30}

func isChiralClass(s string) bool {
	_, ok := chiralClassMax[s]
	return ok
}
