package worker

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/contract"
)

// recorder records the names a worker registers.
type recorder struct{ names []string }

func (r *recorder) RegisterActivityWithOptions(_ any, o activity.RegisterOptions) {
	r.names = append(r.names, o.Name)
}

func (r *recorder) RegisterWorkflowWithOptions(_ any, o workflow.RegisterOptions) {
	r.names = append(r.names, o.Name)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestRegistersExactlyTheContract: each worker registers exactly the
// activity and workflow types the contract lists for it, by those names,
// so no Go method name ever becomes a type name in a history.
func TestRegistersExactlyTheContract(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		acts map[string]any
		want []string
	}{
		{"orchestration", (&activities.Orchestration{}).Activities(), contract.OrchestrationActivities},
		{"msa", (&activities.MSA{}).Activities(), contract.MSAActivities},
		{"gpu", (&activities.GPU{}).Activities(), contract.GPUActivities},
	} {
		r := &recorder{}
		RegisterActivities(r, c.acts)
		assert.Equal(t, sorted(c.want), sorted(r.names), c.name)
	}
	r := &recorder{}
	RegisterWorkflows(r)
	assert.Equal(t, sorted(contract.Workflows), sorted(r.names))
}
