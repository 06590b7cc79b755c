package ranking

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/aggregate/internal/childtest"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// The children these tests rank, from the one fixture package.
type opt = childtest.Opt

var (
	child         = childtest.Child
	completed     = childtest.Completed
	withName      = childtest.WithName
	withSMILES    = childtest.WithSMILES
	withError     = childtest.WithError
	withID        = childtest.WithID
	withStructure = childtest.WithStructure
	withoutIndex  = childtest.WithoutIndex
	withMeta      = childtest.WithMeta
	readCSV       = childtest.ReadCSV
	rankSet       = childtest.RankSet
)

const wantHeader = childtest.WantHeader

// ids lists the job IDs of jobs.
func ids(jobs []*omtx.Job) []string {
	out := make([]string, len(jobs))
	for i, j := range jobs {
		out[i] = j.JobID
	}
	return out
}

// input is a whole batch, for build.
type input struct {
	BatchID  string
	Children []*omtx.Job
	Ranking  omtx.RankingOptions
}

// output is what build computes.
type output struct {
	CSV         []byte
	Results     omtx.BatchResults
	Summary     Summary
	SummaryJSON []byte
}

// build runs an Aggregator's two passes over a slice, as aggregate.Build
// does.
func build(t *testing.T, in input) output {
	t.Helper()
	children := InIndexOrder(in.Children)
	a := NewAggregator(Options{BatchID: in.BatchID, Ranking: in.Ranking})
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
	sj, err := a.SummaryJSON()
	require.NoError(t, err)
	return output{CSV: buf.Bytes(), Results: a.Results(), Summary: a.Summary(), SummaryJSON: sj}
}
