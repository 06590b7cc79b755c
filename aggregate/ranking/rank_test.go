package ranking

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

func TestRank(t *testing.T) {
	t.Parallel()
	// Hit discovery: probability descending, then value ascending.
	want := []string{"job-00000", "job-00005", "job-00001", "job-00008", "job-00007", "job-00003", "job-00004"}

	t.Run("rule on a crafted set", func(t *testing.T) {
		t.Parallel()
		got := ids(Rank(rankSet()))
		assert.Equal(t, want, got)
	})

	t.Run("independent of input order", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(1, 2))
		for range 20 {
			set := rankSet()
			r.Shuffle(len(set), func(i, j int) { set[i], set[j] = set[j], set[i] })
			got := ids(Rank(set))
			require.Equal(t, want, got)
		}
	})

	t.Run("ties broken by batch_index, missing index last", func(t *testing.T) {
		t.Parallel()
		set := []*omtx.Job{
			completed(9, -1, 0.9, withID("b")),
			completed(0, -1, 0.9, withoutIndex(), withID("a")),
			completed(3, -1, 0.9, withID("c")),
		}
		got := ids(Rank(set))
		assert.Equal(t, []string{"c", "b", "a"}, got)
	})

	t.Run("does not modify its input", func(t *testing.T) {
		t.Parallel()
		set := rankSet()
		before := ids(set)
		Rank(set)
		got := ids(set)
		assert.Equal(t, before, got)
	})

	t.Run("empty and nil", func(t *testing.T) {
		t.Parallel()
		assert.Empty(t, Rank(nil))
		assert.Empty(t, Rank([]*omtx.Job{nil, child(0, omtx.StatusFailed)}))
	})

	t.Run("rule is one sentence naming the keys", func(t *testing.T) {
		t.Parallel()
		got := RankingRule
		assert.True(t, strings.HasPrefix(got, "Hit discovery: ordered by affinity_probability_binary descending"))
		assert.True(t, strings.HasSuffix(got, "."))
		lead := omtx.RankingOptions{Mode: omtx.RankingLeadOptimization}.Describe()
		assert.Contains(t, lead, fmt.Sprintf(">= %g", BinderThreshold))
	})
}

func TestRankable(t *testing.T) {
	t.Parallel()
	inf := completed(0, -1, 0.9)
	inf.Results.Confidence = math.Inf(1)
	tests := []struct {
		name string
		job  *omtx.Job
		want bool
	}{
		{"completed", completed(0, -1, 0.9), true},
		{"failed", child(0, omtx.StatusFailed), false},
		{"nil", nil, false},
		{"infinite confidence", inf, false},
		{"NaN probability", completed(0, -1, math.NaN()), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := rankable(tt.job)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []float64
		want Stats
	}{
		{"empty", nil, Stats{}},
		{"one", []float64{-2}, Stats{N: 1, Min: -2, Max: -2, Mean: -2, Median: -2}},
		{"odd", []float64{5, 1, 3}, Stats{N: 3, Min: 1, Max: 5, Mean: 3, Median: 3, Std: math.Sqrt(8.0 / 3)}},
		{"even", []float64{4, 1, 3, 2}, Stats{N: 4, Min: 1, Max: 4, Mean: 2.5, Median: 2.5, Std: math.Sqrt(1.25)}},
		{"skips non-finite", []float64{2, math.NaN(), 4, math.Inf(-1)}, Stats{N: 2, Min: 2, Max: 4, Mean: 3, Median: 3, Std: 1}},
		{"known sample", []float64{2, 4, 4, 4, 5, 5, 7, 9}, Stats{N: 8, Min: 2, Max: 9, Mean: 5, Median: 4.5, Std: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := computeStats(slices.Clone(tt.in))
			assert.Equal(t, tt.want.N, got.N)
			assert.InDelta(t, tt.want.Min, got.Min, 1e-12)
			assert.InDelta(t, tt.want.Max, got.Max, 1e-12)
			assert.InDelta(t, tt.want.Mean, got.Mean, 1e-12)
			assert.InDelta(t, tt.want.Median, got.Median, 1e-12)
			assert.InDelta(t, tt.want.Std, got.Std, 1e-12)
		})
	}
}
