package requeue

// The command and its Temporal adapter: how requeue runs against the real
// clients (Requeuer is in requeue.go).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/jobstart"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// temporalWorkflows implements Workflows over a Temporal client.
type temporalWorkflows struct{ c client.Client }

// NewWorkflows describes and starts workflows through c.
func NewWorkflows(c client.Client) Workflows { return temporalWorkflows{c} }

func (t temporalWorkflows) Exists(ctx context.Context, id string) (bool, error) {
	_, err := t.c.DescribeWorkflow(ctx, id, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return false, nil
	}
	return err == nil, err
}

func (t temporalWorkflows) Start(ctx context.Context, s jobstart.Start) (string, error) {
	return jobstart.Execute(ctx, t.c, s)
}

// Limits of a selection.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// timeLayouts are the forms --since takes.
var timeLayouts = []string{time.RFC3339, "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02"}

// parseSince reads --since: a time (RFC 3339, or shorter, as
// 2026-12-01T00:00Z; UTC when it names no zone) or a duration back from
// now (24h).
func parseSince(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q is neither a time (2026-12-01T00:00Z) nor a duration (24h)", v)
}

// Command runs `omtx-worker requeue` against the clients the environment
// configures (as reconcile's): the report on stdout, logs on stderr. It
// returns the process's exit status: 0 when every selected record was
// handled, 1 when one could not be (or the run failed), 2 for a usage
// error.
func Command(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("omtx-worker requeue", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ids := fs.String("ids", "", "comma-separated job, batch or batch-child ids to requeue")
	status := fs.String("status", "", "select by query: records of this status (only failed)")
	since := fs.String("since", "", "with --status: records updated at or after this time (2026-12-01T00:00Z) or this long ago (24h)")
	cause := fs.String("cause", "", "with --status: only failures of this cause: infrastructure or input (default: any)")
	batch := fs.String("batch", "", "with --status: requeue this batch's failed ligands")
	limit := fs.Int("limit", DefaultLimit, fmt.Sprintf("at most this many records selected, a batch counting once (up to %d; a query reads up to 10 times as many failed records)", MaxLimit))
	dryRun := fs.Bool("dry-run", false, "report what would be requeued, and change nothing")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: omtx-worker requeue (--ids ID,... | --status failed [--since T] [--cause infrastructure|input] [--batch ID]) [--limit N] [--dry-run]")
		fmt.Fprintln(stderr, "Sets failed job records back to pending and starts fresh workflows for them. A batch child requeues its")
		fmt.Fprintln(stderr, "batch: its failed ligands run again in a new BatchWorkflow that skips the finished ones. Running it again")
		fmt.Fprintln(stderr, "starts nothing new, and starts a requeue that died before its workflow started.")
		fmt.Fprintln(stderr, "Prints one JSON line per record, then a summary line.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	sel, err := selection(*ids, *status, *since, *cause, *batch, *limit, time.Now().UTC())
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err != nil {
		fmt.Fprintln(stderr, "omtx-worker requeue:", err)
		fs.Usage()
		return 2
	}
	if err := runOnce(sel, *dryRun, stdout); err != nil {
		fmt.Fprintln(stderr, "omtx-worker requeue:", err)
		return 1
	}
	return 0
}

// selection checks the flags and makes the Selection they ask for.
func selection(ids, status, since, cause, batch string, limit int, now time.Time) (Selection, error) {
	sel := Selection{Limit: limit, BatchID: strings.TrimSpace(batch)}
	if limit < 1 || limit > MaxLimit {
		return sel, fmt.Errorf("--limit must be between 1 and %d", MaxLimit)
	}
	for _, id := range strings.Split(ids, ",") {
		if id = strings.TrimSpace(id); id != "" {
			sel.IDs = append(sel.IDs, id)
		}
	}
	if len(sel.IDs) > 0 {
		if status != "" || since != "" || cause != "" || batch != "" {
			return sel, errors.New("choose records either by --ids or by --status (with --since, --cause, --batch), not both")
		}
		if len(sel.IDs) > limit {
			return sel, fmt.Errorf("%d ids is more than --limit %d", len(sel.IDs), limit)
		}
		return sel, nil
	}
	if status != string(omtx.StatusFailed) {
		return sel, errors.New("choose records by --ids, or by --status failed")
	}
	switch cause {
	case CauseAny, CauseInfrastructure, CauseInput:
		sel.Cause = cause
	default:
		return sel, fmt.Errorf("--cause must be infrastructure or input, not %q", cause)
	}
	if since == "" && sel.BatchID == "" {
		return sel, errors.New("--status failed needs --since (or --batch), so that a query never reaches back without bound")
	}
	if since != "" {
		t, err := parseSince(since, now)
		if err != nil {
			return sel, err
		}
		sel.Since = t
	}
	return sel, nil
}

func runOnce(sel Selection, dryRun bool, stdout io.Writer) error {
	return app.RunOnce(config.ProcessReconcile, "requeue", func(ctx context.Context, cfg config.Config, d *app.Deps, _ *slog.Logger) error {
		r := &Requeuer{Jobs: d.Jobs, Workflows: NewWorkflows(d.Temporal), Fleet: cfg.Fleet, DryRun: dryRun, Out: stdout}
		sum, err := r.Run(ctx, sel)
		if err != nil {
			return err
		}
		if sum.Errors > 0 {
			return fmt.Errorf("%d records could not be requeued", sum.Errors)
		}
		return nil
	})
}
