package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/omtx-hub/omtx-hub/omtx"
)

func (a *app) watchCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "watch ID",
		Short: "Follow a job or batch until it ends (Ctrl-C stops watching, never the work)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			status, err := a.watch(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if status != string(omtx.StatusCompleted) {
				return &endedError{id: args[0], status: status}
			}
			return nil
		},
	}
}

func exactArgs(n int) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("want %d argument(s) (a job or batch id), got %d", n, len(args))
		}
		return nil
	}
}

// snapshot is what one poll learned.
type snapshot struct {
	status string
	p      omtx.Progress
	// line is a finished batch's status line ("completed with 2
	// failed"), when it has one.
	line string
}

// poll fetches a job or batch's status and progress; a job counts as a
// batch of one.
func (a *app) poll(ctx context.Context, id string) (snapshot, error) {
	if isBatchID(id) {
		b, err := a.cl.Batch(ctx, id)
		if err != nil {
			return snapshot{}, err
		}
		s := snapshot{status: string(b.Status), p: b.CurrentProgress()}
		if b.BatchResults != nil && b.Status.Terminal() {
			s.line = b.BatchResults.StatusLine
		}
		return s, nil
	}
	j, err := a.cl.Job(ctx, id)
	if err != nil {
		return snapshot{}, err
	}
	p := omtx.Progress{Total: 1}
	switch j.Status {
	case omtx.StatusCompleted:
		p.Completed = 1
	case omtx.StatusFailed:
		p.Failed = 1
	case omtx.StatusCancelled:
		p.Cancelled = 1
	case omtx.StatusRunning:
		p.Running = 1
	default:
		p.Pending = 1
	}
	return snapshot{status: string(j.Status), p: p}, nil
}

// rate follows how fast ligands finish, from the first observation on.
type rate struct {
	t0    time.Time
	done0 int
	now   func() time.Time
}

// perMinute and eta from the ligands finished since the first
// observation; ok is false until some have.
func (r *rate) update(done, total int) (perMin float64, eta time.Duration, ok bool) {
	now := r.now()
	if r.t0.IsZero() {
		r.t0, r.done0 = now, done
		return 0, 0, false
	}
	el := now.Sub(r.t0)
	n := done - r.done0
	if n <= 0 || el <= 0 {
		return 0, 0, false
	}
	perMin = float64(n) / el.Minutes()
	eta = time.Duration(float64(total-done) / float64(n) * float64(el))
	return perMin, eta.Round(time.Second), true
}

func describe(p omtx.Progress, perMin float64, eta time.Duration, ok bool) string {
	s := fmt.Sprintf("completed %d, failed %d, running %d, pending %d", p.Completed, p.Failed, p.Running, p.Pending)
	if p.Cancelled > 0 {
		s += fmt.Sprintf(", cancelled %d", p.Cancelled)
	}
	if p.Filtered > 0 {
		s += fmt.Sprintf(", filtered %d", p.Filtered)
	}
	if ok {
		s += fmt.Sprintf(" | %.1f/min, ETA %s", perMin, eta)
	} else {
		s += " | rate —, ETA —"
	}
	return s
}

// watch polls id until it ends and returns its final status. On a
// terminal it redraws a progress bar in place; otherwise it prints a plain
// line per poll. Cancelling ctx (Ctrl-C) stops watching only.
func (a *app) watch(ctx context.Context, id string) (string, error) {
	interval := a.interval
	if interval <= 0 {
		interval = 5 * time.Second
		if a.isTTY {
			interval = 2 * time.Second
		}
	}
	r := &rate{now: time.Now}
	var bar *progressbar.ProgressBar
	var last snapshot
	for {
		s, err := a.poll(ctx, id)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return "", &interruptedError{id: id}
			}
			return "", err
		}
		last = s
		// The bar, the count and the rate follow the ligands the batch is
		// done with (completed, failed, or held back by the filters before
		// the GPU): cancelled ones never ran, so a cancelled batch does not
		// read 100% (420/420 with 50 done), nor a burst of speed; describe
		// names them apart.
		ran := s.p.Completed + s.p.Failed + s.p.Filtered
		perMin, eta, ok := r.update(ran, s.p.Total-s.p.Cancelled)
		desc := describe(s.p, perMin, eta, ok)
		if a.isTTY && a.output == "text" {
			if bar == nil {
				bar = newBar(a.stderr, max(s.p.Total, 1), id)
			}
			bar.Describe(desc)
			_ = bar.Set(min(ran, max(s.p.Total, 1)))
		} else {
			fmt.Fprintf(a.stderr, "%s %s: %d/%d done; %s\n", id, s.status, ran, s.p.Total, desc)
		}
		if omtx.JobStatus(s.status).Terminal() {
			break
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			if bar != nil {
				_ = bar.Exit()
			}
			return "", &interruptedError{id: id}
		case <-t.C:
		}
	}
	if bar != nil {
		if last.status == string(omtx.StatusCompleted) {
			_ = bar.Finish()
		} else {
			_ = bar.Exit() // leave it where the work stopped
		}
		fmt.Fprintln(a.stderr)
	}
	if a.output == "text" {
		line := last.status
		if last.line != "" {
			line = last.line // "completed with 2 failed"
		}
		fmt.Fprintf(a.stderr, "%s %s\n", id, line)
	}
	return last.status, nil
}

func newBar(w io.Writer, total int, id string) *progressbar.ProgressBar {
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionThrottle(0),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionShowDescriptionAtLineEnd(),
		progressbar.OptionSetTheme(progressbar.Theme{Saucer: "█", SaucerPadding: "░", BarStart: id + " |", BarEnd: "|"}),
	)
}
