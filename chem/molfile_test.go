package chem

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// molfileV2000 builds a V2000 molfile from atom lines "SYM ccc vvv" (charge and
// valence codes as the atom block holds them), bond lines "a b t" and
// property lines.
func molfileV2000(title string, atoms, bonds []string, props ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n  -ISIS-  01152514352D\n\n%3d%3d  0  0  0  0  0  0  0  0999 V2000\n", title, len(atoms), len(bonds))
	for _, a := range atoms {
		f := strings.Fields(a)
		for len(f) < 3 {
			f = append(f, "0")
		}
		var ccc, vvv int
		fmt.Sscan(f[1], &ccc)
		fmt.Sscan(f[2], &vvv)
		fmt.Fprintf(&b, "    0.0000    0.0000    0.0000 %-3s 0%3d  0  0  0%3d  0  0  0  0  0  0\n", f[0], ccc, vvv)
	}
	for _, bd := range bonds {
		var x, y, t int
		fmt.Sscan(bd, &x, &y, &t)
		fmt.Fprintf(&b, "%3d%3d%3d  0\n", x, y, t)
	}
	for _, p := range props {
		b.WriteString(p + "\n")
	}
	b.WriteString("M  END\n")
	return b.String()
}

// molfileSummary describes a molecule atom by atom: element, "ar" when aromatic,
// "[" when bracketed, its hydrogens, charge and isotope.
func molfileSummary(m *Molecule) string {
	var out []string
	for _, a := range m.Atoms {
		s := a.Element
		if a.Aromatic {
			s += "ar"
		}
		if a.Bracket {
			s += "["
		}
		s += strings.Repeat("H", a.HCount)
		if a.Charge != 0 {
			s += fmt.Sprintf("%+d", a.Charge)
		}
		if a.Isotope != 0 {
			s += fmt.Sprintf("@%d", a.Isotope)
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestParseMolfile(t *testing.T) {
	t.Parallel()
	benzeneArom := []string{"1 2 4", "2 3 4", "3 4 4", "4 5 4", "5 6 4", "6 1 4"}
	tests := []struct {
		name, in, title, want string
		bonds                 int
	}{
		{"title and implicit hydrogens", molfileV2000("  ethanol  ", []string{"C", "C", "O"}, []string{"1 2 1", "2 3 1"}), "ethanol", "CHHH CHH OH", 2},
		{"atom-block charge codes", molfileV2000("", []string{"N 3", "O 5", "Na 3 15"}, nil), "", "N[HHHH+1 O[H-1 Na[+1", 0},
		{"M  CHG replaces every atom-block charge", molfileV2000("", []string{"N 3", "O 5"}, nil, "M  CHG  1   2  -1"), "", "NHHH O[H-1", 0},
		{"M  ISO and D", molfileV2000("", []string{"C", "D"}, []string{"1 2 1"}, "M  ISO  1   1  13"), "", "C[HHH@13 H[@2", 1},
		{"drawn hydrogens folded", molfileV2000("", []string{"O", "H", "H"}, []string{"1 2 1", "1 3 1"}), "", "OHH", 0},
		{"aromatic bond type 4", molfileV2000("", []string{"C", "C", "C", "C", "C", "N"}, benzeneArom), "", "CarH CarH CarH CarH CarH Nar", 6},
		{"pyrrole N keeps its drawn H", molfileV2000("", []string{"C", "C", "C", "C", "N", "H"},
			[]string{"1 2 4", "2 3 4", "3 4 4", "4 5 4", "5 1 4", "5 6 1"}), "", "CarH CarH CarH CarH Nar[H", 5},
		{"valence field", molfileV2000("", []string{"C 0 2"}, nil), "", "C[HH", 0},
		{"M  RAD", molfileV2000("", []string{"C", "C"}, []string{"1 2 1"}, "M  RAD  1   2   2"), "", "CHHH C[HH", 1},
		{"charge code 4 is ignored, as RDKit ignores it", molfileV2000("", []string{"C 4"}, nil), "", "CHHHH", 0},
		{"V3000 with continuation and blocks", "t\n\n\n  0  0  0     0  0            999 V3000\n" +
			"M  V30 BEGIN CTAB\nM  V30 COUNTS 3 2 0 0 0\nM  V30 BEGIN ATOM\n" +
			"M  V30 10 N 0 0 0 0 -\nM  V30 CHG=1\nM  V30 20 C 0 0 0 0 MASS=13\nM  V30 30 O 0 0 0 0 CHG=-1\nM  V30 END ATOM\n" +
			"M  V30 BEGIN BOND\nM  V30 1 1 10 20\nM  V30 2 1 20 30 CFG=1\nM  V30 END BOND\n" +
			"M  V30 BEGIN SGROUP\nM  V30 1 SUP 0 ATOMS=(1 1) LABEL=\"x y\"\nM  V30 END SGROUP\nM  V30 END CTAB\nM  END\n", "t", "N[HHH+1 C[HH@13 O[-1", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mf, err := ParseMolfile(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.title, mf.Title)
			assert.Equal(t, tt.want, molfileSummary(mf.Molecule))
			assert.Len(t, mf.Molecule.Bonds, tt.bonds)
		})
	}
}

func TestParseMolfile_Refusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		line     int
		reason   string
	}{
		{"short", "a\nb\n", 2, "ends before the counts line"},
		{"truncated atom block", molfileV2000("", []string{"C", "C"}, []string{"1 2 1"})[:120], 5, "ends within the atom and bond blocks"},
		{"no M  END", strings.TrimSuffix(molfileV2000("", []string{"C"}, nil), "M  END\n"), 5, `has no "M  END"`},
		{"query atom", molfileV2000("", []string{"C", "Q"}, []string{"1 2 1"}), 6, "atom 2 is a query atom"},
		{"unknown element", molfileV2000("", []string{"Xx"}, nil), 5, `unknown element "Xx"`},
		{"query bond", molfileV2000("", []string{"C", "C"}, []string{"1 2 8"}), 7, "query type 8"},
		{"bond to a missing atom", molfileV2000("", []string{"C"}, []string{"1 2 1"}), 6, "there are 1 atoms"},
		{"bond twice", molfileV2000("", []string{"C", "C"}, []string{"1 2 1", "2 1 1"}), 8, "a second time (first on line 7)"},
		{"bad charge code", molfileV2000("", []string{"C 9"}, nil), 5, "charge code 9"},
		{"M  CHG to a missing atom", molfileV2000("", []string{"C"}, nil, "M  CHG  1   3   1"), 6, "atom 3 does not exist"},
		{"valence", molfileV2000("", []string{"C", "N", "C", "C", "C"}, []string{"1 2 1", "2 3 1", "2 4 1", "2 5 1"}), 6, "nitrogen (atom 2) has valence 4"},
		{"aromatic outside a ring", molfileV2000("", []string{"C", "C"}, []string{"1 2 4"}), 5, "outside a ring"},
		{"pyrrole without H", molfileV2000("", []string{"C", "C", "C", "C", "N"}, []string{"1 2 4", "2 3 4", "3 4 4", "4 5 4", "5 1 4"}), 5, "cannot kekulize"},
		{"V3000 atom list", "t\n\n\n  0  0  0     0  0            999 V3000\nM  V30 BEGIN CTAB\nM  V30 COUNTS 1 0 0 0 0\nM  V30 BEGIN ATOM\nM  V30 1 [N,O] 0 0 0 0\n", 8, "atom list"},
		{"V3000 counts disagree", "t\n\n\n  0  0  0     0  0            999 V3000\nM  V30 BEGIN CTAB\nM  V30 COUNTS 2 0 0 0 0\nM  V30 BEGIN ATOM\nM  V30 1 C 0 0 0 0\nM  V30 END ATOM\nM  V30 END CTAB\nM  END\n", 10, "COUNTS announced 2 atoms"},
		{"V3000 unterminated", "t\n\n\n  0  0  0     0  0            999 V3000\nM  V30 BEGIN CTAB\nM  V30 COUNTS 1 0 0 0 0\nM  V30 BEGIN ATOM\n", 7, "ends within the V3000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseMolfile(tt.in)
			var me *MolfileError
			require.True(t, errors.As(err, &me), "want *MolfileError, got %T: %v", err, err)
			assert.Equal(t, tt.line, me.Line, "%v", err)
			assert.Contains(t, me.Reason, tt.reason)
		})
	}
}

func TestParseMolfile_Limits(t *testing.T) {
	t.Parallel()
	atoms := make([]string, MaxHeavyAtoms+1)
	for i := range atoms {
		atoms[i] = "C"
	}
	_, err := ParseMolfile(molfileV2000("", atoms, nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "too many heavy atoms: 501")
}
