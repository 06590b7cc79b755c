package chem

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/internal/rdkittest"
)

// molfileCorpus is what the molfile writer is checked on: with ParseMolfile
// here, and with RDKit in testdata/rdkit_molfile_write.tsv.
var molfileCorpus = []string{
	"CC(=O)Oc1ccccc1C(=O)O",      // aspirin, aromatic
	"CC(=O)OC1=CC=CC=C1C(=O)O",   // aspirin, Kekulé
	"c1cc[nH]c1",                 // pyrrole: the N keeps its H
	"Cn1cnc2c1c(=O)n(C)c(=O)n2C", // caffeine
	"C[N+](C)(C)C",               // quaternary ammonium
	"[NH4+]",                     // a bracket atom alone
	"CC(=O)[O-].[Na+]",           // a salt, two fragments
	"[13CH4]",                    // isotope
	"[2H]C([2H])([2H])O",         // deuterium atoms
	"C[N+](=O)[O-]",              // nitro, charge-separated
	"CN(=O)=O",                   // nitro, as RDKit cleans it up
	"[CH3]",                      // radical
	"[CH2]",                      // two radical electrons
	"[CH]",                       // three: needs a valence field
	"[SH4]",                      // hypervalent: needs a valence field
	"C[IH2]",                     // the same
	"O=S(=O)(N)c1ccc(cc1)C(=O)O", // sulfonamide (hypervalent S)
	"Clc1ccc(Br)cc1I",            // halogens
	"C1=CC=C2C=CC=CC2=C1",        // naphthalene, Kekulé
	"c1ccc2ccccc2c1",             // naphthalene, aromatic
	"OB(O)c1ccccc1",              // boronic acid
	"[Se]1C=CC=C1",               // selenophene
	"NC(=[NH2+])c1ccccc1",        // amidinium
	"CC1=CC(=O)C=CC1=O",          // quinone
	"O=C1NC(=O)C(N1)=O",          // ring of amides
	"C[S+](C)C",                  // sulfonium
	"[O-][n+]1ccccc1",            // pyridine N-oxide
}

// readMolfileBack writes smiles's molfile and reads it back.
func readMolfileBack(t *testing.T, smiles string, o MolfileOptions) (string, *Molfile) {
	t.Helper()
	st, err := Perceive(smiles)
	require.NoError(t, err)
	text, err := st.Molfile(o)
	require.NoError(t, err)
	back, err := ParseMolfile(text)
	require.NoError(t, err, "%s:\n%s", smiles, text)
	return text, back
}

func TestMolfile_ReadsBackAsTheSameMolecule(t *testing.T) {
	t.Parallel()
	for _, smi := range molfileCorpus {
		t.Run(smi, func(t *testing.T) {
			t.Parallel()
			text, back := readMolfileBack(t, smi, MolfileOptions{Title: "x"})
			want, err := Identity(smi)
			require.NoError(t, err)
			got, err := Identity(back.Molecule.SMILES())
			require.NoError(t, err)
			assert.Equal(t, want, got, "molfile:\n%s", text)
		})
	}
}

func TestMolfile_Layout(t *testing.T) {
	t.Parallel()
	t.Run("no coordinates: 0,0,0 and 2D", func(t *testing.T) {
		t.Parallel()
		text, back := readMolfileBack(t, "C[NH3+]", MolfileOptions{Title: "methylammonium\tsalt"})
		lines := strings.Split(text, "\n")
		assert.Equal(t, "methylammonium salt", lines[0], "control characters become spaces")
		assert.Equal(t, "  OMTXHub 0101000000"+"2D", lines[1])
		assert.Equal(t, "  2  1  0  0  0  0  0  0  0  0999 V2000", lines[3])
		assert.True(t, strings.HasPrefix(lines[4], "    0.0000    0.0000    0.0000 C "), lines[4])
		assert.Contains(t, text, "M  CHG  1   2   1\n")
		assert.True(t, strings.HasSuffix(text, "M  END\n"))
		assert.Equal(t, "methylammonium salt", back.Title)
	})
	t.Run("coordinates: 3D", func(t *testing.T) {
		t.Parallel()
		text, _ := readMolfileBack(t, "CO", MolfileOptions{Coords: [][3]float64{{1.5, -2.25, 10}, {2.9, -2.25, 10.5}}})
		lines := strings.Split(text, "\n")
		assert.True(t, strings.HasSuffix(lines[1], "3D"), lines[1])
		assert.True(t, strings.HasPrefix(lines[4], "    1.5000   -2.2500   10.0000 C "), lines[4])
		assert.True(t, strings.HasPrefix(lines[5], "    2.9000   -2.2500   10.5000 O "), lines[5])
	})
	t.Run("isotope, radical and Kekulé bonds", func(t *testing.T) {
		t.Parallel()
		text, _ := readMolfileBack(t, "[13CH3]", MolfileOptions{})
		assert.Contains(t, text, "M  ISO  1   1  13\n")
		assert.Contains(t, text, "M  RAD  1   1   2\n")
		text, _ = readMolfileBack(t, "c1ccccc1", MolfileOptions{})
		assert.Equal(t, 3, strings.Count(text, "  2  0\n"), "three double bonds:\n%s", text)
		assert.NotContains(t, text, "  4  0\n")
	})
	t.Run("a valence field where the model would not give the hydrogens", func(t *testing.T) {
		t.Parallel()
		text, back := readMolfileBack(t, "[CH2]=O", MolfileOptions{})
		assert.Equal(t, 2, back.Molecule.Atoms[0].HCount, text)
		text, back = readMolfileBack(t, "[SH4]", MolfileOptions{})
		assert.Equal(t, 4, back.Molecule.Atoms[0].HCount, text)
		assert.Contains(t, text, " S   0  0  0  0  0  4  0", "valence 4")
		text, back = readMolfileBack(t, "[CH]", MolfileOptions{})
		assert.Equal(t, 1, back.Molecule.Atoms[0].HCount, text)
	})
	t.Run("wrong number of positions", func(t *testing.T) {
		t.Parallel()
		st, err := Perceive("CCO")
		require.NoError(t, err)
		_, err = st.Molfile(MolfileOptions{Coords: [][3]float64{{0, 0, 0}}})
		require.ErrorContains(t, err, "1 positions for 3 atoms")
	})
}

const molfileTablePath = "testdata/rdkit_molfile_write.tsv"

// molfileRows are the lines check_molfile.mjs reads: each corpus SMILES
// and its molfile, newlines written as "\n".
func molfileRows(t *testing.T) []string {
	t.Helper()
	var rows []string
	for _, smi := range molfileCorpus {
		st, err := Perceive(smi)
		require.NoError(t, err)
		text, err := st.Molfile(MolfileOptions{Title: smi})
		require.NoError(t, err)
		rows = append(rows, smi+"\t"+strings.ReplaceAll(text, "\n", `\n`))
	}
	return rows
}

// TestMolfileWriteTable holds the writer to RDKit's verdict, committed in
// testdata/rdkit_molfile_write.tsv: RDKit reads every molfile written for
// the corpus to the canonical SMILES it reads the SMILES to.
func TestMolfileWriteTable(t *testing.T) {
	t.Parallel()
	table, _ := readTSV(t, molfileTablePath, []string{"smiles", "rdkit_canonical", "rdkit_canonical_of_molfile", "same_molecule"})
	require.Len(t, table, len(molfileCorpus), "one row per corpus SMILES; rerun TestMolfileWriteTable_IsCurrent with OMTX_RDKIT_UPDATE=1")
	for i, row := range table {
		require.Equal(t, molfileCorpus[i], row[0])
		assert.Equal(t, "1", row[3], "RDKit reads the molfile of %s as %s, not %s", row[0], row[2], row[1])
	}
}

// TestMolfileWriteTable_IsCurrent re-runs RDKit on what the writer writes
// now; OMTX_RDKIT_UPDATE=1 rewrites the table instead.
func TestMolfileWriteTable_IsCurrent(t *testing.T) {
	t.Parallel()
	got := rdkittest.Run(t, "check_molfile.mjs", strings.NewReader(strings.Join(molfileRows(t), "\n")+"\n"))
	rdkittest.Compare(t, molfileTablePath, got, "if the corpus, the writer or RDKit changed on purpose, rerun with OMTX_RDKIT_UPDATE=1 and review the diff")
}
