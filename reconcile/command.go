package reconcile

// The command and its Temporal adapter: how reconcile runs against the
// real clients (Reconciler is in reconcile.go).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/omtx-hub/omtx-hub/app"
	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/jobstart"
)

// temporalExecutions implements Executions over a Temporal client.
type temporalExecutions struct {
	c  client.Client
	dc converter.DataConverter
}

// NewExecutions reads executions through c, decoding payloads with the
// default data converter (as the workers and the API do).
func NewExecutions(c client.Client) Executions {
	return temporalExecutions{c: c, dc: converter.GetDefaultDataConverter()}
}

func (t temporalExecutions) List(ctx context.Context, wfType string, since time.Time) ([]Execution, error) {
	q := fmt.Sprintf("WorkflowType = '%s' AND StartTime >= '%s'", wfType, since.UTC().Format(time.RFC3339))
	latest := map[string]Execution{}
	var token []byte
	for {
		resp, err := t.c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, NextPageToken: token, PageSize: 1000})
		if err != nil {
			return nil, err
		}
		for _, info := range resp.GetExecutions() {
			ex := executionOf(info)
			if prev, ok := latest[ex.WorkflowID]; !ok || ex.Start.After(prev.Start) {
				latest[ex.WorkflowID] = ex
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	out := make([]Execution, 0, len(latest))
	for _, ex := range latest {
		out = append(out, ex)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Start.Before(out[b].Start) })
	return out, nil
}

func (t temporalExecutions) Describe(ctx context.Context, workflowID string) (Execution, bool, error) {
	desc, err := t.c.DescribeWorkflow(ctx, workflowID, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return Execution{}, false, nil
	}
	if err != nil {
		return Execution{}, false, err
	}
	return executionOf(desc.RawResponse.GetWorkflowExecutionInfo()), true, nil
}

// executionOf reads a run out of what visibility or a describe answers.
func executionOf(info *workflowpb.WorkflowExecutionInfo) Execution {
	ex := Execution{
		WorkflowID: info.GetExecution().GetWorkflowId(), RunID: info.GetExecution().GetRunId(),
		Type: info.GetType().GetName(), Status: info.GetStatus(), Start: info.GetStartTime().AsTime(),
	}
	if info.GetCloseTime() != nil {
		ex.Close = info.GetCloseTime().AsTime()
	}
	return ex
}

func (t temporalExecutions) Input(ctx context.Context, ex Execution, v any) error {
	it := t.c.GetWorkflowHistory(ctx, ex.WorkflowID, ex.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return errors.New("empty history")
	}
	ev, err := it.Next()
	if err != nil {
		return err
	}
	attrs := ev.GetWorkflowExecutionStartedEventAttributes()
	if attrs == nil {
		return fmt.Errorf("the first event is %s, not the start", ev.GetEventType())
	}
	return t.dc.FromPayloads(attrs.GetInput(), v)
}

func (t temporalExecutions) Outcome(ctx context.Context, ex Execution, v any) (string, error) {
	it := t.c.GetWorkflowHistory(ctx, ex.WorkflowID, ex.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
	if !it.HasNext() {
		return "", errors.New("no close event")
	}
	ev, err := it.Next()
	if err != nil {
		return "", err
	}
	switch {
	case ev.GetWorkflowExecutionCompletedEventAttributes() != nil:
		if p := ev.GetWorkflowExecutionCompletedEventAttributes().GetResult(); p != nil {
			return "", t.dc.FromPayloads(p, v)
		}
		return "", nil
	case ev.GetWorkflowExecutionFailedEventAttributes() != nil:
		return ev.GetWorkflowExecutionFailedEventAttributes().GetFailure().GetMessage(), nil
	case ev.GetWorkflowExecutionTerminatedEventAttributes() != nil:
		return "workflow terminated: " + ev.GetWorkflowExecutionTerminatedEventAttributes().GetReason(), nil
	case ev.GetWorkflowExecutionTimedOutEventAttributes() != nil:
		return "workflow timed out", nil
	}
	return "", nil
}

func (t temporalExecutions) Start(ctx context.Context, req jobstart.Start) (string, error) {
	return jobstart.Execute(ctx, t.c, req)
}

// Command runs `omtx-worker reconcile [--since D] [--dry-run]
// [--start-missing]` against the clients the environment configures (as
// the worker's): the report on stdout, logs on stderr. It returns the
// process's exit status: 0 when every record was checked, 1 when one
// could not be (or the run failed), 2 for a usage error.
func Command(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("omtx-worker reconcile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := fs.Duration("since", 24*time.Hour, "check workflows started and records created within this long")
	dryRun := fs.Bool("dry-run", false, "report what would change, and change nothing")
	startMissing := fs.Bool("start-missing", false, "start the workflow of a record that is not final and has none, as the API would")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: omtx-worker reconcile [--since DURATION] [--dry-run] [--start-missing]")
		fmt.Fprintln(stderr, "Repairs job records that disagree with Temporal, from the workflows' histories and the files in GCS.")
		fmt.Fprintln(stderr, "Prints one JSON line per record changed, then a summary line.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || *since <= 0 {
		fs.Usage()
		return 2
	}
	if err := runOnce(*since, *dryRun, *startMissing, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "omtx-worker reconcile:", err)
		return 1
	}
	return 0
}

// minRecordAge is how old a record without a workflow must be before
// reconcile acts on it: the API writes the record, then starts the
// workflow, within seconds.
const minRecordAge = 5 * time.Minute

func runOnce(since time.Duration, dryRun, startMissing bool, stdout, stderr io.Writer) error {
	return app.RunOnce(config.ProcessReconcile, "reconcile", func(ctx context.Context, cfg config.Config, d *app.Deps, _ *slog.Logger) error {
		r := &Reconciler{
			Jobs: d.Jobs, Blobs: d.Blobs, Temporal: NewExecutions(d.Temporal), Fleet: cfg.Fleet,
			Since: since, MinAge: minRecordAge, DryRun: dryRun, StartMissing: startMissing, Out: stdout,
		}
		sum, err := r.Run(ctx)
		if err != nil {
			return err
		}
		if sum.Errors > 0 {
			return fmt.Errorf("%d records could not be checked or repaired", sum.Errors)
		}
		return nil
	})
}
