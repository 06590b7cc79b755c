package ranking

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

var baseTime = time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)

// opt changes a test child.
type opt func(*omtx.Job)

// child builds a batch child with the given index and status; a completed
// child gets a results block with affinity_pred_value 0 and probability 0.5
// unless options say otherwise.
func child(idx int, status omtx.JobStatus, opts ...opt) *omtx.Job {
	j := &omtx.Job{
		JobID:         fmt.Sprintf("job-%05d", idx),
		JobType:       omtx.JobTypeBatchChild,
		Model:         omtx.ModelBoltz2,
		Status:        status,
		UpdatedAt:     baseTime,
		BatchParentID: "batch-1",
		BatchIndex:    &idx,
		InputData: omtx.InputData{
			LigandName:   fmt.Sprintf("lig%d", idx),
			LigandSMILES: "CCO",
		},
	}
	switch status {
	case omtx.StatusCompleted:
		withPred(0, 0.5)(j)
	case omtx.StatusFailed:
		j.Error = "model failed"
	}
	for _, o := range opts {
		o(j)
	}
	return j
}

// completed is a completed child with the given affinity_pred_value and
// affinity_probability_binary.
func completed(idx int, value, prob float64, opts ...opt) *omtx.Job {
	return child(idx, omtx.StatusCompleted, append([]opt{withPred(value, prob)}, opts...)...)
}

// withPred sets a results block as the GPU activity writes it.
func withPred(value, prob float64) opt {
	return func(j *omtx.Job) {
		j.Results = &omtx.Results{
			Model:                     omtx.ModelBoltz2,
			ModelVersion:              "2.1.1",
			ModelKind:                 "boltz",
			AffinityPredValue:         value,
			AffinityPredValueUnits:    omtx.UnitsLog10IC50uM,
			PIC50:                     omtx.PIC50FromPredValue(value),
			DeltaGKcalMol:             omtx.DeltaGFromPredValue(value),
			Affinity:                  omtx.DeltaGFromPredValue(value),
			AffinityUnits:             omtx.UnitsKcalPerMol,
			AffinityProbabilityBinary: prob,
			Confidence:                0.8,
			ResultsFile:               "gs://bucket/batches/batch-1/jobs/" + j.JobID + "/results.json",
			ModelSeconds:              2,
		}
	}
}

func withName(name string) opt { return func(j *omtx.Job) { j.InputData.LigandName = name } }
func withSMILES(s string) opt  { return func(j *omtx.Job) { j.InputData.LigandSMILES = s } }
func withError(e string) opt   { return func(j *omtx.Job) { j.Error = e } }
func withID(id string) opt     { return func(j *omtx.Job) { j.JobID = id } }
func withStructure() opt       { return func(j *omtx.Job) { j.Results.StructureAvailable = true } }
func withoutIndex() opt        { return func(j *omtx.Job) { j.BatchIndex = nil } }
func withMeta(kv ...string) opt {
	return func(j *omtx.Job) {
		if j.LigandMetadata == nil {
			j.LigandMetadata = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			j.LigandMetadata[kv[i]] = kv[i+1]
		}
	}
}

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
