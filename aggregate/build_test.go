package aggregate

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/aggregate/ranking"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// fakeLoader records which children it was asked for and returns a small
// mmCIF text naming the job.
type fakeLoader struct {
	mu    sync.Mutex
	calls []string
	empty map[string]bool // job IDs for which it returns no bytes
	err   error
}

func (f *fakeLoader) load(c *omtx.Job) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, c.JobID)
	if f.err != nil {
		return nil, f.err
	}
	if f.empty[c.JobID] {
		return nil, nil
	}
	return []byte("data_" + c.JobID + "\n#\n"), nil
}

func TestBuildResults(t *testing.T) {
	t.Parallel()
	out, err := Build(Input{BatchID: "b1", BatchName: "EGFR screen", Children: rankSet()})
	require.NoError(t, err)

	t.Run("batch_results.json shape", func(t *testing.T) {
		t.Parallel()
		var got map[string]any
		require.NoError(t, json.Unmarshal(out.ResultsJSON, &got))
		for _, k := range []string{"batch_id", "batch_name", "best_ligand", "best_job_id", "best_affinity", "best_affinity_pred_value",
			"average_affinity", "affinity_units", "affinity_pred_value_units", "ranking_rule", "top_10", "counts"} {
			assert.Contains(t, got, k)
		}
		assert.NotContains(t, got, "note")
		assert.Equal(t, "b1", got["batch_id"])
		assert.Equal(t, "lig0", got["best_ligand"])
		assert.Equal(t, "job-00000", got["best_job_id"])
		assert.InDelta(t, omtx.DeltaGFromPredValue(-1), got["best_affinity"], 1e-9)
		assert.InDelta(t, omtx.DeltaGFromPredValue(-1), got["best_delta_g_kcal_mol"], 1e-9, "best_affinity is its alias")
		assert.InDelta(t, -1.0, got["best_affinity_pred_value"], 1e-9)
		assert.Equal(t, "kcal/mol", got["affinity_units"])
		assert.Equal(t, "log10(IC50 / µM)", got["affinity_pred_value_units"])
		assert.Equal(t, RankingRule, got["ranking_rule"])
		assert.Equal(t, map[string]any{"completed": 7.0, "failed": 1.0, "cancelled": 1.0, "total": 12.0}, got["counts"])
		top, ok := got["top_10"].([]any)
		require.True(t, ok)
		assert.Len(t, top, 7)
		assert.True(t, bytes.HasPrefix(out.ResultsJSON, []byte("{\n  \"batch_id\"")), "indented by 2")
	})

	t.Run("parent document block", func(t *testing.T) {
		t.Parallel()
		got := out.Results
		assert.Equal(t, "job-00000", got.BestJobID)
		assert.Equal(t, omtx.UnitsKcalPerMol, got.AffinityUnits)
		assert.Equal(t, RankingRule, got.RankingRule)
		assert.Equal(t, 7, got.Completed)
		assert.Equal(t, 1, got.Failed)
		assert.Equal(t, 1, got.Cancelled)
		assert.Empty(t, got.ResultsFile)
		assert.Empty(t, got.HistogramFile)
		require.Len(t, got.Top10, 7)
		first := got.Top10[0]
		assert.Equal(t, omtx.RankedLigand{
			Rank: 1, JobID: "job-00000", BatchIndex: 0, LigandName: "lig0", LigandSMILES: "CCO",
			Affinity: omtx.DeltaGFromPredValue(-1), DeltaGKcalMol: omtx.DeltaGFromPredValue(-1), AffinityPredValue: -1, PIC50: 7,
			AffinityProbabilityBinary: 0.9, Confidence: 0.8,
		}, first)
		var ranks []int
		for _, r := range got.Top10 {
			ranks = append(ranks, r.Rank)
		}
		assert.Equal(t, []int{1, 2, 3, 4, 5, 6, 7}, ranks)
		values := []float64{-2, -1, -1, 1, 0.1, 0.5, -3}
		wantMean := 0.0
		for _, v := range values {
			wantMean += omtx.DeltaGFromPredValue(v)
		}
		wantMean /= float64(len(values))
		assert.InDelta(t, wantMean, got.AverageAffinity, 1e-9)
	})

	t.Run("summary", func(t *testing.T) {
		t.Parallel()
		got := out.Summary
		assert.Equal(t, 12, got.Total)
		assert.Equal(t, 7, got.Completed)
		assert.Equal(t, 1, got.Failed)
		assert.Equal(t, 1, got.Cancelled)
		assert.Equal(t, 3, got.Other, "running + two completed without usable results")
		assert.Equal(t, 2, got.CompletedWithoutResults)
		assert.Equal(t, got.Total, got.Completed+got.Failed+got.Cancelled+got.Other)
		assert.Equal(t, 4, got.Binders)
		assert.Equal(t, 7, got.AffinityPredValue.N)
		assert.InDelta(t, -5.4/7, got.AffinityPredValue.Mean, 1e-12)
		assert.InDelta(t, -1.0, got.AffinityPredValue.Median, 1e-12)
		assert.InDelta(t, -3.0, got.AffinityPredValue.Min, 1e-12)
		assert.InDelta(t, 1.0, got.AffinityPredValue.Max, 1e-12)
		assert.InDelta(t, 6-(-5.4/7), got.PIC50.Mean, 1e-12)
		assert.InDelta(t, 0.8, got.Confidence.Mean, 1e-12)
		assert.InDelta(t, 0, got.Confidence.Std, 1e-12)
		assert.InDelta(t, 14.0, got.ModelSeconds, 1e-12)
		assert.Equal(t, []string{"boltz2"}, got.Models)
		assert.Equal(t, omtx.UnitsLog10IC50uM, got.Units["affinity_pred_value"])
		assert.Equal(t, omtx.UnitsKcalPerMol, got.Units["delta_g_kcal_mol"])
		assert.Equal(t, RankingRule, got.RankingRule)
	})

	t.Run("summary.json snake_case", func(t *testing.T) {
		t.Parallel()
		var got map[string]any
		require.NoError(t, json.Unmarshal(out.SummaryJSON, &got))
		for _, k := range []string{"batch_id", "batch_name", "total", "completed", "failed", "cancelled", "other",
			"binders", "affinity_pred_value", "delta_g_kcal_mol", "pic50", "affinity_probability_binary", "confidence",
			"model_seconds", "models", "units", "ranking_rule", "ranking", "status_line", "completed_with_failures",
			"failures", "failures_omitted", "predicted_binders", "all_ligands", "quantities"} {
			assert.Contains(t, got, k)
		}
		stats, ok := got["affinity_pred_value"].(map[string]any)
		require.True(t, ok)
		assert.ElementsMatch(t, []string{"n", "min", "max", "mean", "median", "std"}, slices.Collect(mapKeys(stats)))
	})

	t.Run("deterministic", func(t *testing.T) {
		t.Parallel()
		set := rankSet()
		slices.Reverse(set)
		again, err := Build(Input{BatchID: "b1", BatchName: "EGFR screen", Children: set})
		require.NoError(t, err)
		assert.Equal(t, out.CSV, again.CSV)
		assert.Equal(t, out.ResultsJSON, again.ResultsJSON)
		assert.Equal(t, out.SummaryJSON, again.SummaryJSON)
	})
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestAggregatorPasses(t *testing.T) {
	t.Parallel()

	t.Run("a child seen twice is refused", func(t *testing.T) {
		t.Parallel()
		_, err := Build(Input{BatchID: "b", Children: []*omtx.Job{completed(0, -1, 0.9), completed(0, -1, 0.9)}})
		require.ErrorContains(t, err, "out of batch_index order")
	})

	t.Run("out of order is refused", func(t *testing.T) {
		t.Parallel()
		a := NewAggregator("b", "")
		require.NoError(t, a.Add(completed(2, -1, 0.9)))
		require.ErrorContains(t, a.Add(completed(1, -1, 0.9)), "out of batch_index order")
	})

	t.Run("the second pass must see every child once", func(t *testing.T) {
		t.Parallel()
		a := NewAggregator("b", "")
		children := []*omtx.Job{completed(0, -1, 0.9), child(1, omtx.StatusFailed), completed(2, -3, 0.9)}
		for _, c := range children {
			require.NoError(t, a.Add(c))
		}
		a.Finish()
		short := a.NewCSV(io.Discard)
		require.NoError(t, short.Write(children[0]))
		require.ErrorContains(t, short.Close(), "3 in the first")
		long := a.NewCSV(io.Discard)
		for _, c := range children {
			require.NoError(t, long.Write(c))
		}
		require.ErrorContains(t, long.Write(children[0]), "more children in the second pass")
	})

	t.Run("ranks follow the rule across the passes", func(t *testing.T) {
		t.Parallel()
		out, err := Build(Input{BatchID: "b", Children: []*omtx.Job{
			completed(0, -1, 0.9), child(1, omtx.StatusFailed), completed(2, -3, 0.9), completed(3, -5, 0.2),
		}})
		require.NoError(t, err)
		_, rows := readCSV(t, out.CSV)
		require.Len(t, rows, 4)
		var got [][2]string
		for _, r := range rows {
			got = append(got, [2]string{r["rank"], r["batch_index"]})
		}
		assert.Equal(t, [][2]string{{"1", "2"}, {"2", "0"}, {"3", "3"}, {"", "1"}}, got)
		assert.Equal(t, "job-00002", out.Results.BestJobID)
	})
}

func TestBuildNoneCompleted(t *testing.T) {
	t.Parallel()
	loader := &fakeLoader{}
	children := []*omtx.Job{
		child(0, omtx.StatusFailed),
		child(1, omtx.StatusCancelled),
		child(2, omtx.StatusPending),
	}
	out, err := Build(Input{BatchID: "b", BatchName: "nothing", Children: children, LoadStructure: loader.load})
	require.NoError(t, err)

	assert.Nil(t, out.HistogramPNG)
	assert.Nil(t, out.StructuresZIP)
	assert.Empty(t, loader.calls)
	require.NotNil(t, out.Results.Top10)
	assert.Empty(t, out.Results.Top10)
	assert.Empty(t, out.Results.BestJobID)
	assert.Zero(t, out.Results.BestAffinity)
	assert.Zero(t, out.Results.AverageAffinity)

	var got map[string]any
	require.NoError(t, json.Unmarshal(out.ResultsJSON, &got))
	assert.Equal(t, []any{}, got["top_10"])
	assert.Equal(t, "", got["best_ligand"])
	assert.Equal(t, ranking.NoCompletedNote, got["note"])
	assert.Equal(t, []any{}, got["models"])

	assert.Equal(t, Stats{}, out.Summary.AffinityPredValue)
	_, rows := readCSV(t, out.CSV)
	assert.Len(t, rows, 3)

	empty, err := Build(Input{})
	require.NoError(t, err)
	assert.Nil(t, empty.HistogramPNG)
	assert.Equal(t, wantHeader+"\n", string(empty.CSV))
}

func TestBuildHistogram(t *testing.T) {
	t.Parallel()
	var children []*omtx.Job
	for i := range 200 {
		v := -3 + 5*math.Sin(float64(i))*math.Sin(float64(i))
		children = append(children, completed(i, v, float64(i%10)/10))
	}
	out, err := Build(Input{BatchID: "b", BatchName: "histogram", Children: children})
	require.NoError(t, err)
	require.NotNil(t, out.HistogramPNG)

	t.Run("decodes as a 6in x 4in PNG", func(t *testing.T) {
		t.Parallel()
		img, err := png.Decode(bytes.NewReader(out.HistogramPNG))
		require.NoError(t, err)
		got := img.Bounds()
		// vgimg renders at 96 dpi: 6in × 4in = 576 × 384 pixels.
		assert.Equal(t, 576, got.Dx())
		assert.Equal(t, 384, got.Dy())
		assert.InDelta(t, 1.5, float64(got.Dx())/float64(got.Dy()), 1e-9)
	})

	t.Run("deterministic bytes", func(t *testing.T) {
		t.Parallel()
		again, err := Build(Input{BatchID: "b", BatchName: "histogram", Children: children})
		require.NoError(t, err)
		assert.Equal(t, out.HistogramPNG, again.HistogramPNG)
	})

	t.Run("one completed child", func(t *testing.T) {
		t.Parallel()
		one, err := Build(Input{Children: []*omtx.Job{completed(0, -1, 0.9)}})
		require.NoError(t, err)
		_, err = png.Decode(bytes.NewReader(one.HistogramPNG))
		require.NoError(t, err)
	})

	t.Run("title", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, "b", batchTitle("b", ""))
		long := strings.Repeat("é", 100)
		got := batchTitle("", long)
		assert.Len(t, []rune(got), maxTitleLen)
		assert.True(t, strings.HasSuffix(got, "…"))
	})
}

// structureSet is 12 completed children, ranked by index (all binders, value
// rising with index), with structures for all but indexes 2 and 11.
func structureSet() []*omtx.Job {
	var children []*omtx.Job
	for i := range 12 {
		opts := []opt{withName(fmt.Sprintf("Lig %d/ó", i))}
		if i != 2 && i != 11 {
			opts = append(opts, withStructure())
		}
		children = append(children, completed(i, float64(i)/10-2, 0.9, opts...))
	}
	children[2].Results.StructureUnavailableReason = "descriptor model"
	children = append(children, child(12, omtx.StatusFailed))
	return children
}

func readZip(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	require.NoError(t, err)
	files := map[string]string{}
	for _, f := range zr.File {
		assert.True(t, f.Modified.Equal(zipTime), f.Name)
		rc, err := f.Open()
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, err)
		require.NoError(t, rc.Close())
		files[f.Name] = string(b)
	}
	return files
}

func TestBuildStructures(t *testing.T) {
	t.Parallel()

	t.Run("zip contents", func(t *testing.T) {
		t.Parallel()
		loader := &fakeLoader{}
		out, err := Build(Input{BatchID: "b1", BatchName: "zip", Children: structureSet(), LoadStructure: loader.load})
		require.NoError(t, err)
		require.NotNil(t, out.StructuresZIP)

		wantCalls := []string{"job-00000", "job-00001", "job-00003", "job-00004", "job-00005", "job-00006", "job-00007", "job-00008", "job-00009"}
		assert.Equal(t, wantCalls, loader.calls, "top 10 with structures only, in rank order")

		files := readZip(t, out.StructuresZIP)
		var names []string
		for n := range files {
			names = append(names, n)
		}
		slices.Sort(names)
		want := []string{"README.txt"}
		for _, i := range []int{0, 1, 3, 4, 5, 6, 7, 8, 9} {
			want = append(want, fmt.Sprintf("rank%02d_Lig_%d_job-%05d.cif", i+1, i, i))
		}
		slices.Sort(want)
		assert.Equal(t, want, names)
		assert.Equal(t, "data_job-00000\n#\n", files["rank01_Lig_0_job-00000.cif"])

		readme := files["README.txt"]
		assert.Contains(t, readme, RankingRule)
		assert.Contains(t, readme, "Rank 1: Lig 0/ó")
		assert.Contains(t, readme, "file: rank01_Lig_0_job-00000.cif")
		assert.Contains(t, readme, "Rank 3: Lig 2/ó\n  file: none (descriptor model)")
		assert.Contains(t, readme, "smiles: CCO")
		assert.Contains(t, readme, "affinity_pred_value: -2.0000 log10(IC50 / µM)")
		assert.Contains(t, readme, "delta_g: -10.9120 kcal/mol")
		assert.Contains(t, readme, "model: boltz2 2.1.1")
		assert.Contains(t, readme, "Rank 10:")
		assert.NotContains(t, readme, "Rank 11:")
	})

	t.Run("deterministic bytes", func(t *testing.T) {
		t.Parallel()
		a, err := Build(Input{BatchID: "b1", Children: structureSet(), LoadStructure: (&fakeLoader{}).load})
		require.NoError(t, err)
		b, err := Build(Input{BatchID: "b1", Children: structureSet(), LoadStructure: (&fakeLoader{}).load})
		require.NoError(t, err)
		assert.Equal(t, a.StructuresZIP, b.StructuresZIP)
	})

	t.Run("loader error fails the build", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("gcs unavailable")
		out, err := Build(Input{Children: structureSet(), LoadStructure: (&fakeLoader{err: boom}).load})
		require.ErrorIs(t, err, boom)
		assert.Nil(t, out)
	})

	t.Run("empty structure is listed as missing", func(t *testing.T) {
		t.Parallel()
		loader := &fakeLoader{empty: map[string]bool{"job-00000": true}}
		out, err := Build(Input{Children: structureSet(), LoadStructure: loader.load})
		require.NoError(t, err)
		files := readZip(t, out.StructuresZIP)
		assert.NotContains(t, files, "rank01_Lig_0_job-00000.cif")
		assert.Contains(t, files["README.txt"], "Rank 1: Lig 0/ó\n  file: none (the structure file is empty or missing)")
	})

	t.Run("not called without structures", func(t *testing.T) {
		t.Parallel()
		loader := &fakeLoader{}
		children := []*omtx.Job{completed(0, -1, 0.9), completed(1, -2, 0.3), child(2, omtx.StatusFailed)}
		out, err := Build(Input{Children: children, LoadStructure: loader.load})
		require.NoError(t, err)
		assert.Empty(t, loader.calls)
		assert.Nil(t, out.StructuresZIP)
	})

	t.Run("nil loader", func(t *testing.T) {
		t.Parallel()
		out, err := Build(Input{Children: structureSet()})
		require.NoError(t, err)
		assert.Nil(t, out.StructuresZIP)
	})

	t.Run("all top-10 structures empty", func(t *testing.T) {
		t.Parallel()
		empty := map[string]bool{}
		for i := range 12 {
			empty[fmt.Sprintf("job-%05d", i)] = true
		}
		out, err := Build(Input{Children: structureSet(), LoadStructure: (&fakeLoader{empty: empty}).load})
		require.NoError(t, err)
		assert.Nil(t, out.StructuresZIP)
	})
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"aspirin", "aspirin"},
		{"Lig 1/ó", "Lig_1"},
		{"../../etc/passwd", "etc_passwd"},
		{"(-)-epicatechin", "-_-epicatechin"},
		{"", "ligand"},
		{"日本語", "ligand"},
		{strings.Repeat("a", 100), strings.Repeat("a", maxNameInFile)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got := sanitize(tt.in, "ligand")
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestBuildLarge(t *testing.T) {
	t.Parallel()
	const n = 50_000
	children := make([]*omtx.Job, 0, n)
	for i := range n {
		var c *omtx.Job
		switch {
		case i%50 == 7:
			c = child(i, omtx.StatusFailed)
		case i%100 == 13:
			c = child(i, omtx.StatusCancelled)
		default:
			v := math.Mod(float64(i)*0.6180339887, 6) - 4
			c = completed(i, v, math.Mod(float64(i)*0.31, 1), withMeta("vendor", "Enamine", "id", fmt.Sprintf("Z%08d", i)))
			if i%1000 == 0 {
				c.Results.StructureAvailable = true
			}
		}
		children = append(children, c)
	}
	slices.Reverse(children)
	loader := &fakeLoader{}
	out, err := Build(Input{BatchID: "big", BatchName: "50k", Children: children, LoadStructure: loader.load})
	require.NoError(t, err)

	got := out.Summary
	assert.Equal(t, n, got.Total)
	assert.Equal(t, 1000, got.Failed)
	assert.Equal(t, 500, got.Cancelled)
	assert.Equal(t, n-1500, got.Completed)
	assert.Equal(t, n-1500, got.AffinityPredValue.N)
	assert.Equal(t, bytes.Count(out.CSV, []byte("\n")), n+1)
	assert.Len(t, out.Results.Top10, 10)
	assert.LessOrEqual(t, len(loader.calls), 10)
	assert.NotNil(t, out.HistogramPNG)
}

func TestBinCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []float64
		want int
	}{
		{"one value", []float64{1}, minBins},
		{"all equal", []float64{1, 1, 1, 1}, minBins},
		// Uniform on [0,1]: Freedman–Diaconis gives ceil(1 / (2·0.5/∛n)) = ceil(∛n).
		{"uniform 1200", uniform(1200), 11},
		{"uniform 7000", uniform(7000), 20},
		{"many capped", uniform(1_000_000), maxBins},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := binCount(tt.in)
			assert.Equal(t, tt.want, got)
		})
	}
}

// uniform returns n evenly spaced values on [0, 1].
func uniform(n int) []float64 {
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = float64(i) / float64(n-1)
	}
	return vs
}

// TestCountTicksAreWhole: the histogram's count axis never shows half a
// ligand, on a tiny batch or a large one.
func TestCountTicksAreWhole(t *testing.T) {
	t.Parallel()
	for _, max := range []float64{1.8, 2.7, 5.4, 170} {
		ts := countTicks{}.Ticks(0, max)
		require.NotEmpty(t, ts)
		for _, tk := range ts {
			assert.Equal(t, math.Trunc(tk.Value), tk.Value, "tick %v up to %v", tk.Value, max)
		}
		assert.LessOrEqual(t, len(ts), 8)
	}
}
