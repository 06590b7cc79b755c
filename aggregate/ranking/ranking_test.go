package ranking

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

func ptr(v float64) *float64 { return &v }

// withMetric sets one of the model's further outputs (ligand_iptm, iptm).
func withMetric(name string, v float64) opt {
	return func(j *omtx.Job) {
		if j.Results.Metrics == nil {
			j.Results.Metrics = map[string]float64{}
		}
		j.Results.Metrics[name] = v
	}
}

// modeSet is a screen in which the two questions disagree: index 0 is a
// barely likely binder with a strong value, index 1 a near-certain binder
// with a slightly weaker value (the example), and three predicted
// non-binders whose values and probabilities are in opposite orders.
func modeSet() []*omtx.Job {
	return []*omtx.Job{
		completed(0, -1.0, 0.51),
		completed(1, -0.9, 0.99),
		completed(2, -3.0, 0.30),
		completed(3, 0.5, 0.45),
		completed(4, -0.5, 0.20),
		child(5, omtx.StatusFailed),
		child(6, omtx.StatusCancelled),
		child(7, statusFiltered),
	}
}

func TestRankingModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		o    omtx.RankingOptions
		want []string
	}{
		{
			// The example: p = 0.99 / −0.9 ranks above p = 0.51 / −1.0.
			name: "hit discovery: probability first",
			o:    omtx.RankingOptions{},
			want: []string{"job-00001", "job-00000", "job-00003", "job-00002", "job-00004"},
		},
		{
			name: "hit discovery named explicitly",
			o:    omtx.RankingOptions{Mode: omtx.RankingHitDiscovery},
			want: []string{"job-00001", "job-00000", "job-00003", "job-00002", "job-00004"},
		},
		{
			// Binders by value, then the rest by value (not by probability).
			name: "lead optimization: binders by value, then the rest by value",
			o:    omtx.RankingOptions{Mode: omtx.RankingLeadOptimization},
			want: []string{"job-00000", "job-00001", "job-00002", "job-00004", "job-00003"},
		},
		{
			name: "lead optimization with threshold 0.7",
			o:    omtx.RankingOptions{Mode: omtx.RankingLeadOptimization, BinderThreshold: 0.7},
			want: []string{"job-00001", "job-00002", "job-00000", "job-00004", "job-00003"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ids(RankBy(modeSet(), tt.o))
			assert.Equal(t, tt.want, got)

			// The aggregator's streamed ranking agrees, and the CSV lists
			// the unranked children after every ranked one.
			out := build(t, input{BatchID: "b", Children: modeSet(), Ranking: tt.o})
			assert.Equal(t, tt.want, topIDs(out.Results.Top10))
			_, rows := readCSV(t, out.CSV)
			var csvIDs []string
			for _, r := range rows {
				csvIDs = append(csvIDs, r["job_id"])
			}
			assert.Equal(t, append(append([]string{}, tt.want...), "job-00005", "job-00006", "job-00007"), csvIDs)
		})
	}
}

func TestRankingFloors(t *testing.T) {
	t.Parallel()
	set := func() []*omtx.Job {
		return []*omtx.Job{
			completed(0, -2.0, 0.95, withMetric("ligand_iptm", 0.2), withMetric("iptm", 0.9)), // doubted pose
			completed(1, -0.5, 0.90, withMetric("ligand_iptm", 0.8), withMetric("iptm", 0.9)),
			completed(2, -1.0, 0.60, withMetric("ligand_iptm", 0.7), withMetric("iptm", 0.4)), // iptm low
			completed(3, 0.0, 0.40, withMetric("ligand_iptm", 0.9), withMetric("iptm", 0.9)),
			completed(4, -3.0, 0.99), // no metrics reported
		}
	}
	tests := []struct {
		name    string
		o       omtx.RankingOptions
		want    []string
		flagged map[string][]string
	}{
		{
			name: "ligand_iptm floor, hit discovery",
			o:    omtx.RankingOptions{MinLigandIPTM: ptr(0.5)},
			want: []string{"job-00001", "job-00002", "job-00003", "job-00004", "job-00000"},
			flagged: map[string][]string{
				"job-00000": {"ligand_iptm"}, "job-00004": {"ligand_iptm"},
			},
		},
		{
			name: "both floors, lead optimization",
			o:    omtx.RankingOptions{Mode: omtx.RankingLeadOptimization, MinLigandIPTM: ptr(0.5), MinIPTM: ptr(0.5)},
			// Above the floors: binder 1, then non-binder 3; below: binders
			// 4, 0, 2 by value.
			want: []string{"job-00001", "job-00003", "job-00004", "job-00000", "job-00002"},
			flagged: map[string][]string{
				"job-00000": {"ligand_iptm"}, "job-00002": {"iptm"}, "job-00004": {"ligand_iptm", "iptm"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ids(RankBy(set(), tt.o))
			assert.Equal(t, tt.want, got)

			out := build(t, input{Children: set(), Ranking: tt.o})
			flags := map[string][]string{}
			for _, r := range out.Results.Top10 {
				if len(r.BelowConfidenceFloor) > 0 {
					flags[r.JobID] = r.BelowConfidenceFloor
				}
			}
			assert.Equal(t, tt.flagged, flags)
			assert.Equal(t, len(tt.flagged), out.Summary.BelowConfidenceFloor)
			_, rows := readCSV(t, out.CSV)
			for _, r := range rows {
				want := ""
				if f := tt.flagged[r["job_id"]]; f != nil {
					want = f[0]
					if len(f) > 1 {
						want += ";" + f[1]
					}
				}
				assert.Equal(t, want, r["below_confidence_floor"], r["job_id"])
			}
			assert.Contains(t, out.Summary.RankingRule, "flagged and ranked after the others")
		})
	}
}

func TestRankingOptions(t *testing.T) {
	t.Parallel()
	t.Run("validate", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			o     omtx.RankingOptions
			field string
		}{
			{omtx.RankingOptions{}, ""},
			{omtx.RankingOptions{Mode: "lead_optimization", BinderThreshold: 0.7, MinIPTM: ptr(0.5)}, ""},
			{omtx.RankingOptions{Mode: "best"}, "ranking"},
			{omtx.RankingOptions{BinderThreshold: 1.5}, "binder_threshold"},
			{omtx.RankingOptions{MinLigandIPTM: ptr(-0.1)}, "min_ligand_iptm"},
			{omtx.RankingOptions{MinIPTM: ptr(2)}, "min_iptm"},
		} {
			err := tt.o.Validate()
			if tt.field == "" {
				assert.NoError(t, err)
				continue
			}
			var e *omtx.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.field, e.Field)
		}
	})
	t.Run("batch config gives the rule", func(t *testing.T) {
		t.Parallel()
		var nilCfg *omtx.BatchConfig
		assert.Equal(t, omtx.RankingOptions{Mode: omtx.RankingHitDiscovery, BinderThreshold: 0.5}, nilCfg.RankingOptions())
		cfg := &omtx.BatchConfig{Ranking: omtx.RankingLeadOptimization, BinderThreshold: 0.6, MinIPTM: ptr(0.3)}
		assert.Equal(t, omtx.RankingOptions{Mode: omtx.RankingLeadOptimization, BinderThreshold: 0.6, MinIPTM: ptr(0.3)}, cfg.RankingOptions())
		var set omtx.BatchConfig
		set.SetRanking(omtx.RankingOptions{MinLigandIPTM: ptr(0.4)})
		assert.Equal(t, omtx.RankingOptions{Mode: omtx.RankingHitDiscovery, BinderThreshold: 0.5, MinLigandIPTM: ptr(0.4)}, set.RankingOptions())
		assert.Equal(t, omtx.RankingHitDiscovery, set.Ranking, "the default is written, not left empty")
	})
}

func TestSummaryRule(t *testing.T) {
	t.Parallel()
	o := omtx.RankingOptions{Mode: omtx.RankingLeadOptimization, BinderThreshold: 0.6, MinLigandIPTM: ptr(0.5)}
	out := build(t, input{Children: modeSet(), Ranking: o})
	var got struct {
		Ranking     map[string]any `json:"ranking"`
		RankingRule string         `json:"ranking_rule"`
	}
	require.NoError(t, json.Unmarshal(out.SummaryJSON, &got))
	assert.Equal(t, "lead_optimization", got.Ranking["mode"])
	assert.InDelta(t, 0.6, got.Ranking["binder_threshold"], 1e-12)
	assert.InDelta(t, 0.5, got.Ranking["min_ligand_iptm"], 1e-12)
	assert.NotContains(t, got.Ranking, "min_iptm")
	assert.Equal(t, o.Describe(), got.Ranking["description"])
	assert.Equal(t, o.Describe(), got.RankingRule)
	assert.Contains(t, got.RankingRule, ">= 0.6")
	assert.Equal(t, o.Describe(), out.Results.RankingRule)
	require.NotNil(t, out.Results.Ranking)
	assert.Equal(t, omtx.RankingLeadOptimization, out.Results.Ranking.Mode)
}

func TestSummaryBinderStats(t *testing.T) {
	t.Parallel()
	// Binders (p >= 0.5): values -2 and -1; non-binders: 1 and 3.
	children := []*omtx.Job{completed(0, -2, 0.9), completed(1, 1, 0.1), completed(2, -1, 0.6), completed(3, 3, 0.2)}
	out := build(t, input{Children: children})
	s := out.Summary
	assert.Equal(t, 2, s.PredictedBinders.N)
	assert.InDelta(t, -1.5, s.PredictedBinders.AffinityPredValue.Mean, 1e-12)
	assert.InDelta(t, omtx.DeltaGFromPredValue(-1.5), s.PredictedBinders.DeltaGKcalMol.Mean, 1e-12)
	assert.InDelta(t, 7.5, s.PredictedBinders.PIC50.Mean, 1e-12)
	assert.Contains(t, s.PredictedBinders.Population, "affinity_probability_binary >= 0.5")
	assert.Equal(t, 4, s.AllLigands.N)
	assert.InDelta(t, 0.25, s.AllLigands.AffinityPredValue.Mean, 1e-12)
	assert.Contains(t, s.AllLigands.Population, "all completed ligands")
	assert.InDelta(t, omtx.DeltaGFromPredValue(-1.5), out.Results.AverageDeltaGKcalMolBinders, 1e-12)
	assert.InDelta(t, -1.5, out.Results.AverageAffinityPredValueBinders, 1e-12)
	assert.InDelta(t, 0.25, out.Results.AverageAffinityPredValueAllLigands, 1e-12)
	assert.Equal(t, omtx.QuantityAffinityPredValue, s.Quantities["affinity_pred_value"])
	assert.Contains(t, s.Quantities["affinity"], "alias of delta_g_kcal_mol")

	// A higher threshold makes fewer binders.
	high := build(t, input{Children: children, Ranking: omtx.RankingOptions{BinderThreshold: 0.8}})
	assert.Equal(t, 1, high.Summary.PredictedBinders.N)
	assert.InDelta(t, -2, high.Summary.PredictedBinders.AffinityPredValue.Mean, 1e-12)
}

func TestSummaryFailures(t *testing.T) {
	t.Parallel()
	t.Run("completed with failures", func(t *testing.T) {
		t.Parallel()
		noResults := child(3, omtx.StatusCompleted)
		noResults.Results = nil
		children := []*omtx.Job{
			completed(0, -1, 0.9),
			child(1, omtx.StatusFailed, withError("boltz: out of memory on a100-80g")),
			completed(2, -2, 0.8),
			noResults,
			child(4, omtx.StatusCancelled),
		}
		out := build(t, input{Children: children})
		s := out.Summary
		assert.True(t, s.CompletedWithFailures)
		assert.Equal(t, "completed with 2 failed, 1 cancelled", s.StatusLine)
		assert.Equal(t, s.StatusLine, out.Results.StatusLine)
		assert.True(t, out.Results.CompletedWithFailures)
		require.Len(t, s.Failures, 2)
		assert.Equal(t, Failure{JobID: "job-00001", BatchIndex: 1, LigandName: "lig1", LigandSMILES: "CCO",
			Status: omtx.StatusFailed, Reason: "boltz: out of memory on a100-80g"}, s.Failures[0])
		assert.Equal(t, "job-00003", s.Failures[1].JobID)
		assert.Contains(t, s.Failures[1].Reason, "without usable results")
		assert.Zero(t, s.FailuresOmitted)
		var raw map[string]any
		require.NoError(t, json.Unmarshal(out.SummaryJSON, &raw))
		assert.Equal(t, true, raw["completed_with_failures"])
		assert.Equal(t, "completed with 2 failed, 1 cancelled", raw["status_line"])
	})

	t.Run("status lines", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			children []*omtx.Job
			want     string
		}{
			{[]*omtx.Job{completed(0, -1, 0.9)}, "completed"},
			{[]*omtx.Job{child(0, omtx.StatusFailed)}, "failed: no ligand completed, 1 failed"},
			{[]*omtx.Job{completed(0, -1, 0.9), child(1, omtx.StatusRunning), child(2, omtx.StatusFailed)}, "partial: 2 of 3 ligands finished, 1 failed"},
			{[]*omtx.Job{completed(0, -1, 0.9), child(1, statusFiltered)}, "completed, 1 filtered"},
			{nil, "no ligands"},
		} {
			out := build(t, input{Children: tt.children})
			assert.Equal(t, tt.want, out.Summary.StatusLine)
		}
		clean := build(t, input{Children: []*omtx.Job{completed(0, -1, 0.9), child(1, omtx.StatusCancelled)}})
		assert.False(t, clean.Summary.CompletedWithFailures, "a cancelled ligand is not a failure")
	})

	t.Run("bounded list with the count", func(t *testing.T) {
		t.Parallel()
		var children []*omtx.Job
		for i := range MaxFailuresListed + 5 {
			children = append(children, child(i, omtx.StatusFailed, withError(fmt.Sprintf("reason %d", i))))
		}
		out := build(t, input{Children: children})
		assert.Len(t, out.Summary.Failures, MaxFailuresListed)
		assert.Equal(t, 5, out.Summary.FailuresOmitted)
		assert.Equal(t, MaxFailuresListed+5, out.Summary.Failed)
		assert.Equal(t, "reason 0", out.Summary.Failures[0].Reason)
	})
}

func TestSummaryBaselineNote(t *testing.T) {
	t.Parallel()
	b := completed(0, -1, 0.9)
	b.Model, b.Results.Model = omtx.BaselineModel, omtx.BaselineModel
	out := build(t, input{Children: []*omtx.Job{b}})
	assert.Equal(t, "ligand-only descriptor model; ignores the protein", out.Summary.ModelNote)
	assert.Equal(t, out.Summary.ModelNote, out.Results.ModelNote)
	assert.Contains(t, string(out.SummaryJSON), `"model_note": "ligand-only descriptor model; ignores the protein"`)

	real := build(t, input{Children: []*omtx.Job{completed(0, -1, 0.9)}})
	assert.Empty(t, real.Summary.ModelNote)
	assert.NotContains(t, string(real.SummaryJSON), "model_note")
}

func topIDs(rs []omtx.RankedLigand) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.JobID
	}
	return out
}
