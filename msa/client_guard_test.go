package msa

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeClock is a Now and a Sleep that advances it.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept time.Duration
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
	f.slept += d
	return nil
}
func (f *fakeClock) Advance(d time.Duration) { f.mu.Lock(); f.t = f.t.Add(d); f.mu.Unlock() }

// TestGuardOpensOnAFailingServer: after FailuresToOpen server failures in a
// row the client stops calling the server and answers a retryable error
// that says the job waits; after OpenFor one probe goes through.
func TestGuardOpensOnAFailingServer(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "overloaded", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	clock := &fakeClock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	var mu sync.Mutex
	outcomes := map[string]int{}
	var states []bool
	g := &Guard{FailuresToOpen: 3, OpenFor: time.Minute, Now: clock.Now, Sleep: clock.Sleep,
		OnOutcome: func(o string) { mu.Lock(); outcomes[o]++; mu.Unlock() },
		OnState:   func(open bool) { mu.Lock(); states = append(states, open); mu.Unlock() }}
	c := &Client{BaseURL: srv.URL, Guard: g, PollEvery: time.Millisecond}
	for range 3 {
		_, err := c.Compute(t.Context(), "MKT")
		require.Error(t, err)
	}
	assert.EqualValues(t, 3, hits.Load())
	_, err := c.Compute(t.Context(), "MKT")
	var se *ServerError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, CircuitOpen, se.Status)
	assert.True(t, IsRetryable(err), "an open breaker is a wait, not a failure of the job")
	assert.Contains(t, err.Error(), "never runs without an MSA")
	assert.EqualValues(t, 3, hits.Load(), "an open breaker does not call the server")

	clock.Advance(time.Minute)
	_, err = c.Compute(t.Context(), "MKT")
	require.Error(t, err)
	assert.EqualValues(t, 4, hits.Load(), "after OpenFor one probe goes through")
	_, err = c.Compute(t.Context(), "MKT")
	require.ErrorAs(t, err, &se)
	assert.Equal(t, CircuitOpen, se.Status, "a failed probe opens it again")
	assert.Equal(t, map[string]int{OutcomeServerError: 4, OutcomeRefused: 2}, outcomes)
	assert.Equal(t, []bool{true}, states)
}

func TestGuardClosesOnSuccessAndIgnoresBadInput(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	var states []bool
	g := &Guard{FailuresToOpen: 2, OpenFor: time.Minute, Now: clock.Now, Sleep: clock.Sleep,
		OnState: func(open bool) { states = append(states, open) }}
	call := func(err error) error {
		done, gerr := g.before(t.Context())
		if gerr != nil {
			return gerr
		}
		done(err)
		return nil
	}
	server := &ServerError{Op: opSubmit, Status: "503"}
	require.NoError(t, call(server))
	require.NoError(t, call(&InvalidError{Msg: "bad residue"}), "bad input is not the server's failure")
	require.NoError(t, call(context.Canceled), "the caller giving up is not the server's failure")
	require.NoError(t, call(nil), "a success resets the count")
	require.NoError(t, call(server))
	require.NoError(t, call(server))
	assert.Error(t, call(nil), "open after two failures in a row")
	clock.Advance(time.Minute)
	require.NoError(t, call(nil), "the probe succeeds")
	require.NoError(t, call(nil), "closed again")
	assert.Equal(t, []bool{true, false}, states)
}

func TestGuardRateLimit(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	g := &Guard{Rate: 0.5, Burst: 1, Now: clock.Now, Sleep: clock.Sleep}
	for range 3 {
		done, err := g.before(t.Context())
		require.NoError(t, err)
		done(nil)
	}
	assert.Equal(t, 4*time.Second, clock.slept, "three calls at 0.5/s with a burst of 1 wait 2 s twice")
	var nilGuard *Guard
	done, err := nilGuard.before(t.Context())
	require.NoError(t, err, "no guard, no limit")
	done(errors.New("x"))
}
