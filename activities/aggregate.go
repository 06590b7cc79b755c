package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/omtx-hub/omtx-hub/aggregate"
	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store"
)

// AggregateBatchInput is AggregateBatch's input.
type AggregateBatchInput struct {
	BatchID   string
	Cancelled bool
}

// AggregateBatchOutput is the batch's final state.
type AggregateBatchOutput struct {
	Status   omtx.JobStatus
	Progress omtx.Progress
}

// batchConfigFile is the layout of batch_config.json.
type batchConfigFile struct {
	BatchID           string           `json:"batch_id"`
	BatchName         string           `json:"batch_name"`
	UserID            string           `json:"user_id"`
	Model             string           `json:"model"`
	RequestedModel    string           `json:"requested_model,omitempty"`
	ModelSubstitution string           `json:"model_substitution,omitempty"`
	ProteinSequence   string           `json:"protein_sequence"`
	Parameters        omtx.Parameters  `json:"parameters"`
	BatchConfig       omtx.BatchConfig `json:"batch_config"`
	CreatedAt         string           `json:"created_at"`
}

// BatchConfigJSON renders batch_config.json from a parent document.
func BatchConfigJSON(p *omtx.Job) ([]byte, error) {
	f := batchConfigFile{
		BatchID: p.JobID, BatchName: p.BatchName, UserID: p.UserID, Model: p.Model,
		RequestedModel: p.RequestedModel, ModelSubstitution: p.ModelSubstitution,
		ProteinSequence: p.InputData.ProteinSequence, Parameters: p.InputData.Parameters,
		CreatedAt: p.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000Z07:00"),
	}
	if p.BatchConfig != nil {
		f.BatchConfig = *p.BatchConfig
	}
	return json.MarshalIndent(f, "", "  ")
}

// AggregateBatch is a batch's final activity. It reads every child
// document (the source of truth, so each ligand counts exactly once), writes
// batch_config.json, batch_results.csv, batch_results.json, summary.json,
// analysis/affinity_distribution.png and, when structures exist,
// analysis/top_10_structures.zip under batches/{batch_id}/, and fills the
// parent's batch_results, progress and final status.
func (o *Orchestration) AggregateBatch(ctx context.Context, in AggregateBatchInput) (AggregateBatchOutput, error) {
	parent, err := o.Jobs.Get(ctx, in.BatchID)
	if err != nil {
		return AggregateBatchOutput{}, fmt.Errorf("aggregate: %w", err)
	}
	var children []*omtx.Job
	after := -1
	for {
		page, err := o.Jobs.ListChildren(ctx, store.ChildFilter{BatchID: in.BatchID, AfterIndex: after, Limit: 1000})
		if err != nil {
			return AggregateBatchOutput{}, fmt.Errorf("aggregate: %w", err)
		}
		if len(page) == 0 {
			break
		}
		children = append(children, page...)
		after = derefIndex(page[len(page)-1].BatchIndex)
		activity.RecordHeartbeat(ctx, len(children))
	}
	prefix := omtx.BatchPrefix(in.BatchID)
	out, err := aggregate.Build(aggregate.Input{
		BatchID: in.BatchID, BatchName: parent.BatchName, Children: children,
		LoadStructure: func(c *omtx.Job) ([]byte, error) {
			b, err := o.Blobs.Read(ctx, omtx.BatchChildPrefix(in.BatchID, c.JobID)+omtx.FileStructureCIF)
			if omtx.ErrorCode(err) == omtx.ENotFound {
				return nil, nil // listed as missing in the zip's README
			}
			return b, err
		},
	})
	if err != nil {
		return AggregateBatchOutput{}, fmt.Errorf("aggregate: %w", err)
	}
	cfg, err := BatchConfigJSON(parent)
	if err != nil {
		return AggregateBatchOutput{}, fmt.Errorf("aggregate: %w", err)
	}
	files := []struct {
		name, ct string
		data     []byte
		uri      *string
	}{
		{omtx.FileBatchConfig, "application/json", cfg, nil},
		{omtx.FileBatchResultsCSV, "text/csv; charset=utf-8", out.CSV, &out.Results.ResultsFile},
		{omtx.FileBatchResultsJSON, "application/json", out.ResultsJSON, &out.Results.ResultsJSONFile},
		{omtx.FileSummary, "application/json", out.SummaryJSON, &out.Results.SummaryFile},
		{omtx.FileHistogram, "image/png", out.HistogramPNG, &out.Results.HistogramFile},
		{omtx.FileTopStructures, "application/zip", out.StructuresZIP, &out.Results.StructuresZipFile},
	}
	for _, f := range files {
		if f.data == nil {
			continue
		}
		if err := o.Blobs.Put(ctx, prefix+f.name, f.ct, f.data); err != nil {
			return AggregateBatchOutput{}, fmt.Errorf("aggregate: %w", err)
		}
		if f.uri != nil {
			*f.uri = o.Blobs.URI(prefix + f.name)
		}
	}

	prog := omtx.Progress{Total: len(children)}
	for _, c := range children {
		switch c.Status {
		case omtx.StatusCompleted:
			prog.Completed++
		case omtx.StatusFailed:
			prog.Failed++
		case omtx.StatusCancelled:
			prog.Cancelled++
		case omtx.StatusRunning:
			prog.Running++
		default:
			prog.Pending++
		}
	}
	status := omtx.StatusCompleted
	switch {
	case in.Cancelled:
		status = omtx.StatusCancelled
	case prog.Completed == 0 && prog.Total > 0:
		status = omtx.StatusFailed
	}
	now := o.now()
	res := out.Results
	res.GPUSeconds, res.CostUSD = out.Summary.GPUSeconds, out.Summary.CostUSD
	_, err = o.Jobs.Update(ctx, in.BatchID, func(cur *omtx.Job) (*omtx.Job, error) {
		if cur == nil {
			return nil, fmt.Errorf("batch %s has no document", in.BatchID)
		}
		if cur.Status.Terminal() {
			// Aggregated already (this is a retry): keep the first verdict.
			return nil, nil
		}
		cur.Status, cur.Progress, cur.BatchResults = status, &prog, &res
		cur.UpdatedAt, cur.CompletedAt = now, &now
		if status == omtx.StatusFailed {
			cur.Error = "no ligand completed"
		}
		return cur, nil
	})
	if err != nil {
		return AggregateBatchOutput{}, fmt.Errorf("aggregate: %w", err)
	}
	metrics.Batches.WithLabelValues(string(status)).Inc()
	logFor(ctx, o.Logger, "batch_id", in.BatchID).Info("batch aggregated", "status", status,
		"completed", prog.Completed, "failed", prog.Failed, "cancelled", prog.Cancelled)
	return AggregateBatchOutput{Status: status, Progress: prog}, nil
}
