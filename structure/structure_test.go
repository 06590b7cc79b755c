package structure

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSummaries(t *testing.T) {
	t.Parallel()

	atoms := []Atom{
		{Name: "N", ResName: "MET", Chain: "A", ResSeq: 1, Model: 1},
		{Name: "CA", ResName: "MET", Chain: "A", ResSeq: 1, Model: 1},
		{Name: "N", ResName: "LYS", Chain: "A", ResSeq: 2, Model: 1},
		{Name: "N", ResName: "LYS", Chain: "A", ResSeq: 2, ICode: "A", Model: 1},
		{Name: "C1", ResName: "LIG1", Chain: "C", ResSeq: 1, HETATM: true, Model: 1},
		{Name: "C2", ResName: "LIG1", Chain: "C", ResSeq: 1, HETATM: true, Model: 1},
		{Name: "O", ResName: "HOH", Chain: "A", ResSeq: 101, HETATM: true, Model: 1},
		{Name: "ZN", ResName: "ZN", Chain: "B", ResSeq: 1, HETATM: true, Model: 1},
		{Name: "C1", ResName: "LIG2", Chain: "D", ResSeq: 1, HETATM: true, Model: 2},
	}
	s := &Structure{Atoms: atoms}

	t.Run("chains", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, []string{"A", "C", "B", "D"}, s.Chains(), "first appearance, all models")
		assert.Nil(t, (*Structure)(nil).Chains())
		assert.Nil(t, (&Structure{}).Chains())
	})

	t.Run("residue counts", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, map[string]int{"A": 4, "C": 1, "B": 1}, s.ResidueCounts(),
			"MET, LYS, LYS 2A and the water in A; model 2 is ignored")
		assert.Empty(t, (&Structure{}).ResidueCounts())
	})

	t.Run("ligands", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, []Ligand{
			{Chain: "C", ResName: "LIG1", ResSeq: 1, Atoms: 2},
			{Chain: "B", ResName: "ZN", ResSeq: 1, Atoms: 1},
		}, s.Ligands(), "waters and later models are left out")
		assert.Empty(t, (*Structure)(nil).Ligands())
	})
}

// FuzzCIFToPDB checks that arbitrary input never panics and that whatever
// converts reads back with fixed columns.
func FuzzCIFToPDB(f *testing.F) {
	f.Add(smallCIF(smallHeader, smallRows))
	f.Add("data_x\nloop_\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n_atom_site.auth_asym_id\n1 2 3 'long chain'\n")
	f.Add("data_x\n_struct.title\n;t\n;\n_atom_site.Cartn_x 1\n_atom_site.Cartn_y 2\n_atom_site.Cartn_z 3\n")
	f.Add("data_x\n_a 'b''\n")
	f.Add(";\n")
	f.Fuzz(func(t *testing.T, in string) {
		out, err := CIFToPDB([]byte(in))
		if err != nil {
			return
		}
		s, err := ParseCIF(strings.NewReader(in))
		require.NoError(t, err)
		checkRoundTrip(t, s)
		var again bytes.Buffer
		require.NoError(t, WritePDB(&again, s))
		require.Equal(t, string(out), again.String())
	})
}
