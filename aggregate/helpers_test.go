package aggregate

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
func withStructure() opt       { return func(j *omtx.Job) { j.Results.StructureAvailable = true } }
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

const wantHeader = "rank,batch_index,job_id,ligand_name,smiles,status," +
	"affinity_probability_binary,predicted_binder,affinity_pred_value_log10_ic50_um,pic50,delta_g_kcal_mol," +
	"confidence,ligand_iptm,iptm,below_confidence_floor,model,model_version,model_note," +
	"structure_available,results_url,structure_url,failure_reason,warnings," +
	"modelled_smiles,msa_mode,msa_digest"

// readCSV parses a CSV file into rows keyed by column name.
func readCSV(t *testing.T, data []byte) (header []string, rows []map[string]string) {
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

// rankSet is a crafted batch: binders, non-binders, ties, and children that
// must not be ranked.
func rankSet() []*omtx.Job {
	noResults := child(11, omtx.StatusCompleted)
	noResults.Results = nil
	return []*omtx.Job{
		completed(0, -1.0, 0.9), // binder
		completed(1, -2.0, 0.6), // binder, strongest
		child(2, omtx.StatusFailed),
		completed(3, 0.5, 0.4),  // non-binder
		completed(4, -3.0, 0.2), // non-binder: strong value, unlikely binder
		completed(5, -1.0, 0.7), // binder, same value as index 0
		child(6, omtx.StatusCancelled),
		completed(7, 0.1, 0.4), // non-binder, same probability as index 3
		completed(8, 1.0, 0.5), // exactly at the threshold: binder
		child(9, omtx.StatusRunning),
		completed(10, math.NaN(), 0.9), // non-finite: not ranked
		noResults,                      // completed without results: not ranked
	}
}
