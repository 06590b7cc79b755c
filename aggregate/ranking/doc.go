// Package ranking orders a batch's children by a ranking rule
// (omtx.RankingOptions) and counts them: the Aggregator behind
// summary.json, batch_results.json and batch_results.csv. It links no
// plotting, so the API re-ranks a finished batch with the code that
// aggregated it; package aggregate adds the histogram and the structures
// archive.
package ranking
