package app

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Health holds a process's readiness and liveness checks, served as
// /readyz and /livez beside /metrics (OMTX_METRICS_ADDR), where the
// kubelet's probes ask. Roles register their checks when they start; a
// process none registered with answers 404, so the API's metrics port does
// not pretend to be a worker.
type Health struct {
	mu    sync.Mutex
	ready map[string]Check
	live  map[string]Check
}

// Check reports a problem, or nil.
type Check func(ctx context.Context) error

// NewHealth returns a Health with no checks.
func NewHealth() *Health {
	return &Health{ready: map[string]Check{}, live: map[string]Check{}}
}

// Ready adds a readiness check: failing, the process takes no new work.
func (h *Health) Ready(name string, c Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ready[name] = c
}

// Live adds a liveness check: failing, the process is restarted. Only
// problems a restart can fix belong here (a stalled poller, a hung model
// call), never a dependency's outage, which would restart every replica.
func (h *Health) Live(name string, c Check) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.live[name] = c
}

// HealthReport is /readyz's and /livez's body.
type HealthReport struct {
	OK     bool              `json:"ok"`
	Checks map[string]string `json:"checks"`
}

// Handlers returns /readyz and /livez.
func (h *Health) Handlers() map[string]http.Handler {
	return map[string]http.Handler{
		"/readyz": h.handler(func() map[string]Check { return h.ready }),
		"/livez":  h.handler(func() map[string]Check { return h.live }),
	}
}

func (h *Health) handler(set func() map[string]Check) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		checks := make(map[string]Check, len(set()))
		for k, v := range set() {
			checks[k] = v
		}
		h.mu.Unlock()
		if len(checks) == 0 {
			http.NotFound(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		rep := HealthReport{OK: true, Checks: map[string]string{}}
		names := make([]string, 0, len(checks))
		for n := range checks {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if err := checks[n](ctx); err != nil {
				rep.OK, rep.Checks[n] = false, err.Error()
			} else {
				rep.Checks[n] = "ok"
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !rep.OK {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(rep)
	})
}
