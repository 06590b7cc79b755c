package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/omtx-hub/omtx-hub/client"
)

// printDryRun prints what a submission would run: the Boltz YAML on
// stdout (so it can be saved and run with boltz predict), the rest on
// stderr.
func (a *app) printDryRun(d *client.DryRunResponse) error {
	if a.output == "json" {
		return a.printJSON(d)
	}
	fmt.Fprint(a.stdout, d.BoltzYAML)
	model := d.Model
	if d.Substituted {
		model = fmt.Sprintf("%s (for %s)", d.Model, d.RequestedModel)
	}
	fmt.Fprintf(a.stderr, "Dry run: nothing was created. Model %s, %d tokens, GPU class %s\n", model, d.Tokens, d.GPUClass)
	if d.TargetID != "" {
		fmt.Fprintf(a.stderr, "Target %s (%s)\n", d.TargetID, d.TargetHash)
	}
	printWarnings(a.stderr, d.Warnings)
	return nil
}

func (a *app) targetCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "target",
		Short: "Create, show, list and delete targets (complexes to predict and screen against)",
	}
	c.AddCommand(a.targetCreateCmd(), a.targetShowCmd(), a.targetListCmd(), a.targetDeleteCmd())
	for _, sub := range c.Commands() {
		sub.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	}
	return c
}

func (a *app) targetCreateCmd() *cobra.Command {
	var yamlFile, name, ligandChain string
	var files []string
	c := &cobra.Command{
		Use:   "create -f complex.yaml [--file seq1.a3m ...]",
		Short: "Create a target from a Boltz input YAML and the A3M/mmCIF/PDB files it names",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if yamlFile == "" {
				return usagef("-f is required: a Boltz input YAML")
			}
			yml, err := os.ReadFile(yamlFile)
			if err != nil {
				return usagef("read the YAML: %v", err)
			}
			in := client.TargetImport{YAML: yml, Files: map[string][]byte{}, Name: name, LigandChain: ligandChain}
			for _, f := range files {
				data, err := os.ReadFile(f)
				if err != nil {
					return usagef("read %s: %v", f, err)
				}
				base := filepath.Base(f)
				if _, dup := in.Files[base]; dup {
					return usagef("two files are named %s; the YAML's paths are matched by file name", base)
				}
				in.Files[base] = data
			}
			t, err := a.cl.ImportTarget(cmd.Context(), in)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(t)
			}
			state := "Created"
			if t.Duplicate {
				state = "Already had"
			}
			fmt.Fprintf(a.stdout, "%s target %s: %s\n", state, t.TargetID, summary(&t.TargetRecord))
			printWarnings(a.stdout, t.Warnings)
			fmt.Fprintf(a.stdout, "Screen it: omtx screen --target %s --library FILE\n", t.TargetID)
			return nil
		},
	}
	c.Flags().StringVarP(&yamlFile, "filename", "f", "", "the Boltz input YAML")
	c.Flags().StringArrayVar(&files, "file", nil, "a file the YAML names (A3M, mmCIF, PDB), matched by file name; repeat for more")
	c.Flags().StringVar(&name, "name", "", "the target's name")
	c.Flags().StringVar(&ligandChain, "ligand-chain", "", "the screened ligand's chain id, which the YAML's constraints may name")
	return c
}

// summary describes a target in one line.
func summary(r *client.TargetRecord) string {
	var parts []string
	for _, ch := range r.Chains {
		p := fmt.Sprintf("%s %s (%d)", ch.Type, strings.Join(ch.IDs, ","), ch.Length)
		if ch.MSAMode != "" {
			p += " msa " + ch.MSAMode
		}
		parts = append(parts, p)
	}
	for _, l := range r.Ligands {
		what := l.CCD
		if what == "" {
			what = l.SMILES
		}
		parts = append(parts, fmt.Sprintf("ligand %s %s", strings.Join(l.IDs, ","), what))
	}
	if len(r.Constraints) > 0 {
		parts = append(parts, "constraints "+strings.Join(r.Constraints, ","))
	}
	if len(r.Templates) > 0 {
		parts = append(parts, "templates "+strings.Join(r.Templates, ","))
	}
	return fmt.Sprintf("%s; %d tokens; screened ligand chain %s", strings.Join(parts, "; "), r.Tokens, r.LigandChain)
}

// msaLine says where a target's MSAs stand and each chain's digest; ""
// for a target with neither.
func msaLine(r *client.TargetRecord) string {
	var chains []string
	for _, ch := range r.Chains {
		if ch.MSADigest == "" {
			continue
		}
		c := strings.Join(ch.IDs, ",") + " " + ch.MSADigest
		if ch.MSAPaired {
			c += " (paired)"
		}
		chains = append(chains, c)
	}
	var status string
	switch r.MSAStatus {
	case "":
	case "computing":
		status = "msas computing (jobs submitted now wait for them)"
	case "failed":
		status = "msas failed: " + r.MSAReason
	default:
		status = "msas " + r.MSAStatus
	}
	switch {
	case status == "" && len(chains) == 0:
		return ""
	case status == "":
		return "msas: " + strings.Join(chains, "; ")
	case len(chains) == 0:
		return status
	}
	return status + ": " + strings.Join(chains, "; ")
}

func (a *app) targetShowCmd() *cobra.Command {
	var asYAML bool
	var ligand string
	c := &cobra.Command{
		Use:   "show ID [--yaml [--ligand SMILES]]",
		Short: "Show a target, or print it as a Boltz input YAML",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asYAML {
				y, err := a.cl.TargetYAML(cmd.Context(), args[0], ligand)
				if err != nil {
					return err
				}
				_, err = a.stdout.Write(y)
				return err
			}
			t, err := a.cl.Target(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(t)
			}
			fmt.Fprintf(a.stdout, "%s %s\n  %s\n  hash %s, created %s\n", t.TargetID, t.Name, summary(&t.TargetRecord),
				t.Hash, t.CreatedAt.Format("2006-01-02 15:04 UTC"))
			if line := msaLine(&t.TargetRecord); line != "" {
				fmt.Fprintf(a.stdout, "  %s\n", line)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asYAML, "yaml", false, "print the target as a Boltz input YAML")
	c.Flags().StringVar(&ligand, "ligand", "", "with --yaml: add this screened ligand (needed when constraints name it)")
	return c
}

func (a *app) targetListCmd() *cobra.Command {
	var limit int
	c := &cobra.Command{
		Use:   "list",
		Short: "List your targets, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 1 {
				return usagef("--limit must be at least 1")
			}
			var out []*client.TargetRecord
			o := client.ListOptions{PageSize: min(limit, 100)}
			for len(out) < limit {
				page, err := a.cl.Targets(cmd.Context(), o)
				if err != nil {
					return err
				}
				out = append(out, page.Targets...)
				if page.NextPageToken == "" {
					break
				}
				o.PageToken = page.NextPageToken
			}
			out = out[:min(len(out), limit)]
			if a.output == "json" {
				return a.printJSON(out)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TARGET\tNAME\tTOKENS\tCREATED\tSUMMARY")
			for _, r := range out {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", r.TargetID, r.Name, r.Tokens, r.CreatedAt.Format("2006-01-02 15:04"), summary(r))
			}
			return tw.Flush()
		},
	}
	c.Flags().IntVar(&limit, "limit", 20, "at most this many")
	return c
}

func (a *app) targetDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a target (jobs already running on it finish)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.cl.DeleteTarget(cmd.Context(), args[0]); err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(map[string]string{"target_id": args[0], "status": "deleted"})
			}
			fmt.Fprintf(a.stdout, "%s: deleted\n", args[0])
			return nil
		},
	}
}
