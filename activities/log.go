package activities

import (
	"context"
	"log/slog"

	"go.temporal.io/sdk/activity"
)

// logFor returns a logger for one activity call: JSON lines that carry
// workflow_id, run_id, the activity and its attempt, plus attrs (job_id,
// batch_id).
func logFor(ctx context.Context, base *slog.Logger, attrs ...any) *slog.Logger {
	if base == nil {
		base = slog.Default()
	}
	info := activity.GetInfo(ctx)
	return base.With(
		"workflow_id", info.WorkflowExecution.ID,
		"run_id", info.WorkflowExecution.RunID,
		"activity", info.ActivityType.Name,
		"attempt", info.Attempt,
	).With(attrs...)
}
