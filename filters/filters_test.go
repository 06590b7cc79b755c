package filters

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/stretchr/testify/require"
)

func f64(v float64) *float64 { return &v }

func TestCatalogs_Load(t *testing.T) {
	t.Parallel()
	want := map[string]int{PAINSA: 16, PAINSB: 55, PAINSC: 409, Reactive: 105}
	for _, name := range CatalogNames {
		es, err := Catalog(name)
		require.NoError(t, err)
		require.Len(t, es, want[name], name)
		for _, e := range es {
			require.Equal(t, name, e.Catalog)
			require.NotEmpty(t, e.Name)
			require.NotNil(t, e.query)
		}
	}
	_, err := Catalog("pains_d")
	require.ErrorContains(t, err, `unknown catalog "pains_d"`)
}

func TestFilters_JSON(t *testing.T) {
	t.Parallel()
	var f Filters
	require.NoError(t, json.Unmarshal([]byte(`{
		"heavy_atoms": {"min": 10, "max": 50},
		"molecular_weight": {"max": 500},
		"hbd": {"max": 5}, "hba": {"max": 10},
		"rotatable_bonds": {"max": 10},
		"formal_charge": {"min": -1, "max": 1},
		"catalogs": ["pains_a", "reactive"],
		"smarts": ["[N+](=O)[O-]"]
	}`), &f))
	require.Equal(t, 10.0, *f.HeavyAtoms.Min)
	require.Nil(t, f.MolecularWeight.Min)
	require.Equal(t, -1.0, *f.FormalCharge.Min)
	require.Equal(t, []string{"pains_a", "reactive"}, f.Catalogs)
	c, err := Compile("filters", &f)
	require.NoError(t, err)
	require.False(t, c.Empty())
}

func TestCompile_FieldErrors(t *testing.T) {
	t.Parallel()
	long := "C" + strings.Repeat("C", MaxUserSMARTSLength)
	many := make([]string, MaxUserSMARTS+1)
	for i := range many {
		many[i] = "C"
	}
	for _, tc := range []struct {
		name  string
		f     Filters
		field string
		msg   string
	}{
		{"min above max", Filters{HeavyAtoms: &Range{Min: f64(50), Max: f64(10)}}, "filters.heavy_atoms", "min 50 is above max 10"},
		{"negative count", Filters{HBondDonors: &Range{Max: f64(-1)}}, "filters.hbd", "negative"},
		{"unknown catalog", Filters{Catalogs: []string{"pains_a", "pains_x"}}, "filters.catalogs[1]", `unknown catalog "pains_x"`},
		{"catalog twice", Filters{Catalogs: []string{"reactive", "reactive"}}, "filters.catalogs[1]", "listed twice"},
		{"bad smarts", Filters{SMARTS: []string{"C", "C(=O"}}, "filters.smarts[1]", "unclosed branch"},
		{"long smarts", Filters{SMARTS: []string{long}}, "filters.smarts[0]", "at most 300"},
		{"too many smarts", Filters{SMARTS: many}, "filters.smarts", "at most 20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, Validate("filters", &tc.f), func() error { _, err := Compile("filters", &tc.f); return err }())
			c, err := Compile("filters", &tc.f)
			require.Nil(t, c)
			var oe *omtx.Error
			require.True(t, errors.As(err, &oe), "%v is not an *omtx.Error", err)
			require.Equal(t, omtx.EInvalid, oe.Code)
			require.Equal(t, tc.field, oe.Field)
			require.Contains(t, oe.Message, tc.msg)
		})
	}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	const (
		aspirin   = "CC(=O)Oc1ccccc1C(=O)O"
		azo       = "CN=NC"                          // PAINS A azo_A(324): [#7;!R]=[#7]
		quinone   = "O=C1C=CC(=O)C=C1"               // PAINS A quinone_A(370)
		kekuleAzo = "CC1=CC=C(C=C1)N=NC1=CC=CC=C1"   // Kekulé input, same PAINS
		aldehyde  = "O=Cc1ccccc1"                    // Brenk aldehyde
		bigChain  = "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCC" // 30 heavy atoms
	)
	all := &Filters{
		HeavyAtoms: &Range{Max: f64(25)},
		Catalogs:   []string{PAINSA, PAINSB, PAINSC, Reactive},
		SMARTS:     []string{"[Cl,Br,I]"},
	}
	c, err := Compile("filters", all)
	require.NoError(t, err)
	for _, tc := range []struct {
		smiles  string
		matched bool
		rule    string
	}{
		{aspirin, true, "reactive:phenol_ester"},
		{"CC(C)Cc1ccc(cc1)C(C)C(=O)O", false, ""},             // ibuprofen
		{"CC(=O)Nc1ccc(O)cc1", true, "reactive:hydroquinone"}, // paracetamol: Brenk's [OH]c1ccc([OH,NH2,NH])cc1
		{azo, true, "pains_a:azo_A(324)"},
		{kekuleAzo, true, "pains_a:azo_A(324)"},
		{quinone, true, "pains_a:quinone_A(370)"},
		{aldehyde, true, "reactive:aldehyde"},
		{"Clc1ccccc1", true, "smarts[0]"},
		{bigChain, true, "heavy_atoms: 30 is outside [-inf, 25]"},
	} {
		t.Run(tc.smiles, func(t *testing.T) {
			t.Parallel()
			matched, rule, err := c.Evaluate(tc.smiles)
			require.NoError(t, err)
			require.Equal(t, tc.matched, matched)
			require.Equal(t, tc.rule, rule)
		})
	}

	t.Run("windows", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			f    Filters
			rule string
		}{
			{Filters{MolecularWeight: &Range{Max: f64(150)}}, "molecular_weight: 180.16 is outside [-inf, 150]"},
			{Filters{HBondDonors: &Range{Max: f64(0)}}, "hbd: 1 is outside [-inf, 0]"},
			{Filters{HBondAcceptors: &Range{Max: f64(3)}}, "hba: 4 is outside [-inf, 3]"},
			{Filters{RotatableBonds: &Range{Min: f64(4)}}, "rotatable_bonds: 3 is outside [4, inf]"},
			{Filters{FormalCharge: &Range{Min: f64(1)}}, "formal_charge: 0 is outside [1, inf]"},
			{Filters{HeavyAtoms: &Range{Min: f64(13), Max: f64(13)}}, ""},
		} {
			c, err := Compile("filters", &tc.f)
			require.NoError(t, err)
			matched, rule, err := c.Evaluate(aspirin)
			require.NoError(t, err)
			require.Equal(t, tc.rule != "", matched, tc.rule)
			require.Equal(t, tc.rule, rule)
		}
	})

	t.Run("nothing to filter", func(t *testing.T) {
		t.Parallel()
		c, err := Compile("filters", nil)
		require.NoError(t, err)
		require.True(t, c.Empty())
		matched, rule, err := c.Evaluate(azo)
		require.NoError(t, err)
		require.False(t, matched)
		require.Empty(t, rule)
	})

	t.Run("bad smiles", func(t *testing.T) {
		t.Parallel()
		_, _, err := c.Evaluate("C1CC")
		var se *chem.SMILESError
		require.ErrorAs(t, err, &se)
	})
}

// TestEvaluate_BudgetExceeded: a user pattern that explodes the search
// ends with the budget error, not a hang.
func TestEvaluate_BudgetExceeded(t *testing.T) {
	t.Parallel()
	c, err := Compile("filters", &Filters{SMARTS: []string{"C.C.C.C.C.C.C.C.[Xe]"}})
	require.NoError(t, err)
	c.budget = 20_000
	_, _, err = c.Evaluate("C1CC2CC3CC4CC5CCCCC5CC4CC3CC2C1")
	require.True(t, IsBudgetExceeded(err), "%v", err)
}
