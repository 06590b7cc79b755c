package chem

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPerceivedDescriptors_KekuleEqualsAromatic: every molecule of the
// corpus that has an RDKit Kekulé spelling gets the same descriptors from
// both spellings, aromatic rings included.
func TestPerceivedDescriptors_KekuleEqualsAromatic(t *testing.T) {
	t.Parallel()
	rows := readAromaticTable(t)
	byNote := map[string]string{}
	for _, r := range rows {
		byNote[r.note] = r.smiles
	}
	pairs := 0
	for _, r := range rows {
		base, ok := strings.CutSuffix(r.note, ", Kekule form by RDKit")
		if !ok {
			continue
		}
		aromatic, ok := byNote[base]
		require.True(t, ok, "line %d: no row noted %q", r.line, base)
		k, err := Perceive(r.smiles)
		require.NoError(t, err)
		a, err := Perceive(aromatic)
		require.NoError(t, err)
		da, dk := PerceivedDescriptors(a), PerceivedDescriptors(k)
		// Atom order changes the sum's rounding.
		require.InDelta(t, da.MolecularWeight, dk.MolecularWeight, 1e-9)
		da.MolecularWeight, dk.MolecularWeight = 0, 0
		require.Equal(t, da, dk, "%s and %s", aromatic, r.smiles)
		pairs++
	}
	require.GreaterOrEqual(t, pairs, 100)

	for _, tc := range []struct {
		smiles string
		rings  int
		atoms  int
	}{
		{"CC(=O)OC1=CC=CC=C1C(=O)O", 1, 6},
		{"C1=CC=C2C=CC=CC2=C1", 2, 10},
		{"C1=CC2=CC=CC=CC2=C1", 2, 10}, // azulene
		{"O=C1C=CC(=O)C=C1", 0, 0},     // benzoquinone
		{"C1CCCCC1", 0, 0},
	} {
		st, err := Perceive(tc.smiles)
		require.NoError(t, err)
		d := PerceivedDescriptors(st)
		require.Equal(t, tc.rings, d.AromaticRings, tc.smiles)
		require.Equal(t, tc.atoms, d.AromaticAtoms, tc.smiles)
	}
	require.Equal(t, Descriptors{}, PerceivedDescriptors(nil))
}
