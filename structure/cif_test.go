package structure

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readComplex returns the hand-written Boltz-style test complex.
func readComplex(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/complex.cif")
	require.NoError(t, err)
	return b
}

func parseString(t *testing.T, cif string) *Structure {
	t.Helper()
	s, err := ParseCIF(strings.NewReader(cif))
	require.NoError(t, err)
	return s
}

func parseErr(t *testing.T, cif string) error {
	t.Helper()
	s, err := ParseCIF(strings.NewReader(cif))
	require.Error(t, err)
	assert.Nil(t, s)
	return err
}

// smallTable is an _atom_site loop in the column order Boltz writes.
const smallHeader = `data_small
loop_
_atom_site.group_PDB
_atom_site.id
_atom_site.type_symbol
_atom_site.label_atom_id
_atom_site.label_alt_id
_atom_site.label_comp_id
_atom_site.label_seq_id
_atom_site.auth_seq_id
_atom_site.pdbx_PDB_ins_code
_atom_site.label_asym_id
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
_atom_site.occupancy
_atom_site.label_entity_id
_atom_site.auth_asym_id
_atom_site.auth_comp_id
_atom_site.B_iso_or_equiv
_atom_site.pdbx_PDB_model_num
`

var smallRows = [][]string{
	{"ATOM", "1", "N", "N", ".", "MET", "1", "1", "?", "A", "-1.50000", "2.25000", "0.12500", "1", "1", "A", "MET", "90.000", "1"},
	{"ATOM", "2", "C", "CA", ".", "MET", "1", "1", "?", "A", "-0.04700", "2.25000", "0.12500", "1", "1", "A", "MET", "90.000", "1"},
	{"ATOM", "3", "C", "CA", "B", "MET", "1", "1", "?", "A", "-0.04800", "2.35000", "0.13500", "0.5", "1", "A", "MET", "89.500", "1"},
	{"HETATM", "4", "CL", "CL1", ".", "LIG1", ".", "1", "?", "B", "5.00000", "6.00000", "-7.00000", "1", "2", "B", "LIG1", "77.125", "1"},
}

func smallCIF(header string, rows [][]string) string {
	var b strings.Builder
	b.WriteString(header)
	for _, r := range rows {
		b.WriteString(strings.Join(r, " "))
		b.WriteByte('\n')
	}
	b.WriteString("#\n")
	return b.String()
}

func TestParseCIF(t *testing.T) {
	t.Parallel()

	t.Run("complex counts", func(t *testing.T) {
		t.Parallel()
		s, err := ParseCIF(strings.NewReader(string(readComplex(t))))
		require.NoError(t, err)
		assert.Equal(t, "SAVG peptide with aspirin (test data)", s.Title)
		require.Len(t, s.Atoms, 35)
		assert.Equal(t, []string{"A", "B"}, s.Chains())
		het := 0
		for i, a := range s.Atoms {
			assert.Equal(t, i+1, a.Serial)
			assert.Equal(t, 1, a.Model)
			assert.Equal(t, 1.0, a.Occupancy)
			if a.HETATM {
				het++
				assert.Equal(t, "B", a.Chain)
				assert.Equal(t, "LIG1", a.ResName)
				assert.Equal(t, 1, a.ResSeq, "ligand residue number comes from auth_seq_id")
			} else {
				assert.Equal(t, "A", a.Chain)
			}
		}
		assert.Equal(t, 13, het)
		assert.Equal(t, map[string]int{"A": 4, "B": 1}, s.ResidueCounts())
		assert.Equal(t, []Ligand{{Chain: "B", ResName: "LIG1", ResSeq: 1, Atoms: 13}}, s.Ligands())
	})

	t.Run("coordinates exact", func(t *testing.T) {
		t.Parallel()
		s, err := ParseCIF(strings.NewReader(string(readComplex(t))))
		require.NoError(t, err)
		assert.Equal(t, Atom{Serial: 1, Name: "N", ResName: "SER", Chain: "A", ResSeq: 1,
			X: 1.0, Y: 2.0, Z: 3.0, Occupancy: 1, BFactor: 92.418, Element: "N", Model: 1}, s.Atoms[0])
		assert.Equal(t, Atom{Serial: 17, Name: "CG1", ResName: "VAL", Chain: "A", ResSeq: 3,
			X: 9.72974, Y: 1.955, Z: -1.24579, Occupancy: 1, BFactor: 93.877, Element: "C", Model: 1}, s.Atoms[16])
		assert.Equal(t, Atom{Serial: 35, Name: "C13", ResName: "LIG1", Chain: "B", ResSeq: 1,
			X: 10.66759, Y: 8.29498, Z: 3.22249, Occupancy: 1, BFactor: 84.396, Element: "C", HETATM: true, Model: 1}, s.Atoms[34])
	})

	t.Run("boltz column order", func(t *testing.T) {
		t.Parallel()
		s := parseString(t, smallCIF(smallHeader, smallRows))
		require.Len(t, s.Atoms, 4)
		assert.Equal(t, "B", s.Atoms[2].AltLoc)
		assert.Equal(t, 0.5, s.Atoms[2].Occupancy)
		assert.Equal(t, Atom{Serial: 4, Name: "CL1", ResName: "LIG1", Chain: "B", ResSeq: 1,
			X: 5, Y: 6, Z: -7, Occupancy: 1, BFactor: 77.125, Element: "CL", HETATM: true, Model: 1}, s.Atoms[3])
	})

	t.Run("quoted values with spaces", func(t *testing.T) {
		t.Parallel()
		s := parseString(t, `data_q
loop_
_atom_site.group_PDB
_atom_site.label_atom_id
_atom_site.label_alt_id
_atom_site.label_comp_id
_atom_site.auth_asym_id
_atom_site.auth_seq_id
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
HETATM "O5'" '.' 'MY LIG' "chain one" 7 1.0 2.0 3.0
HETATM 'O3'' "?" "it's" 'x"y' 8 4.0 5.0 6.0
ATOM "C 1" '' "" A 9 '7.5' "8.5" 9.5
`)
		require.Len(t, s.Atoms, 3)
		a := s.Atoms[0]
		assert.Equal(t, "O5'", a.Name)
		assert.Equal(t, ".", a.AltLoc, "a quoted '.' is a value, not a missing marker")
		assert.Equal(t, "MY LIG", a.ResName)
		assert.Equal(t, "chain one", a.Chain)
		b := s.Atoms[1]
		assert.Equal(t, "O3'", b.Name, "a quote not followed by whitespace does not close the value")
		assert.Equal(t, "?", b.AltLoc)
		assert.Equal(t, "it's", b.ResName)
		assert.Equal(t, `x"y`, b.Chain)
		c := s.Atoms[2]
		assert.Equal(t, "C 1", c.Name)
		assert.Equal(t, "", c.AltLoc)
		assert.Equal(t, [3]float64{7.5, 8.5, 9.5}, [3]float64{c.X, c.Y, c.Z}, "quoted numbers are numbers")
		assert.Equal(t, []string{"chain one", `x"y`, "A"}, s.Chains())
	})

	t.Run("missing markers", func(t *testing.T) {
		t.Parallel()
		s := parseString(t, `data_m
loop_
_atom_site.group_PDB
_atom_site.id
_atom_site.type_symbol
_atom_site.label_atom_id
_atom_site.label_alt_id
_atom_site.label_comp_id
_atom_site.label_asym_id
_atom_site.auth_asym_id
_atom_site.label_seq_id
_atom_site.auth_seq_id
_atom_site.pdbx_PDB_ins_code
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
_atom_site.occupancy
_atom_site.B_iso_or_equiv
_atom_site.pdbx_PDB_model_num
ATOM ? ? CA . ALA C ? 5 ? ? 1 2 3 ? . ?
ATOM . . CB ? ALA C D . 6 A 1 2 3 . ? .
HETATM 9 O O . HOH W . . . ? 0 0 0 1 10 1
`)
		require.Len(t, s.Atoms, 3)
		a := s.Atoms[0]
		assert.Equal(t, 1, a.Serial, "missing id falls back to the row number")
		assert.Equal(t, "", a.Element)
		assert.Equal(t, "", a.AltLoc)
		assert.Equal(t, "C", a.Chain, "auth_asym_id '?' falls back to label_asym_id")
		assert.Equal(t, 5, a.ResSeq, "auth_seq_id '?' falls back to label_seq_id")
		assert.Equal(t, "", a.ICode)
		assert.Equal(t, 1.0, a.Occupancy)
		assert.Equal(t, 0.0, a.BFactor)
		assert.Equal(t, 1, a.Model)
		b := s.Atoms[1]
		assert.Equal(t, 2, b.Serial)
		assert.Equal(t, "D", b.Chain)
		assert.Equal(t, 6, b.ResSeq)
		assert.Equal(t, "A", b.ICode)
		c := s.Atoms[2]
		assert.Equal(t, 9, c.Serial)
		assert.Equal(t, "W", c.Chain)
		assert.Equal(t, 0, c.ResSeq, "no residue number at all gives 0")
		assert.Equal(t, 10.0, c.BFactor)
	})

	t.Run("shuffled column order", func(t *testing.T) {
		t.Parallel()
		want := parseString(t, smallCIF(smallHeader, smallRows))
		tags := strings.Split(strings.TrimSpace(strings.TrimPrefix(smallHeader, "data_small\nloop_\n")), "\n")
		rng := rand.New(rand.NewPCG(7, 11))
		for round := range 5 {
			perm := rng.Perm(len(tags))
			var header strings.Builder
			header.WriteString("data_shuffled\nloop_\n")
			for _, p := range perm {
				header.WriteString(tags[p] + "\n")
			}
			rows := make([][]string, len(smallRows))
			for i, r := range smallRows {
				rows[i] = make([]string, len(r))
				for j, p := range perm {
					rows[i][j] = r[p]
				}
			}
			got := parseString(t, smallCIF(header.String(), rows))
			assert.Equal(t, want.Atoms, got.Atoms, "round %d, permutation %v", round, perm)
		}
	})

	t.Run("case-insensitive tags", func(t *testing.T) {
		t.Parallel()
		s := parseString(t, "DATA_x\nLOOP_\n_ATOM_SITE.CARTN_X\n_Atom_Site.cartn_y\n_atom_site.Cartn_Z\n_ATOM_SITE.AUTH_ASYM_ID\n1 2 3 Q\n")
		require.Len(t, s.Atoms, 1)
		assert.Equal(t, "Q", s.Atoms[0].Chain)
		assert.Equal(t, 3.0, s.Atoms[0].Z)
	})

	t.Run("multi-model", func(t *testing.T) {
		t.Parallel()
		rows := [][]string{}
		for m := 1; m <= 3; m++ {
			for _, r := range smallRows[:2] {
				r2 := append([]string(nil), r...)
				r2[len(r2)-1] = fmt.Sprint(m)
				r2[10] = fmt.Sprintf("%d.5", m)
				rows = append(rows, r2)
			}
		}
		s := parseString(t, smallCIF(smallHeader, rows))
		require.Len(t, s.Atoms, 6)
		for i, a := range s.Atoms {
			assert.Equal(t, i/2+1, a.Model)
			assert.Equal(t, float64(i/2+1)+0.5, a.X)
		}
		assert.Equal(t, []string{"A"}, s.Chains())
		assert.Equal(t, map[string]int{"A": 1}, s.ResidueCounts(), "summaries use the first model only")
	})

	t.Run("label fallback", func(t *testing.T) {
		t.Parallel()
		s := parseString(t, `data_label
loop_
_atom_site.group_PDB
_atom_site.label_atom_id
_atom_site.label_comp_id
_atom_site.label_asym_id
_atom_site.label_seq_id
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
ATOM N GLY C 12 0 0 0
ATOM CA GLY C 12 1 0 0
`)
		require.Len(t, s.Atoms, 2)
		for _, a := range s.Atoms {
			assert.Equal(t, "C", a.Chain)
			assert.Equal(t, 12, a.ResSeq)
			assert.Equal(t, "GLY", a.ResName)
		}
	})

	t.Run("auth preferred over label", func(t *testing.T) {
		t.Parallel()
		s := parseString(t, `data_auth
loop_
_atom_site.auth_seq_id
_atom_site.label_seq_id
_atom_site.label_asym_id
_atom_site.auth_asym_id
_atom_site.auth_atom_id
_atom_site.auth_comp_id
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
101 1 C X CA ALA 0 0 0
`)
		require.Len(t, s.Atoms, 1)
		assert.Equal(t, "X", s.Atoms[0].Chain)
		assert.Equal(t, 101, s.Atoms[0].ResSeq)
		assert.Equal(t, "CA", s.Atoms[0].Name, "auth_atom_id is used when label_atom_id is absent")
		assert.Equal(t, "ALA", s.Atoms[0].ResName)
	})

	t.Run("comments and text fields", func(t *testing.T) {
		t.Parallel()
		s := parseString(t, `# a leading comment
#\#CIF_1.1
data_c # comment after the block header
_struct.title
;A title
on two lines
;
_other.text
;
loop_
_atom_site.Cartn_x
1 2 3
;
loop_
_atom_site.label_atom_id # the name
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
# a comment between header and rows
CA 1 2 3 # trailing comment
;N
;
4 5 6
'CB#1' 7 8 9
`)
		assert.Equal(t, "A title\non two lines", s.Title)
		require.Len(t, s.Atoms, 3, "the loop inside the text field is text")
		assert.Equal(t, "CA", s.Atoms[0].Name)
		assert.Equal(t, "N", s.Atoms[1].Name, "a text field may be a value of the loop")
		assert.Equal(t, 4.0, s.Atoms[1].X)
		assert.Equal(t, "CB#1", s.Atoms[2].Name, "# inside quotes is not a comment")
	})

	t.Run("uncertainty suffix", func(t *testing.T) {
		t.Parallel()
		s := parseString(t, "data_u\nloop_\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n1.234(5) -2(1) 3e1\n")
		require.Len(t, s.Atoms, 1)
		assert.Equal(t, [3]float64{1.234, -2, 30}, [3]float64{s.Atoms[0].X, s.Atoms[0].Y, s.Atoms[0].Z})
	})

	t.Run("single atom as pairs", func(t *testing.T) {
		t.Parallel()
		s := parseString(t, `data_one
_atom_site.group_PDB HETATM
_atom_site.label_atom_id ZN
_atom_site.label_comp_id ZN
_atom_site.auth_asym_id Z
_atom_site.auth_seq_id 1
_atom_site.Cartn_x 1.5
_atom_site.Cartn_y -2.5
_atom_site.Cartn_z 3.5
_atom_site.type_symbol ZN
`)
		require.Len(t, s.Atoms, 1)
		assert.Equal(t, Atom{Serial: 1, Name: "ZN", ResName: "ZN", Chain: "Z", ResSeq: 1, X: 1.5, Y: -2.5, Z: 3.5,
			Occupancy: 1, Element: "ZN", HETATM: true, Model: 1}, s.Atoms[0])
	})

	t.Run("first data block only", func(t *testing.T) {
		t.Parallel()
		two := smallCIF(smallHeader, smallRows[:1]) + smallCIF(strings.Replace(smallHeader, "data_small", "data_second", 1), smallRows)
		s := parseString(t, two)
		assert.Len(t, s.Atoms, 1)
	})

	t.Run("windows line endings", func(t *testing.T) {
		t.Parallel()
		crlf := strings.ReplaceAll(smallCIF(smallHeader, smallRows), "\n", "\r\n")
		s := parseString(t, crlf)
		want := parseString(t, smallCIF(smallHeader, smallRows))
		assert.Equal(t, want.Atoms, s.Atoms)
	})
}

func TestParseCIFErrors(t *testing.T) {
	t.Parallel()

	t.Run("missing coordinate column", func(t *testing.T) {
		t.Parallel()
		header := strings.Replace(smallHeader, "_atom_site.Cartn_z\n", "", 1)
		rows := make([][]string, len(smallRows))
		for i, r := range smallRows {
			rows[i] = append(append([]string(nil), r[:12]...), r[13:]...)
		}
		err := parseErr(t, smallCIF(header, rows))
		assert.Contains(t, err.Error(), "Cartn_z")
		assert.Contains(t, err.Error(), "line 2:", "names the loop_ line")
	})

	t.Run("non-numeric coordinate", func(t *testing.T) {
		t.Parallel()
		rows := [][]string{smallRows[0], append([]string(nil), smallRows[1]...)}
		rows[1][11] = "2.2x"
		err := parseErr(t, smallCIF(smallHeader, rows))
		assert.Contains(t, err.Error(), "line 23:")
		assert.Contains(t, err.Error(), "Cartn_y")
		assert.Contains(t, err.Error(), `"2.2x"`)
	})

	t.Run("missing coordinate value", func(t *testing.T) {
		t.Parallel()
		rows := [][]string{append([]string(nil), smallRows[0]...)}
		rows[0][10] = "?"
		err := parseErr(t, smallCIF(smallHeader, rows))
		assert.Contains(t, err.Error(), "line 22:")
		assert.Contains(t, err.Error(), "Cartn_x is missing")
	})

	t.Run("hex and NaN are not numbers", func(t *testing.T) {
		t.Parallel()
		for _, v := range []string{"0x1p3", "NaN", "Inf", "1_000"} {
			err := parseErr(t, "data_x\nloop_\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n1 2 "+v+"\n")
			assert.Contains(t, err.Error(), "not a number", v)
		}
	})

	t.Run("non-integer residue number", func(t *testing.T) {
		t.Parallel()
		rows := [][]string{append([]string(nil), smallRows[0]...)}
		rows[0][7] = "1A"
		err := parseErr(t, smallCIF(smallHeader, rows))
		assert.Contains(t, err.Error(), "line 22:")
		assert.Contains(t, err.Error(), "residue number")
	})

	t.Run("garbage", func(t *testing.T) {
		t.Parallel()
		cases := map[string]string{
			"empty":        "",
			"only comment": "# nothing here\n",
			"prose":        "hello world\n",
			"pdb":          "HEADER    TEST\nATOM      1  N   MET A   1      11.104   6.134  -6.504  1.00  0.00           N\n",
			"json":         `{"atoms": []}`,
			"binary":       "\x00\x01\x02\xff\xfe data_",
		}
		for name, in := range cases {
			err := parseErr(t, in)
			assert.Contains(t, err.Error(), "mmCIF", name)
		}
	})

	t.Run("no atom_site loop", func(t *testing.T) {
		t.Parallel()
		err := parseErr(t, "data_x\n_entry.id x\nloop_\n_atom_type.symbol\nC\nN\n")
		assert.Contains(t, err.Error(), "no _atom_site loop")
	})

	t.Run("syntax errors", func(t *testing.T) {
		t.Parallel()
		cases := map[string]struct{ in, want string }{
			"unterminated quote":      {"data_x\n_entry.id 'abc\n", "line 2: unterminated quoted value"},
			"unterminated text field": {"data_x\n_entry.id\n;abc\n", "line 3: text field"},
			"value without tag":       {"data_x\n_entry.id x y\n", "line 2: value \"y\""},
			"tag without value":       {"data_x\n_entry.id\n", "line 2: tag _entry.id has no value"},
			"tag then tag":            {"data_x\n_entry.id\n_struct.title t\n", "line 2: tag _entry.id has no value"},
			"loop without tags":       {"data_x\nloop_\n1 2\n", "line 2: loop_ without tags"},
			"empty atom_site loop":    {"data_x\nloop_\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n#\n", "no rows"},
			"incomplete row":          {"data_x\nloop_\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n1 2 3\n4 5\n", "line 7: _atom_site loop ends with an incomplete row"},
		}
		for name, c := range cases {
			err := parseErr(t, c.in)
			assert.Contains(t, err.Error(), c.want, name)
		}
	})
}
