package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"go.temporal.io/sdk/activity"

	"github.com/omtx-hub/omtx-hub/aggregate"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// aggregatePage is how many children one query of AggregateBatch reads.
const aggregatePage = 500

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

// AggregateBatch is a batch's final activity. It reads the child documents
// (the source of truth, so each ligand counts exactly once) in two streamed
// passes of aggregatePage documents, and writes batch_config.json,
// batch_results.csv (streamed), batch_results.json, summary.json,
// analysis/affinity_distribution.png and, when structures exist,
// analysis/top_10_structures.zip under batches/{batch_id}/. Then it fills
// the parent's batch_results, progress and final status. Its memory does
// not hold the children (see aggregate.Aggregator).
func (o *Orchestration) AggregateBatch(ctx context.Context, in contract.AggregateBatchInput) (contract.AggregateBatchResult, error) {
	parent, err := o.Jobs.Get(ctx, in.BatchID)
	if err != nil {
		return contract.AggregateBatchResult{}, storeErr("aggregate", err)
	}
	agg := aggregate.NewAggregator(in.BatchID, parent.BatchName)
	var prog omtx.Progress
	if err := o.eachChild(ctx, in.BatchID, "counted", func(c *omtx.Job) error {
		prog.Count(c.Status)
		return agg.Add(c)
	}); err != nil {
		return contract.AggregateBatchResult{}, err
	}
	agg.Finish()

	prefix := omtx.BatchPrefix(in.BatchID)
	res := agg.Results()
	w := o.Blobs.Create(ctx, prefix+omtx.FileBatchResultsCSV, "text/csv; charset=utf-8")
	cw := agg.NewCSV(w)
	err = o.eachChild(ctx, in.BatchID, "written", cw.Write)
	if err == nil {
		err = cw.Close()
	}
	if err != nil {
		abort(w)
		return contract.AggregateBatchResult{}, fmt.Errorf("aggregate: %s: %w", omtx.FileBatchResultsCSV, err)
	}
	if err := w.Close(); err != nil {
		return contract.AggregateBatchResult{}, storeErr("aggregate: "+omtx.FileBatchResultsCSV, err)
	}
	res.ResultsFile = o.Blobs.URI(prefix + omtx.FileBatchResultsCSV)

	cfg, err := BatchConfigJSON(parent)
	if err != nil {
		return contract.AggregateBatchResult{}, fmt.Errorf("aggregate: %w", err)
	}
	resultsJSON, err := agg.ResultsJSON()
	if err != nil {
		return contract.AggregateBatchResult{}, err
	}
	summaryJSON, err := agg.SummaryJSON()
	if err != nil {
		return contract.AggregateBatchResult{}, err
	}
	histogram, err := agg.HistogramPNG()
	if err != nil {
		return contract.AggregateBatchResult{}, err
	}
	structures, err := agg.StructuresZIP(func(c *omtx.Job) ([]byte, error) {
		b, err := o.Blobs.Read(ctx, omtx.BatchChildPrefix(in.BatchID, c.JobID)+omtx.FileStructureCIF)
		if omtx.ErrorCode(err) == omtx.ENotFound {
			return nil, nil // listed as missing in the zip's README
		}
		return b, err
	})
	if err != nil {
		return contract.AggregateBatchResult{}, storeErr("aggregate", err)
	}
	files := []struct {
		name, ct string
		data     []byte
		uri      *string
	}{
		{omtx.FileBatchConfig, "application/json", cfg, nil},
		{omtx.FileBatchResultsJSON, "application/json", resultsJSON, &res.ResultsJSONFile},
		{omtx.FileSummary, "application/json", summaryJSON, &res.SummaryFile},
		{omtx.FileHistogram, "image/png", histogram, &res.HistogramFile},
		{omtx.FileTopStructures, "application/zip", structures, &res.StructuresZipFile},
	}
	for _, f := range files {
		if f.data == nil {
			continue
		}
		if err := o.Blobs.Put(ctx, prefix+f.name, f.ct, f.data); err != nil {
			return contract.AggregateBatchResult{}, storeErr("aggregate: "+f.name, err)
		}
		if f.uri != nil {
			*f.uri = o.Blobs.URI(prefix + f.name)
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
		return contract.AggregateBatchResult{}, storeErr("aggregate", err)
	}
	metrics.Batches.WithLabelValues(string(status)).Inc()
	logFor(ctx, o.Logger, "batch_id", in.BatchID).Info("batch aggregated", "status", status,
		"completed", prog.Completed, "failed", prog.Failed, "cancelled", prog.Cancelled)
	out := contract.AggregateBatchResult{Status: status, Progress: prog}
	if len(res.Top10) > 0 {
		best := res.Top10[0]
		out.Best = &best
	}
	return out, nil
}

// eachChild streams a batch's children in batch_index order, one page at a
// time, heartbeating after each page.
func (o *Orchestration) eachChild(ctx context.Context, batchID, what string, fn func(*omtx.Job) error) error {
	after, n := -1, 0
	for {
		page, err := o.Jobs.ListChildren(ctx, omtx.ChildFilter{BatchID: batchID, AfterIndex: after, Limit: aggregatePage})
		if err != nil {
			return storeErr("aggregate", err)
		}
		for _, c := range page {
			if err := fn(c); err != nil {
				return err
			}
		}
		n += len(page)
		activity.RecordHeartbeat(ctx, fmt.Sprintf("%d children %s", n, what))
		if len(page) < aggregatePage {
			return nil
		}
		after = derefIndex(page[len(page)-1].BatchIndex)
	}
}

// abort drops a streamed object that must not be published (store.Blobs'
// writers cancel their upload); a writer without Abort is simply never
// closed.
func abort(w io.WriteCloser) {
	if a, ok := w.(interface{ Abort() }); ok {
		a.Abort()
	}
}
