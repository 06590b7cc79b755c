package worker

import (
	"fmt"
	"log/slog"
	"os"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// ReplayFile replays a history file (the JSON of `temporal workflow show
// -o json`) against the current workflow code. exec names the original
// execution; batch histories need it, since their chunk workflow ids
// derive from the batch's id.
func ReplayFile(path string, exec workflow.Execution) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		return fmt.Errorf("read history %s: %w", path, err)
	}
	r := worker.NewWorkflowReplayer()
	RegisterWorkflows(r)
	logger := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err := r.ReplayWorkflowHistoryWithOptions(logger, hist, worker.ReplayWorkflowHistoryOptions{OriginalExecution: exec}); err != nil {
		return fmt.Errorf("replay %s: %w", path, err)
	}
	return nil
}
