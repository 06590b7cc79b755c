package structure

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

const (
	// pdbLineWidth is the fixed width of a PDB record.
	pdbLineWidth = 80
	// maxPDBSerial is the largest serial number the five serial columns hold.
	maxPDBSerial = 99999
	// pdbChainAlphabet lists, in assignment order, the chain ids given to
	// chains whose mmCIF id does not fit the one-character chain column.
	pdbChainAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	// maxPDBChains is the most chains WritePDB maps to one character.
	maxPDBChains = len(pdbChainAlphabet)
	// remark250 starts every REMARK 250 line.
	remark250 = "REMARK 250"
)

// pdbBuffer collects PDB records, each padded to pdbLineWidth columns.
type pdbBuffer struct {
	bytes.Buffer
}

func (b *pdbBuffer) record(s string) {
	b.WriteString(s)
	for n := len(s); n < pdbLineWidth; n++ {
		b.WriteByte(' ')
	}
	b.WriteByte('\n')
}

// WritePDB writes s as a PDB v3.3 file. Nothing is written when s cannot be
// represented; see the package documentation for the records written, the
// identifiers mapped, and the errors.
func WritePDB(w io.Writer, s *Structure) error {
	if s == nil {
		return errors.New("structure: WritePDB: nil structure")
	}
	chains, chainNotes, err := mapChains(s.Atoms)
	if err != nil {
		return err
	}
	resNames, resNotes, err := mapResNames(s.Atoms)
	if err != nil {
		return err
	}
	models := splitModels(s.Atoms)
	multi := len(models) > 1
	if multi {
		for _, m := range models {
			if m.num < 1 || m.num > 9999 {
				return fmt.Errorf("structure: model number %d does not fit the PDB MODEL record (1..9999)", m.num)
			}
		}
	}

	var b pdbBuffer
	for _, line := range titleRecords(s.Title) {
		b.record(line)
	}
	if len(chainNotes)+len(resNotes) > 0 {
		b.record(remark250)
		b.record(remark250 + " MMCIF IDENTIFIERS RENAMED TO FIT PDB COLUMNS:")
		for _, n := range chainNotes {
			b.record(n)
		}
		for _, n := range resNotes {
			b.record(n)
		}
	}

	for _, m := range models {
		ter := terPositions(s.Atoms, m.atoms)
		if n := len(m.atoms) + len(ter); n > maxPDBSerial {
			return fmt.Errorf("structure: model %d needs %d serial numbers (%d atoms and %d TER records); "+
				"PDB format holds at most 99,999 atoms per model", m.num, n, len(m.atoms), len(ter))
		}
		if multi {
			b.record(fmt.Sprintf("MODEL     %4d", m.num))
		}
		serial := 1
		for i, idx := range m.atoms {
			a := &s.Atoms[idx]
			line, err := atomRecord(serial, a, chains[a.Chain], resNames[a.ResName])
			if err != nil {
				return err
			}
			b.record(line)
			serial++
			if ter[i] {
				b.record(fmt.Sprintf("TER   %5d      %3s %1s%4d%1s", serial, resNames[a.ResName], chains[a.Chain], a.ResSeq, a.ICode))
				serial++
			}
		}
		if multi {
			b.record("ENDMDL")
		}
	}
	b.record("END")
	_, err = w.Write(b.Bytes())
	return err
}

// atomRecord formats one ATOM or HETATM record. chain and resName are the
// already mapped PDB identifiers.
func atomRecord(serial int, a *Atom, chain, resName string) (string, error) {
	fail := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("structure: atom %s: "+format, append([]any{a.label()}, args...)...)
	}
	element := strings.ToUpper(a.Element)
	if len(element) > 2 || !printable(element) {
		return fail("element %q does not fit the two PDB element columns", a.Element)
	}
	if len(a.Name) > 4 || !printable(a.Name) {
		return fail("atom name %q does not fit the four PDB name columns", a.Name)
	}
	if len(a.AltLoc) > 1 || !printable(a.AltLoc) {
		return fail("alternate location %q does not fit the one PDB altLoc column", a.AltLoc)
	}
	if len(a.ICode) > 1 || !printable(a.ICode) {
		return fail("insertion code %q does not fit the one PDB iCode column", a.ICode)
	}
	if a.ResSeq < -999 || a.ResSeq > 9999 {
		return fail("residue number %d does not fit the four PDB resSeq columns (-999..9999)", a.ResSeq)
	}
	name := " " + a.Name
	if len(a.Name) == 4 || len(element) == 2 {
		name = a.Name // two-letter elements and four-character names start in column 13
	}
	var num [5]string
	for i, f := range []struct {
		what  string
		v     float64
		width int
		prec  int
	}{
		{"x coordinate", a.X, 8, 3},
		{"y coordinate", a.Y, 8, 3},
		{"z coordinate", a.Z, 8, 3},
		{"occupancy", a.Occupancy, 6, 2},
		{"B-factor", a.BFactor, 6, 2},
	} {
		s, ok := fixed(f.v, f.width, f.prec)
		if !ok {
			return fail("%s %g does not fit %d PDB columns", f.what, f.v, f.width)
		}
		num[i] = s
	}
	record := "ATOM  "
	if a.HETATM {
		record = "HETATM"
	}
	return fmt.Sprintf("%-6s%5d %-4s%1s%3s %1s%4d%1s   %s%s%s%s%s          %2s",
		record, serial, name, a.AltLoc, resName, chain, a.ResSeq, a.ICode,
		num[0], num[1], num[2], num[3], num[4], element), nil
}

// fixed formats v with prec decimals, right-aligned in width columns. It
// reports false when the number needs more columns. A value that rounds to
// zero is written without a minus sign.
func fixed(v float64, width, prec int) (string, bool) {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.HasPrefix(s, "-") && strings.Trim(s[1:], "0.") == "" {
		s = s[1:]
	}
	if len(s) > width || strings.ContainsAny(s, "NaInf") {
		return "", false
	}
	return strings.Repeat(" ", width-len(s)) + s, true
}

// printable reports whether s is made only of printable ASCII characters
// other than the space.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// remarkID shows an identifier in a REMARK line, quoting it when it holds
// spaces or characters outside printable ASCII.
func remarkID(s string) string {
	if s != "" && printable(s) {
		return s
	}
	return strconv.QuoteToASCII(s)
}

// mapChains returns the PDB chain id for every chain id of atoms and the
// REMARK 250 lines recording the ids that were changed.
func mapChains(atoms []Atom) (map[string]string, []string, error) {
	s := Structure{Atoms: atoms}
	ids := s.Chains()
	fits := func(c string) bool { return len(c) == 0 || (len(c) == 1 && c[0] >= ' ' && c[0] <= '~') }
	out := make(map[string]string, len(ids))
	used := make(map[string]bool, len(ids))
	var long []string
	for _, c := range ids {
		if fits(c) {
			out[c] = c
			used[c] = true
		} else {
			long = append(long, c)
		}
	}
	if len(long) == 0 {
		return out, nil, nil
	}
	if len(ids) > maxPDBChains {
		return nil, nil, fmt.Errorf("structure: %d chains, and chain ids such as %q must be mapped to one character; "+
			"PDB format holds at most %d such chains (A-Z, a-z, 0-9)", len(ids), long[0], maxPDBChains)
	}
	var notes []string
	next := 0
	for _, c := range long {
		for used[pdbChainAlphabet[next:next+1]] {
			next++
		}
		id := pdbChainAlphabet[next : next+1]
		used[id] = true
		out[c] = id
		note := fmt.Sprintf("%s   CHAIN %s WRITTEN AS %s", remark250, remarkID(c), id)
		if len(note) > pdbLineWidth {
			return nil, nil, fmt.Errorf("structure: chain id %q is too long to record in REMARK 250", c)
		}
		notes = append(notes, note)
	}
	return out, notes, nil
}

// mapResNames returns the PDB residue name for every residue name of atoms
// and the REMARK 250 lines recording the names that were shortened.
func mapResNames(atoms []Atom) (map[string]string, []string, error) {
	out := make(map[string]string)
	var notes []string
	for i := range atoms {
		a := &atoms[i]
		n := a.ResName
		if _, ok := out[n]; ok {
			continue
		}
		if !printable(n) {
			return nil, nil, fmt.Errorf("structure: atom %s: residue name %q holds spaces or non-ASCII characters", a.label(), n)
		}
		if len(n) <= 3 {
			out[n] = n
			continue
		}
		out[n] = n[:3]
		note := fmt.Sprintf("%s   RESIDUE NAME %s WRITTEN AS %s", remark250, n, n[:3])
		if len(note) > pdbLineWidth {
			return nil, nil, fmt.Errorf("structure: atom %s: residue name %q is too long to record in REMARK 250", a.label(), n)
		}
		notes = append(notes, note)
	}
	return out, notes, nil
}

// model lists the indexes of the atoms of one model.
type model struct {
	num   int
	atoms []int
}

// splitModels groups atom indexes by model number, in order of first
// appearance, keeping file order within a model.
func splitModels(atoms []Atom) []model {
	var out []model
	index := make(map[int]int)
	for i := range atoms {
		n := atoms[i].Model
		j, ok := index[n]
		if !ok {
			j = len(out)
			index[n] = j
			out = append(out, model{num: n})
		}
		out[j].atoms = append(out[j].atoms, i)
	}
	return out
}

// terPositions marks, by position in idx, the last ATOM (not HETATM)
// record of each chain: a TER record follows it.
func terPositions(atoms []Atom, idx []int) map[int]bool {
	last := make(map[string]int)
	for i, k := range idx {
		if !atoms[k].HETATM {
			last[atoms[k].Chain] = i
		}
	}
	out := make(map[int]bool, len(last))
	for _, i := range last {
		out[i] = true
	}
	return out
}

// titleRecords wraps a title into TITLE records: 70 characters on the first
// line (columns 11-80), 69 on continuation lines (columns 12-80), at most 99
// lines (the continuation field has two columns); the rest is dropped.
func titleRecords(title string) []string {
	clean := strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			if r == '\t' || r == '\n' || r == '\r' {
				return ' '
			}
			return '?'
		}
		return r
	}, title)
	words := strings.Fields(clean)
	if len(words) == 0 {
		return nil
	}
	var lines []string
	var cur strings.Builder
	width := func() int {
		if len(lines) == 0 {
			return 70
		}
		return 69
	}
	flush := func() {
		if len(lines) == 0 {
			lines = append(lines, "TITLE     "+cur.String())
		} else {
			lines = append(lines, fmt.Sprintf("TITLE   %2d %s", len(lines)+1, cur.String()))
		}
		cur.Reset()
	}
	for _, w := range words {
		for len(w) > 0 && len(lines) < 99 {
			switch room := width() - cur.Len(); {
			case cur.Len() == 0 && len(w) > room:
				cur.WriteString(w[:room]) // a word longer than a line is split
				w = w[room:]
				flush()
			case cur.Len() == 0:
				cur.WriteString(w)
				w = ""
			case 1+len(w) <= room:
				cur.WriteByte(' ')
				cur.WriteString(w)
				w = ""
			default:
				flush()
			}
		}
	}
	if cur.Len() > 0 && len(lines) < 99 {
		flush()
	}
	return lines
}
