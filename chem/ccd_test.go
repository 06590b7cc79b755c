package chem

import "testing"

func TestAtomCounter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, smiles, ccd string
		want              int
	}{
		{"ion", "", "MG", 1},
		{"heme", "", "HEM", 43},
		{"atp", "", "ATP", 31},
		{"unknown code counts as the default", "", "EKY", DefaultCCDHeavyAtoms},
		{"smiles heavy atoms", "CC(=O)Nc1ccc(O)cc1", "", 11},
		{"a salt counts every fragment", "CC(=O)[O-].[Na+]", "", 5},
		{"isotopic hydrogens count", "[2H]C([2H])([2H])O", "", 5},
		{"plain bracket hydrogens do not", "[H]OC", "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := AtomCounter{}.HeavyAtoms(tc.smiles, tc.ccd)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
	if _, err := (AtomCounter{}).HeavyAtoms("C1CC", ""); err == nil {
		t.Error("an unclosed ring was counted")
	}
}
