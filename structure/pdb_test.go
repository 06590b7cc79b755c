package structure

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// pdbRecord is an ATOM, HETATM or TER record read back with fixed column
// slicing, as a strict PDB reader would.
type pdbRecord struct {
	record  string
	serial  int
	name    string // columns 13-16, untrimmed
	altLoc  string
	resName string
	chain   string
	resSeq  int
	iCode   string
	x, y, z float64
	occ, b  float64
	element string
}

// readPDB splits PDB text into records, checking that every line has 80
// columns. It returns the coordinate and TER records and the other lines.
func readPDB(t *testing.T, data []byte) (recs []pdbRecord, other []string) {
	t.Helper()
	text := string(data)
	require.True(t, strings.HasSuffix(text, "\n"))
	col := func(line string, from, to int) string { return line[from-1 : to] }
	num := func(s string) float64 {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		require.NoError(t, err, s)
		return v
	}
	integer := func(s string) int {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		require.NoError(t, err, s)
		return v
	}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		require.Len(t, line, 80, "line %q", line)
		switch rec := col(line, 1, 6); rec {
		case "ATOM  ", "HETATM":
			recs = append(recs, pdbRecord{
				record:  rec,
				serial:  integer(col(line, 7, 11)),
				name:    col(line, 13, 16),
				altLoc:  strings.TrimSpace(col(line, 17, 17)),
				resName: strings.TrimSpace(col(line, 18, 20)),
				chain:   strings.TrimSpace(col(line, 22, 22)),
				resSeq:  integer(col(line, 23, 26)),
				iCode:   strings.TrimSpace(col(line, 27, 27)),
				x:       num(col(line, 31, 38)),
				y:       num(col(line, 39, 46)),
				z:       num(col(line, 47, 54)),
				occ:     num(col(line, 55, 60)),
				b:       num(col(line, 61, 66)),
				element: strings.TrimSpace(col(line, 77, 78)),
			})
			assert.Equal(t, " ", col(line, 12, 12))
			assert.Equal(t, " ", col(line, 21, 21))
			assert.Equal(t, "   ", col(line, 28, 30))
			assert.Equal(t, strings.Repeat(" ", 10), col(line, 67, 76))
			assert.Equal(t, "  ", col(line, 79, 80))
		case "TER   ":
			recs = append(recs, pdbRecord{
				record:  rec,
				serial:  integer(col(line, 7, 11)),
				resName: strings.TrimSpace(col(line, 18, 20)),
				chain:   strings.TrimSpace(col(line, 22, 22)),
				resSeq:  integer(col(line, 23, 26)),
				iCode:   strings.TrimSpace(col(line, 27, 27)),
			})
			assert.Equal(t, strings.Repeat(" ", 53), col(line, 28, 80))
		default:
			other = append(other, strings.TrimRight(line, " "))
		}
	}
	return recs, other
}

// remarkMaps reads the REMARK 250 renaming lines back.
func remarkMaps(other []string) (chains, resNames map[string]string) {
	chains, resNames = map[string]string{}, map[string]string{}
	for _, l := range other {
		if from, to, ok := strings.Cut(strings.TrimPrefix(l, "REMARK 250   CHAIN "), " WRITTEN AS "); ok && strings.HasPrefix(l, "REMARK 250   CHAIN ") {
			if u, err := strconv.Unquote(from); err == nil {
				from = u
			}
			chains[from] = to
		}
		if from, to, ok := strings.Cut(strings.TrimPrefix(l, "REMARK 250   RESIDUE NAME "), " WRITTEN AS "); ok && strings.HasPrefix(l, "REMARK 250   RESIDUE NAME ") {
			resNames[from] = to
		}
	}
	return chains, resNames
}

// rounded is v as it reads back from a PDB column with prec decimals.
func rounded(t *testing.T, v float64, prec int) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'f', prec, 64), 64)
	require.NoError(t, err)
	return r
}

// checkRoundTrip writes s and checks that the PDB text, read back with
// fixed columns, holds the atoms of s in order, with TER records after the
// last ATOM record of each chain of each model and serials counting 1, 2, ...
// within each model.
func checkRoundTrip(t *testing.T, s *Structure) {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, WritePDB(&out, s))
	recs, other := readPDB(t, out.Bytes())
	chainMap, resMap := remarkMaps(other)
	mapped := func(m map[string]string, k string) string {
		if v, ok := m[k]; ok {
			return v
		}
		return k
	}

	models := splitModels(s.Atoms)
	assert.Equal(t, len(models) > 1, strings.Contains(out.String(), "\nMODEL     "))
	assert.True(t, strings.HasSuffix(out.String(), "END"+strings.Repeat(" ", 77)+"\n"))
	pos := 0
	for _, m := range models {
		lastAtom := map[string]int{}
		for i, k := range m.atoms {
			if !s.Atoms[k].HETATM {
				lastAtom[s.Atoms[k].Chain] = i
			}
		}
		serial := 1
		for i, k := range m.atoms {
			a := s.Atoms[k]
			require.Less(t, pos, len(recs))
			r := recs[pos]
			pos++
			want := "ATOM  "
			if a.HETATM {
				want = "HETATM"
			}
			assert.Equal(t, want, r.record)
			assert.Equal(t, serial, r.serial)
			serial++
			assert.Equal(t, a.Name, strings.TrimSpace(r.name))
			assert.Equal(t, a.AltLoc, r.altLoc)
			assert.Equal(t, mapped(resMap, a.ResName), r.resName)
			assert.Equal(t, mapped(chainMap, a.Chain), r.chain)
			assert.Equal(t, a.ResSeq, r.resSeq)
			assert.Equal(t, a.ICode, r.iCode)
			assert.Equal(t, rounded(t, a.X, 3), r.x)
			assert.Equal(t, rounded(t, a.Y, 3), r.y)
			assert.Equal(t, rounded(t, a.Z, 3), r.z)
			assert.Equal(t, rounded(t, a.Occupancy, 2), r.occ)
			assert.Equal(t, rounded(t, a.BFactor, 2), r.b)
			assert.Equal(t, strings.ToUpper(a.Element), r.element)
			if j, ok := lastAtom[a.Chain]; ok && j == i {
				require.Less(t, pos, len(recs))
				ter := recs[pos]
				pos++
				assert.Equal(t, pdbRecord{record: "TER   ", serial: serial, resName: r.resName, chain: r.chain,
					resSeq: r.resSeq, iCode: r.iCode}, ter)
				serial++
			}
		}
	}
	assert.Equal(t, len(recs), pos, "no records beyond the atoms and their TERs")

	// Every distinct chain keeps a distinct PDB chain id.
	seen := map[string]string{}
	for _, c := range s.Chains() {
		p := mapped(chainMap, c)
		assert.LessOrEqual(t, len(p), 1)
		if prev, dup := seen[p]; dup {
			t.Errorf("chains %q and %q both written as %q", prev, c, p)
		}
		seen[p] = c
	}
}

// randomStructure builds a structure with awkward but representable values.
func randomStructure(rng *rand.Rand) *Structure {
	names := []struct{ name, element string }{
		{"N", "N"}, {"CA", "C"}, {"C", "C"}, {"O", "O"}, {"CB", "C"}, {"HD21", "H"},
		{"CA", "CA"}, {"FE", "Fe"}, {"CL12", "CL"}, {"O5'", "O"}, {"C13", "C"}, {"", ""},
	}
	resNames := []string{"ALA", "GLY", "LIG1", "LIG2", "HOH", "A", "DC", "MSE", "A1AAA"}
	chainIDs := []string{"A", "B", "AA", "chain1", "z", "", "9", "Ab"}
	s := &Structure{Title: "random"}
	nModels := 1 + rng.IntN(3)
	nChains := 1 + rng.IntN(len(chainIDs))
	chains := rng.Perm(len(chainIDs))[:nChains]
	serial := 1
	for m := 1; m <= nModels; m++ {
		for _, ci := range chains {
			het := rng.IntN(3) == 0
			resSeq := rng.IntN(10999) - 999
			for range 1 + rng.IntN(4) {
				resName := resNames[rng.IntN(len(resNames))]
				resSeq = min(resSeq+1, 9999)
				for range 1 + rng.IntN(5) {
					n := names[rng.IntN(len(names))]
					a := Atom{
						Serial: serial, Name: n.name, ResName: resName, Chain: chainIDs[ci], ResSeq: resSeq,
						X:         -999.999 + rng.Float64()*10999.99,
						Y:         rng.NormFloat64() * 50,
						Z:         rng.Float64() - 0.5,
						Occupancy: rng.Float64(),
						BFactor:   rng.Float64() * 100,
						Element:   n.element,
						HETATM:    het || rng.IntN(10) == 0,
						Model:     m,
					}
					if rng.IntN(5) == 0 {
						a.AltLoc = "B"
					}
					if rng.IntN(7) == 0 {
						a.ICode = "C"
					}
					s.Atoms = append(s.Atoms, a)
					serial++
				}
			}
		}
	}
	return s
}

func TestWritePDB(t *testing.T) {
	t.Parallel()

	t.Run("golden", func(t *testing.T) {
		t.Parallel()
		got, err := CIFToPDB(readComplex(t))
		require.NoError(t, err)
		if *update {
			require.NoError(t, os.WriteFile("testdata/complex.pdb", got, 0o644))
		}
		want, err := os.ReadFile("testdata/complex.pdb")
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got), "run go test ./structure/ -run TestWritePDB/golden -update to regenerate")
	})

	t.Run("round trip complex", func(t *testing.T) {
		t.Parallel()
		s, err := ParseCIF(bytes.NewReader(readComplex(t)))
		require.NoError(t, err)
		checkRoundTrip(t, s)
	})

	t.Run("round trip random", func(t *testing.T) {
		t.Parallel()
		rng := rand.New(rand.NewPCG(2025, 6))
		for i := range 200 {
			s := randomStructure(rng)
			t.Run(fmt.Sprint(i), func(t *testing.T) { checkRoundTrip(t, s) })
		}
	})

	t.Run("multi-model records", func(t *testing.T) {
		t.Parallel()
		s := &Structure{}
		for m := 1; m <= 2; m++ {
			s.Atoms = append(s.Atoms,
				Atom{Name: "N", ResName: "GLY", Chain: "A", ResSeq: 1, Element: "N", Occupancy: 1, Model: m},
				Atom{Name: "CA", ResName: "GLY", Chain: "A", ResSeq: 1, Element: "C", Occupancy: 1, Model: m},
				Atom{Name: "C1", ResName: "LIG", Chain: "B", ResSeq: 1, Element: "C", Occupancy: 1, HETATM: true, Model: m},
			)
		}
		var out bytes.Buffer
		require.NoError(t, WritePDB(&out, s))
		var kinds []string
		for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
			n := 11 // record name and serial
			if strings.HasPrefix(l, "MODEL") {
				n = 14
			}
			kinds = append(kinds, strings.TrimSpace(l[:n]))
		}
		assert.Equal(t, []string{
			"MODEL        1", "ATOM      1", "ATOM      2", "TER       3", "HETATM    4", "ENDMDL",
			"MODEL        2", "ATOM      1", "ATOM      2", "TER       3", "HETATM    4", "ENDMDL",
			"END",
		}, kinds)
		checkRoundTrip(t, s)
	})

	t.Run("atom name alignment", func(t *testing.T) {
		t.Parallel()
		cases := []struct{ name, element, want string }{
			{"CA", "C", " CA "},
			{"CA", "CA", "CA  "},
			{"FE", "Fe", "FE  "},
			{"N", "N", " N  "},
			{"C13", "C", " C13"},
			{"HD21", "H", "HD21"},
			{"CL12", "CL", "CL12"},
			{"O5'", "O", " O5'"},
			{"X", "", " X  "},
		}
		for _, c := range cases {
			line, err := atomRecord(1, &Atom{Name: c.name, Element: c.element}, "A", "UNK")
			require.NoError(t, err)
			assert.Equal(t, c.want, line[12:16], "%s/%s", c.name, c.element)
		}
	})

	t.Run("number formats", func(t *testing.T) {
		t.Parallel()
		line, err := atomRecord(7, &Atom{Name: "CA", ResName: "ALA", ResSeq: -999, X: -999.999, Y: 9999.999,
			Z: -0.0004, Occupancy: 1, BFactor: 999.99, Element: "C"}, "A", "ALA")
		require.NoError(t, err)
		assert.Equal(t, "ATOM      7  CA  ALA A-999    -999.9999999.999   0.000  1.00999.99           C", line)
	})

	t.Run("chain mapping", func(t *testing.T) {
		t.Parallel()
		var s Structure
		for i, c := range []string{"AAA", "B", "BB", "C1", "AAA", "C"} {
			s.Atoms = append(s.Atoms, Atom{Name: "CA", ResName: "ALA", Chain: c, ResSeq: i + 1, Element: "C", Occupancy: 1})
		}
		var out bytes.Buffer
		require.NoError(t, WritePDB(&out, &s))
		_, other := readPDB(t, out.Bytes())
		assert.Equal(t, []string{
			"REMARK 250",
			"REMARK 250 MMCIF IDENTIFIERS RENAMED TO FIT PDB COLUMNS:",
			"REMARK 250   CHAIN AAA WRITTEN AS A",
			"REMARK 250   CHAIN BB WRITTEN AS D",
			"REMARK 250   CHAIN C1 WRITTEN AS E",
			"END",
		}, other, "B and C keep their ids; AAA takes A, then BB and C1 the next unused letters")
		checkRoundTrip(t, &s)

		var again bytes.Buffer
		require.NoError(t, WritePDB(&again, &s))
		assert.Equal(t, out.String(), again.String(), "deterministic")
	})

	t.Run("62 long chains fit, 63 do not", func(t *testing.T) {
		t.Parallel()
		build := func(n int) *Structure {
			s := &Structure{}
			for i := range n {
				s.Atoms = append(s.Atoms, Atom{Name: "CA", ResName: "ALA", Chain: fmt.Sprintf("C%02d", i), ResSeq: 1, Element: "C"})
			}
			return s
		}
		var out bytes.Buffer
		require.NoError(t, WritePDB(&out, build(62)))
		recs, other := readPDB(t, out.Bytes())
		assert.Equal(t, "9", recs[len(recs)-1].chain, "the 62nd chain takes the last character, 9")
		chainMap, _ := remarkMaps(other)
		assert.Len(t, chainMap, 62)

		out.Reset()
		err := WritePDB(&out, build(63))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "63 chains")
		assert.Zero(t, out.Len(), "nothing is written on error")
	})

	t.Run("many one-character chains need no mapping", func(t *testing.T) {
		t.Parallel()
		s := &Structure{}
		for c := byte('!'); c <= '~'; c++ {
			s.Atoms = append(s.Atoms, Atom{Name: "O", ResName: "HOH", Chain: string(c), Element: "O", HETATM: true})
		}
		require.Greater(t, len(s.Chains()), 62)
		checkRoundTrip(t, s)
	})

	t.Run("too many atoms", func(t *testing.T) {
		t.Parallel()
		atoms := make([]Atom, 100000)
		for i := range atoms {
			atoms[i] = Atom{Name: "O", ResName: "HOH", Chain: "W", ResSeq: i%9999 + 1, Element: "O", HETATM: true, Model: 1}
		}
		var out bytes.Buffer
		err := WritePDB(&out, &Structure{Atoms: atoms})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "99,999")
		assert.Zero(t, out.Len())

		require.NoError(t, WritePDB(&out, &Structure{Atoms: atoms[:99999]}), "99,999 atoms fit")
		assert.Contains(t, out.String(), "HETATM99999  O   HOH W")

		atoms[0].HETATM = false
		out.Reset()
		err = WritePDB(&out, &Structure{Atoms: atoms[:99999]})
		require.Error(t, err, "99,999 atoms plus one TER record need 100,000 serial numbers")
		assert.Contains(t, err.Error(), "1 TER")
	})

	t.Run("refused values", func(t *testing.T) {
		t.Parallel()
		base := Atom{Name: "CA", ResName: "ALA", Chain: "A", ResSeq: 1, Element: "C", Occupancy: 1, Model: 1}
		cases := map[string]struct {
			edit func(*Atom)
			want string
		}{
			"residue number 10000": {func(a *Atom) { a.ResSeq = 10000 }, "residue number 10000"},
			"residue number -1000": {func(a *Atom) { a.ResSeq = -1000 }, "residue number -1000"},
			"x 10000":              {func(a *Atom) { a.X = 10000 }, "x coordinate"},
			"y -1000":              {func(a *Atom) { a.Y = -1000 }, "y coordinate"},
			"rounds up to 10000":   {func(a *Atom) { a.Z = 9999.9996 }, "z coordinate"},
			"occupancy 1000":       {func(a *Atom) { a.Occupancy = 1000 }, "occupancy"},
			"B-factor -100":        {func(a *Atom) { a.BFactor = -100 }, "B-factor"},
			"atom name of 5":       {func(a *Atom) { a.Name = "CA123" }, "atom name"},
			"atom name with space": {func(a *Atom) { a.Name = "C A" }, "atom name"},
			"element of 3":         {func(a *Atom) { a.Element = "XYZ" }, "element"},
			"alt loc of 2":         {func(a *Atom) { a.AltLoc = "AB" }, "alternate location"},
			"insertion code of 2":  {func(a *Atom) { a.ICode = "AB" }, "insertion code"},
			"residue name spaces":  {func(a *Atom) { a.ResName = "MY LIG" }, "residue name"},
			"residue name unicode": {func(a *Atom) { a.ResName = "LÏG" }, "residue name"},
		}
		for name, c := range cases {
			a := base
			c.edit(&a)
			var out bytes.Buffer
			err := WritePDB(&out, &Structure{Atoms: []Atom{base, a}})
			if assert.Error(t, err, name) {
				assert.Contains(t, err.Error(), c.want, name)
			}
			assert.Zero(t, out.Len(), name)
		}

		err := WritePDB(&bytes.Buffer{}, &Structure{Atoms: []Atom{{Model: 1}, {Model: 10000}}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "model number 10000")

		require.Error(t, WritePDB(&bytes.Buffer{}, nil))
	})

	t.Run("title wrapping", func(t *testing.T) {
		t.Parallel()
		title := strings.Repeat("protein ligand complex ", 8) + strings.Repeat("x", 100) + "\tend\nä"
		var out bytes.Buffer
		require.NoError(t, WritePDB(&out, &Structure{Title: title}))
		_, other := readPDB(t, out.Bytes())
		require.Len(t, other, 6)
		assert.Equal(t, "END", other[5])
		assert.Equal(t, "TITLE     protein ligand complex protein ligand complex protein ligand complex", other[0])
		assert.Equal(t, "TITLE    2 protein ligand complex protein ligand complex protein ligand complex", other[1])
		assert.Equal(t, "TITLE    3 protein ligand complex protein ligand complex", other[2])
		assert.Equal(t, "TITLE    4 "+strings.Repeat("x", 69), other[3], "a word longer than a line is split")
		assert.Equal(t, "TITLE    5 "+strings.Repeat("x", 31)+" end ?", other[4])
	})

	t.Run("empty structure", func(t *testing.T) {
		t.Parallel()
		var out bytes.Buffer
		require.NoError(t, WritePDB(&out, &Structure{}))
		assert.Equal(t, "END"+strings.Repeat(" ", 77)+"\n", out.String())
	})

	t.Run("CIFToPDB error", func(t *testing.T) {
		t.Parallel()
		_, err := CIFToPDB([]byte("not a cif"))
		require.Error(t, err)
	})
}
