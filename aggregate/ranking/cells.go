package ranking

import (
	"slices"
	"strconv"
	"strings"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// metaKeys are the user's metadata keys seen by Add, sorted: the metadata
// columns of batch_results.csv, in order.
func (a *Aggregator) metaKeys() []string {
	keys := make([]string, 0, len(a.meta))
	for k := range a.meta {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Cells is child c's row of batch_results.csv at rank (0: not ranked, an
// empty cell) as column names and values, the user's metadata columns
// last, after Finish: the data fields of the child's SD record (package
// sdf), named and valued as the CSV's columns are. The spreadsheet guard
// (see NewCSV) is taken off again: an SD file is not run as formulas.
func (a *Aggregator) Cells(rank int, c *omtx.Job) (names, values []string) {
	keys := a.metaKeys()
	names = append(slices.Clone(csvHeader), metaColumns(keys)...)
	values = make([]string, len(names))
	if rank > 0 {
		values[colRank] = strconv.Itoa(rank)
	}
	a.csvRow(values, c, keys)
	for i := range names {
		names[i], values[i] = unguard(names[i]), unguard(values[i])
	}
	return names, values
}

// unguard undoes guard: guard adds exactly one leading quote, and only to
// a cell that then starts with it.
func unguard(s string) string { return strings.TrimPrefix(s, "'") }
