package chem

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// formula returns the Hill-order molecular formula of m, counting implicit,
// bracket and explicit hydrogens, e.g. "C9H8O4".
func formula(m *Molecule) string {
	counts := map[string]int{}
	for _, a := range m.Atoms {
		counts[a.Element]++
		counts["H"] += a.HCount
	}
	var b strings.Builder
	write := func(el string) {
		if n := counts[el]; n > 0 {
			b.WriteString(el)
			if n > 1 {
				fmt.Fprint(&b, n)
			}
		}
		delete(counts, el)
	}
	if counts["C"] > 0 {
		write("C")
		write("H")
	}
	rest := make([]string, 0, len(counts))
	for el := range counts {
		rest = append(rest, el)
	}
	sort.Strings(rest)
	for _, el := range rest {
		write(el)
	}
	return b.String()
}

func TestParseSMILES_ValidDrugs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		smiles        string
		formula       string
		heavy         int
		mw            float64
		hbd, hba      int
		rotatable     int
		rings         int
		aromaticRings int
		charge        int
		components    int
	}{
		// Kekulé-written rings are not perceived as aromatic.
		{"aspirin", "CC(=O)OC1=CC=CC=C1C(=O)O", "C9H8O4", 13, 180.16, 1, 4, 3, 1, 0, 0, 1},
		{"ibuprofen", "CC(C)CC1=CC=C(C=C1)C(C)C(=O)O", "C13H18O2", 15, 206.28, 1, 2, 4, 1, 0, 0, 1},
		{"caffeine kekule", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C", "C8H10N4O2", 14, 194.19, 0, 6, 0, 2, 0, 0, 1},
		{"caffeine aromatic", "Cn1cnc2c1c(=O)n(C)c(=O)n2C", "C8H10N4O2", 14, 194.19, 0, 6, 0, 2, 2, 0, 1},
		{"benzene", "c1ccccc1", "C6H6", 6, 78.11, 0, 0, 0, 1, 1, 0, 1},
		{"pyridine", "c1ccncc1", "C5H5N", 6, 79.10, 0, 1, 0, 1, 1, 0, 1},
		{"pyrrole", "c1cc[nH]c1", "C4H5N", 5, 67.09, 1, 1, 0, 1, 1, 0, 1},
		{"thiophene", "c1ccsc1", "C4H4S", 5, 84.14, 0, 0, 0, 1, 1, 0, 1},
		{"furan", "c1ccoc1", "C4H4O", 5, 68.07, 0, 1, 0, 1, 1, 0, 1},
		{"indole", "c1ccc2c(c1)cc[nH]2", "C8H7N", 9, 117.15, 1, 1, 0, 2, 2, 0, 1},
		{"N-methylimidazole", "Cn1ccnc1", "C4H6N2", 6, 82.11, 0, 2, 0, 1, 1, 0, 1},
		{"2-pyridone", "O=c1cccc[nH]1", "C5H5NO", 7, 95.10, 1, 2, 0, 1, 1, 0, 1},
		{
			"imatinib", "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
			"C29H31N7O", 37, 493.60, 2, 8, 8, 5, 4, 0, 1,
		},
		{"biphenyl explicit link", "c1ccccc1-c1ccccc1", "C12H10", 12, 154.21, 0, 0, 1, 2, 2, 0, 1},
		{"biphenyl implicit link", "c1ccccc1c1ccccc1", "C12H10", 12, 154.21, 0, 0, 1, 2, 2, 0, 1},
		{"fluorene", "c1ccc2c(c1)Cc1ccccc12", "C13H10", 13, 166.22, 0, 0, 0, 3, 2, 0, 1},
		{"sulfanilamide", "NS(=O)(=O)c1ccc(N)cc1", "C6H8N2O2S", 11, 172.20, 2, 4, 1, 1, 1, 0, 1},
		{"phosphoric acid", "OP(=O)(O)O", "H3O4P", 5, 97.99, 3, 4, 0, 0, 0, 0, 1},
		{"halogenated arene", "FC(F)(F)c1ccc(Cl)cc1Br", "C7H3BrClF3", 12, 259.45, 0, 0, 1, 1, 1, 0, 1},
		{"N-ethylacetamide amide counted", "CC(=O)NCC", "C4H9NO", 6, 87.12, 1, 2, 2, 0, 0, 0, 1},
		{"hex-3-yne", "CCC#CCC", "C6H10", 6, 82.15, 0, 0, 0, 0, 0, 0, 1},
		{"tetramethylammonium", "C[N+](C)(C)C", "C4H12N", 5, 74.15, 0, 1, 0, 0, 0, 1, 1},
		{"sodium chloride", "[Na+].[Cl-]", "ClNa", 2, 58.44, 0, 0, 0, 0, 0, 0, 2},
		{"glycine zwitterion", "[NH3+]CC(=O)[O-]", "C2H5NO2", 5, 75.07, 1, 3, 1, 0, 0, 0, 1},
		{"carbon-13 methane", "[13CH4]", "CH4", 1, 17.03, 0, 0, 0, 0, 0, 0, 1},
		{"explicit hydrogens", "[H]OC([H])([H])[H]", "CH4O", 2, 32.04, 1, 1, 0, 0, 0, 0, 1},
		{"trans-2-butene", "C/C=C/C", "C4H8", 4, 56.11, 0, 0, 0, 0, 0, 0, 1},
		{"L-alanine", "N[C@@H](C)C(=O)O", "C3H7NO2", 6, 89.09, 2, 3, 1, 0, 0, 0, 1},
		{"naphthalene %10", "c1ccc%10ccccc%10c1", "C10H8", 10, 128.17, 0, 0, 0, 2, 2, 0, 1},
		{"decalin %10 %11", "C%10CCC%11CCCCC%11C%10", "C10H18", 10, 138.25, 0, 0, 0, 2, 0, 0, 1},
		{"ring bond across dot", "C1.C1", "C2H6", 2, 30.07, 0, 0, 0, 0, 0, 0, 1},
		{"cisplatin", "[NH3][Pt]([NH3])(Cl)Cl", "Cl2H6N2Pt", 5, 300.04, 2, 2, 0, 0, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := ParseSMILES(tt.smiles)
			require.NoError(t, err)
			require.NotNil(t, m)

			assert.Equal(t, tt.formula, formula(m), "formula")
			assert.Equal(t, tt.heavy, m.HeavyAtomCount(), "HeavyAtomCount")

			got := ComputeDescriptors(m)
			assert.Equal(t, tt.heavy, got.HeavyAtoms, "HeavyAtoms")
			assert.InDelta(t, tt.mw, got.MolecularWeight, 0.05, "MolecularWeight")
			assert.Equal(t, tt.hbd, got.HBondDonors, "HBondDonors")
			assert.Equal(t, tt.hba, got.HBondAcceptors, "HBondAcceptors")
			assert.Equal(t, tt.rotatable, got.RotatableBonds, "RotatableBonds")
			assert.Equal(t, tt.rings, got.RingCount, "RingCount")
			assert.Equal(t, tt.aromaticRings, got.AromaticRings, "AromaticRings")
			assert.Equal(t, tt.charge, got.FormalCharge, "FormalCharge")
			assert.Equal(t, tt.components, got.Components, "Components")
		})
	}
}

func TestParseSMILES_Invalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		smiles string
		reason string // substring of SMILESError.Reason
		pos    int
	}{
		{"empty", "", "empty SMILES", -1},
		{"too long", strings.Repeat("C", MaxSMILESLength+1), "too long", -1},
		{"too many heavy atoms", strings.Repeat("C", MaxHeavyAtoms+1), "too many heavy atoms", MaxHeavyAtoms},
		{"unclosed branch", "CC(C", "unclosed branch", 2},
		{"unmatched close", "CC)C", "unmatched ')'", 2},
		{"extra close", "C(C))", "unmatched ')'", 4},
		{"empty branch", "C()C", "empty branch", 2},
		{"branch at start", "(C)C", "without a preceding atom", 0},
		{"nested open", "C((C))", "branch must start with an atom", 2},
		{"unclosed ring", "C1CC", "unclosed ring bond 1", 1},
		{"second ring unclosed", "C1CCC2CC1", "unclosed ring bond 2", 5},
		{"unclosed percent ring", "C%12CC", "unclosed ring bond %12", 1},
		{"reused ring number left open", "C1CC1C1", "unclosed ring bond 1", 6},
		{"ring to same atom", "C11", "ring closure to the same atom", 2},
		{"duplicate bond", "C1C1", "duplicate bond", 3},
		{"duplicate ring bonds", "C12CCC12", "duplicate bond", 7},
		{"conflicting ring orders", "C=1CC#1", "conflicting ring-bond orders", 6},
		{"conflicting single double", "C-1CC=1", "conflicting ring-bond orders", 6},
		{"ring digit at start", "1CC", "without a preceding atom", 0},
		{"bad percent", "C%1C", "'%' must be followed by two digits", 1},
		{"trailing bond", "CC=", "bond symbol '=' with no following atom", 2},
		{"bond before close", "C(=)C", "with no following atom", 2},
		{"bond before dot", "C-.C", "with no following atom", 1},
		{"leading bond", "=C", "without a preceding atom", 0},
		{"double bond symbols", "C==C", "two consecutive bond symbols", 2},
		{"leading dot", ".C", "'.' without a preceding atom", 0},
		{"trailing dot", "C.", "'.' with no following atom", 1},
		{"double dot", "C..C", "empty fragment", 2},
		{"unknown character", "C&C", "unexpected character '&'", 1},
		{"non-ASCII character", "Cé", "unexpected character 'é'", 1},
		{"stray close bracket", "C]", "unexpected ']'", 1},
		{"internal space", "C C", "whitespace", 1},
		{"trailing newline", "CC\n", "whitespace", 2},
		{"tab", "C\tC", "whitespace", 1},
		{"unterminated bracket", "C[CH4", "unterminated bracket", 1},
		{"unterminated bracket before next", "[C[O]", "unterminated bracket", 0},
		{"empty bracket", "[]", "missing element symbol", 1},
		{"unknown element", "[Xx]", `unknown element "Xx"`, 1},
		{"unknown one-letter element", "[Q]", `unknown element "Q"`, 1},
		{"unknown two-letter after valid one", "[Cx]", `unknown element "Cx"`, 1},
		{"unknown aromatic", "[cl]1ccccc1", `unknown aromatic element "cl"`, 1},
		{"bad bracket content", "[C=]", "unexpected character '=' in bracket atom", 2},
		{"atom class without digits", "[C:]", "atom class", 2},
		{"charge out of range", "[Fe+16]", "charge out of range", 3},
		{"wildcard", "C*", "wildcard atom '*' is not allowed in a ligand", 1},
		{"bracket wildcard", "C[*]", "wildcard atom '*'", 2},
		{"unbracketed sodium", "[Cl-].Na", `element "Na" must be written in brackets`, 6},
		{"unbracketed copper", "Cu", `element "Cu" must be written in brackets`, 0},
		{"unbracketed hydrogen", "HC", "hydrogen must be written in brackets", 0},
		{"unbracketed selenium", "c1cc[se]c1.Cse", `aromatic "se" must be written in brackets`, 12},
		{"unknown letter", "CX", `unknown element "X"`, 1},
		{"pentavalent carbon", "C(C)(C)(C)(C)C", "carbon at position 1 has valence 5 (max 4)", 0},
		{"O=O=O", "O=O=O", "oxygen at position 3 has valence 4 (max 2)", 2},
		{"CF5", "FC(F)(F)(F)F", "carbon at position 2 has valence 5 (max 4)", 1},
		{"ClC(=O)=O", "ClC(=O)=O", "carbon at position 3 has valence 5 (max 4)", 2},
		{"hexavalent nitrogen", "N(C)(C)(C)(C)(C)C", "nitrogen at position 1 has valence 6 (max 3)", 0},
		{"divalent chlorine", "CCl(C)", "chlorine at position 2 has valence 2 (max 1)", 1},
		{"aromatic carbon overloaded", "Cc1cccc2c1(C)(C)ccc2", "aromatic carbon at position 9 has valence 7 (max 4), counting aromatic bonds as 1.5", 8},
		{"neutral tetravalent nitrogen", "CN(C)(C)C", "nitrogen at position 2 has valence 4 (max 3)", 1},
		{"neutral ammonium", "[NH4]", "nitrogen at position 1 has valence 4 (max 3), counting its 4 written hydrogens", 0},
		{"hydrogen with two bonds", "[H][H][H]", "hydrogen at position 4 has valence 2 (max 1)", 3},
		{"divalent chlorine", "CCl(C)", "chlorine at position 2 has valence 2 (max 1)", 1},
		{"chlorine trifluoride", "FCl(F)F", "chlorine at position 2 has valence 3 (max 1)", 1},
		{"heptavalent iodine", "FI(F)(F)(F)(F)(F)F", "iodine at position 2 has valence 7 (max 5)", 1},
		{"octavalent sulfur", "CS(=O)(=O)(=O)C", "sulfur at position 2 has valence 8 (max 6)", 1},
		{"neutral tetravalent boron", "CB(C)(C)C", "boron at position 2 has valence 4 (max 3)", 1},
		{"pentavalent P+", "C[P+](C)(C)(C)C", "phosphorus at position 2 has valence 5 (max 4 for charge +1)", 1},
		{"hexavalent S-", "[S-](C)(C)(C)(C)(C)C", "sulfur at position 1 has valence 6 (max 5 for charge -1)", 0},
		{"O- with two bonds", "[O-](C)C", "oxygen at position 1 has valence 2 (max 1 for charge -1)", 0},
		{"pentavalent neutral N without oxygen", "CN(C)(C)=C", "nitrogen at position 2 has valence 5 (max 3)", 1},
		{"N-methylfuranium-like O", "Co1cccc1", "aromatic oxygen at position 2 has valence 4 (max 2), counting aromatic bonds as 1.5", 1},
		{"pyrrole without H", "c1ccnc1", "cannot kekulize the aromatic ring system at position 1: 5 of its 5 atoms need a double bond", 0},
		{"pyrrole without H hint", "n1cccc1", "a pyrrole-type nitrogen must carry its hydrogen, written [nH]", 0},
		{"indole without H", "c1ccc2nccc2c1", "at position 1: 9 of its 9 atoms need a double bond and cannot all be paired along aromatic bonds; a pyrrole-type nitrogen must carry its hydrogen, written [nH]", 0},
		{"cyclopentadiene written aromatic", "c1cccc1", "cannot kekulize the aromatic ring system at position 1: 5 of its 5 atoms need a double bond and cannot all be paired along aromatic bonds", 0},
		{"aromatic carbonyl with odd remainder", "O=c1ccccc1", "cannot kekulize the aromatic ring system at position 3: 5 of its 6 atoms need a double bond", 2},
		{"chirality out of range", "[C@TH3](F)(Cl)(Br)I", "chirality @TH3 out of range (@TH1 to @TH2)", 2},
		{"octahedral out of range", "[Co@OH31](F)(Cl)(Br)(I)(C)N", "chirality @OH31 out of range (@OH1 to @OH30)", 3},
		{"chirality number zero", "[C@TH0](F)(Cl)(Br)I", "cannot be zero", 2},
		{"three plus signs", "[Fe+++]", `charge "+++": write more than two charges as a number, e.g. +3`, 3},
		{"charge leading zero", "[C+05]", "charge with a leading zero", 2},
		{"isotope leading zero", "[001C]", "isotope number with a leading zero", 1},
		{"ring bond %01", "C%01CC%01", "ring bond %01: after '%' the number must be 10 to 99", 1},
		{"ammonium with five bonds", "C[N+](C)(C)(C)C", "nitrogen at position 2 has valence 5 (max 4 for charge +1)", 1},
		{"carbocation with four bonds", "C[C+](C)(C)C", "carbon at position 2 has valence 4 (max 3 for charge +1)", 1},
		{"neutral OH3", "[OH3]", "oxygen at position 1 has valence 3 (max 2), counting its 3 written hydrogens", 0},
		{"aromatic outside ring", "cc", "aromatic atom \"c\" outside a ring", 0},
		{"aromatic substituent", "c1ccccc1c", "aromatic atom \"c\" outside a ring", 8},
		{"aromatic bracket outside ring", "C[nH]C", "aromatic atom \"n\" outside a ring", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := ParseSMILES(tt.smiles)
			require.Error(t, err)
			assert.Nil(t, m)

			var se *SMILESError
			require.True(t, errors.As(err, &se), "error must be *SMILESError, got %T", err)
			assert.Contains(t, se.Reason, tt.reason)
			assert.Equal(t, tt.pos, se.Pos, "Pos (reason %q)", se.Reason)
		})
	}
}

func TestSMILESError_Error(t *testing.T) {
	t.Parallel()
	t.Run("positional", func(t *testing.T) {
		t.Parallel()
		err := &SMILESError{Pos: 5, Reason: "unclosed ring bond 1"}
		assert.Equal(t, "at position 6: unclosed ring bond 1", err.Error())
	})
	t.Run("not positional", func(t *testing.T) {
		t.Parallel()
		err := &SMILESError{Pos: -1, Reason: "empty SMILES string"}
		assert.Equal(t, "empty SMILES string", err.Error())
	})
	t.Run("from parser", func(t *testing.T) {
		t.Parallel()
		_, err := ParseSMILES("CCCCC1CC")
		require.Error(t, err)
		assert.Equal(t, "at position 6: unclosed ring bond 1", err.Error())
	})
}

func TestParseSMILES_BracketAtoms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		smiles string
		want   Atom
	}{
		{"isotope and hydrogens", "[13CH4]", Atom{Element: "C", Isotope: 13, HCount: 4, Bracket: true}},
		{"deuterium", "[2H]", Atom{Element: "H", Isotope: 2, Bracket: true}},
		{"chiral @@", "[C@@H](F)(Cl)Br", Atom{Element: "C", Chiral: "@@", HCount: 1, Bracket: true}},
		{"chiral @", "[C@H](F)(Cl)Br", Atom{Element: "C", Chiral: "@", HCount: 1, Bracket: true}},
		{"extended chirality", "[C@TH2](N)(O)(F)Cl", Atom{Element: "C", Chiral: "@TH2", Bracket: true}},
		{"full", "[13C@@H2+:7]", Atom{Element: "C", Isotope: 13, Chiral: "@@", HCount: 2, Charge: 1, Bracket: true}},
		{"single plus", "[Na+]", Atom{Element: "Na", Charge: 1, Bracket: true}},
		{"double plus", "[Cu++]", Atom{Element: "Cu", Charge: 2, Bracket: true}},
		{"numeric charge", "[Fe+2]", Atom{Element: "Fe", Charge: 2, Bracket: true}},
		{"negative numeric", "[P-3]", Atom{Element: "P", Charge: -3, Bracket: true}},
		{"double minus", "[O--]", Atom{Element: "O", Charge: -2, Bracket: true}},
		{"ammonium", "[NH4+]", Atom{Element: "N", HCount: 4, Charge: 1, Bracket: true}},
		{"hydride", "[H-]", Atom{Element: "H", Charge: -1, Bracket: true}},
		{"scandium not aromatic", "[Sc]", Atom{Element: "Sc", Bracket: true}},
		{"mercury", "[Hg+2]", Atom{Element: "Hg", Charge: 2, Bracket: true}},
		{"oganesson", "[Og]", Atom{Element: "Og", Bracket: true}},
		{"aromatic selenium", "[se]1cccc1", Atom{Element: "Se", Aromatic: true, Bracket: true}},
		{"aromatic arsenic", "[asH]1cccc1", Atom{Element: "As", Aromatic: true, HCount: 1, Bracket: true}},
		{"aromatic tellurium", "[te]1cccc1", Atom{Element: "Te", Aromatic: true, Bracket: true}},
		{"pyrrole nitrogen", "[nH]1cccc1", Atom{Element: "N", Aromatic: true, HCount: 1, Bracket: true}},
		{"pyridinium", "[nH+]1ccccc1", Atom{Element: "N", Aromatic: true, HCount: 1, Charge: 1, Bracket: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := ParseSMILES(tt.smiles)
			require.NoError(t, err)
			require.NotEmpty(t, m.Atoms)
			got := m.Atoms[0]
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseSMILES_ImplicitHydrogens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		smiles string
		want   []int // HCount per atom
	}{
		{"methane", "C", []int{4}},
		{"ethene", "C=C", []int{2, 2}},
		{"hydrogen cyanide", "C#N", []int{1, 0}},
		{"boron trifluoride", "FB(F)F", []int{0, 0, 0, 0}},
		{"borane", "B", []int{3}},
		{"ammonia", "N", []int{3}},
		{"nitro pentavalent", "CN(=O)=O", []int{3, 0, 0, 0}},
		{"phosphine", "P", []int{3}},
		{"phosphate ester", "COP(=O)(O)O", []int{3, 0, 0, 0, 1, 1}},
		{"hydrogen sulfide", "S", []int{2}},
		{"DMSO", "CS(=O)C", []int{3, 0, 0, 3}},
		{"sulfuric acid", "OS(=O)(=O)O", []int{1, 0, 0, 0, 1}},
		{"SF6", "FS(F)(F)(F)(F)F", []int{0, 0, 0, 0, 0, 0, 0}},
		{"halides", "FCl.Br.I", []int{0, 0, 1, 1}},
		{"benzene", "c1ccccc1", []int{1, 1, 1, 1, 1, 1}},
		{"toluene", "Cc1ccccc1", []int{3, 0, 1, 1, 1, 1, 1}},
		{"pyridine", "n1ccccc1", []int{0, 1, 1, 1, 1, 1}},
		{"pyrrole", "[nH]1cccc1", []int{1, 1, 1, 1, 1}},
		{"N-methylpyrrole", "Cn1cccc1", []int{3, 0, 1, 1, 1, 1}},
		{"furan", "o1cccc1", []int{0, 1, 1, 1, 1}},
		{"thiophene", "s1cccc1", []int{0, 1, 1, 1, 1}},
		{"phosphole-type p", "Cp1cccc1", []int{3, 0, 1, 1, 1, 1}},
		{"pyridone", "O=c1cccc[nH]1", []int{0, 0, 1, 1, 1, 1, 1}},
		{"naphthalene", "c1ccc2ccccc2c1", []int{1, 1, 1, 0, 1, 1, 1, 1, 0, 1}},
		{"aliphatic aromatic-bond ring", "C1:C:C:C:C:C1", []int{1, 1, 1, 1, 1, 1}},
		{"explicit H neighbours", "[H]C([H])([H])[H]", []int{0, 0, 0, 0, 0}},
		{"bracket atoms keep written H", "[CH3][CH2][OH]", []int{3, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := ParseSMILES(tt.smiles)
			require.NoError(t, err)
			got := make([]int, len(m.Atoms))
			for i, a := range m.Atoms {
				got[i] = a.HCount
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseSMILES_Bonds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		smiles string
		want   []Bond
	}{
		{"single double triple", "C-C=CC#N", []Bond{{0, 1, 1, false}, {1, 2, 2, false}, {2, 3, 1, false}, {3, 4, 3, false}}},
		{"directional bonds are single", `F/C=C\F`, []Bond{{0, 1, 1, false}, {1, 2, 2, false}, {2, 3, 1, false}}},
		{"quadruple", "[Re]$[Re]", []Bond{{0, 1, 4, false}}},
		{"ring closure order from opening", "C=1CCCC1", []Bond{{0, 1, 1, true}, {1, 2, 1, true}, {2, 3, 1, true}, {3, 4, 1, true}, {0, 4, 2, true}}},
		{"ring closure order from closing", "C1CCCC=1", []Bond{{0, 1, 1, true}, {1, 2, 1, true}, {2, 3, 1, true}, {3, 4, 1, true}, {0, 4, 2, true}}},
		{"matching ring orders", "C=1CCCC=1", []Bond{{0, 1, 1, true}, {1, 2, 1, true}, {2, 3, 1, true}, {3, 4, 1, true}, {0, 4, 2, true}}},
		{"aromatic ring bonds", "c1ccoc1", []Bond{{0, 1, 1.5, true}, {1, 2, 1.5, true}, {2, 3, 1.5, true}, {3, 4, 1.5, true}, {0, 4, 1.5, true}}},
		{"branch and ring flags", "CC1CC1", []Bond{{0, 1, 1, false}, {1, 2, 1, true}, {2, 3, 1, true}, {1, 3, 1, true}}},
		{"branch restores previous atom", "CC(=O)O", []Bond{{0, 1, 1, false}, {1, 2, 2, false}, {1, 3, 1, false}}},
		{"ring closure after branch", "C(C)1CC1", []Bond{{0, 1, 1, false}, {0, 2, 1, true}, {2, 3, 1, true}, {0, 3, 1, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := ParseSMILES(tt.smiles)
			require.NoError(t, err)
			assert.Equal(t, tt.want, m.Bonds)
		})
	}

	t.Run("inter-ring aromatic bond becomes single", func(t *testing.T) {
		t.Parallel()
		m, err := ParseSMILES("c1ccccc1c1ccccc1")
		require.NoError(t, err)
		var link *Bond
		for i, b := range m.Bonds {
			if b.A == 5 && b.B == 6 {
				link = &m.Bonds[i]
			}
		}
		require.NotNil(t, link)
		assert.Equal(t, Bond{A: 5, B: 6, Order: 1, Ring: false}, *link)
	})
}

func TestParseSMILES_Limits(t *testing.T) {
	t.Parallel()
	t.Run("max length accepted", func(t *testing.T) {
		t.Parallel()
		s := strings.Repeat("C", MaxHeavyAtoms) + strings.Repeat(".[H]", (MaxSMILESLength-MaxHeavyAtoms)/4)
		require.Len(t, s, MaxSMILESLength)
		m, err := ParseSMILES(s)
		require.NoError(t, err)
		assert.Equal(t, MaxHeavyAtoms, m.HeavyAtomCount())
	})
	t.Run("max heavy atoms accepted", func(t *testing.T) {
		t.Parallel()
		m, err := ParseSMILES(strings.Repeat("C", MaxHeavyAtoms))
		require.NoError(t, err)
		assert.Equal(t, MaxHeavyAtoms, m.HeavyAtomCount())
	})
	t.Run("explicit hydrogens do not count as heavy", func(t *testing.T) {
		t.Parallel()
		m, err := ParseSMILES("[H][H]")
		require.NoError(t, err)
		assert.Equal(t, 0, m.HeavyAtomCount())
	})
}

func TestComputeDescriptors(t *testing.T) {
	t.Parallel()
	t.Run("element counts and fraction sp3", func(t *testing.T) {
		t.Parallel()
		m, err := ParseSMILES("CC(C)CC1=CC=C(C=C1)C(C)C(=O)O")
		require.NoError(t, err)
		got := ComputeDescriptors(m)
		assert.Equal(t, 13, got.Carbons)
		assert.Equal(t, 2, got.Oxygens)
		assert.Equal(t, 0, got.Nitrogens)
		assert.Equal(t, 0, got.AromaticAtoms)
		assert.InDelta(t, 6.0/13.0, got.FractionCSP3, 1e-9)
	})
	t.Run("heteroatoms and halogens", func(t *testing.T) {
		t.Parallel()
		m, err := ParseSMILES("FC(Cl)(Br)C(I)SP(=O)(O)O")
		require.NoError(t, err)
		got := ComputeDescriptors(m)
		assert.Equal(t, 4, got.Halogens)
		assert.Equal(t, 1, got.Sulfurs)
		assert.Equal(t, 1, got.Phosphorus)
		assert.Equal(t, 3, got.Oxygens)
		assert.Equal(t, 2, got.Carbons)
		assert.InDelta(t, 1.0, got.FractionCSP3, 1e-9)
	})
	t.Run("aromatic atoms", func(t *testing.T) {
		t.Parallel()
		m, err := ParseSMILES("c1ccc2c(c1)cc[nH]2")
		require.NoError(t, err)
		got := ComputeDescriptors(m)
		assert.Equal(t, 9, got.AromaticAtoms)
		assert.InDelta(t, 0.0, got.FractionCSP3, 1e-9)
	})
	t.Run("no carbons", func(t *testing.T) {
		t.Parallel()
		m, err := ParseSMILES("O")
		require.NoError(t, err)
		got := ComputeDescriptors(m)
		assert.InDelta(t, 0.0, got.FractionCSP3, 1e-9)
		assert.InDelta(t, 18.015, got.MolecularWeight, 0.001)
	})
	t.Run("deuterium uses mass number", func(t *testing.T) {
		t.Parallel()
		m, err := ParseSMILES("[2H]O[2H]")
		require.NoError(t, err)
		got := ComputeDescriptors(m)
		assert.InDelta(t, 20.0, got.MolecularWeight, 0.01)
		assert.Equal(t, 1, got.HBondDonors)
		assert.Equal(t, 1, got.HeavyAtoms)
	})
	ringTests := []struct {
		name, smiles string
		want         int
	}{
		{"spiro[4.5]decane", "C1CCC2(CC1)CCCC2", 2},
		{"norbornane", "C1CC2CCC1C2", 2},
		{"cubane cycle rank", "C12C3C4C1C5C2C3C45", 5},
		{"anthracene", "c1ccc2cc3ccccc3cc2c1", 3},
	}
	for _, tt := range ringTests {
		t.Run("ring count "+tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := ParseSMILES(tt.smiles)
			require.NoError(t, err)
			got := ComputeDescriptors(m).RingCount
			assert.Equal(t, tt.want, got)
		})
	}
	t.Run("nil molecule", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, Descriptors{}, ComputeDescriptors(nil))
	})
}
