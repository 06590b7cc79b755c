package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/omtx-hub/omtx-hub/client"
)

// rerunCmd starts a new batch of a finished batch's failed and/or
// cancelled ligands (POST /api/v1/batches/{id}/rerun).
func (a *app) rerunCmd() *cobra.Command {
	var failed, cancelled, wait bool
	var idemKey, out string
	c := &cobra.Command{
		Use:   "rerun BATCH_ID --failed|--cancelled",
		Short: "Run a finished batch's failed or cancelled ligands again, as a new batch",
		Long: `rerun starts a new batch of exactly the failed (--failed), cancelled
(--cancelled) or both kinds of ligands of a finished batch, with their names,
SMILES and metadata columns, against the same protein or target, with the same
model and settings. It prints the new batch's id; the new batch names the
first in rerun_of, and the first lists it in reruns.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			which := ""
			switch {
			case failed && cancelled:
				which = client.RerunFailedAndCancelled
			case failed:
				which = client.RerunFailed
			case cancelled:
				which = client.RerunCancelled
			default:
				return usagef("say which ligands to rerun: --failed, --cancelled, or both")
			}
			if !isBatchID(args[0]) {
				return usagef("%s is not a batch id (batch_...)", args[0])
			}
			var opts []client.CallOption
			if idemKey != "" {
				opts = append(opts, client.WithIdempotencyKey(idemKey))
			}
			resp, err := a.cl.RerunBatch(cmd.Context(), args[0], which, opts...)
			if err != nil {
				return err
			}
			if a.output == "json" && !wait {
				return a.printJSON(map[string]any{"batch_id": resp.BatchID, "rerun_of": resp.RerunOf, "submission": resp, "link": a.link(resp.BatchID)})
			}
			if a.output == "text" {
				dup := ""
				if resp.Duplicate {
					dup = " (an earlier rerun with this idempotency key)"
				}
				fmt.Fprintf(a.stdout, "Rerun batch %s%s of %s: %s, model %s\n", resp.BatchID, dup, resp.RerunOf,
					count(resp.TotalLigands, "ligand", "ligands"), resp.Model)
				printWarnings(a.stdout, resp.Warnings)
				fmt.Fprintf(a.stdout, "Results page: %s\n", a.link(resp.BatchID))
			}
			if !wait {
				return nil
			}
			return a.waitAndFetch(cmd, resp.BatchID, out)
		},
	}
	fl := c.Flags()
	fl.BoolVar(&failed, "failed", false, "rerun the ligands that failed")
	fl.BoolVar(&cancelled, "cancelled", false, "rerun the ligands that were cancelled")
	fl.BoolVar(&wait, "wait", false, "watch the new batch until it ends, then print its results")
	fl.StringVar(&out, "out", "", "with --wait: download the files into this folder")
	fl.StringVar(&idemKey, "idempotency-key", "", "makes retrying safe: the same key starts one batch (default: a new key per call)")
	return c
}
