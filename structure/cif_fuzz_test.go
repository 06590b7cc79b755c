package structure

import (
	"bytes"
	"math"
	"os"
	"regexp"
	"strings"
	"testing"
)

// lineRef is how ParseCIF names the line of a problem.
var lineRef = regexp.MustCompile(`^structure: (line \d+|reading line \d+|no mmCIF data block|mmCIF data block has no _atom_site)`)

// FuzzParseCIF feeds arbitrary text to ParseCIF and CIFToPDB and checks
// what they promise beyond not panicking: a refusal says "structure:" and
// names the line (or says there is no data block or no _atom_site table);
// an accepted structure has at least one atom, finite coordinates, models
// of at least 1 unless written, and summaries consistent with its atoms;
// and whatever CIFToPDB writes is printable ASCII in lines of exactly 80
// columns, with one ATOM/HETATM record per atom and a final END.
func FuzzParseCIF(f *testing.F) {
	if complex, err := os.ReadFile("testdata/complex.cif"); err == nil {
		f.Add(string(complex))
	}
	for _, s := range []string{
		smallCIF(smallHeader, smallRows),
		"data_x\nloop_\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n_atom_site.auth_asym_id\n1 2 3 'long chain'\n",
		"data_x\n_struct.title\n;t\n;\n_atom_site.Cartn_x 1\n_atom_site.Cartn_y 2\n_atom_site.Cartn_z 3\n",
		"data_x\nloop_\n_atom_site.group_PDB\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n_atom_site.label_atom_id\nHETATM 1e3 -2.5 3 \"O5'\"\nATOM 1 2 3 CA\n",
		"data_x\nloop_\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n_atom_site.pdbx_PDB_model_num\n1 2 3 1\n4 5 6 2\n",
		"data_x\nloop_\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n1 2\n",
		"data_x\nloop_\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n1 2 NaN\n",
		"data_x\nloop_\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n_atom_site.Cartn_z\n123456789 2 3\n",
		"data_x\n_a 'b''\n",
		";\n",
		"# only a comment\n",
		"data_x\nloop_\n_atom_site.Cartn_x\n_atom_site.Cartn_y\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseCIF(strings.NewReader(in))
		if err != nil {
			if s != nil {
				t.Fatalf("structure returned with error %v", err)
			}
			if !lineRef.MatchString(err.Error()) {
				t.Fatalf("error %q does not name a line", err)
			}
			if _, err2 := CIFToPDB([]byte(in)); err2 == nil {
				t.Fatalf("CIFToPDB converted what ParseCIF refuses (%v)", err)
			}
			return
		}
		if len(s.Atoms) == 0 {
			t.Fatalf("accepted a structure without atoms")
		}
		for i, a := range s.Atoms {
			for _, v := range []float64{a.X, a.Y, a.Z, a.Occupancy, a.BFactor} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("atom %d has a non-finite value: %+v", i, a)
				}
			}
		}
		checkSummaries(t, s)

		out, err := CIFToPDB([]byte(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "structure: ") {
				t.Fatalf("CIFToPDB error %q does not say structure:", err)
			}
			return
		}
		checkPDBText(t, out, len(s.Atoms))
	})
}

// checkSummaries compares Chains, ResidueCounts and Ligands with the atoms.
func checkSummaries(t *testing.T, s *Structure) {
	t.Helper()
	chains := s.Chains()
	inChains := map[string]bool{}
	for _, c := range chains {
		if inChains[c] {
			t.Fatalf("chain %q listed twice", c)
		}
		inChains[c] = true
	}
	for _, a := range s.Atoms {
		if !inChains[a.Chain] {
			t.Fatalf("chain %q of an atom is not listed", a.Chain)
		}
	}
	first := s.Atoms[0].Model
	atomsInFirst, hetInFirst := 0, 0
	for _, a := range s.Atoms {
		if a.Model == first {
			atomsInFirst++
			if a.HETATM && !isWater(a.ResName) {
				hetInFirst++
			}
		}
	}
	residues := 0
	for c, n := range s.ResidueCounts() {
		if !inChains[c] || n < 1 {
			t.Fatalf("residue count %d for chain %q", n, c)
		}
		residues += n
	}
	if residues < 1 || residues > atomsInFirst {
		t.Fatalf("%d residues for %d atoms in the first model", residues, atomsInFirst)
	}
	ligandAtoms := 0
	for _, l := range s.Ligands() {
		ligandAtoms += l.Atoms
	}
	if ligandAtoms != hetInFirst {
		t.Fatalf("ligands hold %d atoms, the first model has %d non-water HETATM", ligandAtoms, hetInFirst)
	}
}

// checkPDBText checks the fixed-column form of a PDB file of n atoms.
func checkPDBText(t *testing.T, out []byte, n int) {
	t.Helper()
	if !bytes.HasSuffix(out, []byte("\n")) {
		t.Fatalf("PDB output does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	atoms := 0
	for i, l := range lines {
		if len(l) != pdbLineWidth {
			t.Fatalf("PDB line %d is %d columns: %q", i+1, len(l), l)
		}
		for _, c := range []byte(l) {
			if c < ' ' || c > '~' {
				t.Fatalf("PDB line %d has byte %#x: %q", i+1, c, l)
			}
		}
		if strings.HasPrefix(l, "ATOM  ") || strings.HasPrefix(l, "HETATM") {
			atoms++
		}
	}
	if atoms != n {
		t.Fatalf("%d ATOM/HETATM records for %d atoms", atoms, n)
	}
	if last := lines[len(lines)-1]; strings.TrimRight(last, " ") != "END" {
		t.Fatalf("last PDB line is %q, not END", last)
	}
}
