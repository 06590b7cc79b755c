package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/omtx-hub/omtx-hub/client"
	"github.com/omtx-hub/omtx-hub/omtx"
)

func (a *app) cancelCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a job or a batch",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var resp *client.CancelResponse
			var err error
			if isBatchID(args[0]) {
				resp, err = a.cl.CancelBatch(cmd.Context(), args[0])
			} else {
				resp, err = a.cl.CancelJob(cmd.Context(), args[0])
			}
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(resp)
			}
			fmt.Fprintf(a.stdout, "%s: %s\n", resp.JobID, resp.Status)
			return nil
		},
	}
}

func (a *app) jobsCmd() *cobra.Command {
	var status string
	var limit int
	c := &cobra.Command{
		Use:   "jobs",
		Short: "List your jobs and batches, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.list(cmd.Context(), status, limit, false)
		},
	}
	c.Flags().StringVar(&status, "status", "", "only this status: pending, queued, running, completed, failed or cancelled")
	c.Flags().IntVar(&limit, "limit", 20, "at most this many")
	return c
}

func (a *app) batchesCmd() *cobra.Command {
	var status string
	var limit int
	c := &cobra.Command{
		Use:   "batches",
		Short: "List your batches, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.list(cmd.Context(), status, limit, true)
		},
	}
	c.Flags().StringVar(&status, "status", "", "only this status")
	c.Flags().IntVar(&limit, "limit", 20, "at most this many")
	return c
}

func (a *app) list(ctx context.Context, status string, limit int, batchesOnly bool) error {
	if status != "" && !omtx.JobStatus(status).Valid() {
		return usagef("--status must be pending, queued, running, completed, failed or cancelled")
	}
	if limit < 1 {
		return usagef("--limit must be at least 1")
	}
	jobs := []*client.Job{}
	o := client.ListOptions{PageSize: 100, Status: client.Status(status)}
	for len(jobs) < limit {
		page, err := a.cl.Jobs(ctx, o)
		if err != nil {
			return err
		}
		for _, j := range page.Jobs {
			if (!batchesOnly || j.JobType == omtx.JobTypeBatchParent) && len(jobs) < limit {
				jobs = append(jobs, j)
			}
		}
		if page.NextPageToken == "" {
			break
		}
		o.PageToken = page.NextPageToken
	}
	if a.output == "json" {
		return a.printJSON(jobs)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATUS\tMODEL\tNAME\tCREATED")
	for _, j := range jobs {
		kind, name := "job", j.InputData.LigandName
		if j.JobType == omtx.JobTypeBatchParent {
			kind, name = "batch", j.BatchName
			if j.Progress != nil {
				name = fmt.Sprintf("%s (%d/%d)", name, j.Progress.Completed+j.Progress.Failed+j.Progress.Cancelled+j.Progress.Filtered, j.Progress.Total)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", j.JobID, kind, j.Status, j.Model, name, j.CreatedAt.Local().Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}
