package aggregate

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
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
// completed children, with the median marked, as a 6in × 4in PNG.
func histogramPNG(batchID, batchName string, values []float64, sum Summary) ([]byte, error) {
	vs := plotter.Values(values)

	var hist *plotter.Histogram
	if lo, hi := plotter.Range(vs); hi > lo {
		var err error
		if hist, err = plotter.NewHist(vs, binCount(vs)); err != nil {
			return nil, err
		}
	} else {
		// All values equal: one bar centred on the value (plotter would draw
		// a unit-wide bar starting at it).
		hist = &plotter.Histogram{
			Bins:      []plotter.HistogramBin{{Min: lo - singleBinHalfWidth, Max: lo + singleBinHalfWidth, Weight: float64(len(vs))}},
			Width:     2 * singleBinHalfWidth,
			LineStyle: plotter.DefaultLineStyle,
		}
	}
	hist.FillColor = color.RGBA{R: 70, G: 130, B: 180, A: 255}

	p := plot.New()
	p.Title.Text = fmt.Sprintf("Predicted affinity distribution — %s (n=%d)", batchTitle(batchID, batchName), len(vs))
	p.X.Label.Text = histXLabel
	p.Y.Label.Text = histYLabel
	p.Y.Min = 0
	p.Add(plotter.NewGrid(), hist)
	p.Legend.Top = true
	if len(sum.Models) > 0 {
		p.Legend.Add("model: "+strings.Join(sum.Models, ", "), hist)
	}

	top := 0.0
	for _, b := range hist.Bins {
		top = math.Max(top, b.Weight)
	}
	med := sum.AffinityPredValue.Median
	line, err := plotter.NewLine(plotter.XYs{{X: med, Y: 0}, {X: med, Y: top}})
	if err != nil {
		return nil, err
	}
	line.Color = color.RGBA{R: 200, G: 30, B: 30, A: 255}
	line.Width = vg.Points(1.5)
	line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(line)
	p.Y.Max = top * 1.2 // room for the legend above the tallest bar
	p.Legend.Add(fmt.Sprintf("median = %.2f", med), line)

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

// binCount chooses the number of bins by the Freedman–Diaconis rule, or
// √n when the interquartile range is zero, kept within [minBins, maxBins].
func binCount(vs []float64) int {
	sorted := slices.Clone(vs)
	slices.Sort(sorted)
	n := float64(len(sorted))
	bins := math.Ceil(math.Sqrt(n))
	if len(sorted) > 1 {
		span := sorted[len(sorted)-1] - sorted[0]
		iqr := quantile(sorted, 0.75) - quantile(sorted, 0.25)
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
