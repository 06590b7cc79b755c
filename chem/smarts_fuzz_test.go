package chem

import (
	"errors"
	"testing"
)

// fuzzStructures are the molecules every fuzzed SMARTS is matched against.
var fuzzStructures = []string{
	"CC(=O)OC1=CC=CC=C1C(=O)O",
	"Cn1cnc2c1c(=O)n(C)c(=O)n2C",
	"C12C3C4C1C5C2C3C45",
	"[2H]C([2H])([2H])[N+](=O)[O-]",
	"C:C.[Na+].[Cl-]",
	"c1cc[se]c1",
}

// FuzzParseSMARTS checks that every SMARTS is either refused with a
// positioned *SMARTSError or parsed into a query that the matcher answers,
// within its step budget, the same way twice.
func FuzzParseSMARTS(f *testing.F) {
	for _, s := range []string{
		"c1ccccc1", "[#6](-[#1])(-[#1])-[#7]", "[$([#6]-[$([#8]-[#1])])]", "[C,N;R]", "[!#6&!#1]",
		"[#6]=,:[#6]", "[#6]!@[#6]", "C=O.C=O", "[N+](=O)[O-]", "[CH3]", "[Ch2]", "[d2]", "[x3]",
		"[R2;a]", "[r5]", "[Sv6]", "[13C]", "[2H]", "*~*", "[Se]", "[C@@H]", "[C:1]", "C1CC=1",
		"", "C(", "[", "[$(", "C1", "C=", "[Q]", "[#200]", "C.", "[C&]", "[!]", "%1", "C%10C%10",
	} {
		f.Add(s)
	}
	var sts []*Structure
	for _, smi := range fuzzStructures {
		st, err := Perceive(smi)
		if err != nil {
			f.Fatalf("Perceive(%q): %v", smi, err)
		}
		sts = append(sts, st)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseSMARTS(s)
		if err != nil {
			var se *SMARTSError
			if !errors.As(err, &se) {
				t.Fatalf("ParseSMARTS(%q): error %T is not *SMARTSError", s, err)
			}
			if se.Reason == "" || se.Pos < -1 || se.Pos >= len(s) {
				t.Fatalf("ParseSMARTS(%q): bad error %+v", s, se)
			}
			if q != nil {
				t.Fatalf("ParseSMARTS(%q): query returned with an error", s)
			}
			return
		}
		if len(q.atoms) == 0 && q.String() != s {
			t.Fatalf("ParseSMARTS(%q): empty query", s)
		}
		for i, st := range sts {
			a, errA := NewMatcher(st, 20_000).Matches(q)
			b, errB := NewMatcher(st, 20_000).Matches(q)
			if a != b || (errA == nil) != (errB == nil) {
				t.Fatalf("%q on %q: %v/%v then %v/%v", s, fuzzStructures[i], a, errA, b, errB)
			}
			if errA != nil && !errors.Is(errA, ErrMatchBudget) {
				t.Fatalf("%q on %q: error %v", s, fuzzStructures[i], errA)
			}
		}
	})
}

// FuzzPerceive checks, for every SMILES ParseSMILES accepts, that Perceive
// accepts it too and gives a consistent Structure: atoms are the parsed
// atoms less folded hydrogens, bonds join distinct atoms, aromatic atoms
// lie in rings and on an aromatic bond, and each ring is a cycle of its
// bonds.
func FuzzPerceive(f *testing.F) {
	for _, s := range append(fuzzStructures,
		"C1=CC=CC=C1", "c1ccc2ccccc2c1", "[c]1ccccc1", "[C]1[C][C]1", "O=c1cccc[nH]1",
		"C1C2CC3CC1CC(C2)C3", "[H]C(=O)[H]", "CC:CC", "c1cc2cccccc2c1", "[cH+]1cccccc1") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseSMILES(s)
		if err != nil {
			return
		}
		st, err := Perceive(s)
		if err != nil {
			t.Fatalf("ParseSMILES accepts %q, Perceive refuses it: %v", s, err)
		}
		if len(st.Atoms) > len(m.Atoms) || len(st.Atoms) < m.HeavyAtomCount() {
			t.Fatalf("%q: %d atoms from %d parsed (%d heavy)", s, len(st.Atoms), len(m.Atoms), m.HeavyAtomCount())
		}
		onAromaticBond := make([]bool, len(st.Atoms))
		for _, b := range st.Bonds {
			if b.A == b.B || b.A < 0 || b.B >= len(st.Atoms) || b.B < 0 || b.A >= len(st.Atoms) {
				t.Fatalf("%q: bad bond %+v", s, b)
			}
			if b.Aromatic {
				if !b.Ring {
					t.Fatalf("%q: aromatic bond %+v outside a ring", s, b)
				}
				onAromaticBond[b.A], onAromaticBond[b.B] = true, true
			}
		}
		for i, a := range st.Atoms {
			if a.Aromatic && !onAromaticBond[i] {
				t.Fatalf("%q: aromatic atom %d on no aromatic bond", s, i)
			}
			if a.Hs < 0 || a.Radicals < 0 {
				t.Fatalf("%q: atom %d has %d hydrogens, %d radicals", s, i, a.Hs, a.Radicals)
			}
		}
		for ri, r := range st.RingBonds {
			deg := map[int]int{}
			for _, bi := range r {
				deg[st.Bonds[bi].A]++
				deg[st.Bonds[bi].B]++
			}
			if len(deg) != len(r) || len(st.Rings[ri]) != len(r) {
				t.Fatalf("%q: ring %d has %d bonds over %d atoms", s, ri, len(r), len(deg))
			}
			for a, d := range deg {
				if d != 2 {
					t.Fatalf("%q: ring %d: atom %d has %d ring bonds", s, ri, a, d)
				}
			}
		}
	})
}
