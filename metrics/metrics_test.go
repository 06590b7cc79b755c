package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gathered is the value of the series name{gpu_class=class} in the default
// registry, and whether it exists.
func gathered(t *testing.T, name, class string) (float64, bool) {
	t.Helper()
	mfs, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "gpu_class" && l.GetValue() == class {
					if g := m.GetGauge(); g != nil {
						return g.GetValue(), true
					}
					return m.GetCounter().GetValue(), true
				}
			}
		}
	}
	return 0, false
}

// TestGPUWorkerStartedExportsZero: a GPU worker that has run no activity
// yet exports its in-flight gauge (at 0) and its patch-failure counter, so
// the scaler and the alerts see the pod.
func TestGPUWorkerStartedExportsZero(t *testing.T) {
	const class = "test-started"
	_, ok := gathered(t, "omtx_gpu_activities_inflight", class)
	require.False(t, ok, "no series before the worker starts")
	GPUWorkerStarted(class)
	v, ok := gathered(t, "omtx_gpu_activities_inflight", class)
	assert.True(t, ok, "the in-flight gauge exists from the start")
	assert.Zero(t, v)
	_, ok = gathered(t, "omtx_pod_deletion_cost_patch_failures_total", class)
	assert.True(t, ok, "the patch-failure counter exists from the start")
}
