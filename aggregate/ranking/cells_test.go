package ranking

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

func TestCells(t *testing.T) {
	t.Parallel()
	a := NewAggregator(Options{BatchID: "batch_x", Ranking: omtx.RankingOptions{Mode: omtx.RankingHitDiscovery}})
	c := completed(0, -1.5, 0.9, withName("=aspirin"), withSMILES("CC(=O)Oc1ccccc1C(=O)O"), withMeta("class", "NSAID", "smiles", "x"))
	require.NoError(t, a.Add(c))
	a.Finish()
	names, values := a.Cells(1, c)
	require.Len(t, values, len(names))
	cell := map[string]string{}
	for i, n := range names {
		cell[n] = values[i]
	}
	assert.Equal(t, "1", cell["rank"])
	assert.Equal(t, "=aspirin", cell["ligand_name"], "no spreadsheet guard in an SD file")
	assert.Equal(t, "-1.5000", cell["affinity_pred_value_log10_ic50_um"])
	assert.Equal(t, "0.9000", cell["affinity_probability_binary"])
	assert.Equal(t, "NSAID", cell["class"], "the user's metadata column")
	assert.Equal(t, "x", cell["meta_smiles"], "a metadata key named as a fixed column is prefixed, as in the CSV")
	assert.Equal(t, "completed", cell["status"])

	_, values = a.Cells(0, c)
	assert.Empty(t, values[0], "rank 0: not ranked, an empty cell")
}
