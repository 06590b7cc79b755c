package sdf

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/internal/rdkittest"
)

const aspirin = "CC(=O)Oc1ccccc1C(=O)O"

// The fixtures: the structure package's complex (aspirin as LIG1 on chain
// B, the layout Boltz-2 writes) and the Boltz stand-in's model_0.cif
// (ethanol's heavy atoms as LIG on chain B).
const (
	complexCIF = "../structure/testdata/complex.cif"
	standInCIF = "../boltz/testdata/fixture/model_0.cif"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// records splits an SD file into its molfiles and fields.
func records(t *testing.T, sd string) (mols []string, fields []map[string]string) {
	t.Helper()
	require.True(t, strings.HasSuffix(sd, "$$$$\n"), "an SD file ends with $$$$")
	for _, rec := range strings.Split(strings.TrimSuffix(sd, "$$$$\n"), "$$$$\n") {
		i := strings.Index(rec, "M  END\n")
		require.GreaterOrEqual(t, i, 0)
		mols = append(mols, rec[:i+len("M  END\n")])
		f := map[string]string{}
		lines := strings.Split(rec[i+len("M  END\n"):], "\n")
		for k := 0; k+1 < len(lines); k++ {
			if strings.HasPrefix(lines[k], "> <") {
				f[strings.TrimSuffix(strings.TrimPrefix(lines[k], "> <"), ">")] = lines[k+1]
			}
		}
		fields = append(fields, f)
	}
	return mols, fields
}

// sameMolecule checks that a molfile reads back, with chem's reader, as
// the molecule of smiles.
func sameMolecule(t *testing.T, molfile, smiles string) *chem.Molfile {
	t.Helper()
	back, err := chem.ParseMolfile(molfile)
	require.NoError(t, err, molfile)
	want, err := chem.Identity(smiles)
	require.NoError(t, err)
	got, err := chem.Identity(back.Molecule.SMILES())
	require.NoError(t, err)
	require.Equal(t, want, got, molfile)
	return back
}

func TestLigandRecord(t *testing.T) {
	t.Parallel()
	rec, err := Ligand("aspirin", aspirin, []Field{
		{"rank", "1"}, {"affinity_pred_value_log10_ic50_um", "-1.2500"}, {"class", "NSAID\nsecond line"}, {"a<b>", "x"},
	})
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, rec))
	mols, fields := records(t, buf.String())
	require.Len(t, mols, 1)
	back := sameMolecule(t, mols[0], aspirin)
	assert.Equal(t, "aspirin", back.Title)
	assert.Contains(t, mols[0], "2D\n", "no coordinates: marked 2D")
	assert.Contains(t, mols[0], "    0.0000    0.0000    0.0000 C ")
	assert.Equal(t, map[string]string{"rank": "1", "affinity_pred_value_log10_ic50_um": "-1.2500", "class": "NSAID second line", "a_b_": "x"}, fields[0])

	_, err = Ligand("x", "C1CC", nil)
	require.Error(t, err)
}

func TestPose(t *testing.T) {
	t.Parallel()
	cif := readFile(t, complexCIF)
	t.Run("aspirin from the complex", func(t *testing.T) {
		t.Parallel()
		st, coords, err := Pose(cif, aspirin, PoseOptions{})
		require.NoError(t, err)
		require.Len(t, coords, 13)
		// Atom 0 of the SMILES is the methyl carbon; in the file it is
		// C13, bonded to the carbonyl C11 (O12, O10).
		assert.Equal(t, "C", st.Atoms[0].Element)
		assert.Equal(t, [3]float64{10.66759, 8.29498, 3.22249}, coords[0])
		rec, err := PoseRecord("aspirin", cif, aspirin, PoseOptions{}, []Field{{"rank", "1"}})
		require.NoError(t, err)
		assert.Contains(t, strings.SplitN(rec.Molfile, "\n", 3)[1], "3D")
		back := sameMolecule(t, rec.Molfile, aspirin)
		assert.Equal(t, "aspirin", back.Title)
	})
	t.Run("any order of the file's atoms", func(t *testing.T) {
		t.Parallel()
		// Boltz writes the atoms in the order of RDKit's canonical SMILES
		// of the standardized ligand, not the order of ours: reversing the
		// ligand's rows must give the same pose.
		lines := strings.Split(string(cif), "\n")
		var lig []int
		for i, l := range lines {
			if strings.HasPrefix(l, "HETATM") {
				lig = append(lig, i)
			}
		}
		rev := slices.Clone(lines)
		for k, i := range lig {
			rev[i] = lines[lig[len(lig)-1-k]]
		}
		_, want, err := Pose(cif, aspirin, PoseOptions{})
		require.NoError(t, err)
		rec, err := PoseRecord("reversed", []byte(strings.Join(rev, "\n")), aspirin, PoseOptions{}, nil)
		require.NoError(t, err)
		sameMolecule(t, rec.Molfile, aspirin)
		_, got, err := Pose([]byte(strings.Join(rev, "\n")), aspirin, PoseOptions{})
		require.NoError(t, err)
		// Every atom but the acid's two oxygens, which the heavy-atom
		// graph cannot tell apart, keeps its position.
		assert.Equal(t, want[:11], got[:11])
		assert.ElementsMatch(t, want[11:], got[11:])
		// The same molecule written another way maps too.
		_, _, err = Pose(cif, "OC(=O)c1ccccc1OC(C)=O", PoseOptions{})
		require.NoError(t, err)
	})
	t.Run("another molecule does not fit", func(t *testing.T) {
		t.Parallel()
		for _, smi := range []string{
			"COC(=O)c1ccccc1C(=O)O",  // an isomer: same atoms, other bonds
			"CC(=O)Oc1ccccc1C(=O)N",  // an N for an O
			"CC(=O)Oc1ccccc1C(=O)OC", // one atom more
			"[2H]OC(=O)c1ccccc1OC(C)=O",
		} {
			_, _, err := Pose(cif, smi, PoseOptions{})
			require.Error(t, err, smi)
			assert.True(t, errors.Is(err, ErrNoPose), "%s: %v", smi, err)
		}
	})
	t.Run("a strained cage: bicyclo[1.1.1]pentane", func(t *testing.T) {
		t.Parallel()
		// Its bridgeheads, not bonded, are 1.87 Å apart: nearer than
		// two carbons plus bondSlack, farther than a C-C bond. Bridges
		// 1.545 Å from each bridgehead.
		const r, h = 1.2302, 0.935
		atoms := [][3]float64{{0, 0, h}, {0, 0, -h}}
		for k := range 3 {
			a := float64(k) * 2 * math.Pi / 3
			atoms = append(atoms, [3]float64{r * math.Cos(a), r * math.Sin(a), 0})
		}
		var lines []string
		done := false
		for _, l := range strings.Split(string(cif), "\n") {
			if !strings.HasPrefix(l, "HETATM") {
				lines = append(lines, l)
				continue
			}
			if done {
				continue
			}
			f := strings.Fields(l)
			for i, p := range atoms {
				g := slices.Clone(f)
				g[1], g[3] = fmt.Sprint(1000+i), fmt.Sprintf("C%d", i+1)
				g[10], g[11], g[12] = fmt.Sprintf("%.5f", p[0]), fmt.Sprintf("%.5f", p[1]), fmt.Sprintf("%.5f", p[2])
				lines = append(lines, strings.Join(g, " "))
			}
			done = true
		}
		_, coords, err := Pose([]byte(strings.Join(lines, "\n")), "C1C2CC1C2", PoseOptions{})
		require.NoError(t, err)
		assert.Len(t, coords, 5)
	})
	t.Run("chain named", func(t *testing.T) {
		t.Parallel()
		_, _, err := Pose(cif, aspirin, PoseOptions{Chain: "B"})
		require.NoError(t, err)
		_, _, err = Pose(cif, aspirin, PoseOptions{Chain: "A"})
		require.ErrorIs(t, err, ErrNoPose, "chain A is the peptide")
		_, _, err = Pose(cif, aspirin, PoseOptions{Chain: "Z"})
		require.ErrorContains(t, err, `no ligand chain "Z"`)
	})
	t.Run("the Boltz stand-in's structure", func(t *testing.T) {
		t.Parallel()
		rec, err := PoseRecord("ethanol", readFile(t, standInCIF), "CCO", PoseOptions{}, nil)
		require.NoError(t, err)
		sameMolecule(t, rec.Molfile, "CCO")
		assert.Contains(t, rec.Molfile, "    6.1000    4.6000    3.7000 O ")
	})
}

const rdkitTablePath = "testdata/rdkit_records.tsv"

// rdkitRows are the records RDKit is asked about: each ligand's 2D-less
// record and its pose, with the modelled SMILES.
func rdkitRows(t *testing.T) []string {
	t.Helper()
	var rows []string
	add := func(smiles string, rec Record, err error) {
		require.NoError(t, err)
		rows = append(rows, smiles+"\t"+strings.ReplaceAll(rec.Molfile, "\n", `\n`))
	}
	for _, smi := range []string{aspirin, "OC(=O)c1ccccc1OC(C)=O", "CCO"} {
		rec, err := Ligand(smi, smi, nil)
		add(smi, rec, err)
	}
	rec, err := PoseRecord("pose", readFile(t, complexCIF), aspirin, PoseOptions{}, nil)
	add(aspirin, rec, err)
	rec, err = PoseRecord("pose", readFile(t, standInCIF), "CCO", PoseOptions{}, nil)
	add("CCO", rec, err)
	return rows
}

// TestRDKitReadsTheRecords holds the records to RDKit's reading,
// committed in testdata/rdkit_records.tsv: the same canonical SMILES as
// the modelled ligand.
func TestRDKitReadsTheRecords(t *testing.T) {
	t.Parallel()
	data := readFile(t, rdkitTablePath)
	n := 0
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "smiles\t") {
			continue
		}
		f := strings.Split(line, "\t")
		require.Len(t, f, 4)
		assert.Equal(t, "1", f[3], "RDKit reads the record of %s as %s, not %s", f[0], f[2], f[1])
		n++
	}
	assert.Equal(t, len(rdkitRows(t)), n, "one row per record; rerun TestRDKitRecordsTable_IsCurrent with OMTX_RDKIT_UPDATE=1")
}

// TestRDKitRecordsTable_IsCurrent re-runs RDKit on the records written
// now; OMTX_RDKIT_UPDATE=1 rewrites the table instead.
func TestRDKitRecordsTable_IsCurrent(t *testing.T) {
	t.Parallel()
	got := rdkittest.Run(t, "check_molfile.mjs", strings.NewReader(strings.Join(rdkitRows(t), "\n")+"\n"), "TestRDKitRecordsTable_IsCurrent", "./sdf/")
	rdkittest.Compare(t, rdkitTablePath, got, "if the records or RDKit changed on purpose, rerun with OMTX_RDKIT_UPDATE=1 and review the diff")
}
