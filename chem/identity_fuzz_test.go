package chem

import (
	"testing"
)

// identityFixedPoint checks that an identity is a SMILES whose identity is
// itself: writing the canonical form again, from its own atom order, must
// not change it.
func identityFixedPoint(t *testing.T, s string) {
	t.Helper()
	_, perr := ParseSMILES(s)
	id, err := Identity(s)
	if (perr == nil) != (err == nil) {
		t.Fatalf("Identity(%q): error %v, but ParseSMILES says %v", s, err, perr)
	}
	if err != nil {
		return
	}
	st, err := Perceive(s)
	if err != nil {
		t.Fatalf("Perceive(%q): %v", s, err)
	}
	for _, b := range st.Bonds {
		if b.ChainAromatic {
			// An aromatic bond between two atoms that are not aromatic
			// (N:B) is written ':' again, and a bracket N or P with one
			// hydrogen beside one takes its hydrogens from RDKit's
			// valence rules when read back: not a fixed point.
			return
		}
	}
	again, err := Identity(id)
	if err != nil {
		t.Fatalf("Identity(%q) = %q, which does not parse: %v", s, id, err)
	}
	if again != id {
		t.Fatalf("Identity(%q) = %q, but Identity(%q) = %q", s, id, id, again)
	}
}

// TestIdentity_IsAFixedPoint holds every row of the RDKit identity table to
// identityFixedPoint.
func TestIdentity_IsAFixedPoint(t *testing.T) {
	t.Parallel()
	for _, r := range readIdentityTable(t) {
		identityFixedPoint(t, r.smiles)
	}
}

// FuzzIdentity checks that Identity refuses exactly what ParseSMILES
// refuses, never panics, and gives a fixed point (identityFixedPoint).
func FuzzIdentity(f *testing.F) {
	for _, s := range []string{
		"CC(=O)OC1=CC=CC=C1C(=O)O", "F/C=C/F", "C/C=C\\C=C/C", "C[C@H]1CC[C@@H](C)CC1",
		"O[C@H]1[C@H](O)[C@@H](O)[C@H](O)[C@@H](O)[C@@H]1O", "[Na+].[Cl-]", "C12C3C4C1C5C2C3C45",
		"[2H]C([2H])([2H])Oc1ccccc1", "C[S@](=O)c1ccccc1", "[C@H](F)(Cl)Br", "F/C=C/[H]", "[CH3]", "C1CC", "N:B",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		identityFixedPoint(t, s)
	})
}
