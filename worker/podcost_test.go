package worker

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/config"
	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/msa"
)

// TestPodCostFollowsLoad: the worker marks its pod busy while a model
// activity runs and idle after, with merge patches of the annotation that
// scale-in reads, retrying a refused patch.
func TestPodCostFollowsLoad(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var costs []string
	fail := 1
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodPatch, r.Method)
		assert.Equal(t, "/api/v1/namespaces/omtx-hub/pods/gpu-worker-abc", r.URL.Path)
		assert.Equal(t, "application/merge-patch+json", r.Header.Get("Content-Type"))
		assert.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
		var body struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
		}
		data, _ := io.ReadAll(r.Body)
		require.NoError(t, json.Unmarshal(data, &body))
		mu.Lock()
		defer mu.Unlock()
		if fail > 0 {
			fail--
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		costs = append(costs, body.Metadata.Annotations[PodDeletionCostAnnotation])
	}))
	defer srv.Close()
	p := &podCost{
		base: srv.URL, namespace: "omtx-hub", pod: "gpu-worker-abc",
		token: func() (string, error) { return "tok", nil }, client: srv.Client(), log: slog.New(slog.DiscardHandler),
		class: "test-podcost", retry: 10 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go p.run(ctx)
	waitFor := func(want []string) {
		t.Helper()
		require.Eventually(t, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return assert.ObjectsAreEqual(want, costs)
		}, 30*time.Second, 20*time.Millisecond, "costs set: %v", costs)
	}
	waitFor([]string{idleCost}) // the first patch was refused and retried
	assert.InDelta(t, 1, testutil.ToFloat64(metrics.PodCostPatchFailures.WithLabelValues("test-podcost")), 0, "the refused patch is counted")
	p.load(1)
	waitFor([]string{idleCost, busyCost})
	p.load(2) // still busy: nothing to patch
	p.load(0)
	waitFor([]string{idleCost, busyCost, idleCost})
}

// TestCallsCheckFindsHungCalls: a model call past its limit fails the
// liveness check; ended calls do not count.
func TestCallsCheckFindsHungCalls(t *testing.T) {
	t.Parallel()
	c := newCalls()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	end := c.Begin()
	check := c.check(time.Hour)
	require.NoError(t, check(t.Context()))
	now = now.Add(2 * time.Hour)
	require.ErrorContains(t, check(t.Context()), "has run for 2h0m0s")
	end()
	require.NoError(t, check(t.Context()))
}

// TestMSAGuardExportsItsMetrics: the MSA client's guard counts outcomes and
// shows an open breaker on /metrics. Not parallel: the series are global.
func TestMSAGuardExportsItsMetrics(t *testing.T) {
	g := msaGuard(config.Config{Orchestration: config.Orchestration{MSARate: 0.5}})
	assert.InDelta(t, 0.5, g.Rate, 0, "the per-pod bucket holds OMTX_MSA_RATE")
	before := testutil.ToFloat64(metrics.MSARequests.WithLabelValues(msa.OutcomeServerError))
	g.OnOutcome(msa.OutcomeServerError)
	assert.InDelta(t, before+1, testutil.ToFloat64(metrics.MSARequests.WithLabelValues(msa.OutcomeServerError)), 0)
	g.OnState(true)
	assert.InDelta(t, 1, testutil.ToFloat64(metrics.MSACircuitOpen), 0)
	g.OnState(false)
	assert.InDelta(t, 0, testutil.ToFloat64(metrics.MSACircuitOpen), 0)
}

// TestWatchPreemption: on a stop, the worker reads its own pod once; the
// DisruptionTarget condition (a spot preemption's node shutdown, an
// eviction) makes it kill the running model calls at once; anything else,
// including an API that refuses, drains as before.
func TestWatchPreemption(t *testing.T) {
	t.Parallel()
	pod := func(conds string) string {
		return `{"metadata":{"name":"gpu-worker-abc"},"status":{"phase":"Running","conditions":[` + conds + `]}}`
	}
	cases := []struct {
		name   string
		status int
		body   string
		want   bool
	}{
		{"spot node shutting down", http.StatusOK, pod(`{"type":"Ready","status":"True"},{"type":"DisruptionTarget","status":"True","reason":"TerminationByKubelet"}`), true},
		{"evicted", http.StatusOK, pod(`{"type":"DisruptionTarget","status":"True","reason":"EvictionByEvictionAPI"}`), true},
		{"condition false", http.StatusOK, pod(`{"type":"DisruptionTarget","status":"False"}`), false},
		{"scale-in: no condition", http.StatusOK, pod(`{"type":"Ready","status":"True"}`), false},
		{"api refuses", http.StatusForbidden, `{"kind":"Status"}`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, http.MethodGet, r.Method)
				assert.Equal(t, "/api/v1/namespaces/omtx-hub/pods/gpu-worker-abc", r.URL.Path)
				assert.Equal(t, "Bearer tok", r.Header.Get("Authorization"))
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			p := &podCost{
				base: srv.URL, namespace: "omtx-hub", pod: "gpu-worker-abc",
				token: func() (string, error) { return "tok", nil }, client: srv.Client(), log: slog.New(slog.DiscardHandler),
			}
			stop, preempted := make(chan struct{}), make(chan struct{})
			close(stop)
			p.watchPreemption(stop, preempted)
			select {
			case <-preempted:
				assert.True(t, tc.want, "preempted, but the pod is not being disrupted")
			default:
				assert.False(t, tc.want, "the pod is being disrupted, but the model calls were left to drain")
			}
		})
	}
}
