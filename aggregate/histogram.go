package aggregate

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/omtx-hub/omtx-hub/aggregate/ranking"
)

const (
	histXLabel  = "affinity_pred_value = log10(IC50 / µM)  (lower = stronger)"
	histYLabel  = "ligands"
	minBins     = 5
	maxBins     = 50
	maxTitleLen = 60 // runes of the batch name shown in the title
	// singleBinHalfWidth is half the width of the only bar when all values
	// are equal, in log10 units.
	singleBinHalfWidth = 0.25
)

// histogramPNG draws the distribution of affinity_pred_value over the
// predicted binders, in front of the distribution over every completed
// ligand (same bins, lighter), with the binders' median marked (the
// median of all when no ligand is a predicted binder), as a 6in × 4in
// PNG. The legend names both populations and their counts.
func histogramPNG(batchID, batchName string, all, binders []float64, sum Summary) ([]byte, error) {
	lo, hi := plotter.Range(plotter.Values(all))
	var edges []float64
	if hi > lo {
		n := binCount(all)
		w := (hi - lo) / float64(n)
		for i := range n + 1 {
			edges = append(edges, lo+float64(i)*w)
		}
		edges[n] = hi
	} else {
		// All values equal: one bar centred on the value.
		edges = []float64{lo - singleBinHalfWidth, lo + singleBinHalfWidth}
	}
	allHist := histOf(all, edges, color.RGBA{R: 200, G: 200, B: 200, A: 255})
	binderHist := histOf(binders, edges, color.RGBA{R: 70, G: 130, B: 180, A: 255})

	p := plot.New()
	p.Title.Text = fmt.Sprintf("Predicted affinity_pred_value — %s", batchTitle(batchID, batchName))
	p.X.Label.Text = histXLabel
	p.Y.Label.Text = histYLabel
	p.Y.Min = 0
	p.Add(plotter.NewGrid(), allHist, binderHist)
	p.Legend.Top = true
	p.Legend.Add(fmt.Sprintf("all completed ligands (n=%d)", len(all)), allHist)
	p.Legend.Add(fmt.Sprintf("predicted binders, P(binder) >= %g (n=%d)", sum.Ranking.BinderThreshold, len(binders)), binderHist)
	if len(sum.Models) > 0 {
		m := "model: " + strings.Join(sum.Models, ", ")
		if sum.ModelNote != "" {
			m += " (" + sum.ModelNote + ")"
		}
		p.Legend.Add(m)
	}

	top := 0.0
	for _, b := range allHist.Bins {
		top = math.Max(top, b.Weight)
	}
	med, of := sum.PredictedBinders.AffinityPredValue.Median, "binders"
	if len(binders) == 0 {
		med, of = sum.AllLigands.AffinityPredValue.Median, "all"
	}
	line, err := plotter.NewLine(plotter.XYs{{X: med, Y: 0}, {X: med, Y: top}})
	if err != nil {
		return nil, err
	}
	line.Color = color.RGBA{R: 200, G: 30, B: 30, A: 255}
	line.Width = vg.Points(1.5)
	line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(line)
	p.Legend.Add(fmt.Sprintf("median (%s) = %.2f", of, med), line)
	// The 1 µM reference: affinity_pred_value is log10(IC50 / µM), so
	// IC50 = 1 µM is 0; stronger predicted binders lie to its left.
	ref, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 0, Y: top}})
	if err != nil {
		return nil, err
	}
	ref.Color = color.RGBA{R: 60, G: 60, B: 60, A: 255}
	ref.Width = vg.Points(1)
	ref.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
	p.Add(ref)
	p.Legend.Add("IC50 = 1 µM (affinity_pred_value 0)", ref)
	p.Y.Max = top * 2.1 // room for the five legend lines above the tallest bar
	p.Y.Tick.Marker = countTicks{}

	wt, err := p.WriterTo(6*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// histOf counts vs into the bins between consecutive edges (the last bin
// closed on the right).
func histOf(vs, edges []float64, fill color.Color) *plotter.Histogram {
	bins := make([]plotter.HistogramBin, len(edges)-1)
	for i := range bins {
		bins[i] = plotter.HistogramBin{Min: edges[i], Max: edges[i+1]}
	}
	for _, v := range vs {
		i := sort.SearchFloat64s(edges, v)
		switch {
		case i < len(edges) && edges[i] == v:
			// on an edge: the bin it opens, or the last bin
		default:
			i--
		}
		i = min(max(i, 0), len(bins)-1)
		bins[i].Weight++
	}
	return &plotter.Histogram{
		Bins: bins, Width: edges[1] - edges[0], FillColor: fill, LineStyle: plotter.DefaultLineStyle,
	}
}

// binCount chooses the number of bins by the Freedman–Diaconis rule, or
// √n when the interquartile range is zero, kept within [minBins, maxBins].
func binCount(vs []float64) int {
	sorted := slices.Clone(vs)
	slices.Sort(sorted)
	n := float64(len(sorted))
	bins := math.Ceil(math.Sqrt(n))
	if len(sorted) > 1 {
		span := sorted[len(sorted)-1] - sorted[0]
		iqr := ranking.Quantile(sorted, 0.75) - ranking.Quantile(sorted, 0.25)
		if span > 0 && iqr > 0 {
			bins = math.Ceil(span / (2 * iqr / math.Cbrt(n)))
		}
	}
	return int(math.Min(math.Max(bins, minBins), maxBins))
}

// batchTitle names the batch in the plot title: its name, else its ID,
// shortened to maxTitleLen runes.
func batchTitle(batchID, batchName string) string {
	name := strings.TrimSpace(batchName)
	if name == "" {
		name = batchID
	}
	if r := []rune(name); len(r) > maxTitleLen {
		name = string(r[:maxTitleLen-1]) + "…"
	}
	return name
}

// countTicks marks a count axis at whole numbers only: a bar holds 1 or 2
// ligands, never 1.5.
type countTicks struct{}

// Ticks returns at most about six whole-number ticks between min and max.
func (countTicks) Ticks(min, max float64) []plot.Tick {
	step := math.Max(1, math.Ceil((max-min)/6))
	var ts []plot.Tick
	for v := math.Ceil(min); v <= max; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', 0, 64)})
	}
	return ts
}
