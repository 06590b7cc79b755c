package ranking

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// TestFilteredLigands: filtered children are listed with their rules in
// summary.json and batch_results.csv, counted by rule, never ranked and
// never failures; the batch's filters are recorded in summary.json.
func TestFilteredLigands(t *testing.T) {
	t.Parallel()
	const ene, mw = "pains_a:ene_rhod_A(235)", "molecular_weight: 612.70 is outside [-inf, 500]"
	filtered := func(i int, rule string) *omtx.Job {
		c := child(i, omtx.StatusFiltered)
		c.FilterRule = rule
		return c
	}
	children := []*omtx.Job{completed(0, -1, 0.9), filtered(1, ene), completed(2, -2, 0.8), filtered(3, mw), filtered(4, ene)}
	flt := &omtx.Filters{Catalogs: []string{"pains_a"}, MolecularWeight: &omtx.FilterRange{Max: new(500.0)}}
	a := NewAggregator(Options{BatchID: "b", Filters: flt})
	for _, c := range children {
		require.NoError(t, a.Add(c))
	}
	a.Finish()
	var buf bytes.Buffer
	cw := a.NewCSV(&buf)
	for _, c := range children {
		require.NoError(t, cw.Write(c))
	}
	require.NoError(t, cw.Close())
	s := a.Summary()

	assert.Equal(t, 3, s.Filtered)
	assert.Equal(t, 0, s.Failed)
	assert.False(t, s.CompletedWithFailures)
	assert.Equal(t, "completed, 3 filtered", s.StatusLine)
	assert.Equal(t, []omtx.FilterHit{{Rule: ene, Ligands: 2}, {Rule: mw, Ligands: 1}}, s.FilterHits)
	require.Len(t, s.FilteredLigands, 3)
	assert.Equal(t, FilteredLigand{JobID: "job-00003", BatchIndex: 3, LigandName: children[3].InputData.LigandName,
		LigandSMILES: children[3].InputData.LigandSMILES, Rule: mw}, s.FilteredLigands[1])
	assert.Equal(t, []string{"job-00000", "job-00002"}, ids(a.Ranked()), "filtered children are never ranked")

	sj, err := a.SummaryJSON()
	require.NoError(t, err)
	var got struct {
		Filters *omtx.Filters `json:"filters"`
	}
	require.NoError(t, json.Unmarshal(sj, &got))
	assert.Equal(t, flt, got.Filters, "summary.json records the filters applied")

	_, rows := readCSV(t, buf.Bytes())
	require.Len(t, rows, 5)
	byID := map[string]map[string]string{}
	for _, r := range rows {
		byID[r["job_id"]] = r
	}
	assert.Equal(t, "filtered", byID["job-00001"]["status"])
	assert.Equal(t, ene, byID["job-00001"]["filter_rule"])
	assert.Empty(t, byID["job-00001"]["rank"])
	assert.Empty(t, byID["job-00001"]["failure_reason"])
	assert.Empty(t, byID["job-00000"]["filter_rule"])
}
