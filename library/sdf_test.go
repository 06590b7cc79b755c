package library

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// ethanolMol is a V2000 molfile of ethanol titled title.
func ethanolMol(title string) string {
	return title + "\n  -ISIS-  01152514352D\n\n  3  2  0  0  0  0  0  0  0  0999 V2000\n" +
		"    0.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n" +
		"    0.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\n" +
		"    0.0000    0.0000    0.0000 O   0  0  0  0  0  0  0  0  0  0  0  0\n" +
		"  1  2  1  0\n  2  3  1  0\nM  END\n"
}

func TestParseSDF(t *testing.T) {
	t.Parallel()

	t.Run("vendor V2000 fixture", func(t *testing.T) {
		t.Parallel()
		lib, err := parseFile(t, "vendor_v2000.sdf", Options{})
		require.NoError(t, err)
		es := lib.Entries()
		require.Len(t, es, 9)
		assert.Equal(t, []string{"Z56757932", "Z1203478122", "Z2234567790", "Z33218770", "Z4410092831",
			"Z1839201", "Z104812256", "8012-0345", "Z56757932-B2"}, names(es))
		assert.Equal(t, map[string]string{"Catalog ID": "Z56757932", "MW": "180.16", "ClogP": "1.31", "Available": "in stock"}, es[0].Metadata)
		// Kekulé bonds as drawn, aromatic bond type 4, charges from the atom
		// block, drawn hydrogens folded ([nH] kept), M  ISO, M  CHG.
		assert.Equal(t, []string{
			"CC(=O)OC1=CC=CC=C1C(=O)O",
			"Cn1c(=O)c2c(ncn2C)n(C)c1=O",
			"O=C([O-])C1=CC=CC=C1.[Na+]",
			"c1ccc2[nH]ccc2c1",
			"[2H]C([2H])([2H])OC1=CC=CC=C1",
			"C[N+](C)(C)CCO.[Cl-]",
			"CC(C)CC=1C=CC(=CC1)C(C)C(=O)O", // the wedge is not kept
			"O=[N+]([O-])C=1C=CC(O)=CC1",
			"CC(=O)OC1=CC=CC=C1C(=O)O",
		}, smilesOf(es))
		assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, rowsOf(es))
		assert.Equal(t, 0, lib.GeneratedNames(), "record 8's blank title gives way to its IDNUMBER")
		assert.Equal(t, []Duplicate{{SMILES: "CC(=O)OC1=CC=CC=C1C(=O)O", Identity: "CC(=O)Oc1ccccc1C(=O)O", Rows: []int{1, 9}, Indexes: []int{0, 8}}}, lib.Duplicates())
	})

	t.Run("V3000 fixture: a refused record names its record and line", func(t *testing.T) {
		t.Parallel()
		_, err := parseFile(t, "chembl_v3000.sdf", Options{})
		ie := requireInvalid(t, err)
		require.Len(t, ie.Problems, 1)
		assert.Equal(t, 5, ie.Problems[0].Row)
		assert.Contains(t, ie.Problems[0].Reason, "record 5, line 136: cannot kekulize")

		lib, err := parseFile(t, "chembl_v3000.sdf", Options{SkipInvalid: true})
		require.NoError(t, err)
		es := lib.Entries()
		assert.Equal(t, []string{"CHEMBL25", "CHEMBL773", "glycine zwitterion", "acetic acid-2-13C", "CHEMBL15844"}, names(es))
		assert.Equal(t, []string{"CC(=O)OC1=CC=CC=C1C(=O)O", "NCC(=O)O", "[NH3+]CC(=O)[O-]", "[13CH3]C(=O)O", ""}, smilesOf(es))
		assert.Equal(t, map[string]string{"chembl_id": "CHEMBL25", "pref_name": "ASPIRIN"}, es[0].Metadata)
		assert.NotEmpty(t, es[4].Error)
	})

	t.Run("CRLF, no final $$$$, blank records, multi-line items", func(t *testing.T) {
		t.Parallel()
		in := ethanolMol("first") + "> <Note>\nline one\nline two\n\n$$$$\n$$$$\n" + ethanolMol("")
		in = strings.ReplaceAll(in, "\n", "\r\n")
		lib, err := Parse("lib.SDF", strings.NewReader(in), Options{})
		require.NoError(t, err)
		es := lib.Entries()
		require.Len(t, es, 2)
		assert.Equal(t, []string{"first", "Ligand_2"}, names(es))
		assert.Equal(t, "line one\nline two", es[0].Metadata["Note"])
		assert.Equal(t, "CCO", es[1].SMILES)
		assert.Equal(t, 1, lib.GeneratedNames())
	})

	t.Run("refusals", func(t *testing.T) {
		t.Parallel()
		var many strings.Builder
		many.WriteString(ethanolMol("x"))
		for i := range MaxMetadataColumns + 1 {
			fmt.Fprintf(&many, "> <f%d>\nv\n\n", i)
		}
		for _, tc := range []struct {
			name, in, field, want string
		}{
			{"too many fields", many.String(), "file", "record 1, line 107: data field \"f32\" is the 33th distinct field"},
			{"reserved field name", ethanolMol("x") + "> <__name__>\nv\n", "file", "record 1, line 11: data field \"__name__\" cannot be a metadata column"},
			{"data header without a name", ethanolMol("x") + "> MW\n1\n", "file", "record 1, line 11: data header"},
			{"text after the molfile", ethanolMol("x") + "junk\n", "file", "record 1, line 11: expected a data header"},
			{"empty", "\n$$$$\n", "ligands", "no records"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				_, err := Parse("lib.sdf", strings.NewReader(tc.in), Options{})
				de := requireOmtx(t, err, omtx.EInvalid, tc.field)
				assert.Contains(t, de.Message, tc.want)
			})
		}
	})

	t.Run("invalid records", func(t *testing.T) {
		t.Parallel()
		big := ethanolMol("x") + "> <Note>\n" + strings.Repeat("n", MaxCellBytes+1) + "\n\n$$$$\n"
		noEnd := "t\n\n\n  1  0  0  0  0  0  0  0  0  0999 V2000\n    0.0000    0.0000    0.0000 C   0  0  0  0\n$$$$\n"
		bad := strings.Replace(ethanolMol("bad"), " O   0  0", " Xx  0  0", 1)
		_, err := Parse("lib.sdf", strings.NewReader(big+noEnd+bad), Options{})
		ie := requireInvalid(t, err)
		require.Len(t, ie.Problems, 3)
		assert.Equal(t, Problem{Row: 1, Field: "row", Reason: fmt.Sprintf("record 1, line 11: data item \"Note\" is %d bytes, more than %d", MaxCellBytes+1, MaxCellBytes)}, ie.Problems[0])
		assert.Equal(t, Problem{Row: 2, Field: "row", Reason: "record 2, line 15: has no \"M  END\" line; it is not a molfile"}, ie.Problems[1])
		assert.Equal(t, Problem{Row: 3, Field: "row", Reason: "record 3, line 27: atom 3: unknown element \"Xx\""}, ie.Problems[2])

		lib, err := Parse("lib.sdf", strings.NewReader(big+noEnd+bad+"$$$$\n"+ethanolMol("ok")), Options{SkipInvalid: true})
		require.NoError(t, err)
		es := lib.Entries()
		assert.Len(t, es[0].Metadata["Note"], MaxCellBytes, "an invalid row's cell is clipped")
		assert.Equal(t, "ok", es[3].Name)
	})
}

func smilesOf(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.SMILES
	}
	return out
}

func rowsOf(es []Entry) []int {
	out := make([]int, len(es))
	for i, e := range es {
		out[i] = e.Row
	}
	return out
}
