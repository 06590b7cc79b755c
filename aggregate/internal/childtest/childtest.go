// Package childtest builds the batch children that the aggregate and
// aggregate/ranking tests rank and write: one set of fixtures for both.
package childtest

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// BaseTime is every child's updated_at.
var BaseTime = time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)

// Opt changes a test child.
type Opt func(*omtx.Job)

// Child builds a batch child with the given index and status; a completed
// child gets a results block with affinity_pred_value 0 and probability 0.5
// unless options say otherwise.
func Child(idx int, status omtx.JobStatus, opts ...Opt) *omtx.Job {
	j := &omtx.Job{
		JobID:         fmt.Sprintf("job-%05d", idx),
		JobType:       omtx.JobTypeBatchChild,
		Model:         omtx.ModelBoltz2,
		Status:        status,
		UpdatedAt:     BaseTime,
		BatchParentID: "batch-1",
		BatchIndex:    &idx,
		InputData: omtx.InputData{
			LigandName:   fmt.Sprintf("lig%d", idx),
			LigandSMILES: "CCO",
		},
	}
	switch status {
	case omtx.StatusCompleted:
		WithPred(0, 0.5)(j)
	case omtx.StatusFailed:
		j.Error = "model failed"
	}
	for _, o := range opts {
		o(j)
	}
	return j
}

// Completed is a completed child with the given affinity_pred_value and
// affinity_probability_binary.
func Completed(idx int, value, prob float64, opts ...Opt) *omtx.Job {
	return Child(idx, omtx.StatusCompleted, append([]Opt{WithPred(value, prob)}, opts...)...)
}

// WithPred sets a results block as the GPU activity writes it.
func WithPred(value, prob float64) Opt {
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

// Options for Child and Completed.
func WithName(name string) Opt { return func(j *omtx.Job) { j.InputData.LigandName = name } }
func WithSMILES(s string) Opt  { return func(j *omtx.Job) { j.InputData.LigandSMILES = s } }
func WithError(e string) Opt   { return func(j *omtx.Job) { j.Error = e } }
func WithID(id string) Opt     { return func(j *omtx.Job) { j.JobID = id } }
func WithStructure() Opt       { return func(j *omtx.Job) { j.Results.StructureAvailable = true } }
func WithoutIndex() Opt        { return func(j *omtx.Job) { j.BatchIndex = nil } }
func WithMeta(kv ...string) Opt {
	return func(j *omtx.Job) {
		if j.LigandMetadata == nil {
			j.LigandMetadata = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			j.LigandMetadata[kv[i]] = kv[i+1]
		}
	}
}

// WantHeader is batch_results.csv's header without metadata columns.
const WantHeader = "rank,batch_index,job_id,ligand_name,smiles,status," +
	"affinity_probability_binary,predicted_binder,affinity_pred_value_log10_ic50_um,pic50,delta_g_kcal_mol," +
	"confidence,ligand_iptm,iptm,below_confidence_floor,model,model_version,model_note," +
	"structure_available,results_url,structure_url,failure_reason,warnings," +
	"modelled_smiles,msa_mode,msa_digest,filter_rule"

// ReadCSV parses a CSV file into rows keyed by column name.
func ReadCSV(t *testing.T, data []byte) (header []string, rows []map[string]string) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	header = recs[0]
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, v := range rec {
			row[header[i]] = v
		}
		rows = append(rows, row)
	}
	return header, rows
}

// RankSet is a crafted batch: binders, non-binders, ties, and children that
// must not be ranked.
func RankSet() []*omtx.Job {
	noResults := Child(11, omtx.StatusCompleted)
	noResults.Results = nil
	return []*omtx.Job{
		Completed(0, -1.0, 0.9), // binder
		Completed(1, -2.0, 0.6), // binder, strongest
		Child(2, omtx.StatusFailed),
		Completed(3, 0.5, 0.4),  // non-binder
		Completed(4, -3.0, 0.2), // non-binder: strong value, unlikely binder
		Completed(5, -1.0, 0.7), // binder, same value as index 0
		Child(6, omtx.StatusCancelled),
		Completed(7, 0.1, 0.4), // non-binder, same probability as index 3
		Completed(8, 1.0, 0.5), // exactly at the threshold: binder
		Child(9, omtx.StatusRunning),
		Completed(10, math.NaN(), 0.9), // non-finite: not ranked
		noResults,                      // completed without results: not ranked
	}
}
