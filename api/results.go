package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/aggregate/ranking"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Limits of GET /api/v1/batches/{batch_id}/results.
const (
	DefaultResultsPageSize = 50
	MaxResultsPageSize     = 500
	// MaxResultsDepth bounds offset + page_size: the endpoint keeps that
	// many children whole while it ranks. The whole ranked list is
	// batch_results.csv.
	MaxResultsDepth = 10_000
	// resultsReadPage is how many children one read takes.
	resultsReadPage = 500
)

// RankedResults answers GET /api/v1/batches/{batch_id}/results: a page of
// the batch's ranked ligands under the rule asked for, with the summary
// (counts, status line, failures with reasons) under the same rule.
type RankedResults struct {
	BatchID   string         `json:"batch_id"`
	BatchName string         `json:"batch_name"`
	Status    omtx.JobStatus `json:"status"`
	// Partial is true while the batch runs: only the ligands finished so
	// far are ranked.
	Partial     bool                   `json:"partial"`
	Ranking     ranking.RankingApplied `json:"ranking"`
	Summary     ranking.Summary        `json:"summary"`
	TotalRanked int                    `json:"total_ranked"`
	Offset      int                    `json:"offset"`
	PageSize    int                    `json:"page_size"`
	// NextOffset is the offset of the next page; absent on the last page
	// (or at MaxResultsDepth).
	NextOffset *int          `json:"next_offset,omitempty"`
	Results    []ranking.Row `json:"results"`
}

// batchResults ranks a batch's children as they stand, under the batch's
// own rule or the one the query asks for, without running anything: it
// reads the child documents page by page (keeping offset + page_size of
// them whole) and ranks them as the batch's aggregation does.
func (s *Server) batchResults(c *gin.Context) {
	b, opts, ok := s.batchRule(c)
	if !ok {
		return
	}
	offset, size, err := resultsPage(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	agg := ranking.NewAggregator(ranking.Options{BatchID: b.JobID, BatchName: b.BatchName, RerunOf: b.RerunOf, Ranking: opts, Keep: offset + size})
	if err := s.eachChild(c, b, agg.Add); err != nil {
		s.writeError(c, err)
		return
	}
	agg.Finish()
	sum := agg.Summary()
	out := RankedResults{
		BatchID: b.JobID, BatchName: b.BatchName, Status: b.Status, Partial: !b.Status.Terminal(),
		Ranking: sum.Ranking, Summary: sum, TotalRanked: sum.Completed, Offset: offset, PageSize: size,
		Results: []ranking.Row{},
	}
	ranked := agg.Ranked()
	for i := offset; i < len(ranked); i++ {
		out.Results = append(out.Results, agg.Row(i+1, ranked[i]))
	}
	if next := offset + size; next < sum.Completed && next < MaxResultsDepth {
		out.NextOffset = &next
	}
	c.JSON(http.StatusOK, out)
}

// batchRule loads the caller's batch and the ranking rule the query asks
// for (each parameter defaulting to the batch's own); when ok is false it
// has answered.
func (s *Server) batchRule(c *gin.Context) (b *omtx.Job, opts omtx.RankingOptions, ok bool) {
	if b, ok = s.ownBatch(c); !ok {
		return nil, opts, false
	}
	opts, err := rankingQuery(c, b.BatchConfig.RankingOptions())
	if err != nil {
		s.writeError(c, err)
		return nil, opts, false
	}
	return b, opts, true
}

// manyGetter reads documents by id; store.Jobs and storetest.Jobs do.
type manyGetter interface {
	GetMany(ctx context.Context, ids []string) ([]*omtx.Job, error)
}

// eachChild gives fn a batch's children in batch_index order: by id,
// resultsReadPage at a time, when the store reads by id and the batch's
// size is known (key lookups cost the same for any size of collection),
// else page by page from the children query.
func (s *Server) eachChild(c *gin.Context, b *omtx.Job, fn func(*omtx.Job) error) error {
	ctx := c.Request.Context()
	total := 0
	switch {
	case b.BatchConfig != nil:
		total = b.BatchConfig.TotalLigands
	case b.Progress != nil:
		total = b.Progress.Total
	}
	if g, ok := s.jobs.(manyGetter); ok && total > 0 {
		for lo := 0; lo < total; lo += resultsReadPage {
			docs, err := g.GetMany(ctx, omtx.BatchChildJobIDs(b.JobID, lo, min(lo+resultsReadPage, total), total))
			if err != nil {
				return s.unavailable(c, "the job store", err)
			}
			for _, d := range docs {
				if d == nil {
					continue // not written yet: the batch is still starting
				}
				if err := fn(d); err != nil {
					return err
				}
			}
		}
		return nil
	}
	f := omtx.ChildFilter{BatchID: b.JobID, AfterIndex: -1, Limit: resultsReadPage}
	for {
		kids, err := s.jobs.ListChildren(ctx, f)
		if err != nil {
			return s.unavailable(c, "the job store", err)
		}
		for _, k := range kids {
			if err := fn(k); err != nil {
				return err
			}
		}
		if len(kids) < resultsReadPage || kids[len(kids)-1].BatchIndex == nil {
			return nil
		}
		f.AfterIndex = *kids[len(kids)-1].BatchIndex
	}
}

// rankingQuery reads the ranking rule from the query: ranking,
// binder_threshold, min_ligand_iptm and min_iptm, each defaulting to the
// batch's own (base). An empty min_ligand_iptm or min_iptm removes the
// batch's floor.
func rankingQuery(c *gin.Context, base omtx.RankingOptions) (omtx.RankingOptions, error) {
	o := base
	if v, ok := c.GetQuery("ranking"); ok {
		o.Mode = omtx.Ranking(strings.TrimSpace(v))
	}
	if v, ok := c.GetQuery("binder_threshold"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return o, omtx.Errorf(omtx.EInvalid, "binder_threshold", "must be a number in [0, 1]")
		}
		o.BinderThreshold = f
	}
	for _, q := range []struct {
		name string
		dst  **float64
	}{{"min_ligand_iptm", &o.MinLigandIPTM}, {"min_iptm", &o.MinIPTM}} {
		v, ok := c.GetQuery(q.name)
		if !ok {
			continue
		}
		if v = strings.TrimSpace(v); v == "" {
			*q.dst = nil
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return o, omtx.Errorf(omtx.EInvalid, q.name, "must be a number in [0, 1], or empty for no floor")
		}
		*q.dst = &f
	}
	if err := o.Validate(); err != nil {
		return o, err
	}
	return o.Normalized(), nil
}

// resultsPage reads offset and page_size.
func resultsPage(c *gin.Context) (offset, size int, err error) {
	size = DefaultResultsPageSize
	if v := c.Query("page_size"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > MaxResultsPageSize {
			return 0, 0, omtx.Errorf(omtx.EInvalid, "page_size", "must be an integer from 1 to %d", MaxResultsPageSize)
		}
	}
	if v := c.Query("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return 0, 0, omtx.Errorf(omtx.EInvalid, "offset", "must be a non-negative integer")
		}
	}
	if offset+size > MaxResultsDepth {
		return 0, 0, omtx.Errorf(omtx.EInvalid, "offset", "offset + page_size may not pass rank %d; the whole ranked list is batch_results.csv", MaxResultsDepth)
	}
	return offset, size, nil
}
