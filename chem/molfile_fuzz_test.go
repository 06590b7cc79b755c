package chem

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseMolfile checks what ParseMolfile promises on any input: a
// refusal is a *MolfileError whose line lies within the input; a molecule
// is within the heavy-atom limit, and the SMILES written from it reads back
// with ParseSMILES as the same atoms (elements, hydrogens, charges).
func FuzzParseMolfile(f *testing.F) {
	ring := []string{"1 2 4", "2 3 4", "3 4 4", "4 5 4", "5 1 4", "5 6 1"}
	f.Add(molfileV2000("ethanol", []string{"C", "C", "O"}, []string{"1 2 1", "2 3 1"}))
	f.Add(molfileV2000("", []string{"C", "C", "C", "C", "N", "H"}, ring))
	f.Add(molfileV2000("", []string{"N 3", "O 5", "Na 3 15", "C 0 2", "D"}, []string{"4 5 1"}, "M  ISO  1   4  13", "M  RAD  1   4   2"))
	f.Add("t\n\n\n  0  0  0     0  0            999 V3000\nM  V30 BEGIN CTAB\nM  V30 COUNTS 2 1 0 0 0\nM  V30 BEGIN ATOM\n" +
		"M  V30 7 N 0 0 0 0 -\nM  V30 CHG=1\nM  V30 9 O 0 0 0 0 CHG=-1 MASS=18\nM  V30 END ATOM\nM  V30 BEGIN BOND\nM  V30 1 1 7 9\nM  V30 END BOND\nM  V30 END CTAB\nM  END\n")
	f.Fuzz(func(t *testing.T, in string) {
		mf, err := ParseMolfile(in)
		if err != nil {
			var me *MolfileError
			if !errors.As(err, &me) {
				t.Fatalf("error %T is not a *MolfileError: %v", err, err)
			}
			if me.Line < 0 || me.Line > strings.Count(in, "\n")+1 || me.Reason == "" {
				t.Fatalf("error %q names line %d of a %d-line input", me.Reason, me.Line, strings.Count(in, "\n")+1)
			}
			return
		}
		m := mf.Molecule
		if m.HeavyAtomCount() > MaxHeavyAtoms {
			t.Fatalf("%d heavy atoms accepted", m.HeavyAtomCount())
		}
		s := m.SMILES()
		back, err := ParseSMILES(s)
		if err != nil {
			t.Fatalf("written SMILES %q does not parse: %v", s, err)
		}
		if got, want := molfileAtoms(back), molfileAtoms(m); got != want {
			t.Fatalf("written SMILES %q reads as %s, the molfile gave %s", s, got, want)
		}
	})
}

// molfileAtoms counts a molecule's elements, hydrogens and charge as text.
func molfileAtoms(m *Molecule) string {
	count := map[string]int{}
	charge := 0
	for _, a := range m.Atoms {
		count[a.Element]++
		count["H"] += a.HCount
		charge += a.Charge
	}
	var b strings.Builder
	for _, e := range periodicTable {
		if n := count[e.Symbol]; n > 0 {
			b.WriteString(e.Symbol)
			b.WriteString(strconv.Itoa(n))
		}
	}
	b.WriteString(" charge ")
	b.WriteString(strconv.Itoa(charge))
	return b.String()
}
