package chem

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The SMARTS matcher's agreement with RDKit is tested in filters/
// (TestMatcher_AgreesWithRDKit, over the catalogs and
// filters/testdata/smarts_patterns.tsv); these tests cover what that table
// cannot: refusals, the step budget and the hydrogen merge.

func TestParseSMARTS_Refusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		smarts string
		pos    int
		reason string
	}{
		{"", -1, "empty"},
		{"C(", 1, "unclosed branch"},
		{"C)", 1, "unmatched ')'"},
		{"[C", 0, "unterminated '['"},
		{"[]", 0, "empty bracket atom"},
		{"C1CC", 1, "unclosed ring closure 1"},
		{"C=", 1, "bond with no following atom"},
		{"=C", 0, "without a preceding atom"},
		{"C(=)C", 2, "bond with no following atom"},
		{"[Q]", 1, "unknown atom primitive"},
		{"[#]", 1, "atomic number"},
		{"[#200]", 1, "atomic number"},
		{"[C&]", 2, "expression ends with an operator"},
		{"[,C]", 1, "without an operand"},
		{"[$(C]", 0, "unterminated '['"},
		{"[$C]", 1, "'$' must be followed by '('"},
		{"[$(C(]", 0, "unterminated '['"},
		{"[$(C(C]", 0, "unterminated '['"},
		{"C.", 1, "'.' with no following atom"},
		{"C11", 2, "ring closure to the same atom"},
		{"Xe", 0, "unexpected character"},
		{"[C:]", 2, "atom map"},
		{strings.Repeat("[$(", 9) + "C" + strings.Repeat(")]", 9), 25, "nested deeper than 8"},
		{strings.Repeat("C", MaxSMARTSLength+1), -1, "too long"},
	} {
		t.Run(tc.smarts, func(t *testing.T) {
			t.Parallel()
			q, err := ParseSMARTS(tc.smarts)
			require.Nil(t, q)
			var se *SMARTSError
			require.True(t, errors.As(err, &se), "error %v is not a *SMARTSError", err)
			require.Contains(t, se.Reason, tc.reason)
			require.Equal(t, tc.pos, se.Pos, "position of %q", se.Reason)
		})
	}
}

func TestMatchSMARTS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, smiles, smarts string
		want                 bool
	}{
		{"kekule input is aromatic", "CC(=O)OC1=CC=CC=C1C(=O)O", "c1ccccc1OC(C)=O", true},
		{"aromatic input is not aliphatic", "c1ccccc1", "C", false},
		{"merged hydrogens count at least", "CO", "[#6](-[#1])(-[#1])(-[#1])-[#8]-[#1]", true},
		{"merged hydrogens too many", "CO", "[#8](-[#1])-[#1]", false},
		{"hydrogen count exact", "CC", "[CH3]", true},
		{"hydrogen count of bracket atom", "C[NH3+]", "[NH3+]", true},
		{"pyrrole nitrogen", "C1=CNC=C1", "[nH]", true},
		{"recursive environment", "OC(=O)c1ccccc1", "[$(c-C(=O)[OH])]", true},
		{"recursive miss", "COC(=O)c1ccccc1", "[$(c-C(=O)[OH])]", false},
		{"fragments need distinct atoms", "CC(=O)O", "C=O.C=O", false},
		{"fragments anywhere", "OC(=O)CC(=O)O", "C=O.C=O", true},
		{"ring bond", "C1CCCCC1C", "[CH3]@C", false},
		{"chain bond", "C1CCCCC1C", "[CH3]!@C", true},
		{"smallest ring", "C1CC2CCC1C2", "[r5]", true},
		{"ring membership of fusion atom", "c1ccc2ccccc2c1", "[R2]", true},
		{"nitro read charge-separated", "CN(=O)=O", "[N+](=O)[O-]", true},
		{"deuterium stays an atom", "[2H]C", "[2H]", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := MatchSMARTS(tc.smiles, tc.smarts)
			require.NoError(t, err)
			require.Equal(t, tc.want, got, "%s in %s", tc.smarts, tc.smiles)
		})
	}
}

// TestMatcher_BudgetStopsSearch: a pattern that can only fail at its last
// atom, on a molecule with many paths, runs out of steps and says so with
// a typed error instead of searching on.
func TestMatcher_BudgetStopsSearch(t *testing.T) {
	t.Parallel()
	st, err := Perceive("c1ccc2cc3cc4cc5cc6ccccc6cc5cc4cc3cc2c1") // hexacene
	require.NoError(t, err)
	q, err := ParseSMARTS(strings.Repeat("*~", 20) + "[Xe]")
	require.NoError(t, err)
	_, err = NewMatcher(st, 10_000).Matches(q)
	require.ErrorIs(t, err, ErrMatchBudget)
	var be *MatchBudgetError
	require.ErrorAs(t, err, &be)
	require.Equal(t, 10_000, be.Budget)
	require.Contains(t, be.Error(), "[Xe]")

	// Within budget, the same search answers.
	ok, err := NewMatcher(st, 0).Matches(mustSMARTS(t, "c1ccccc1"))
	require.NoError(t, err)
	require.True(t, ok)
}

func mustSMARTS(t *testing.T, s string) *Query {
	t.Helper()
	q, err := ParseSMARTS(s)
	require.NoError(t, err)
	return q
}
