package library

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/filters"
	"github.com/omtx-hub/omtx-hub/omtx"
)

func TestFilters(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	c, err := filters.Compile("filters", &filters.Filters{
		MolecularWeight: &filters.Range{Max: f(250)},
		Catalogs:        []string{filters.PAINSA},
	})
	require.NoError(t, err)
	const (
		rhodanineEne = "O=C1NC(=S)SC1=Cc1ccccc1" // 5-benzylidene rhodanine: PAINS A ene_rhod_A
		heavy        = "CCCCCCCCCCCCCCCCCC(=O)O" // stearic acid, 284.5 g/mol
	)
	lib, err := FromLigands([]omtx.Ligand{
		{Name: "ethanol", SMILES: "CCO"}, {Name: "ene", SMILES: rhodanineEne}, {Name: "heavy", SMILES: heavy},
		{Name: "bad", SMILES: "C1CC"},
	}, Options{Model: omtx.ModelBoltz2, Filters: c, SkipInvalid: true})
	require.NoError(t, err)
	es := lib.Entries()
	rules := make([]string, len(es))
	for i, e := range es {
		rules[i] = e.FilterRule
	}
	mw := "molecular_weight: 284.48 is outside [-inf, 250]"
	assert.Equal(t, []string{"", "pains_a:ene_rhod_A(235)", mw, ""}, rules)
	assert.Equal(t, 2, lib.Filtered())
	assert.Equal(t, map[string]int{"pains_a:ene_rhod_A(235)": 1, mw: 1}, lib.FilterHits())

	t.Run("ligands.json carries the rule", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		require.NoError(t, lib.WriteJSON(&buf))
		var stored []omtx.LibraryEntry
		require.NoError(t, json.Unmarshal(buf.Bytes(), &stored))
		assert.Equal(t, "pains_a:ene_rhod_A(235)", stored[1].FilterRule)
		assert.Empty(t, stored[0].FilterRule)
	})

	t.Run("the modelled molecule is filtered", func(t *testing.T) {
		t.Parallel()
		// Sodium benzoate is 144 g/mol as written; Boltz-2 models its
		// parent, benzoic acid (122 g/mol), which passes.
		c, err := filters.Compile("filters", &filters.Filters{MolecularWeight: &filters.Range{Max: f(130)}})
		require.NoError(t, err)
		lib, err := FromLigands([]omtx.Ligand{{SMILES: "[Na+].[O-]C(=O)c1ccccc1"}}, Options{Model: omtx.ModelBoltz2, Filters: c})
		require.NoError(t, err)
		assert.Empty(t, lib.Entry(0).FilterRule)
	})

	t.Run("no filters", func(t *testing.T) {
		t.Parallel()
		lib, err := FromLigands([]omtx.Ligand{{SMILES: rhodanineEne}}, Options{})
		require.NoError(t, err)
		assert.Zero(t, lib.Filtered())
		assert.Empty(t, lib.Entry(0).FilterRule)
	})

	t.Run("an exhausted search filters nothing and warns", func(t *testing.T) {
		t.Parallel()
		// Many copies of one atom against a pattern of many copies of it
		// and an atom that is not there: the search tries every pairing.
		c, err := filters.Compile("filters", &filters.Filters{SMARTS: []string{"C.C.C.C.C.C.C.C.[Xe]"}})
		require.NoError(t, err)
		rule, warn := Filter(c, "C1CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC1")
		assert.Empty(t, rule)
		assert.Contains(t, warn, "exceeded its budget")
	})
}
