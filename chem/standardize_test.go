package chem

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/internal/rdkittest"
)

// The standardizer is checked against RDKit: testdata/standardize_corpus.tsv
// lists ligands with the molecule Boltz models for each (or its refusal),
// and testdata/standardize.tsv is RDKit's verdict on our answers
// (scripts/rdkit/check_standardize.mjs).
const (
	standardizeCorpusPath = "testdata/standardize_corpus.tsv"
	standardizeTablePath  = "testdata/standardize.tsv"
)

type standardizeCase struct {
	smiles, expected, note string
}

func readStandardizeCorpus(t *testing.T) []standardizeCase {
	t.Helper()
	data, err := os.ReadFile(standardizeCorpusPath)
	require.NoError(t, err)
	var cases []standardizeCase
	seen := map[string]bool{}
	for n, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		require.Len(t, f, 3, "%s:%d: want SMILES, expected and note", standardizeCorpusPath, n+1)
		require.False(t, seen[f[0]], "%s:%d: %q listed twice", standardizeCorpusPath, n+1, f[0])
		seen[f[0]] = true
		cases = append(cases, standardizeCase{f[0], f[1], f[2]})
	}
	require.NotEmpty(t, cases)
	return cases
}

// standardizeAnswer renders our answer for the table: the largest fragment
// as submitted ("-" if none) and the modelled SMILES, or the kind of
// refusal.
func standardizeAnswer(smiles string) (fragment, parent string, res Standardized, err error) {
	res, err = Standardize(smiles)
	var se *SMILESError
	var ee *ExcludedError
	var ne *NoOrganicError
	switch {
	case err == nil:
		return res.Fragment, res.SMILES, res, nil
	case errors.As(err, &se):
		return "-", "invalid", res, err
	case errors.As(err, &ee):
		return "-", "excluded", res, err
	case errors.As(err, &ne):
		return ne.Fragment, "no-organic", res, err
	}
	return "-", "error: " + err.Error(), res, err
}

func standardizeRows(t *testing.T) []string {
	t.Helper()
	var lines []string
	for _, c := range readStandardizeCorpus(t) {
		frag, parent, _, _ := standardizeAnswer(c.smiles)
		lines = append(lines, strings.Join([]string{c.smiles, frag, parent, c.expected, c.note}, "\t"))
	}
	return lines
}

// TestStandardize_AgreesWithRDKit holds Standardize to the committed table:
// it still gives the answers RDKit checked; RDKit's largest fragment is
// ours; the molecule we model is the expected one to RDKit; and we count
// the atoms Boltz's limits count as RDKit does. Rows marked "differs:" must
// still differ.
func TestStandardize_AgreesWithRDKit(t *testing.T) {
	t.Parallel()
	cases := readStandardizeCorpus(t)
	data, err := os.ReadFile(standardizeTablePath)
	require.NoError(t, err)
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "input\t") {
			continue
		}
		f := strings.Split(line, "\t")
		require.Len(t, f, 9, "%s: %q", standardizeTablePath, line)
		rows = append(rows, f)
	}
	require.Len(t, rows, len(cases), "%s is out of date: run OMTX_RDKIT_UPDATE=1 go test -run TestStandardizeTable_IsCurrent ./chem/", standardizeTablePath)
	for i, c := range cases {
		r := rows[i]
		name := fmt.Sprintf("%s (%s)", c.smiles, c.note)
		require.Equal(t, c.smiles, r[0], "%s row %d: regenerate the table", standardizeTablePath, i+1)
		_, parent, res, err := standardizeAnswer(c.smiles)
		if parent != r[5] {
			t.Errorf("%s: we now model %s, the table has %s: regenerate the table", name, parent, r[5])
			continue
		}
		if (r[1] == "1") != (parent != "invalid") {
			t.Errorf("%s: RDKit valid=%s, ours: %v", name, r[1], err)
		}
		agrees := r[7] == "1" && (r[4] == "1" || r[4] == "-")
		if strings.HasPrefix(c.note, differsPrefix) {
			if agrees {
				t.Errorf("%s: marked differs, but now agrees with RDKit: remove the mark", name)
			}
			continue
		}
		if !agrees {
			t.Errorf("%s: we model %s, expected %s (RDKit: same=%s); our fragment is RDKit's largest %s: %s",
				name, parent, c.expected, r[7], r[2], r[4])
		}
		if err == nil {
			want, convErr := strconv.Atoi(r[3])
			require.NoError(t, convErr)
			if got := res.BoltzAtoms(); got != want {
				t.Errorf("%s: we count %d atoms for Boltz's limits, RDKit keeps %d", name, got, want)
			}
		}
	}
}

// TestStandardizeTable_IsCurrent re-runs RDKit on our current answers; see
// TestSMILESWriteTable_IsCurrent.
func TestStandardizeTable_IsCurrent(t *testing.T) {
	t.Parallel()
	got := rdkittest.Run(t, "check_standardize.mjs", strings.NewReader(strings.Join(standardizeRows(t), "\n")+"\n"))
	rdkittest.Compare(t, standardizeTablePath, got, "if the corpus, the standardizer or RDKit changed on purpose, rerun with OMTX_RDKIT_UPDATE=1 and review the diff")
}

func TestStandardize_Errors(t *testing.T) {
	t.Parallel()
	t.Run("metal named", func(t *testing.T) {
		t.Parallel()
		_, err := Standardize("Cl[Pt](Cl)([NH3])[NH3].[Fe+2].[Pt]")
		var ee *ExcludedError
		require.ErrorAs(t, err, &ee)
		require.Equal(t, []string{"Pt", "Fe"}, ee.Metals)
		require.Contains(t, err.Error(), "contains Pt, Fe")
	})
	t.Run("boron counted", func(t *testing.T) {
		t.Parallel()
		_, err := Standardize("C(B(B)B)(B(B)B)B(B)B")
		var ee *ExcludedError
		require.ErrorAs(t, err, &ee)
		require.Equal(t, 9, ee.Boron)
		require.Empty(t, ee.Metals)
	})
	t.Run("no organic part", func(t *testing.T) {
		t.Parallel()
		_, err := Standardize("[Na+].[Cl-]")
		var ne *NoOrganicError
		require.ErrorAs(t, err, &ne)
		require.Equal(t, "[Cl-]", ne.Fragment)
	})
	t.Run("invalid SMILES", func(t *testing.T) {
		t.Parallel()
		_, err := Standardize("C1CC")
		var se *SMILESError
		require.ErrorAs(t, err, &se)
	})
}

func TestStandardize_Result(t *testing.T) {
	t.Parallel()
	t.Run("salt", func(t *testing.T) {
		t.Parallel()
		got, err := Standardize("CC(=O)Oc1ccccc1C(=O)[O-].[Na+]")
		require.NoError(t, err)
		require.Equal(t, "CC(=O)Oc1ccccc1C(=O)O", got.SMILES)
		require.Equal(t, "CC(=O)Oc1ccccc1C(=O)[O-]", got.Fragment)
		require.Equal(t, []string{"[Na+]"}, got.Dropped)
		require.True(t, got.Neutralized)
		require.Equal(t, 13, got.HeavyAtoms)
		require.Len(t, got.Warnings, 2)
		require.Contains(t, got.Warnings[0], "dropped: [Na+]")
	})
	t.Run("deuterated", func(t *testing.T) {
		t.Parallel()
		got, err := Standardize("[2H]C([2H])([2H])Oc1ccccc1")
		require.NoError(t, err)
		require.Equal(t, "[2H]C([2H])([2H])Oc1ccccc1", got.SMILES)
		require.Equal(t, 8, got.HeavyAtoms)
		require.Equal(t, 3, got.IsotopicHydrogens)
		require.Equal(t, 11, got.BoltzAtoms())
		require.Empty(t, got.Warnings)
	})
	t.Run("plain ligand unchanged", func(t *testing.T) {
		t.Parallel()
		got, err := Standardize("CC(=O)Oc1ccccc1C(=O)O")
		require.NoError(t, err)
		require.Equal(t, "CC(=O)Oc1ccccc1C(=O)O", got.SMILES)
		require.Empty(t, got.Dropped)
		require.False(t, got.Neutralized)
		require.Empty(t, got.Warnings)
	})
	t.Run("zinc complex warned", func(t *testing.T) {
		t.Parallel()
		got, err := Standardize("NCCN->[Zn](Cl)Cl")
		require.NoError(t, err)
		require.Len(t, got.Warnings, 1)
		require.Contains(t, got.Warnings[0], "contains Zn")
	})
}

// FuzzStandardize checks that whatever ParseSMILES accepts, Standardize
// either refuses with one of its error types or returns a parent that
// parses, has no more atoms than the input, and keeps no '.' unless its
// fragment had none.
func FuzzStandardize(f *testing.F) {
	for _, s := range []string{
		"CC(=O)[O-].[Na+]", "[NH3+]CC(=O)[O-]", "C[N+](C)(C)CC([O-])CC[O-]", "N->[Pt](<-N)(Cl)Cl",
		"[2H]C([2H])([2H])O", "CN(=O)=O", "CS(C)=O", "CC(O)=N", "Cc1nn[n-]n1.[K+]", "[Na+].[Cl-]",
		"NCCN->[Zn](Cl)Cl", "F/C=C/1.F1", "[C@@H]([NH3+])(C)C(=O)[O-]", "[O-][Cl+3]([O-])([O-])[O-]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseSMILES(s)
		if err != nil {
			return
		}
		res, err := StandardizeMolecule(m)
		if err != nil {
			var ee *ExcludedError
			var ne *NoOrganicError
			if !errors.As(err, &ee) && !errors.As(err, &ne) {
				t.Fatalf("%q: unexpected error %T: %v", s, err, err)
			}
			return
		}
		p, err := ParseSMILES(res.SMILES)
		if err != nil {
			t.Fatalf("%q: modelled SMILES %q does not parse: %v", s, res.SMILES, err)
		}
		if p.HeavyAtomCount() != res.HeavyAtoms || res.HeavyAtoms > m.HeavyAtomCount() {
			t.Fatalf("%q: %d heavy atoms reported, %d in %q, %d in the input", s, res.HeavyAtoms, p.HeavyAtomCount(), res.SMILES, m.HeavyAtomCount())
		}
		if len(p.Fragments()) != 1 {
			t.Fatalf("%q: modelled SMILES %q has %d fragments", s, res.SMILES, len(p.Fragments()))
		}
	})
}
