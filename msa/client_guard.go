package msa

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Guard is a rate limit and a circuit breaker in front of one process's
// calls to the MSA server (Client.Guard). The fleet-wide limit is
// Temporal's: the MSA task queue's TaskQueueActivitiesPerSecond
// (OMTX_MSA_RATE, worker.NewMSA) caps how many MSA activities start per
// second across every pod. Rate is this pod's share of it, so that a burst
// of retries inside one activity cannot exceed it either: OMTX_MSA_RATE
// divided by the orchestration workers that run MSA activities
// (deploy/base/msa-server.yaml says how the figures add up).
//
// The breaker opens after FailuresToOpen server failures in a row (a
// *ServerError, a *RateLimitError or a network error; never an
// *InvalidError, which is the input's fault, nor the caller's own
// cancellation). While open, Compute fails at once with a *ServerError of
// Status CircuitOpen, which is retryable: the activity's retry policy is
// the bounded budget a job waits for the server, and the job's status says
// so. After OpenFor one call is let through (half-open); its success
// closes the breaker, its failure opens it again. A Guard never falls back
// to a single-sequence prediction.
type Guard struct {
	Rate           float64       // calls per second from this process; <= 0: no limit
	Burst          int           // default 1
	FailuresToOpen int           // default 5
	OpenFor        time.Duration // default 1 minute
	// OnOutcome, if set, is called once per guarded call with its outcome:
	// OutcomeOK, OutcomeServerError, OutcomeInvalid or OutcomeRefused.
	OnOutcome func(outcome string)
	// OnState, if set, is called when the breaker opens (true) or closes.
	OnState func(open bool)
	Now     func() time.Time // default time.Now
	// Sleep waits d or until ctx ends; default a timer.
	Sleep func(ctx context.Context, d time.Duration) error

	mu        sync.Mutex
	tokens    float64
	last      time.Time
	fails     int
	openUntil time.Time
	open      bool
	probing   bool
}

// Outcomes reported to OnOutcome (the label of omtx_msa_requests_total).
const (
	OutcomeOK          = "ok"
	OutcomeServerError = "server_error"
	OutcomeInvalid     = "invalid"
	OutcomeRefused     = "circuit_open"
)

// CircuitOpen is the Status of the *ServerError a Guard answers while its
// breaker is open.
const CircuitOpen = "CIRCUIT_OPEN"

func (g *Guard) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// before admits one call: it refuses at once while the breaker is open,
// then waits for the rate limit. The returned done must be called with the
// call's error.
func (g *Guard) before(ctx context.Context) (done func(error), err error) {
	if g == nil {
		return func(error) {}, nil
	}
	g.mu.Lock()
	now := g.now()
	if g.open {
		if now.Before(g.openUntil) || g.probing {
			until := g.openUntil
			g.mu.Unlock()
			g.report(OutcomeRefused)
			return nil, &ServerError{Op: opSubmit, Status: CircuitOpen,
				Msg: fmt.Sprintf("the msa server failed %d times in a row; not calling it until %s (the job waits and retries; it never runs without an MSA)",
					g.failuresToOpen(), until.UTC().Format(time.RFC3339))}
		}
		g.probing = true // half-open: this call is the probe
	}
	g.mu.Unlock()
	if err := g.wait(ctx); err != nil {
		g.after(nil, err)
		return nil, fmt.Errorf("msa: waiting for the rate limit: %w", err)
	}
	return func(err error) { g.after(err, nil) }, nil
}

// wait takes a token of the bucket (Rate per second, Burst deep).
func (g *Guard) wait(ctx context.Context) error {
	if g.Rate <= 0 {
		return nil
	}
	burst := float64(max(g.Burst, 1))
	for {
		g.mu.Lock()
		now := g.now()
		if g.last.IsZero() {
			g.tokens, g.last = burst, now
		}
		g.tokens = min(burst, g.tokens+now.Sub(g.last).Seconds()*g.Rate)
		g.last = now
		if g.tokens >= 1 {
			g.tokens--
			g.mu.Unlock()
			return nil
		}
		need := time.Duration((1 - g.tokens) / g.Rate * float64(time.Second))
		g.mu.Unlock()
		sleep := g.Sleep
		if sleep == nil {
			sleep = timerSleep
		}
		if err := sleep(ctx, need); err != nil {
			return err
		}
	}
}

func timerSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (g *Guard) failuresToOpen() int {
	if g.FailuresToOpen > 0 {
		return g.FailuresToOpen
	}
	return 5
}

// after records a call's error; waitErr is set when the call never
// reached the server (the caller gave up waiting for the rate limit).
func (g *Guard) after(err, waitErr error) {
	g.mu.Lock()
	probe := g.probing
	g.probing = false
	var outcome string
	changed, open := false, g.open
	switch {
	case waitErr != nil || (err != nil && errors.Is(err, context.Canceled)):
		// The caller's own end: says nothing of the server.
	case err == nil:
		outcome = OutcomeOK
		g.fails = 0
		if g.open {
			g.open, changed, open = false, true, false
		}
	case isInputError(err):
		outcome = OutcomeInvalid
	default:
		outcome = OutcomeServerError
		g.fails++
		if probe || g.fails >= g.failuresToOpen() {
			openFor := g.OpenFor
			if openFor <= 0 {
				openFor = time.Minute
			}
			g.openUntil = g.now().Add(openFor)
			if !g.open {
				changed, open = true, true
			}
			g.open = true
		}
	}
	g.mu.Unlock()
	if outcome != "" {
		g.report(outcome)
	}
	if changed && g.OnState != nil {
		g.OnState(open)
	}
}

func (g *Guard) report(outcome string) {
	if g.OnOutcome != nil {
		g.OnOutcome(outcome)
	}
}

func isInputError(err error) bool {
	var inv *InvalidError
	return errors.As(err, &inv)
}
