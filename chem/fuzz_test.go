package chem

import (
	"errors"
	"testing"
	"unicode/utf8"
)

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
		if got := m.HeavyAtomCount(); got > MaxHeavyAtoms {
			t.Fatalf("ParseSMILES(%q): %d heavy atoms", s, got)
		}
		for _, b := range m.Bonds {
			if b.A < 0 || b.B < 0 || b.A >= len(m.Atoms) || b.B >= len(m.Atoms) || b.A == b.B {
				t.Fatalf("ParseSMILES(%q): bad bond %+v", s, b)
			}
		}
		for _, a := range m.Atoms {
			if a.HCount < 0 {
				t.Fatalf("ParseSMILES(%q): negative H count", s)
			}
		}
		d := ComputeDescriptors(m)
		if d.RingCount < 0 || d.AromaticRings < 0 || d.AromaticRings > d.RingCount {
			t.Fatalf("ParseSMILES(%q): ring counts %d/%d", s, d.RingCount, d.AromaticRings)
		}
		if d.Components < 1 || d.MolecularWeight <= 0 {
			t.Fatalf("ParseSMILES(%q): descriptors %+v", s, d)
		}
	})
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
