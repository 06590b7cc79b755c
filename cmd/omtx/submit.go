package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/omtx-hub/omtx-hub/client"
	"github.com/omtx-hub/omtx-hub/omtx"
)

var termIsTerminal = term.IsTerminal

// inputFlags are the flags predict, screen and estimate share.
type inputFlags struct {
	protein       string
	ligand        string
	name          string
	model         string
	library       string
	maxConcurrent int
	chunkSize     int
	priority      string
	skipInvalid   bool
	useMSA        bool
	samples       int
	seed          int64
	notifyURL     string
	idemKey       string
	wait          bool
	out           string
	target        string
	dryRun        bool
	filter        filterFlags
	noCache       bool
}

func (f *inputFlags) common(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.protein, "protein", "", "protein sequence, or @file.fasta")
	fl.StringVar(&f.target, "target", "", "a target's id (omtx target create), in place of --protein")
	fl.StringVar(&f.model, "model", "boltz2", "model to run")
	fl.BoolVar(&f.useMSA, "use-msa", false, "use the protein's MSA (computed once per protein and cached)")
	fl.IntVar(&f.samples, "samples", 0, "diffusion samples (default: the model's)")
	fl.Int64Var(&f.seed, "seed", -1, "random seed (default: the model's choice)")
}

func (f *inputFlags) submission(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.notifyURL, "notify-url", "", "https URL that receives a signed POST when the work ends")
	fl.StringVar(&f.idemKey, "idempotency-key", "", "makes resubmitting safe (default: a new key per call)")
	fl.BoolVar(&f.wait, "wait", false, "watch until it ends, then print the results")
	fl.StringVar(&f.out, "out", "", "with --wait: download the files into this folder")
	fl.BoolVar(&f.dryRun, "dry-run", false, "validate, print the Boltz YAML that would run, and create nothing")
	fl.BoolVar(&f.noCache, "no-cache", false, "run on the GPU even if the same prediction is in the result cache (results are still stored)")
}

// cache is the request's cache field: false with --no-cache, else absent.
func (f *inputFlags) cache() *bool {
	if !f.noCache {
		return nil
	}
	return new(false)
}

func (f *inputFlags) batchFlags(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.library, "library", "", "ligand library: .csv with a smiles column (and name), or .smi")
	fl.IntVar(&f.maxConcurrent, "max-concurrent", 0, "ligands in flight at once (API default 10)")
	fl.IntVar(&f.chunkSize, "chunk-size", 0, "ligands per GPU activity (API default)")
	fl.StringVar(&f.priority, "priority", "", "low, normal or high")
	fl.BoolVar(&f.skipInvalid, "skip-invalid", false, "run the valid rows and record invalid ones as failed")
	f.filter.register(c)
}

func (f *inputFlags) parameters() *client.Parameters {
	if !f.useMSA && f.samples == 0 && f.seed < 0 {
		return nil
	}
	p := &client.Parameters{UseMSA: f.useMSA, NumSamples: f.samples}
	if f.seed >= 0 {
		s := f.seed
		p.Seed = &s
	}
	return p
}

// proteinSequence reads --protein: a sequence, or @file.fasta. With
// --target it is empty.
func (f *inputFlags) proteinSequence() (string, error) {
	if f.target != "" {
		if f.protein != "" {
			return "", usagef("give --protein or --target, not both")
		}
		return "", nil
	}
	if f.protein == "" {
		return "", usagef("--protein is required (a sequence, or @file.fasta)")
	}
	path, ok := strings.CutPrefix(f.protein, "@")
	if !ok {
		if looksLikeFile(f.protein) {
			return "", usagef("--protein %q looks like a file name; write --protein @%s to read the sequence from it", f.protein, f.protein)
		}
		return strings.ToUpper(strings.Join(strings.Fields(f.protein), "")), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", usagef("read the protein: %v", err)
	}
	return readFASTA(path, data)
}

// looksLikeFile says whether a --protein value is a file's name rather
// than a sequence: a path separator, a sequence-file extension, or an
// existing file. No amino-acid sequence contains '/' or '.'.
func looksLikeFile(v string) bool {
	if strings.ContainsAny(v, "/.\\") {
		return true
	}
	_, err := os.Stat(v)
	return err == nil
}

// readFASTA returns the one sequence of a FASTA file (or of a file of bare
// sequence lines). A record's header names the protein: it is sent with
// the sequence, as one FASTA record (">CA2\nMKT..."), which the API reads
// as the protein's name; a file of bare lines gives the bare sequence.
func readFASTA(path string, data []byte) (string, error) {
	var seq strings.Builder
	header := ""
	records := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, ">"):
			records++
			if records > 1 {
				return "", usagef("%s holds more than one sequence; give one protein", path)
			}
			header = strings.TrimSpace(strings.TrimPrefix(line, ">"))
		default:
			seq.WriteString(strings.ToUpper(strings.Join(strings.Fields(line), "")))
		}
	}
	if seq.Len() == 0 {
		return "", usagef("%s holds no sequence", path)
	}
	if header != "" {
		return ">" + header + "\n" + seq.String(), nil
	}
	return seq.String(), nil
}

func (a *app) predictCmd() *cobra.Command {
	var f inputFlags
	c := &cobra.Command{
		Use:   "predict --protein SEQ|@file.fasta|--target ID --ligand SMILES",
		Short: "Submit one protein–ligand prediction",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			protein, err := f.proteinSequence()
			if err != nil {
				return err
			}
			if f.ligand == "" {
				return usagef("--ligand is required (a SMILES string)")
			}
			var opts []client.CallOption
			if f.idemKey != "" {
				opts = append(opts, client.WithIdempotencyKey(f.idemKey))
			}
			req := client.PredictRequest{
				Model: f.model, ProteinSequence: protein, TargetID: f.target, LigandSMILES: f.ligand, LigandName: f.name,
				Parameters: f.parameters(), NotifyURL: f.notifyURL, Cache: f.cache(),
			}
			if f.dryRun {
				d, err := a.cl.DryRunPredict(cmd.Context(), req)
				if err != nil {
					return err
				}
				return a.printDryRun(d)
			}
			resp, err := a.cl.Predict(cmd.Context(), req, opts...)
			if err != nil {
				return err
			}
			if !f.wait {
				return a.submitted(resp.JobID, resp)
			}
			if a.output == "text" {
				_ = a.submitted(resp.JobID, resp)
			}
			return a.waitAndFetch(cmd, resp.JobID, f.out)
		},
	}
	f.common(c)
	f.submission(c)
	c.Flags().StringVar(&f.ligand, "ligand", "", "ligand SMILES")
	c.Flags().StringVar(&f.name, "name", "", "ligand name")
	return c
}

func (a *app) screenCmd() *cobra.Command {
	var f inputFlags
	c := &cobra.Command{
		Use:   "screen --protein SEQ|@file.fasta|--target ID --library FILE.csv|.smi",
		Short: "Submit a virtual screen of a ligand library against one protein",
		Long:  "Submit a virtual screen of a ligand library against one protein.\n\n" + filtersHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			protein, err := f.proteinSequence()
			if err != nil {
				return err
			}
			flt, err := f.filter.filters()
			if err != nil {
				return err
			}
			if f.library == "" {
				return usagef("--library is required (.csv or .smi)")
			}
			lib, err := os.ReadFile(f.library)
			if err != nil {
				return usagef("read the library: %v", err)
			}
			var opts []client.CallOption
			if f.idemKey != "" {
				opts = append(opts, client.WithIdempotencyKey(f.idemKey))
			}
			if f.dryRun {
				ligands, err := readLibrary(f.library, lib)
				if err != nil {
					return err
				}
				d, err := a.cl.DryRunBatch(cmd.Context(), client.BatchRequest{
					Model: f.model, BatchName: f.name, ProteinSequence: protein, TargetID: f.target, Ligands: ligands,
					MaxConcurrent: f.maxConcurrent, ChunkSize: f.chunkSize, Priority: f.priority,
					Parameters: f.parameters(), SkipInvalid: f.skipInvalid, NotifyURL: f.notifyURL, Filters: flt, Cache: f.cache(),
				})
				if err != nil {
					return err
				}
				return a.printDryRun(d)
			}
			resp, err := a.cl.UploadBatch(cmd.Context(), client.BatchUpload{
				Filename: filepath.Base(f.library), Library: lib, Model: f.model, BatchName: f.name,
				ProteinSequence: protein, TargetID: f.target, MaxConcurrent: f.maxConcurrent, ChunkSize: f.chunkSize,
				Priority: f.priority, Parameters: f.parameters(), SkipInvalid: f.skipInvalid, NotifyURL: f.notifyURL,
				Filters: flt, NoCache: f.noCache,
			}, opts...)
			if err != nil {
				return err
			}
			if !f.wait {
				return a.submitted(resp.BatchID, resp)
			}
			if a.output == "text" {
				_ = a.submitted(resp.BatchID, resp)
			}
			return a.waitAndFetch(cmd, resp.BatchID, f.out)
		},
	}
	f.common(c)
	f.submission(c)
	f.batchFlags(c)
	c.Flags().StringVar(&f.name, "name", "", "batch name")
	return c
}

// submitted prints a submission's answer and the results page's link.
func (a *app) submitted(id string, resp any) error {
	if a.output == "json" {
		return a.printJSON(map[string]any{"submission": resp, "link": a.link(id)})
	}
	switch r := resp.(type) {
	case *client.SubmitResponse:
		dup := ""
		if r.Duplicate {
			dup = " (an earlier submission with this idempotency key)"
		}
		fmt.Fprintf(a.stdout, "Submitted job %s%s: %s, model %s\n", r.JobID, dup, r.Status, r.Model)
		printWarnings(a.stdout, r.Warnings)
	case *client.BatchSubmitResponse:
		dup := ""
		if r.Duplicate {
			dup = " (an earlier submission with this idempotency key)"
		}
		fmt.Fprintf(a.stdout, "Submitted batch %s%s: %s", r.BatchID, dup, count(r.TotalLigands, "ligand", "ligands"))
		if r.InvalidLigands > 0 {
			fmt.Fprintf(a.stdout, " (%d invalid, recorded as failed)", r.InvalidLigands)
		}
		fmt.Fprintf(a.stdout, ", model %s, %d at a time\n", r.Model, r.MaxConcurrent)
		printFilterHits(a.stdout, "held back", r.FilteredLigands, r.FilterHits)
		printWarnings(a.stdout, r.Warnings)
	}
	fmt.Fprintf(a.stdout, "Results page: %s\n", a.link(id))
	return nil
}

func printWarnings(w io.Writer, ws []string) {
	for _, s := range ws {
		fmt.Fprintf(w, "  warning: %s\n", s)
	}
}

// waitAndFetch watches id to its end, downloads its files into out (if
// set) and prints its results.
func (a *app) waitAndFetch(cmd *cobra.Command, id, out string) error {
	status, err := a.watch(cmd.Context(), id)
	if err != nil {
		return err
	}
	if out != "" {
		if _, err := a.download(cmd.Context(), id, out, false); err != nil {
			return err
		}
	}
	if err := a.results(cmd.Context(), id, 10, a.defaultFormat()); err != nil {
		return err
	}
	if status != "completed" {
		return &endedError{id: id, status: status}
	}
	return nil
}

func (a *app) estimateCmd() *cobra.Command {
	var f inputFlags
	var n int
	c := &cobra.Command{
		Use:   "estimate --protein SEQ|@file.fasta|--target ID (--ligand SMILES | --library FILE | --num-ligands N)",
		Short: "Estimate GPU class, GPU time and cost before submitting",
		Long: "Estimate GPU class, GPU time and cost before submitting. With filters (and --library),\n" +
			"the estimate says how many ligands they would hold back, and prices the rest.\n\n" + filtersHelp,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			protein, err := f.proteinSequence()
			if err != nil {
				return err
			}
			flt, err := f.filter.filters()
			if err != nil {
				return err
			}
			req := client.EstimateRequest{Model: f.model, ProteinSequence: protein, TargetID: f.target, LigandSMILES: f.ligand,
				NumLigands: n, MaxConcurrent: f.maxConcurrent, ChunkSize: f.chunkSize, Parameters: f.parameters(), Filters: flt}
			if f.library != "" {
				data, err := os.ReadFile(f.library)
				if err != nil {
					return usagef("read the library: %v", err)
				}
				if req.Ligands, err = readLibrary(f.library, data); err != nil {
					return err
				}
			}
			if req.LigandSMILES == "" && len(req.Ligands) == 0 && n == 0 {
				return usagef("give --ligand, --library or --num-ligands")
			}
			est, err := a.cl.Estimate(cmd.Context(), req)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(est)
			}
			fmt.Fprintf(a.stdout, "Model %s on %s (%s)\n", est.Model, est.GPUClass, est.RoutingReason)
			if est.RequestedModel != "" && est.RequestedModel != est.Model {
				note := ""
				if n := omtx.ModelNote(est.Model); n != "" {
					note = " (" + n + ")"
				}
				fmt.Fprintf(a.stdout, "Substitute: %s is not served here; this prices %s, the model that would run%s\n",
					est.RequestedModel, est.Model, note)
			}
			printFilterHits(a.stdout, "would hold back", est.FilteredLigands, est.FilterHits)
			run := est.Ligands - est.FilteredLigands
			if h := est.CacheHitsExpected; h != nil && *h > 0 {
				fmt.Fprintf(a.stdout, "Result cache: %s would be served from earlier runs, no GPU\n", count(*h, "ligand", "ligands"))
				run -= *h
			}
			fmt.Fprintf(a.stdout, "%s in %s: %.0f GPU seconds, $%.4f ($%.6f per ligand), about %s wall time\n",
				count(run, "ligand", "ligands"), count(est.Chunks, "chunk", "chunks"),
				est.GPUSeconds, est.CostUSD, est.CostPerLigandUSD, fmtDuration(est.WallSeconds))
			fmt.Fprintf(a.stdout, "Basis: %s\n", est.Basis)
			return nil
		},
	}
	f.common(c)
	f.batchFlags(c)
	c.Flags().StringVar(&f.ligand, "ligand", "", "one ligand SMILES")
	c.Flags().StringVar(&f.name, "name", "", "ignored (accepted so predict and screen command lines work)")
	c.Flags().IntVar(&n, "num-ligands", 0, "a library size, without the library")
	return c
}

// readLibrary reads the SMILES of a .csv (smiles, canonical_smiles or smi
// column) or .smi library, for an estimate; the API validates them.
func readLibrary(path string, data []byte) ([]client.Ligand, error) {
	var out []client.Ligand
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil || len(rows) == 0 {
			return nil, usagef("%s is not a CSV file with a header: %v", path, err)
		}
		col := -1
		for i, h := range rows[0] {
			switch strings.ToLower(strings.TrimSpace(h)) {
			case "smiles", "canonical_smiles", "smi":
				if col < 0 {
					col = i
				}
			}
		}
		if col < 0 {
			return nil, usagef("%s has no smiles column", path)
		}
		for _, r := range rows[1:] {
			if col < len(r) && strings.TrimSpace(r[col]) != "" {
				out = append(out, client.Ligand{SMILES: strings.TrimSpace(r[col])})
			}
		}
		return out, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, client.Ligand{SMILES: strings.Fields(line)[0]})
	}
	return out, nil
}

func fmtDuration(sec float64) string {
	switch {
	case sec < 90:
		return fmt.Sprintf("%.0f s", sec)
	case sec < 90*60:
		return fmt.Sprintf("%.0f min", sec/60)
	case sec < 48*3600:
		return fmt.Sprintf("%.1f h", sec/3600)
	}
	return fmt.Sprintf("%.1f days", sec/86400)
}

// count says n of something, in the right number: "1 ligand", "2 ligands".
func count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
