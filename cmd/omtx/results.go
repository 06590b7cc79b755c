package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// hit is one ranked ligand as results prints it.
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
	Confidence float64 `json:"confidence"`
	Model      string  `json:"model"`
	Status     string  `json:"status"`
	Warnings   string  `json:"warnings,omitempty"`
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
	c := &cobra.Command{
		Use:   "results ID",
		Short: "Print the ranked hits of a batch, or a job's result",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format == "" {
				format = a.defaultFormat()
			}
			if format != "table" && format != "csv" && format != "json" {
				return usagef("--format must be table, csv or json")
			}
			if top < 0 {
				return usagef("--top must be 0 (all) or more")
			}
			return a.results(cmd.Context(), args[0], top, format)
		},
	}
	c.Flags().IntVar(&top, "top", 10, "how many ranked hits (0: all)")
	c.Flags().StringVar(&format, "format", "", "table, csv or json (default table; json with --output json)")
	return c
}

func (a *app) results(ctx context.Context, id string, top int, format string) error {
	var hits []hit
	var err error
	if isBatchID(id) {
		hits, err = a.batchHits(ctx, id)
	} else {
		hits, err = a.jobHit(ctx, id)
	}
	if err != nil {
		return err
	}
	if top > 0 && len(hits) > top {
		hits = hits[:top]
	}
	switch format {
	case "json":
		if hits == nil {
			hits = []hit{}
		}
		return a.printJSON(hits)
	case "csv":
		w := csv.NewWriter(a.stdout)
		_ = w.Write([]string{"rank", "job_id", "ligand_name", "smiles", "affinity_pred_value_log10_ic50_um", "pic50",
			"delta_g_kcal_mol", "affinity_probability_binary", "confidence", "model", "status", "warnings"})
		for _, h := range hits {
			_ = w.Write([]string{strconv.Itoa(h.Rank), h.JobID, h.Ligand, h.SMILES, f4(h.PredValue), f4(h.PIC50),
				f4(h.DeltaG), f4(h.BinderProb), f4(h.Confidence), h.Model, h.Status, h.Warnings})
		}
		w.Flush()
		return w.Error()
	}
	if len(hits) == 0 {
		fmt.Fprintln(a.stdout, "No ranked results (yet).")
		return nil
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rank\tligand\taffinity log10(IC50/µM)\tpIC50\tΔG kcal/mol\tbinder prob.\tconfidence\tmodel\t")
	for _, h := range hits {
		fmt.Fprintf(tw, "%d\t%s\t%.2f\t%.2f\t%.2f\t%.3f\t%.3f\t%s\t\n", h.Rank, h.Ligand, h.PredValue, h.PIC50, h.DeltaG, h.BinderProb, h.Confidence, h.Model)
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
	return []hit{{Rank: 1, JobID: j.JobID, Ligand: j.InputData.LigandName, SMILES: j.InputData.LigandSMILES,
		PredValue: r.AffinityPredValue, PredUnits: r.AffinityPredValueUnits, PIC50: r.PIC50, DeltaG: r.DeltaGKcalMol,
		BinderProb: r.AffinityProbabilityBinary, Confidence: r.Confidence, Model: r.Model, Status: string(j.Status)}}, nil
}

// batchHits reads the ranked rows of batch_results.csv, which holds every
// ligand with its rank (empty for failed and cancelled ones).
func (a *app) batchHits(ctx context.Context, id string) ([]hit, error) {
	b, err := a.cl.Batch(ctx, id)
	if err != nil {
		return nil, err
	}
	if b.BatchResults == nil {
		return nil, nil
	}
	data, err := a.cl.BatchFile(ctx, id, omtx.FileBatchResultsCSV)
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("read %s: %v", omtx.FileBatchResultsCSV, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	get := func(r []string, name string) string {
		i, ok := col[name]
		if !ok || i >= len(r) {
			return ""
		}
		return unguard(r[i])
	}
	num := func(r []string, name string) float64 {
		v, _ := strconv.ParseFloat(get(r, name), 64)
		return v
	}
	var hits []hit
	for _, r := range rows[1:] {
		rank, err := strconv.Atoi(get(r, "rank"))
		if err != nil {
			continue
		}
		hits = append(hits, hit{Rank: rank, JobID: get(r, "job_id"), Ligand: get(r, "ligand_name"), SMILES: get(r, "smiles"),
			PredValue: num(r, "affinity_pred_value_log10_ic50_um"), PredUnits: omtx.UnitsLog10IC50uM, PIC50: num(r, "pic50"),
			DeltaG: num(r, "delta_g_kcal_mol"), BinderProb: num(r, "affinity_probability_binary"), Confidence: num(r, "confidence"),
			Model: get(r, "model"), Status: get(r, "status"), Warnings: get(r, "warnings")})
	}
	slices.SortFunc(hits, func(x, y hit) int { return x.Rank - y.Rank })
	return hits, nil
}

// unguard undoes the CSV's spreadsheet-formula guard: the leading quote
// the aggregator adds before =, +, -, @, tab, carriage return, or a quote
// of the cell's own.
func unguard(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.ContainsRune("=+-@\t\r'", rune(v[1])) {
		return v[1:]
	}
	return v
}
