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

// AggregateBatch is a batch's final activity: it aggregates the children
// (AggregateChildren) and fills the parent's batch_results, progress and
// final status.
func (o *Orchestration) AggregateBatch(ctx context.Context, in contract.AggregateBatchInput) (contract.AggregateBatchResult, error) {
	parent, err := o.Jobs.Get(ctx, in.BatchID)
	if err != nil {
		return contract.AggregateBatchResult{}, storeErr("aggregate", err)
	}
	agg, err := AggregateChildren(ctx, o.Jobs, o.Blobs, parent, in.Cancelled, func(n int, what string) {
		activity.RecordHeartbeat(ctx, fmt.Sprintf("%d children %s", n, what))
	})
	if err != nil {
		return contract.AggregateBatchResult{}, err
	}
	status, prog, res := agg.Status, agg.Progress, agg.Results
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
		if agg.Error != "" {
			cur.Error = agg.Error
		}
		return cur, nil
	})
	if err != nil {
		return contract.AggregateBatchResult{}, storeErr("aggregate", err)
	}
	metrics.Batches.WithLabelValues(string(status)).Inc()
	logFor(ctx, o.Logger, "batch_id", in.BatchID).Info("batch aggregated", "status", status,
		"completed", prog.Completed, "failed", prog.Failed, "cancelled", prog.Cancelled, "filtered", prog.Filtered)
	out := contract.AggregateBatchResult{Status: status, Progress: prog}
	if len(res.Top10) > 0 {
		best := res.Top10[0]
		out.Best = &best
	}
	return out, nil
}

// BatchAggregate is what aggregating a batch's children gives.
type BatchAggregate struct {
	// Status is the batch's final status: cancelled when it was, failed
	// when no ligand completed, completed otherwise.
	Status omtx.JobStatus
	// Error says why a failed batch failed.
	Error    string
	Progress omtx.Progress
	Results  omtx.BatchResults
}

// AggregateChildren aggregates a batch: the work of AggregateBatch short of
// writing the parent's record, shared with reconcile, which rebuilds a lost
// parent with it. It reads the child documents (the source of truth, so
// each ligand counts exactly once) in two streamed passes of aggregatePage
// documents read by id, and writes batch_config.json, batch_results.csv (streamed),
// batch_results.json, summary.json, analysis/affinity_distribution.png
// and, when structures exist, analysis/top_10_structures.zip under
// batches/{batch_id}/. Its memory does not hold the children (see
// aggregate.Aggregator). pageRead, when set, hears after each page how many
// children a pass has read.
func AggregateChildren(ctx context.Context, jobs JobStore, blobs BlobStore, parent *omtx.Job, cancelled bool, pageRead func(n int, what string)) (BatchAggregate, error) {
	batchID := parent.JobID
	total := 0
	switch {
	case parent.BatchConfig != nil:
		total = parent.BatchConfig.TotalLigands
	case parent.Progress != nil:
		total = parent.Progress.Total
	}
	agg := aggregate.NewAggregatorWith(aggregate.Options{BatchID: batchID, BatchName: parent.BatchName, RerunOf: parent.RerunOf, Ranking: parent.BatchConfig.RankingOptions(),
		Filters: filtersOf(parent)})
	// A cancelled batch may have been cancelled before PrepareBatch
	// created every child: those ligands count as cancelled. Any other
	// batch needs every child (a missing one is an error, retried;
	// reconcile rebuilds missing children).
	children := everyChild
	if cancelled {
		children = everyChildOrCancelled
	}
	var prog omtx.Progress
	if err := children(ctx, jobs, batchID, total, func(c *omtx.Job) error {
		prog.Count(c.Status)
		return agg.Add(c)
	}, pageCounter(pageRead, "counted")); err != nil {
		return BatchAggregate{}, err
	}
	agg.Finish()

	prefix := omtx.BatchPrefix(batchID)
	res := agg.Results()
	w := blobs.Create(ctx, prefix+omtx.FileBatchResultsCSV, "text/csv; charset=utf-8")
	cw := agg.NewCSV(w)
	err := children(ctx, jobs, batchID, total, cw.Write, pageCounter(pageRead, "written"))
	if err == nil {
		err = cw.Close()
	}
	if err != nil {
		abort(w)
		return BatchAggregate{}, fmt.Errorf("aggregate: %s: %w", omtx.FileBatchResultsCSV, err)
	}
	if err := w.Close(); err != nil {
		return BatchAggregate{}, storeErr("aggregate: "+omtx.FileBatchResultsCSV, err)
	}
	res.ResultsFile = blobs.URI(prefix + omtx.FileBatchResultsCSV)

	cfg, err := BatchConfigJSON(parent)
	if err != nil {
		return BatchAggregate{}, fmt.Errorf("aggregate: %w", err)
	}
	resultsJSON, err := agg.ResultsJSON()
	if err != nil {
		return BatchAggregate{}, err
	}
	summaryJSON, err := agg.SummaryJSON()
	if err != nil {
		return BatchAggregate{}, err
	}
	histogram, err := agg.HistogramPNG()
	if err != nil {
		return BatchAggregate{}, err
	}
	structures, err := agg.StructuresZIP(func(c *omtx.Job) ([]byte, error) {
		b, err := blobs.Read(ctx, omtx.BatchChildPrefix(batchID, c.JobID)+omtx.FileStructureCIF)
		if omtx.ErrorCode(err) == omtx.ENotFound {
			return nil, nil // listed as missing in the zip's README
		}
		return b, err
	})
	if err != nil {
		return BatchAggregate{}, storeErr("aggregate", err)
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
		if err := blobs.Put(ctx, prefix+f.name, f.ct, f.data); err != nil {
			return BatchAggregate{}, storeErr("aggregate: "+f.name, err)
		}
		if f.uri != nil {
			*f.uri = blobs.URI(prefix + f.name)
		}
	}

	out := BatchAggregate{Status: omtx.StatusCompleted, Progress: prog, Results: res}
	switch {
	case cancelled:
		out.Status = omtx.StatusCancelled
	case prog.Completed == 0 && prog.Total > 0:
		out.Status, out.Error = omtx.StatusFailed, "no ligand completed"
	}
	return out, nil
}

// pageCounter adapts pageRead to EachChild's page callback.
func pageCounter(pageRead func(int, string), what string) func(int) {
	if pageRead == nil {
		return nil
	}
	return func(n int) { pageRead(n, what) }
}

// EachChild streams a batch's children in batch_index order, reading them
// by their ids (omtx.BatchChildJobIDs), aggregatePage at a time: key
// lookups cost the same for any size of collection, where a query on the
// batch's children is a scan of every document on the emulator. fn gets
// each id, and its document or nil when there is none; after each page,
// page (when set) hears how many have been read.
func EachChild(ctx context.Context, jobs JobStore, batchID string, total int, fn func(id string, c *omtx.Job) error, page func(n int)) error {
	for lo := 0; lo < total; lo += aggregatePage {
		ids := omtx.BatchChildJobIDs(batchID, lo, min(lo+aggregatePage, total), total)
		docs, err := jobs.GetMany(ctx, ids)
		if err != nil {
			return storeErr("read children", err)
		}
		for i, c := range docs {
			if err := fn(ids[i], c); err != nil {
				return err
			}
		}
		if page != nil {
			page(lo + len(ids))
		}
	}
	return nil
}

// everyChild is EachChild for code that needs every child to exist: a
// missing one is an error (retried; reconcile rebuilds missing children).
func everyChild(ctx context.Context, jobs JobStore, batchID string, total int, fn func(*omtx.Job) error, page func(int)) error {
	return EachChild(ctx, jobs, batchID, total, func(id string, c *omtx.Job) error {
		if c == nil {
			return fmt.Errorf("child %s has no document", id)
		}
		return fn(c)
	}, page)
}

// everyChildOrCancelled is everyChild for a cancelled batch: a child with
// no document was never created, because the batch was cancelled first;
// it counts as cancelled.
func everyChildOrCancelled(ctx context.Context, jobs JobStore, batchID string, total int, fn func(*omtx.Job) error, page func(int)) error {
	i := -1
	return EachChild(ctx, jobs, batchID, total, func(id string, c *omtx.Job) error {
		i++
		if c == nil {
			idx := i
			c = &omtx.Job{JobID: id, JobType: omtx.JobTypeBatchChild, BatchParentID: batchID, BatchIndex: &idx,
				Status: omtx.StatusCancelled, Error: "batch cancelled before this ligand was prepared"}
		}
		return fn(c)
	}, page)
}

// abort drops a streamed object that must not be published (store.Blobs'
// writers cancel their upload); a writer without Abort is simply never
// closed.
func abort(w io.WriteCloser) {
	if a, ok := w.(interface{ Abort() }); ok {
		a.Abort()
	}
}

// filtersOf is the batch's filters, recorded in summary.json.
func filtersOf(parent *omtx.Job) *omtx.Filters {
	if parent.BatchConfig == nil {
		return nil
	}
	return parent.BatchConfig.Filters
}
