package ranking

import (
	"math"
	"slices"
)

// Stats describes a set of values. Std is the population standard deviation.
// All fields are zero when N == 0.
type Stats struct {
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	Std    float64 `json:"std"`
}

// computeStats describes vs, skipping NaN and infinite values. It sorts vs
// in place.
func computeStats(vs []float64) Stats {
	vs = slices.DeleteFunc(vs, isNaNOrInf)
	if len(vs) == 0 {
		return Stats{}
	}
	slices.Sort(vs)
	n := float64(len(vs))
	var sum float64
	for _, v := range vs {
		sum += v
	}
	mean := sum / n
	var ss float64
	for _, v := range vs {
		d := v - mean
		ss += d * d
	}
	return Stats{
		N:      len(vs),
		Min:    vs[0],
		Max:    vs[len(vs)-1],
		Mean:   mean,
		Median: quantile(vs, 0.5),
		Std:    math.Sqrt(ss / n),
	}
}

// Quantile returns the q-quantile of sorted, non-empty vs, interpolating
// linearly between order statistics.
func Quantile(sorted []float64, q float64) float64 { return quantile(sorted, q) }

// quantile returns the q-quantile of sorted, non-empty vs, interpolating
// linearly between order statistics.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := int(math.Ceil(pos))
	if lo == hi {
		return sorted[lo]
	}
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[hi]-sorted[lo])
}

func isNaNOrInf(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
