package validate

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestLigandFor_Boltz2StandardizesFirst checks that Boltz-2's limits apply to
// the molecule Boltz models (chem.Standardize), not to the string sent.
func TestLigandFor_Boltz2StandardizesFirst(t *testing.T) {
	t.Parallel()
	t.Run("salt: parent modelled, counter-ion warned", func(t *testing.T) {
		t.Parallel()
		l, err := LigandFor(omtx.ModelBoltz2, "ligand_smiles", " CC(=O)Oc1ccccc1C(=O)[O-].[Na+] ")
		require.NoError(t, err)
		require.Equal(t, "CC(=O)Oc1ccccc1C(=O)[O-].[Na+]", l.SMILES)
		require.Equal(t, "CC(=O)Oc1ccccc1C(=O)O", l.ModelledSMILES)
		require.Equal(t, 13, l.HeavyAtoms)
		require.Equal(t, []string{"[Na+]"}, l.Dropped)
		require.True(t, l.Neutralized)
		require.Len(t, l.Warnings, 2)
		require.True(t, strings.HasPrefix(l.Warnings[0], "ligand_smiles: "), l.Warnings[0])
		require.Contains(t, l.Warnings[0], "dropped: [Na+]")
	})
	t.Run("metal complex refused with the field", func(t *testing.T) {
		t.Parallel()
		_, err := LigandFor(omtx.ModelBoltz2, "ligands[2].smiles", "N->[Pt](<-N)(Cl)Cl")
		var e *omtx.Error
		require.True(t, errors.As(err, &e), "%T", err)
		require.Equal(t, omtx.EInvalid, e.Code)
		require.Equal(t, "ligands[2].smiles", e.Field)
		require.Contains(t, e.Message, "contains Pt")
	})
	t.Run("no organic part refused", func(t *testing.T) {
		t.Parallel()
		_, err := LigandFor(omtx.ModelBoltz2, "smiles", "[Na+].[Cl-]")
		require.Equal(t, omtx.EInvalid, omtx.ErrorCode(err))
		require.Contains(t, err.Error(), "no organic part")
	})
	t.Run("a salt's counter-ion no longer counts toward the limits", func(t *testing.T) {
		t.Parallel()
		// 50 heavy atoms of ligand and a 7-atom tosylate: 57 atoms as
		// written, over the 56 that warn, but Boltz models only the 50.
		ligand := "C" + strings.Repeat("C", 48) + "O"
		l, err := LigandFor(omtx.ModelBoltz2, "smiles", ligand+".Cc1ccc(cc1)S(=O)(=O)O")
		require.NoError(t, err)
		require.Equal(t, 50, l.HeavyAtoms)
		for _, w := range l.Warnings {
			require.NotContains(t, w, "trained on")
		}
	})
	t.Run("isotopic hydrogens count toward the limits", func(t *testing.T) {
		t.Parallel()
		// 54 heavy atoms and 3 deuteriums: 57 atoms Boltz models.
		l, err := LigandFor(omtx.ModelBoltz2, "smiles", "[2H]C([2H])([2H])"+strings.Repeat("C", 53))
		require.NoError(t, err)
		require.Equal(t, 57, l.HeavyAtoms)
		require.Len(t, l.Warnings, 1)
		require.Contains(t, l.Warnings[0], "57 atoms (54 heavy atoms and 3 isotopic hydrogens")
	})
	t.Run("over the limit after standardizing", func(t *testing.T) {
		t.Parallel()
		_, err := LigandFor(omtx.ModelBoltz2, "smiles", strings.Repeat("C", 129)+".[Na+].[Cl-]")
		require.Equal(t, omtx.EInvalid, omtx.ErrorCode(err))
		require.Contains(t, err.Error(), "has 129 heavy atoms")
	})
	t.Run("dative bond accepted", func(t *testing.T) {
		t.Parallel()
		l, err := LigandFor(omtx.ModelBoltz2, "smiles", "CN(C)(C)->B")
		require.NoError(t, err)
		require.Equal(t, "CN(C)(C)->B", l.ModelledSMILES)
		require.Empty(t, l.Warnings)
	})
}

func TestLigandFor_OtherModelsUnchanged(t *testing.T) {
	t.Parallel()
	l, err := LigandFor(omtx.BaselineModel, "ligand_smiles", "CC(=O)[O-].[Na+]")
	require.NoError(t, err)
	require.Equal(t, "CC(=O)[O-].[Na+]", l.ModelledSMILES)
	require.Equal(t, 5, l.HeavyAtoms)
	require.Empty(t, l.Warnings)

	_, err = LigandFor(omtx.BaselineModel, "ligand_smiles", "C1CC")
	require.Equal(t, omtx.EInvalid, omtx.ErrorCode(err))
}
