package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/omtx-hub/omtx-hub/client"
)

// fetched is one file of a download.
type fetched struct {
	File    string `json:"file"`
	Bytes   int64  `json:"bytes"`
	Skipped bool   `json:"skipped,omitempty"`
}

func (a *app) downloadCmd() *cobra.Command {
	var out string
	var children bool
	c := &cobra.Command{
		Use:   "download ID",
		Short: "Download every file of a job or batch (files already complete are skipped)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				out = args[0]
			}
			got, err := a.download(cmd.Context(), args[0], out, children)
			if err != nil {
				return err
			}
			if a.output == "json" {
				return a.printJSON(got)
			}
			return nil
		},
	}
	c.Flags().StringVar(&out, "out", "", "folder to write into (default: the id)")
	c.Flags().BoolVar(&children, "children", true, "for a batch, also each ligand's files, under jobs/{job_id}/")
	return c
}

// download writes the files of id into dir. A file whose local size is
// the size the API announces is skipped; a transfer that ends short fails.
func (a *app) download(ctx context.Context, id, dir string, children bool) ([]fetched, error) {
	var got []fetched
	one := func(name, dest string, open func() (*client.File, error)) error {
		f, err := a.fetchFile(dest, open)
		if client.IsNotFound(err) {
			return nil // not produced (no structure, batch not finished)
		}
		if err != nil {
			return fmt.Errorf("download %s: %w", name, err)
		}
		got = append(got, f)
		if a.output == "text" {
			verb := "wrote"
			if f.Skipped {
				verb = "complete, skipped"
			}
			fmt.Fprintf(a.stderr, "%s (%d bytes, %s)\n", f.File, f.Bytes, verb)
		}
		return nil
	}
	jobFiles := func(jobID, sub string) error {
		for _, name := range client.JobFiles {
			if err := one(name, filepath.Join(dir, sub, name), func() (*client.File, error) {
				return a.cl.OpenJobFile(ctx, jobID, name)
			}); err != nil {
				return err
			}
		}
		return nil
	}
	if !isBatchID(id) {
		if _, err := a.cl.Job(ctx, id); err != nil {
			return nil, err
		}
		return got, jobFiles(id, "")
	}
	if _, err := a.cl.Batch(ctx, id); err != nil {
		return nil, err
	}
	for _, name := range client.BatchFiles {
		if err := one(name, filepath.Join(dir, filepath.FromSlash(name)), func() (*client.File, error) {
			return a.cl.OpenBatchFile(ctx, id, name)
		}); err != nil {
			return got, err
		}
	}
	if !children {
		return got, nil
	}
	err := a.cl.EachBatchJob(ctx, id, "", func(j *client.Job) error {
		return jobFiles(j.JobID, filepath.Join("jobs", j.JobID))
	})
	return got, err
}

// fetchFile downloads one file to dest through dest.part, checking the
// length against the announced size.
func (a *app) fetchFile(dest string, open func() (*client.File, error)) (fetched, error) {
	f, err := open()
	if err != nil {
		return fetched{}, err
	}
	defer f.Body.Close()
	rec := fetched{File: dest, Bytes: f.Size}
	if st, err := os.Stat(dest); err == nil && f.Size >= 0 && st.Size() == f.Size {
		rec.Skipped = true
		return rec, nil
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return rec, err
	}
	part := dest + ".part"
	w, err := os.Create(part)
	if err != nil {
		return rec, err
	}
	n, err := io.Copy(w, f.Body)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil && f.Size >= 0 && n != f.Size {
		err = fmt.Errorf("got %d bytes of %d", n, f.Size)
	}
	if err != nil {
		os.Remove(part)
		return rec, err
	}
	rec.Bytes = n
	return rec, os.Rename(part, dest)
}
