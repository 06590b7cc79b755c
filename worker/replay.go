package worker

import (
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	tworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// ReplayFile replays a history file (the JSON of `temporal workflow show
// -o json`) against the workflows this worker registers, registered as
// RegisterWorkflows registers them. exec names the original execution;
// batch histories need it, since their chunk workflow ids derive from the
// batch's id.
func ReplayFile(path string, exec workflow.Execution) error {
	return Replay(path, exec, Workflows())
}

// Replay replays a history file against the given workflow functions, by
// type name (tests pass a changed function to see a history refuse it). A
// history that the functions would not have produced fails with a
// non-determinism error ([TMPRL1100]).
func Replay(path string, exec workflow.Execution, workflows map[string]any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		return fmt.Errorf("read history %s: %w", path, err)
	}
	r := tworker.NewWorkflowReplayer()
	registerWorkflows(r, workflows)
	logger := tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	if err := r.ReplayWorkflowHistoryWithOptions(logger, hist, tworker.ReplayWorkflowHistoryOptions{OriginalExecution: exec}); err != nil {
		return fmt.Errorf("replay %s: %w", path, err)
	}
	return nil
}
