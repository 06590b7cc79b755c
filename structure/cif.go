package structure

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// tokenKind classifies CIF tokens.
type tokenKind int

const (
	tokValue  tokenKind = iota // a data value, possibly quoted
	tokTag                     // _category.item
	tokLoop                    // loop_
	tokData                    // data_name
	tokSave                    // save_ or save_name
	tokGlobal                  // global_
	tokStop                    // stop_
)

// token is one CIF token. quoted is true for quoted values and text fields,
// for which '.' and '?' are literal text rather than missing markers.
type token struct {
	kind   tokenKind
	text   string
	quoted bool
	line   int
}

// missing reports whether the token is the unquoted '.' or '?'.
func (t *token) missing() bool {
	return !t.quoted && (t.text == "." || t.text == "?")
}

// lexer splits CIF 1.1 text into tokens, line by line.
type lexer struct {
	r      *bufio.Reader
	line   string // current line, without the line terminator
	pos    int    // next byte of line to read
	lineNo int    // 1-based number of line; 0 before the first line
	eof    bool
	peeked *token
}

func newLexer(r io.Reader) *lexer {
	return &lexer{r: bufio.NewReaderSize(r, 64*1024), pos: 0}
}

// readLine loads the next line. It returns io.EOF when no line is left.
func (l *lexer) readLine() error {
	if l.eof {
		return io.EOF
	}
	s, err := l.r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("structure: reading line %d: %w", l.lineNo+1, err)
	}
	if err != nil { // io.EOF
		l.eof = true
		if s == "" {
			return io.EOF
		}
	}
	l.lineNo++
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	if l.lineNo == 1 {
		s = strings.TrimPrefix(s, "\ufeff")
	}
	l.line, l.pos = s, 0
	return nil
}

// unread pushes one token back; the next call to next returns it.
func (l *lexer) unread(t token) {
	l.peeked = &t
}

// next returns the next token, or io.EOF at the end of the input.
func (l *lexer) next() (token, error) {
	if l.peeked != nil {
		t := *l.peeked
		l.peeked = nil
		return t, nil
	}
	for {
		if l.lineNo == 0 || l.pos >= len(l.line) {
			if err := l.readLine(); err != nil {
				return token{}, err
			}
			if strings.HasPrefix(l.line, ";") {
				return l.textField()
			}
			continue
		}
		c := l.line[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f':
			l.pos++
		case c == '#':
			l.pos = len(l.line)
		case c == '\'' || c == '"':
			return l.quoted(c)
		default:
			return l.bare(), nil
		}
	}
}

// textField reads a semicolon-delimited text field that starts on the
// current line.
func (l *lexer) textField() (token, error) {
	start := l.lineNo
	var b strings.Builder
	b.WriteString(l.line[1:])
	for {
		if err := l.readLine(); err != nil {
			if errors.Is(err, io.EOF) {
				return token{}, fmt.Errorf("structure: line %d: text field opened with ';' is never closed", start)
			}
			return token{}, err
		}
		if strings.HasPrefix(l.line, ";") {
			l.pos = 1
			return token{kind: tokValue, text: b.String(), quoted: true, line: start}, nil
		}
		b.WriteByte('\n')
		b.WriteString(l.line)
	}
}

// quoted reads a value delimited by q. The closing quote is a q followed by
// whitespace or the end of the line.
func (l *lexer) quoted(q byte) (token, error) {
	open := l.pos
	for i := open + 1; i < len(l.line); i++ {
		if l.line[i] != q {
			continue
		}
		if i+1 == len(l.line) || isSpace(l.line[i+1]) {
			l.pos = i + 1
			return token{kind: tokValue, text: l.line[open+1 : i], quoted: true, line: l.lineNo}, nil
		}
	}
	return token{}, fmt.Errorf("structure: line %d: unterminated quoted value starting %s", l.lineNo, abbrev(l.line[open:]))
}

// bare reads an unquoted token and classifies it.
func (l *lexer) bare() token {
	start := l.pos
	for l.pos < len(l.line) && !isSpace(l.line[l.pos]) {
		l.pos++
	}
	s := l.line[start:l.pos]
	t := token{kind: tokValue, text: s, line: l.lineNo}
	if s[0] == '_' {
		t.kind = tokTag
		return t
	}
	if len(s) >= 5 {
		switch lower := strings.ToLower(s); {
		case strings.HasPrefix(lower, "data_"):
			t.kind, t.text = tokData, s[5:]
		case lower == "loop_":
			t.kind = tokLoop
		case strings.HasPrefix(lower, "save_"):
			t.kind, t.text = tokSave, s[5:]
		case lower == "global_":
			t.kind = tokGlobal
		case lower == "stop_":
			t.kind = tokStop
		}
	}
	return t
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// abbrev quotes s for an error message, shortened to a readable length.
func abbrev(s string) string {
	const max = 40
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.Quote(s)
}

// atomSiteCols holds the position of each _atom_site column that ParseCIF
// reads, or -1 when the column is absent.
type atomSiteCols struct {
	group, id, typeSymbol                  int
	labelAtom, authAtom, altID             int
	labelComp, authComp                    int
	labelAsym, authAsym, labelSeq, authSeq int
	insCode, x, y, z, occupancy, bIso      int
	model                                  int
}

// newAtomSiteCols maps lower-cased item names (the part after
// "_atom_site.") to columns. line is used in errors.
func newAtomSiteCols(items []string, line int) (*atomSiteCols, error) {
	c := &atomSiteCols{}
	fields := map[string]*int{
		"group_pdb":          &c.group,
		"id":                 &c.id,
		"type_symbol":        &c.typeSymbol,
		"label_atom_id":      &c.labelAtom,
		"auth_atom_id":       &c.authAtom,
		"label_alt_id":       &c.altID,
		"label_comp_id":      &c.labelComp,
		"auth_comp_id":       &c.authComp,
		"label_asym_id":      &c.labelAsym,
		"auth_asym_id":       &c.authAsym,
		"label_seq_id":       &c.labelSeq,
		"auth_seq_id":        &c.authSeq,
		"pdbx_pdb_ins_code":  &c.insCode,
		"cartn_x":            &c.x,
		"cartn_y":            &c.y,
		"cartn_z":            &c.z,
		"occupancy":          &c.occupancy,
		"b_iso_or_equiv":     &c.bIso,
		"pdbx_pdb_model_num": &c.model,
	}
	for _, p := range fields {
		*p = -1
	}
	for i, item := range items {
		if p, ok := fields[item]; ok && *p < 0 {
			*p = i
		}
	}
	for _, axis := range []struct {
		name string
		col  int
	}{{"Cartn_x", c.x}, {"Cartn_y", c.y}, {"Cartn_z", c.z}} {
		if axis.col < 0 {
			return nil, fmt.Errorf("structure: line %d: _atom_site table has no _atom_site.%s coordinate column", line, axis.name)
		}
	}
	return c, nil
}

// cifParser accumulates the atoms of the first data block.
type cifParser struct {
	atoms      []Atom
	title      string
	sawAtoms   bool            // an _atom_site loop was read
	pairItems  []string        // _atom_site items given as tag/value pairs
	pairValues []token         // their values
	pairLine   int             // line of the first such pair
	pairSeen   map[string]bool // guards against repeated pair items
}

// ParseCIF reads the _atom_site table of the first data block of an mmCIF
// file. See the package documentation for the columns read, the fallbacks
// and the errors.
func ParseCIF(r io.Reader) (*Structure, error) {
	lx := newLexer(r)
	// Only comments may precede the first data block (the lexer skips them).
	t, err := lx.next()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("structure: no mmCIF data block (data_...) found; input is empty or not mmCIF")
	}
	if err != nil {
		return nil, err
	}
	if t.kind != tokData {
		return nil, fmt.Errorf("structure: line %d: expected a data_ block header, found %s; input is not mmCIF", t.line, abbrev(t.text))
	}

	p := &cifParser{pairSeen: make(map[string]bool)}
	if err := p.block(lx); err != nil {
		return nil, err
	}
	if !p.sawAtoms && len(p.pairItems) > 0 {
		cols, err := newAtomSiteCols(p.pairItems, p.pairLine)
		if err != nil {
			return nil, err
		}
		if err := p.addRow(cols, p.pairValues); err != nil {
			return nil, err
		}
		p.sawAtoms = true
	}
	if !p.sawAtoms {
		return nil, errors.New("structure: mmCIF data block has no _atom_site loop")
	}
	return &Structure{Title: p.title, Atoms: p.atoms}, nil
}

// block reads tokens up to the end of the first data block.
func (p *cifParser) block(lx *lexer) error {
	for {
		t, err := lx.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t.kind {
		case tokData, tokGlobal:
			return nil // only the first data block is read
		case tokSave, tokStop:
			// Save frame boundaries carry no atoms; stray stop_ is harmless.
		case tokTag:
			v, err := lx.next()
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("structure: line %d: tag %s has no value", t.line, t.text)
			}
			if err != nil {
				return err
			}
			if v.kind != tokValue {
				return fmt.Errorf("structure: line %d: tag %s has no value (found %s)", t.line, t.text, abbrev(v.text))
			}
			p.pair(t, v)
		case tokLoop:
			if err := p.loop(lx, t.line); err != nil {
				return err
			}
		case tokValue:
			return fmt.Errorf("structure: line %d: value %s is not preceded by a tag", t.line, abbrev(t.text))
		}
	}
}

// pair handles a tag/value pair outside a loop.
func (p *cifParser) pair(tag, v token) {
	name := strings.ToLower(tag.text)
	if name == "_struct.title" && !v.missing() {
		p.title = v.text
		return
	}
	if item, ok := strings.CutPrefix(name, "_atom_site."); ok && !p.pairSeen[item] {
		if len(p.pairItems) == 0 {
			p.pairLine = tag.line
		}
		p.pairSeen[item] = true
		p.pairItems = append(p.pairItems, item)
		p.pairValues = append(p.pairValues, v)
	}
}

// loop reads a loop_ whose keyword was on line loopLine. Rows of an
// _atom_site loop become atoms; other loops are skipped.
func (p *cifParser) loop(lx *lexer, loopLine int) error {
	var tags []string
	for {
		t, err := lx.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if t.kind != tokTag {
			lx.unread(t)
			break
		}
		tags = append(tags, strings.ToLower(t.text))
	}
	if len(tags) == 0 {
		return fmt.Errorf("structure: line %d: loop_ without tags", loopLine)
	}

	var cols *atomSiteCols
	if strings.HasPrefix(tags[0], "_atom_site.") {
		items := make([]string, len(tags))
		for i, tag := range tags {
			items[i] = strings.TrimPrefix(tag, "_atom_site.")
		}
		var err error
		if cols, err = newAtomSiteCols(items, loopLine); err != nil {
			return err
		}
		p.sawAtoms = true
	}

	row := make([]token, 0, len(tags))
	n := 0
	lastLine := loopLine
	for {
		t, err := lx.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if t.kind != tokValue {
			lx.unread(t)
			break
		}
		n++
		lastLine = t.line
		if cols == nil {
			continue
		}
		row = append(row, t)
		if len(row) == len(tags) {
			if err := p.addRow(cols, row); err != nil {
				return err
			}
			row = row[:0]
		}
	}
	if cols == nil {
		return nil
	}
	if n == 0 {
		return fmt.Errorf("structure: line %d: _atom_site loop has no rows", loopLine)
	}
	if n%len(tags) != 0 {
		return fmt.Errorf("structure: line %d: _atom_site loop ends with an incomplete row (%d values for %d columns)",
			lastLine, n, len(tags))
	}
	return nil
}

// addRow converts one _atom_site row to an Atom.
func (p *cifParser) addRow(c *atomSiteCols, row []token) error {
	get := func(col int) (*token, bool) {
		if col < 0 || row[col].missing() {
			return nil, false
		}
		return &row[col], true
	}
	str := func(cols ...int) string {
		for _, col := range cols {
			if t, ok := get(col); ok {
				return t.text
			}
		}
		return ""
	}

	a := Atom{
		Serial:    len(p.atoms) + 1,
		Name:      str(c.labelAtom, c.authAtom),
		AltLoc:    str(c.altID),
		ResName:   str(c.labelComp, c.authComp),
		Chain:     str(c.authAsym, c.labelAsym),
		ICode:     str(c.insCode),
		Element:   str(c.typeSymbol),
		HETATM:    strings.EqualFold(str(c.group), "HETATM"),
		Occupancy: 1,
		Model:     1,
	}
	if t, ok := get(c.id); ok {
		if v, err := strconv.Atoi(t.text); err == nil {
			a.Serial = v // ids are codes in the dictionary; keep the row number otherwise
		}
	}
	for _, col := range []int{c.authSeq, c.labelSeq} {
		if t, ok := get(col); ok {
			v, err := strconv.Atoi(t.text)
			if err != nil {
				return fmt.Errorf("structure: line %d: atom %s: residue number %s is not an integer", t.line, a.label(), abbrev(t.text))
			}
			a.ResSeq = v
			break
		}
	}
	if t, ok := get(c.model); ok {
		v, err := strconv.Atoi(t.text)
		if err != nil {
			return fmt.Errorf("structure: line %d: atom %s: model number %s is not an integer", t.line, a.label(), abbrev(t.text))
		}
		a.Model = v
	}

	for _, f := range []struct {
		name string
		col  int
		dst  *float64
	}{{"Cartn_x", c.x, &a.X}, {"Cartn_y", c.y, &a.Y}, {"Cartn_z", c.z, &a.Z}} {
		t := &row[f.col]
		if t.missing() {
			return fmt.Errorf("structure: line %d: atom %s: %s is missing (%s)", t.line, a.label(), f.name, t.text)
		}
		v, err := parseNumber(t.text)
		if err != nil {
			return fmt.Errorf("structure: line %d: atom %s: %s value %s is not a number", t.line, a.label(), f.name, abbrev(t.text))
		}
		*f.dst = v
	}
	for _, f := range []struct {
		name string
		col  int
		dst  *float64
	}{{"occupancy", c.occupancy, &a.Occupancy}, {"B_iso_or_equiv", c.bIso, &a.BFactor}} {
		if t, ok := get(f.col); ok {
			v, err := parseNumber(t.text)
			if err != nil {
				return fmt.Errorf("structure: line %d: atom %s: %s value %s is not a number", t.line, a.label(), f.name, abbrev(t.text))
			}
			*f.dst = v
		}
	}
	p.atoms = append(p.atoms, a)
	return nil
}

// parseNumber parses a CIF numeric value, dropping a standard uncertainty
// suffix such as the "(3)" of "12.345(3)". NaN and infinities are refused.
func parseNumber(s string) (float64, error) {
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		if _, err := strconv.ParseUint(s[i+1:len(s)-1], 10, 64); err == nil {
			s = s[:i]
		}
	}
	if s == "" || strings.Trim(s, "0123456789+-.eE") != "" {
		return 0, errors.New("not a decimal number")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, errors.New("not a finite number")
	}
	return v, nil
}

// label names an atom in error messages, e.g. "#12 CA ALA A5".
func (a *Atom) label() string {
	return fmt.Sprintf("#%d %s %s %s%d%s", a.Serial, a.Name, a.ResName, a.Chain, a.ResSeq, a.ICode)
}
