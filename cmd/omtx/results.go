package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/omtx-hub/omtx-hub/client"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// hit is one ranked ligand as results prints it. Each affinity value is
// named by its quantity.
type hit struct {
	Rank       int     `json:"rank"`
	JobID      string  `json:"job_id"`
	Ligand     string  `json:"ligand_name"`
	SMILES     string  `json:"smiles"`
	PredValue  float64 `json:"affinity_pred_value"`
	PredUnits  string  `json:"affinity_pred_value_units"`
	PIC50      float64 `json:"pic50"`
	DeltaG     float64 `json:"delta_g_kcal_mol"`
	BinderProb float64 `json:"affinity_probability_binary"`
	Binder     *bool   `json:"predicted_binder,omitempty"`
	Confidence float64 `json:"confidence"`
	// BelowFloor names the confidence floors the ligand is below.
	BelowFloor []string          `json:"below_confidence_floor,omitempty"`
	Model      string            `json:"model"`
	ModelNote  string            `json:"model_note,omitempty"`
	Status     string            `json:"status"`
	ResultsURL string            `json:"results_url,omitempty"`
	Metadata   map[string]string `json:"ligand_metadata,omitempty"`
	Warnings   string            `json:"warnings,omitempty"`
}

// ranked is what results prints of a job or batch: the hits and, for a
// batch, the rule, the status line and the failures.
type ranked struct {
	hits    []hit
	batch   *client.RankedResults
	summary *client.BatchSummary
}

// rankFlags are the ranking rule results asks the API for.
type rankFlags struct {
	ranking                 string
	threshold, floorLigand  float64
	floorIPTM               float64
	hasThreshold, hasLigand bool
	hasIPTM                 bool
}

func (f rankFlags) options() client.ResultsOptions {
	o := client.ResultsOptions{Ranking: omtx.Ranking(f.ranking)}
	if f.hasThreshold {
		o.BinderThreshold = &f.threshold
	}
	if f.hasLigand {
		o.MinLigandIPTM = &f.floorLigand
	}
	if f.hasIPTM {
		o.MinIPTM = &f.floorIPTM
	}
	return o
}

func (a *app) defaultFormat() string {
	if a.output == "json" {
		return "json"
	}
	return "table"
}

func (a *app) resultsCmd() *cobra.Command {
	var top int
	var format string
	var poses bool
	var rf rankFlags
	c := &cobra.Command{
		Use:   "results ID",
		Short: "Print the ranked hits of a batch, or a job's result",
		Long: `Print the ranked hits of a batch, or a job's result.

A batch is ranked by its own rule unless --ranking, --binder-threshold,
--min-ligand-iptm or --min-iptm ask for another; nothing is rerun. On a
running batch the ligands finished so far are ranked, marked partial.
The status line, the rule and the failures (with their reasons) follow
the hits on stderr.

--format sdf writes an SD file of a batch's ranked ligands, best first:
the modelled molecule of each (no coordinates) with its
batch_results.csv row as data fields. With --poses it writes the
predicted poses (3D) instead, for the ranked ligands whose model wrote a
structure (the baseline writes none); the API's results.sdf and
poses.sdf.

Exit codes: as omtx's, and 4 when any ligand of the batch failed (the
failures are listed); a batch that ended failed or cancelled exits 1.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format == "" {
				format = a.defaultFormat()
			}
			if format != "table" && format != "csv" && format != "json" && format != "sdf" {
				return usagef("--format must be table, csv, json or sdf")
			}
			if poses && format != "sdf" {
				return usagef("--poses goes with --format sdf")
			}
			if format == "sdf" && !isBatchID(args[0]) {
				return usagef("--format sdf needs a batch id")
			}
			if top < 0 {
				return usagef("--top must be 0 (all) or more")
			}
			if rf.ranking != "" && !slices.Contains(omtx.Rankings, omtx.Ranking(rf.ranking)) {
				return usagef("--ranking must be hit_discovery or lead_optimization")
			}
			fl := cmd.Flags()
			rf.hasThreshold, rf.hasLigand, rf.hasIPTM = fl.Changed("binder-threshold"), fl.Changed("min-ligand-iptm"), fl.Changed("min-iptm")
			if format == "sdf" {
				return a.resultsSDF(cmd.Context(), args[0], top, rf, poses)
			}
			return a.resultsBy(cmd.Context(), args[0], top, format, rf)
		},
	}
	fl := c.Flags()
	fl.IntVar(&top, "top", 10, "how many ranked hits (0: all, up to rank 10,000, or 1,000 poses; batch_results.csv holds every one)")
	fl.StringVar(&format, "format", "", "table, csv, json or sdf (default table; json with --output json)")
	fl.BoolVar(&poses, "poses", false, "with --format sdf: the predicted poses (3D) of the ranked ligands that have a structure")
	fl.StringVar(&rf.ranking, "ranking", "", "hit_discovery (by binder probability) or lead_optimization (binders by affinity_pred_value); default: the batch's own")
	fl.Float64Var(&rf.threshold, "binder-threshold", 0.5, "affinity_probability_binary at and above which a ligand is a predicted binder")
	fl.Float64Var(&rf.floorLigand, "min-ligand-iptm", 0, "flag ligands with a lower ligand_iptm and rank them last")
	fl.Float64Var(&rf.floorIPTM, "min-iptm", 0, "flag ligands with a lower iptm and rank them last")
	return c
}

// results prints id's results under its own ranking rule.
func (a *app) results(ctx context.Context, id string, top int, format string) error {
	return a.resultsBy(ctx, id, top, format, rankFlags{})
}

func (a *app) resultsBy(ctx context.Context, id string, top int, format string, rf rankFlags) error {
	var res ranked
	var err error
	if isBatchID(id) {
		res, err = a.batchHits(ctx, id, top, rf.options())
	} else {
		res.hits, err = a.jobHit(ctx, id)
	}
	if err != nil {
		return err
	}
	hits := res.hits
	if top > 0 && len(hits) > top {
		hits = hits[:top]
	}
	switch format {
	case "json":
		if err := a.printJSON(a.resultsJSON(id, res, hits)); err != nil {
			return err
		}
	case "csv":
		if err := writeHitsCSV(a.stdout, hits); err != nil {
			return err
		}
	default:
		if err := a.printTable(hits, res.batch != nil && res.batch.Partial); err != nil {
			return err
		}
	}
	return a.footer(id, res)
}

// maxPosesTop is the most ranked ligands poses.sdf reads (the API's
// MaxPosesTop): without top, the API reads only its default 100.
const maxPosesTop = 1000

// resultsSDF writes a batch's SD file (results.sdf, or poses.sdf with
// poses) of the top ranked ligands (0: every one; for poses, the top
// maxPosesTop) to stdout, then says on stderr how many records it holds
// and prints the footer.
func (a *app) resultsSDF(ctx context.Context, id string, top int, rf rankFlags, poses bool) error {
	if poses && top == 0 {
		top = maxPosesTop
	}
	sd, err := a.cl.BatchSDF(ctx, id, poses, rf.options(), top)
	if err != nil {
		return err
	}
	if _, err := a.stdout.Write(sd.Data); err != nil {
		return err
	}
	if poses {
		fmt.Fprintf(a.stderr, "%s in the SD file", count(sd.Records, "pose", "poses"))
		if sd.Skipped > 0 {
			fmt.Fprintf(a.stderr, "; %s without one (no structure, or a pose that does not fit the modelled molecule)", count(sd.Skipped, "ranked ligand", "ranked ligands"))
		}
	} else {
		fmt.Fprintf(a.stderr, "%s in the SD file", count(sd.Records, "ligand", "ligands"))
		if sd.Skipped > 0 {
			fmt.Fprintf(a.stderr, "; %s could not be written", count(sd.Skipped, "ligand", "ligands"))
		}
	}
	fmt.Fprintln(a.stderr)
	res, err := a.batchHits(ctx, id, 1, rf.options())
	if err != nil {
		return err
	}
	return a.footer(id, res)
}

// writeHitsCSV writes the hits with their quantities named, then the
// user's metadata columns (the union of their keys, sorted).
func writeHitsCSV(out io.Writer, hits []hit) error {
	var keys []string
	for _, h := range hits {
		for k := range h.Metadata {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	w := csv.NewWriter(out)
	header := []string{"rank", "job_id", "ligand_name", "smiles", "affinity_probability_binary", "predicted_binder",
		"affinity_pred_value_log10_ic50_um", "pic50", "delta_g_kcal_mol", "confidence", "below_confidence_floor",
		"model", "model_note", "status", "results_url", "warnings"}
	for _, k := range keys {
		if slices.Contains(header, k) {
			k = "meta_" + k
		}
		header = append(header, k)
	}
	_ = w.Write(header)
	for _, h := range hits {
		binder := ""
		if h.Binder != nil {
			binder = strconv.FormatBool(*h.Binder)
		}
		rec := []string{strconv.Itoa(h.Rank), h.JobID, guard(h.Ligand), guard(h.SMILES), f4(h.BinderProb), binder,
			f4(h.PredValue), f4(h.PIC50), f4(h.DeltaG), f4(h.Confidence), strings.Join(h.BelowFloor, ";"),
			h.Model, h.ModelNote, h.Status, h.ResultsURL, guard(h.Warnings)}
		for _, k := range keys {
			rec = append(rec, guard(h.Metadata[k]))
		}
		_ = w.Write(rec)
	}
	w.Flush()
	return w.Error()
}

// guard keeps a text cell from being run as a spreadsheet formula, as
// batch_results.csv does.
func guard(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "'" + v
		}
	}
	return v
}

func (a *app) printTable(hits []hit, partial bool) error {
	if len(hits) == 0 {
		if partial {
			fmt.Fprintln(a.stdout, "No ligand has finished yet.")
		} else {
			fmt.Fprintln(a.stdout, "No ranked results.")
		}
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rank\tligand\tP(binder)\taffinity_pred_value log10(IC50/µM)\tpIC50\tΔG kcal/mol\tconfidence\tmodel\t")
	for _, h := range hits {
		mark := ""
		if len(h.BelowFloor) > 0 {
			mark = " (below " + strings.Join(h.BelowFloor, ", ") + " floor)"
		}
		fmt.Fprintf(tw, "%d\t%s%s\t%.3f\t%.2f\t%.2f\t%.2f\t%.3f\t%s\t\n", h.Rank, h.Ligand, mark, h.BinderProb, h.PredValue, h.PIC50, h.DeltaG, h.Confidence, h.Model)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, h := range hits {
		if h.Warnings != "" {
			fmt.Fprintf(a.stdout, "  %s: %s\n", h.Ligand, h.Warnings)
		}
	}
	return nil
}

// failuresError is a batch some of whose ligands failed: results exits
// with exitFailures after listing them.
type failuresError struct {
	id     string
	failed int
}

func (e *failuresError) Error() string {
	return fmt.Sprintf("%s: %d ligand(s) failed", e.id, e.failed)
}

// footer prints, on stderr, a batch's status line, its ranking rule, what
// the baseline is when it served, and the failures with their reasons;
// it returns failuresError when any ligand failed, endedError when the
// batch ended failed or cancelled.
func (a *app) footer(id string, res ranked) error {
	b, s := res.batch, res.summary
	if b == nil || s == nil {
		return nil
	}
	line := s.StatusLine
	if b.Partial && !strings.HasPrefix(line, "partial") {
		line = "partial: " + line
	}
	fmt.Fprintf(a.stderr, "%s: %s\n", id, line)
	fmt.Fprintf(a.stderr, "Ranking: %s\n", b.Ranking.Description)
	if s.ModelNote != "" {
		fmt.Fprintf(a.stderr, "Model: %s (%s)\n", strings.Join(s.Models, ", "), s.ModelNote)
	}
	if s.CacheHits > 0 {
		fmt.Fprintf(a.stderr, "Result cache: %d of %d ligands reused earlier results; saved %.1f GPU-seconds ($%.4f)\n",
			s.CacheHits, s.Total, s.GPUSecondsSaved, s.CostUSDSaved)
	}
	failed := s.Failed + s.CompletedWithoutResults
	if failed > 0 {
		fmt.Fprintf(a.stderr, "%d failed:\n", failed)
		for _, f := range s.Failures {
			fmt.Fprintf(a.stderr, "  #%d %s (%s): %s\n", f.BatchIndex, f.LigandName, f.JobID, f.Reason)
		}
		if s.FailuresOmitted > 0 {
			fmt.Fprintf(a.stderr, "  and %d more (see summary.json and batch_results.csv)\n", s.FailuresOmitted)
		}
	}
	if s.Filtered > 0 {
		fmt.Fprintf(a.stderr, "%d filtered before the GPU (not failures):\n", s.Filtered)
		for _, f := range s.FilteredLigands[:min(len(s.FilteredLigands), maxFilteredShown)] {
			fmt.Fprintf(a.stderr, "  #%d %s (%s): %s\n", f.BatchIndex, f.LigandName, f.JobID, f.Rule)
		}
		if more := s.Filtered - min(len(s.FilteredLigands), maxFilteredShown); more > 0 {
			fmt.Fprintf(a.stderr, "  and %d more (see summary.json and batch_results.csv)\n", more)
		}
	}
	if b.Status.Terminal() {
		switch {
		case s.Failed > 0 && s.Cancelled > 0:
			fmt.Fprintf(a.stderr, "Re-run them as a new batch: omtx rerun %s --failed --cancelled\n", id)
		case s.Failed > 0:
			fmt.Fprintf(a.stderr, "Re-run them as a new batch: omtx rerun %s --failed\n", id)
		case s.Cancelled > 0:
			fmt.Fprintf(a.stderr, "Re-run the %d cancelled as a new batch: omtx rerun %s --cancelled\n", s.Cancelled, id)
		}
	}
	switch {
	case b.Status == omtx.StatusFailed || b.Status == omtx.StatusCancelled:
		return &endedError{id: id, status: string(b.Status)}
	case failed > 0:
		return &failuresError{id: id, failed: failed}
	}
	return nil
}

// maxFilteredShown bounds the filtered ligands results lists.
const maxFilteredShown = 20

func f4(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }

func (a *app) jobHit(ctx context.Context, id string) ([]hit, error) {
	j, err := a.cl.Job(ctx, id)
	if err != nil {
		return nil, err
	}
	if j.Results == nil {
		if j.Status.Terminal() {
			return nil, &endedError{id: id, status: string(j.Status)}
		}
		return nil, nil
	}
	r := j.Results
	if r.CacheHit {
		fmt.Fprintf(a.stderr, "Result cache: copied from job %s (no GPU run; saved %.1f GPU-seconds, $%.4f)\n", r.CacheSourceJobID, r.SavedGPUSeconds, r.SavedCostUSD)
	}
	return []hit{{Rank: 1, JobID: j.JobID, Ligand: j.InputData.LigandName, SMILES: j.InputData.LigandSMILES,
		PredValue: r.AffinityPredValue, PredUnits: r.AffinityPredValueUnits, PIC50: r.PIC50, DeltaG: r.DeltaGKcalMol,
		BinderProb: r.AffinityProbabilityBinary, Confidence: r.Confidence, Model: r.Model, Status: string(j.Status)}}, nil
}

// batchHits ranks a batch through the API (GET .../results), page by
// page up to top (0: as far as the API pages, rank 10,000).
func (a *app) batchHits(ctx context.Context, id string, top int, o client.ResultsOptions) (ranked, error) {
	var out ranked
	o.PageSize = 500
	if top > 0 {
		o.PageSize = min(top, 500)
	}
	for {
		page, err := a.cl.BatchResults(ctx, id, o)
		if err != nil {
			return out, err
		}
		if out.batch == nil {
			out.batch, out.summary = page, &page.Summary
		}
		for _, r := range page.Results {
			binder := r.PredictedBinder
			var warn string
			if len(r.Warnings) > 0 {
				warn = strings.Join(r.Warnings, "; ")
			}
			out.hits = append(out.hits, hit{Rank: r.Rank, JobID: r.JobID, Ligand: r.LigandName, SMILES: r.LigandSMILES,
				PredValue: r.AffinityPredValue, PredUnits: omtx.UnitsLog10IC50uM, PIC50: r.PIC50, DeltaG: r.DeltaGKcalMol,
				BinderProb: r.AffinityProbabilityBinary, Binder: &binder, Confidence: r.Confidence, BelowFloor: r.BelowConfidenceFloor,
				Model: r.Model, ModelNote: r.ModelNote, Status: string(omtx.StatusCompleted), ResultsURL: r.ResultsURL,
				Metadata: r.LigandMetadata, Warnings: warn})
		}
		if page.NextOffset == nil || (top > 0 && len(out.hits) >= top) {
			return out, nil
		}
		o.Offset = *page.NextOffset
	}
}

// ResultsOutput is what `omtx results --format json` (and `screen --wait`
// or `predict --wait` with --output json) prints: one object that names the
// batch or job, so a script can find it again, with its status and the
// ranked results.
type ResultsOutput struct {
	BatchID string `json:"batch_id,omitempty"`
	JobID   string `json:"job_id,omitempty"`
	Status  string `json:"status,omitempty"`
	// Partial: the batch still runs; the finished ligands are ranked.
	Partial bool `json:"partial,omitempty"`
	// Ranking is the rule that ordered the results; Summary the batch's
	// counts, averages and failures.
	Ranking *client.RankingApplied `json:"ranking,omitempty"`
	Summary *client.BatchSummary   `json:"summary,omitempty"`
	Link    string                 `json:"link,omitempty"`
	Results []hit                  `json:"results"`
}

func (a *app) resultsJSON(id string, res ranked, hits []hit) ResultsOutput {
	out := ResultsOutput{Results: hits, Link: a.link(id)}
	if out.Results == nil {
		out.Results = []hit{}
	}
	if !isBatchID(id) {
		out.JobID = id
		if len(hits) > 0 {
			out.Status = hits[0].Status
		}
		return out
	}
	out.BatchID = id
	if res.batch != nil {
		out.Status, out.Partial, out.Ranking = string(res.batch.Status), res.batch.Partial, &res.batch.Ranking
	}
	out.Summary = res.summary
	return out
}
