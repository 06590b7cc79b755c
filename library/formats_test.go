package library

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// parseFile parses a committed fixture under testdata.
func parseFile(t *testing.T, name string, opt Options) (*Library, error) {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	require.NoError(t, err)
	defer f.Close()
	return Parse(name, f, opt)
}

func TestDetectDelimiter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, in  string
		def, want rune
	}{
		{"comma", "smiles,name\nCCO,a\n", ',', ','},
		{"semicolon in a .csv", "Name;SMILES;Ki\nx;CCO;1,5\n", ',', ';'},
		{"tab in a .csv", "Name\tSMILES\nx\tCCO\n", ',', '\t'},
		{"pipe", "id|smiles|note\n1|CCO|a, b\n", ',', '|'},
		{"quoted delimiters do not count", "\"a;b\",smiles\n\"c;d\",CCO\n", ',', ','},
		{"decimal commas lose to consistent semicolons", "Name;SMILES;Ki;pKi\nx;CCO;1,5;8,8\ny;CC;2;9\n", ',', ';'},
		{"one column keeps the extension's", "smiles\nCCO\n", '\t', '\t'},
		{"blank first lines skipped", "\n\r\nsmiles;name\nCCO;a\n", ',', ';'},
		{"empty", "", ',', ','},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, string(tc.want), string(DetectDelimiter([]byte(tc.in), tc.def)))
		})
	}
}

func TestHeaderSynonyms(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header   string
		wantName string
		meta     map[string]string
	}{
		{"Compound ID,SMILES", "x", nil},
		{"ID,Canonical_SMILES", "x", nil},
		{"Title,Isomeric SMILES", "x", nil},
		{"Molecule Name,structure", "x", nil},
		{"  NAME  ,smiles", "x", nil},
		{"compound-id,SMILES_string", "x", nil},
		{"Catalog ID,Smiles", "x", nil},
		// The earliest synonym wins; the others stay metadata.
		{"ID,Name,SMILES", "n", map[string]string{"ID": "x"}},
		{"Structure,SMILES,Name", "SMILES-col", nil},
	} {
		t.Run(tc.header, func(t *testing.T) {
			t.Parallel()
			row := "x,CCO"
			switch strings.Count(tc.header, ",") {
			case 2:
				row = "x,n,CCO"
				if strings.HasPrefix(tc.header, "Structure") {
					row = "C,CCO,SMILES-col"
				}
			}
			es, err := entriesOf(Parse("lib.csv", strings.NewReader(tc.header+"\n"+row+"\n"), Options{}))
			require.NoError(t, err)
			assert.Equal(t, tc.wantName, es[0].Name)
			if tc.meta != nil {
				assert.Equal(t, tc.meta, es[0].Metadata)
			}
		})
	}
}

func TestParse_DelimitedFixtures(t *testing.T) {
	t.Parallel()

	t.Run("European Excel: semicolons, BOM, CRLF, decimal commas", func(t *testing.T) {
		t.Parallel()
		lib, err := parseFile(t, "european_semicolon.csv", Options{})
		require.NoError(t, err)
		es := lib.Entries()
		require.Len(t, es, 6)
		assert.Equal(t, "Acetazolamid", es[0].Name)
		assert.Equal(t, "CC(=O)Nc1nnc(s1)S(N)(=O)=O", es[0].SMILES)
		assert.Equal(t, map[string]string{"Ki_nM": "12,5", "Klasse": "Sulfonamid"}, es[0].Metadata)
		assert.Equal(t, "Phenol; schwach", es[4].Metadata["Klasse"])
		assert.Equal(t, 2, es[0].Row)
		assert.Equal(t, 0, lib.GeneratedNames())
		// Acetazolamide twice, under two names.
		assert.Equal(t, []Duplicate{{SMILES: "CC(=O)Nc1nnc(s1)S(N)(=O)=O", Identity: "CC(=O)Nc1nnc(s1)S(N)(=O)=O", Rows: []int{2, 7}, Indexes: []int{0, 5}}}, lib.Duplicates())
	})

	t.Run("Excel tab-delimited .txt is not a SMILES file", func(t *testing.T) {
		t.Parallel()
		lib, err := parseFile(t, "excel_tab.txt", Options{})
		require.NoError(t, err)
		es := lib.Entries()
		require.Len(t, es, 5)
		assert.Equal(t, []string{"Acetaminophen", "Aspirin", "Caffeine", "Ligand_4", "Saccharin"}, names(es))
		assert.Equal(t, "CC(=O)Nc1ccc(O)cc1", es[0].SMILES)
		assert.Equal(t, `NSAID, "classic"`, es[1].Metadata["Notes"])
		assert.Equal(t, "151.16", es[0].Metadata["MW"])
		assert.Equal(t, 1, lib.GeneratedNames(), "row 5 has no Compound ID")
		assert.Empty(t, lib.Duplicates())
	})

	t.Run("a .txt without a header is still a SMILES file", func(t *testing.T) {
		t.Parallel()
		es, err := entriesOf(Parse("lib.txt", strings.NewReader("CCO\tethanol\nc1ccccc1\tbenzene\n"), Options{}))
		require.NoError(t, err)
		assert.Equal(t, []string{"ethanol", "benzene"}, names(es))
	})

	t.Run("tabs in a .csv are a delimiter, not a control character", func(t *testing.T) {
		t.Parallel()
		es, err := entriesOf(Parse("lib.csv", strings.NewReader("Name\tSMILES\nx\tCCO\n"), Options{}))
		require.NoError(t, err)
		assert.Equal(t, "x", es[0].Name)
	})

	t.Run("no SMILES column names the delimiter found", func(t *testing.T) {
		t.Parallel()
		_, err := Parse("lib.csv", strings.NewReader("Name;Mol;Ki_nM\nx;CCO;1\n"), Options{})
		de := requireOmtx(t, err, omtx.EInvalid, "file")
		assert.Contains(t, de.Message, "split at semicolon (;)")
		assert.Contains(t, de.Message, "Name, Mol, Ki_nM")
	})
}

func TestGeneratedNamesAndDuplicates(t *testing.T) {
	t.Parallel()
	lib, err := Parse("lib.csv", strings.NewReader("smiles,name\nCCO,\nCCO,b\nOCC,c\nC,\nCCO,  \nC,z\n"), Options{})
	require.NoError(t, err)
	assert.Equal(t, 3, lib.GeneratedNames())
	// OCC is CCO written from the other end: one molecule.
	assert.Equal(t, []Duplicate{
		{SMILES: "CCO", Identity: "CCO", Rows: []int{2, 3, 4, 6}, Indexes: []int{0, 1, 2, 4}},
		{SMILES: "C", Identity: "C", Rows: []int{5, 7}, Indexes: []int{3, 5}},
	}, lib.Duplicates())

	t.Run("Kekulé and aromatic aspirin are one structure", func(t *testing.T) {
		t.Parallel()
		lib, err := Parse("lib.csv", strings.NewReader("smiles,name\n"+
			"CC(=O)OC1=CC=CC=C1C(=O)O,kekule\nCC(=O)Oc1ccccc1C(=O)O,aromatic\nOC(=O)c1ccccc1OC(C)=O,reordered\n"), Options{})
		require.NoError(t, err)
		assert.Equal(t, []Duplicate{{
			SMILES: "CC(=O)OC1=CC=CC=C1C(=O)O", Identity: "CC(=O)Oc1ccccc1C(=O)O",
			Rows: []int{2, 3, 4}, Indexes: []int{0, 1, 2},
		}}, lib.Duplicates())
	})

	t.Run("stereoisomers, salts and charge states are not duplicates", func(t *testing.T) {
		t.Parallel()
		lib, err := Parse("lib.csv", strings.NewReader("smiles,name\n"+
			"N[C@@H](C)C(=O)O,L\nN[C@H](C)C(=O)O,D\nNC(C)C(=O)O,rac\nCC(=O)O,acid\nCC(=O)[O-].[Na+],salt\nCC(=O)[O-],anion\n"), Options{})
		require.NoError(t, err)
		assert.Empty(t, lib.Duplicates())
	})

	t.Run("the identity travels in the JSON", func(t *testing.T) {
		t.Parallel()
		b, err := json.Marshal(lib.Duplicates()[1])
		require.NoError(t, err)
		assert.JSONEq(t, `{"smiles":"C","identity":"C","rows":[5,7]}`, string(b))
	})

	t.Run("invalid rows are not duplicates", func(t *testing.T) {
		t.Parallel()
		lib, err := Parse("lib.csv", strings.NewReader("smiles,name\nC1CC,a\nC1CC,b\nCCO,c\n"), Options{SkipInvalid: true})
		require.NoError(t, err)
		assert.Empty(t, lib.Duplicates())
	})
}
