package chem

import (
	"fmt"
	"strings"
)

// This file parses SMARTS patterns (Daylight's SMARTS theory manual, with
// RDKit's readings where they differ; RDKit's grammar is
// Code/GraphMol/SmilesParse/smarts.yy and smarts.ll) into a Query that
// smarts_match.go matches against a Structure.
//
// Atoms: organic-subset symbols without brackets (B C N O P S F Cl Br I,
// aromatic b c n o p s), '*', 'a', 'A'; in brackets any element symbol
// (capitalised organic-subset symbols are aliphatic, lower case aromatic,
// other symbols such as Se or Fe either), #n, isotope, H<n> (total
// hydrogens, neighbours included), h<n> (hydrogens not present as atoms),
// D<n> (neighbours), d<n> (neighbours other than hydrogen), X<n> (total
// connections), v<n> (total valence), R<n> (rings, of RDKit's ring set),
// r<n> (smallest ring size), x<n> (ring bonds), charges (+, ++, +n, -,
// --, -n), chirality and atom maps (read, not matched: RDKit's substructure
// search ignores chirality by default), recursive $(...) to depth
// maxRecursionDepth, and the operators ! & , ; with SMARTS precedence.
// [H], [2H], [H+] are hydrogen atoms. Bonds: - = # : ~ @, / and \ (as
// single), the same operators, an unwritten bond meaning single or
// aromatic; branches, ring closures (0-9, %nn) and '.' components. Other
// primitives (RDKit's z, Z, k, ^, ranges {a-b}) are refused, not ignored.

// MaxSMARTSLength is the longest SMARTS string ParseSMARTS accepts.
const MaxSMARTSLength = 4000

// maxRecursionDepth bounds nested $(...) groups.
const maxRecursionDepth = 8

// SMARTSError reports why a SMARTS string is invalid; Pos is the 0-based
// byte offset of the offending character, or -1.
type SMARTSError struct {
	Pos    int
	Reason string
}

// Error implements error.
func (e *SMARTSError) Error() string {
	if e.Pos < 0 {
		return "SMARTS: " + e.Reason
	}
	return fmt.Sprintf("SMARTS at position %d: %s", e.Pos+1, e.Reason) // counted from 1, as SMILES positions
}

// Query is a parsed SMARTS pattern.
type Query struct {
	src   string
	atoms []*expr
	bonds []qBond
	adj   [][]qEdge
}

// String returns the SMARTS the query was parsed from.
func (q *Query) String() string { return q.src }

type qBond struct {
	a, b int
	e    *expr
}

type qEdge struct {
	to, bond int
}

// exprOp is the kind of an expression node.
type exprOp int

const (
	opPrim exprOp = iota
	opNot
	opAnd // & and ; (and juxtaposition)
	opOr
)

// primKind is an atom or bond primitive.
type primKind int

const (
	pAny         primKind = iota // * (atoms), ~ (bonds)
	pAromatic                    // a
	pAliphatic                   // A
	pElement                     // #n, or a symbol with aromaticity: val, arom (0 aliphatic, 1 aromatic, 2 either)
	pTotalH                      // H<n>
	pImplicitH                   // h<n>: hydrogens not present as atoms; no number: at least one
	pDegree                      // D<n>
	pHeavyDegree                 // d<n>: neighbours other than hydrogen
	pTotalDegree                 // X<n>
	pRingCount                   // R<n>; no number: in a ring
	pRingSize                    // r<n>; no number: in a ring
	pRingBonds                   // x<n>; no number: has a ring bond
	pValence                     // v<n>
	pCharge                      // +n / -n
	pIsotope                     // leading digits
	pRecursive                   // $(...)
	pTrue                        // chirality and atom maps: no constraint

	bSingle   // -
	bDouble   // =
	bTriple   // #
	bAromatic // :
	bRing     // @
	bDefault  // unwritten: single or aromatic
)

type expr struct {
	op    exprOp
	kids  []*expr
	kind  primKind
	val   int
	given bool // the primitive carried a number
	arom  int  // for pElement: 0 aliphatic, 1 aromatic, 2 either
	sub   *Query
}

func prim(k primKind, v int, given bool) *expr {
	return &expr{op: opPrim, kind: k, val: v, given: given}
}

// ParseSMARTS parses a SMARTS pattern. A non-nil error is a *SMARTSError.
func ParseSMARTS(s string) (*Query, error) {
	if strings.TrimSpace(s) == "" {
		return nil, &SMARTSError{Pos: -1, Reason: "empty SMARTS"}
	}
	if len(s) > MaxSMARTSLength {
		return nil, &SMARTSError{Pos: -1, Reason: fmt.Sprintf("SMARTS too long: %d characters (max %d)", len(s), MaxSMARTSLength)}
	}
	q, err := parseSMARTS(s, 0, 0)
	if err != nil {
		return nil, err
	}
	return q, nil
}

type smartsParser struct {
	s     string
	off   int // offset of s in the outermost pattern, for errors
	depth int
	i     int
	q     *Query
}

func (p *smartsParser) errf(at int, format string, args ...any) *SMARTSError {
	return &SMARTSError{Pos: p.off + at, Reason: fmt.Sprintf(format, args...)}
}

func parseSMARTS(s string, off, depth int) (*Query, *SMARTSError) {
	p := &smartsParser{s: s, off: off, depth: depth, q: &Query{src: s}}
	if err := p.parse(); err != nil {
		return nil, err
	}
	p.q.mergeHs()
	return p.q, nil
}

// isQueryH reports an atom query that is only "hydrogen" ([#1], [H]).
func isQueryH(e *expr) bool {
	return e.op == opPrim && e.kind == pElement && e.val == 1
}

// mergeHs folds hydrogen query atoms into their neighbours, as RDKit's
// FilterCatalog reads its SMARTS (SmartsToMol with mergeHs; MolOps::
// mergeQueryHs in Code/GraphMol/AddHs.cpp, lines 1235-1332): an atom with n
// hydrogen neighbours gains "and not H0, ..., not H(n-1)" (at least n
// hydrogens), and the hydrogens are removed. Recursive queries were merged
// when they were parsed. It also builds the adjacency lists.
func (q *Query) mergeHs() {
	n := len(q.atoms)
	isH := make([]bool, n)
	for i, a := range q.atoms {
		isH[i] = isQueryH(a)
	}
	count := make([]int, n)
	remove := make([]bool, n)
	for _, b := range q.bonds {
		if isH[b.a] && !isH[b.b] {
			count[b.b]++
			remove[b.a] = true
		}
		if isH[b.b] && !isH[b.a] {
			count[b.a]++
			remove[b.b] = true
		}
	}
	idx := make([]int, n)
	var atoms []*expr
	for i, a := range q.atoms {
		idx[i] = -1
		if remove[i] {
			continue
		}
		if count[i] > 0 {
			kids := []*expr{a}
			for h := 0; h < count[i]; h++ {
				kids = append(kids, &expr{op: opNot, kids: []*expr{prim(pTotalH, h, true)}})
			}
			a = &expr{op: opAnd, kids: kids}
		}
		idx[i] = len(atoms)
		atoms = append(atoms, a)
	}
	var bonds []qBond
	for _, b := range q.bonds {
		if idx[b.a] >= 0 && idx[b.b] >= 0 {
			bonds = append(bonds, qBond{a: idx[b.a], b: idx[b.b], e: b.e})
		}
	}
	q.atoms, q.bonds = atoms, bonds
	q.adj = make([][]qEdge, len(q.atoms))
	for i, b := range q.bonds {
		q.adj[b.a] = append(q.adj[b.a], qEdge{to: b.b, bond: i})
		q.adj[b.b] = append(q.adj[b.b], qEdge{to: b.a, bond: i})
	}
}

type openClosure struct {
	atom int
	bond *expr
	pos  int
}

func (p *smartsParser) parse() *SMARTSError {
	prev := -1
	dot := -1 // position of a '.' not yet followed by an atom
	var pending *expr
	pendingPos := -1
	var stack []int
	rings := map[int]openClosure{}
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '(':
			if prev < 0 {
				return p.errf(p.i, "branch without a preceding atom")
			}
			stack = append(stack, prev)
			p.i++
		case c == ')':
			if len(stack) == 0 {
				return p.errf(p.i, "unmatched ')'")
			}
			if pending != nil {
				return p.errf(pendingPos, "bond with no following atom")
			}
			prev = stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			p.i++
		case c == '.':
			if prev < 0 || pending != nil {
				return p.errf(p.i, "'.' without an atom on both sides")
			}
			prev = -1
			dot = p.i
			p.i++
		case isDigit(c) || c == '%':
			if prev < 0 {
				return p.errf(p.i, "ring closure without a preceding atom")
			}
			start := p.i
			n := int(c - '0')
			if c == '%' {
				if p.i+2 >= len(p.s) || !isDigit(p.s[p.i+1]) || !isDigit(p.s[p.i+2]) {
					return p.errf(p.i, "'%%' must be followed by two digits")
				}
				n = int(p.s[p.i+1]-'0')*10 + int(p.s[p.i+2]-'0')
				p.i += 3
			} else {
				p.i++
			}
			if o, ok := rings[n]; ok {
				delete(rings, n)
				if o.atom == prev {
					return p.errf(start, "ring closure to the same atom")
				}
				b := pending
				if b == nil {
					b = o.bond
				}
				if b == nil {
					b = prim(bDefault, 0, false)
				}
				p.q.bonds = append(p.q.bonds, qBond{a: o.atom, b: prev, e: b})
			} else {
				rings[n] = openClosure{atom: prev, bond: pending, pos: start}
			}
			pending = nil
		case strings.IndexByte("-=#:~@!/\\&,;", c) >= 0:
			if prev < 0 {
				return p.errf(p.i, "bond %q without a preceding atom", c)
			}
			if pending != nil {
				return p.errf(p.i, "two bond expressions in a row")
			}
			pendingPos = p.i
			b, err := p.bondExpr()
			if err != nil {
				return err
			}
			pending = b
		default:
			a, err := p.atom()
			if err != nil {
				return err
			}
			idx := len(p.q.atoms)
			p.q.atoms = append(p.q.atoms, a)
			if prev >= 0 {
				b := pending
				if b == nil {
					b = prim(bDefault, 0, false)
				}
				p.q.bonds = append(p.q.bonds, qBond{a: prev, b: idx, e: b})
			}
			pending = nil
			prev = idx
			dot = -1
		}
	}
	if dot >= 0 {
		return p.errf(dot, "'.' with no following atom")
	}
	if pending != nil {
		return p.errf(pendingPos, "bond with no following atom")
	}
	if len(stack) > 0 {
		return p.errf(len(p.s)-1, "unclosed branch")
	}
	for n, o := range rings {
		return p.errf(o.pos, "unclosed ring closure %d", n)
	}
	if len(p.q.atoms) == 0 {
		return p.errf(-p.off-1, "no atoms")
	}
	return nil
}

// bondExpr parses a bond expression: primitives - = # : ~ @ / \ joined by
// ! & , ;.
func (p *smartsParser) bondExpr() (*expr, *SMARTSError) {
	start := p.i
	end := p.i
	for end < len(p.s) && strings.IndexByte("-=#:~@!/\\&,;", p.s[end]) >= 0 {
		end++
	}
	body := p.s[start:end]
	p.i = end
	return p.exprOf(body, start, func(body string, j int) (*expr, int, *SMARTSError) {
		switch body[j] {
		case '-', '/', '\\':
			return prim(bSingle, 0, false), j + 1, nil
		case '=':
			return prim(bDouble, 0, false), j + 1, nil
		case '#':
			return prim(bTriple, 0, false), j + 1, nil
		case ':':
			return prim(bAromatic, 0, false), j + 1, nil
		case '~':
			return prim(pAny, 0, false), j + 1, nil
		case '@':
			return prim(bRing, 0, false), j + 1, nil
		}
		return nil, j, p.errf(start+j, "unexpected %q in bond expression", body[j])
	})
}

// exprOf parses body with SMARTS operator precedence: ! binds tightest,
// then & (and juxtaposition), then ',', then ';'. primitive parses one
// primitive at body[j] and returns the index after it.
func (p *smartsParser) exprOf(body string, off int, primitive func(string, int) (*expr, int, *SMARTSError)) (*expr, *SMARTSError) {
	var lowAnd []*expr // ;-separated
	var ors []*expr    // ,-separated
	var ands []*expr   // &-separated or juxtaposed
	negate := false
	expectPrim := true
	flushAnd := func() {
		if len(ands) == 1 {
			ors = append(ors, ands[0])
		} else {
			ors = append(ors, &expr{op: opAnd, kids: ands})
		}
		ands = nil
	}
	flushOr := func() {
		flushAnd()
		if len(ors) == 1 {
			lowAnd = append(lowAnd, ors[0])
		} else {
			lowAnd = append(lowAnd, &expr{op: opOr, kids: ors})
		}
		ors = nil
	}
	for j := 0; j < len(body); {
		c := body[j]
		switch c {
		case '!':
			negate = !negate
			j++
			continue
		case '&', ',', ';':
			if expectPrim {
				return nil, p.errf(off+j, "operator %q without an operand", c)
			}
			if negate {
				return nil, p.errf(off+j, "'!' without an operand")
			}
			switch c {
			case ',':
				flushAnd()
			case ';':
				flushOr()
			}
			expectPrim = true
			j++
			continue
		}
		e, next, err := primitive(body, j)
		if err != nil {
			return nil, err
		}
		if negate {
			e = &expr{op: opNot, kids: []*expr{e}}
			negate = false
		}
		ands = append(ands, e)
		expectPrim = false
		j = next
	}
	if expectPrim || negate {
		return nil, p.errf(off+len(body)-1, "expression ends with an operator")
	}
	flushOr()
	if len(lowAnd) == 1 {
		return lowAnd[0], nil
	}
	return &expr{op: opAnd, kids: lowAnd}, nil
}

// organicSMARTS are the atoms SMARTS allows without brackets.
var organicSMARTS = []string{"Cl", "Br", "B", "C", "N", "O", "P", "S", "F", "I", "b", "c", "n", "o", "p", "s"}

// atom parses an unbracketed atom or a bracket atom.
func (p *smartsParser) atom() (*expr, *SMARTSError) {
	c := p.s[p.i]
	switch c {
	case '[':
		return p.bracket()
	case '*':
		p.i++
		return prim(pAny, 0, false), nil
	case 'a':
		p.i++
		return prim(pAromatic, 0, false), nil
	case 'A':
		p.i++
		return prim(pAliphatic, 0, false), nil
	}
	for _, sym := range organicSMARTS {
		if strings.HasPrefix(p.s[p.i:], sym) {
			p.i += len(sym)
			return elementPrim(sym), nil
		}
	}
	return nil, p.errf(p.i, "unexpected character %q", c)
}

// elementPrim is the primitive for an element symbol: aromatic in lower
// case; aliphatic when a capitalised organic-subset symbol (B C N O P S F
// Cl Br I); any other capitalised symbol ([Se], [Te], [Fe]) is the element
// whatever its aromaticity, as RDKit's SMARTS lexer reads it
// (Code/GraphMol/SmilesParse/smarts.ll: other symbols make an atomic-number
// query only).
func elementPrim(sym string) *expr {
	if isLower(sym[0]) {
		up := strings.ToUpper(sym[:1]) + sym[1:]
		return &expr{op: opPrim, kind: pElement, val: atomicNumber(up), arom: 1}
	}
	switch sym {
	case "B", "C", "N", "O", "P", "S", "F", "Cl", "Br", "I":
		return &expr{op: opPrim, kind: pElement, val: atomicNumber(sym), arom: 0}
	}
	return &expr{op: opPrim, kind: pElement, val: atomicNumber(sym), arom: 2}
}

// aromaticSMARTS are the lower-case symbols SMARTS reads in brackets.
var aromaticSMARTS = []string{"se", "te", "as", "si", "ge", "sb", "b", "c", "n", "o", "p", "s"}

func (p *smartsParser) bracket() (*expr, *SMARTSError) {
	start := p.i
	depth := 0
	end := -1
	for j := p.i + 1; j < len(p.s); j++ {
		switch p.s[j] {
		case '(':
			depth++
		case ')':
			depth--
		case ']':
			if depth == 0 {
				end = j
			}
		}
		if end >= 0 {
			break
		}
	}
	if end < 0 {
		return nil, p.errf(start, "unterminated '['")
	}
	body := p.s[start+1 : end]
	p.i = end + 1
	if body == "" {
		return nil, p.errf(start, "empty bracket atom")
	}
	// [H], [H+], [2H]: a hydrogen atom, not a hydrogen count.
	if h := strings.TrimLeft(body, "0123456789"); h == "H" || h == "H+" || h == "H-" {
		e := &expr{op: opPrim, kind: pElement, val: 1, arom: 2}
		kids := []*expr{e}
		if iso, _, given := number(body, 0); given {
			kids = append(kids, prim(pIsotope, iso, true))
		}
		if h != "H" {
			kids = append(kids, prim(pCharge, map[bool]int{true: 1, false: -1}[h == "H+"], true))
		}
		if len(kids) == 1 {
			return e, nil
		}
		return &expr{op: opAnd, kids: kids}, nil
	}
	off := start + 1
	return p.exprOf(body, off, func(body string, j int) (*expr, int, *SMARTSError) {
		return p.atomPrimitive(body, j, off)
	})
}

// number reads optional digits at body[j]; given reports whether any were
// there.
func number(body string, j int) (v, next int, given bool) {
	for j < len(body) && isDigit(body[j]) && v < 1000 {
		v = v*10 + int(body[j]-'0')
		j++
		given = true
	}
	return v, j, given
}

func (p *smartsParser) atomPrimitive(body string, j, off int) (*expr, int, *SMARTSError) {
	c := body[j]
	switch {
	case c == '$':
		if j+1 >= len(body) || body[j+1] != '(' {
			return nil, j, p.errf(off+j, "'$' must be followed by '('")
		}
		depth, k := 0, j+1
		for ; k < len(body); k++ {
			if body[k] == '(' {
				depth++
			} else if body[k] == ')' {
				depth--
				if depth == 0 {
					break
				}
			}
		}
		if k >= len(body) {
			return nil, j, p.errf(off+j, "unclosed '$('")
		}
		if p.depth+1 > maxRecursionDepth {
			return nil, j, p.errf(off+j, "recursive SMARTS nested deeper than %d", maxRecursionDepth)
		}
		sub, err := parseSMARTS(body[j+2:k], p.off+off+j+2, p.depth+1)
		if err != nil {
			return nil, j, err
		}
		return &expr{op: opPrim, kind: pRecursive, sub: sub}, k + 1, nil
	case isDigit(c):
		v, next, _ := number(body, j)
		return prim(pIsotope, v, true), next, nil
	case c == '*':
		return prim(pAny, 0, false), j + 1, nil
	case c == '#':
		v, next, given := number(body, j+1)
		if !given || v > maxAtomicNumber {
			return nil, j, p.errf(off+j, "'#' must be followed by an atomic number")
		}
		return &expr{op: opPrim, kind: pElement, val: v, arom: 2}, next, nil
	case c == '+' || c == '-':
		sign := 1
		if c == '-' {
			sign = -1
		}
		k := j + 1
		v, next, given := number(body, k)
		if given {
			return prim(pCharge, sign*v, true), next, nil
		}
		n := 1
		for k < len(body) && body[k] == c {
			n++
			k++
		}
		return prim(pCharge, sign*n, true), k, nil
	case c == '@':
		k := j + 1
		for k < len(body) && (body[k] == '@' || body[k] == '?') {
			k++
		}
		return prim(pTrue, 0, false), k, nil
	case c == ':':
		_, next, given := number(body, j+1)
		if !given {
			return nil, j, p.errf(off+j, "atom map ':' must be followed by digits")
		}
		return prim(pTrue, 0, false), next, nil
	}
	// Element symbols, two letters first.
	if isUpper(c) {
		if j+1 < len(body) && isLower(body[j+1]) && isElement(body[j:j+2]) {
			return elementPrim(body[j : j+2]), j + 2, nil
		}
	}
	if isLower(c) {
		for _, sym := range aromaticSMARTS {
			if strings.HasPrefix(body[j:], sym) {
				return elementPrim(sym), j + len(sym), nil
			}
		}
	}
	numbered := func(k primKind, def int) (*expr, int, *SMARTSError) {
		v, next, given := number(body, j+1)
		if !given {
			v = def
		}
		return prim(k, v, given), next, nil
	}
	switch c {
	case 'a':
		return prim(pAromatic, 0, false), j + 1, nil
	case 'A':
		return prim(pAliphatic, 0, false), j + 1, nil
	case 'H':
		return numbered(pTotalH, 1)
	case 'h':
		return numbered(pImplicitH, 1)
	case 'D':
		return numbered(pDegree, 1)
	case 'd':
		return numbered(pHeavyDegree, 1)
	case 'X':
		return numbered(pTotalDegree, 1)
	case 'R':
		return numbered(pRingCount, 0)
	case 'r':
		return numbered(pRingSize, 0)
	case 'x':
		return numbered(pRingBonds, 0)
	case 'v':
		return numbered(pValence, 1)
	}
	if isUpper(c) && isElement(body[j:j+1]) {
		return elementPrim(body[j : j+1]), j + 1, nil
	}
	return nil, j, p.errf(off+j, "unknown atom primitive %q", c)
}
