package chem

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzParseSMILES checks properties of every SMILES, not only that parsing
// does not panic: errors are positioned *SMILESErrors; an accepted molecule
// has as many atoms and heavy atoms as an independent count of the atom
// tokens in the string, well-formed bonds, aromatic atoms only in rings,
// and no plain (uncharged, non-aromatic, metal-free) H, C, N, O or halogen
// over the valence RDKit allows it.
func FuzzParseSMILES(f *testing.F) {
	seeds := []string{
		"CC(=O)OC1=CC=CC=C1C(=O)O",
		"CC(C)CC1=CC=C(C=C1)C(C)C(=O)O",
		"CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
		"c1ccc2c(c1)cc[nH]2",
		"Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
		"C[N+](C)(C)C", "[Na+].[Cl-]", "[13CH4]", "C/C=C/C", "N[C@@H](C)C(=O)O",
		"c1ccc%10ccccc%10c1", "C1.C1", "[13C@@H2+:7]", "[se]1cccc1", "C12C3C4C1C5C2C3C45",
		"", "C(C", "CC)C", "C1CC", "C11", "C1C1", "CC=", "C=1CC#1", "C&C", "[CH4", "C C",
		"[Xx]", "C*", "C(C)(C)(C)(C)C", "O=O=O", "cc", "C%1", "[Fe+16]", "[C@TH", "Cé",
		"CN(C)(C)C", "[NH4]", "[H][H][H]", "c1cccc1", "c1ccnc1", "CN(=O)=O", "O=n1ccccc1",
		"OCl(=O)(=O)=O", "[NH3][Pt]([NH3])(Cl)Cl", "F[P-](F)(F)(F)(F)F", "O=s1cccc1",
		"C1:C:C:C:C:C1", "[C@OH31](F)", "[C+++]", "C%01CC%01", "[001C]", "Cc1cccc2c1(C)ccc2",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseSMILES(s)
		if err != nil {
			var se *SMILESError
			if !errors.As(err, &se) {
				t.Fatalf("ParseSMILES(%q): error %T is not *SMILESError", s, err)
			}
			if se.Reason == "" {
				t.Fatalf("ParseSMILES(%q): empty reason", s)
			}
			if se.Pos < -1 || se.Pos >= len(s) {
				t.Fatalf("ParseSMILES(%q): position %d out of range", s, se.Pos)
			}
			if m != nil {
				t.Fatalf("ParseSMILES(%q): molecule returned with error", s)
			}
			return
		}
		if m == nil {
			t.Fatalf("ParseSMILES(%q): nil molecule without error", s)
		}
		if !utf8.ValidString(s) && len(m.Atoms) > 0 {
			t.Fatalf("ParseSMILES(%q): accepted invalid UTF-8", s)
		}
		atoms, heavy := countAtomTokens(s)
		if len(m.Atoms) != atoms || m.HeavyAtomCount() != heavy {
			t.Fatalf("ParseSMILES(%q): %d atoms, %d heavy; the string has %d atom tokens, %d not hydrogen",
				s, len(m.Atoms), m.HeavyAtomCount(), atoms, heavy)
		}
		if heavy > MaxHeavyAtoms {
			t.Fatalf("ParseSMILES(%q): %d heavy atoms", s, heavy)
		}
		inRing := make([]bool, len(m.Atoms))
		for _, b := range m.Bonds {
			if b.A < 0 || b.B < 0 || b.A >= len(m.Atoms) || b.B >= len(m.Atoms) || b.A == b.B {
				t.Fatalf("ParseSMILES(%q): bad bond %+v", s, b)
			}
			if b.Ring {
				inRing[b.A], inRing[b.B] = true, true
			}
		}
		for i, a := range m.Atoms {
			if a.HCount < 0 || (!a.Bracket && a.HCount > 4) {
				t.Fatalf("ParseSMILES(%q): atom %d has %d hydrogens", s, i, a.HCount)
			}
			if a.Aromatic && !inRing[i] {
				t.Fatalf("ParseSMILES(%q): aromatic atom %d outside a ring", s, i)
			}
		}
		checkPlainValences(t, s, m)
		d := ComputeDescriptors(m)
		if d.RingCount < 0 || d.AromaticRings < 0 || d.AromaticRings > d.RingCount {
			t.Fatalf("ParseSMILES(%q): ring counts %d/%d", s, d.RingCount, d.AromaticRings)
		}
		if d.Components < 1 || d.MolecularWeight <= 0 {
			t.Fatalf("ParseSMILES(%q): descriptors %+v", s, d)
		}
	})
}

// countAtomTokens counts the atoms a SMILES string writes, and those of
// them that are not hydrogen, without parsing it: every bracket atom, every
// Cl and Br, and every other letter of B C N O P S F I b c n o p s.
func countAtomTokens(s string) (atoms, heavy int) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '[':
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			isH := j < len(s) && s[j] == 'H' && !(j+1 < len(s) && isLower(s[j+1]) && isElement(s[j:j+2]))
			atoms++
			if !isH {
				heavy++
			}
			for i < len(s) && s[i] != ']' {
				i++
			}
		case c == 'C' && i+1 < len(s) && s[i+1] == 'l', c == 'B' && i+1 < len(s) && s[i+1] == 'r':
			atoms++
			heavy++
			i++
		default:
			switch c {
			case 'B', 'C', 'N', 'O', 'P', 'S', 'F', 'I', 'b', 'c', 'n', 'o', 'p', 's':
				atoms++
				heavy++
			}
		}
	}
	return atoms, heavy
}

// checkPlainValences fails when an uncharged, non-aromatic C, N, O, F, Cl
// or Br with no aromatic bond and no metal or [H] neighbour is over the valence
// RDKit allows it (H 1, C 4, N 3 or a nitro/azide-like 5, O 2, F 1, Cl and
// Br 1 unless bonded only to oxygen, as in ClO4-), counting bond orders and
// hydrogens. It is a second, simpler statement of
// the valence rules, independent of valence.go.
func checkPlainValences(t *testing.T, s string, m *Molecule) {
	t.Helper()
	limit := map[string]int{"C": 4, "N": 3, "O": 2, "F": 1, "Cl": 1, "Br": 1}
	sum := make([]float64, len(m.Atoms))
	skip := make([]bool, len(m.Atoms))
	nitro := make([]bool, len(m.Atoms)) // N=O or N#N present (RDKit's clean-up)
	notO := make([]bool, len(m.Atoms))  // has a neighbour other than O
	for _, b := range m.Bonds {
		sum[b.A] += b.Order
		sum[b.B] += b.Order
		for _, pair := range [][2]int{{b.A, b.B}, {b.B, b.A}} {
			a, o := m.Atoms[pair[0]], m.Atoms[pair[1]]
			// Aromatic bonds, metals and [H] atoms (RDKit folds those in
			// as one hydrogen whatever the bond) need the full rules.
			if b.Order == 1.5 || !nonMetals[atomicNumber(o.Element)] || o.Element == "H" || a.Element == "H" {
				skip[pair[0]] = true
			}
			if o.Element != "O" {
				notO[pair[0]] = true
			}
			if a.Element == "N" && o.Charge == 0 && ((o.Element == "O" && b.Order == 2) || (o.Element == "N" && b.Order == 3)) {
				nitro[pair[0]] = true
			}
		}
	}
	for i, a := range m.Atoms {
		maxV, ok := limit[a.Element]
		if !ok || a.Charge != 0 || a.Aromatic || skip[i] || ((a.Element == "Cl" || a.Element == "Br") && !notO[i]) {
			continue
		}
		v := int(sum[i]) + a.HCount
		if v > maxV && !(a.Element == "N" && v == 5 && nitro[i]) {
			t.Fatalf("ParseSMILES(%q): %s atom %d has valence %d (max %d)", s, a.Element, i, v, maxV)
		}
	}
}

func FuzzValidateProteinSequence(f *testing.F) {
	for _, s := range []string{"MKTAYIAKQR", "mkta yiak\nqr", "ACGTACGTACGTACGTACGT", "MKTJ", "", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ValidateProteinSequence(s)
		if err != nil {
			var se *SequenceError
			if !errors.As(err, &se) {
				t.Fatalf("error %T is not *SequenceError", err)
			}
			return
		}
		again, err := ValidateProteinSequence(got)
		if err != nil || again != got {
			t.Fatalf("normalised sequence %q does not validate to itself", got)
		}
		_ = ComputeProteinDescriptors(got)
	})
}
