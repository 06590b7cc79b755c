package activities

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store/storetest"
)

// TestFailJobRecordsTheCause: a failed record keeps whose failure it was,
// as the workflow classified it, for the operators' tools (requeue runs
// only infrastructure failures again); a cancelled one keeps none.
func TestFailJobRecordsTheCause(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		in   contract.FailJobInput
		want string
	}{
		{"refused input", contract.FailJobInput{Status: omtx.StatusFailed, Error: "target tgt_x: no such target", Cause: omtx.CauseUserInput}, omtx.CauseUserInput},
		{"no cause given", contract.FailJobInput{Status: omtx.StatusFailed, Error: "worker lost"}, omtx.CauseSystem},
		{"cancelled", contract.FailJobInput{Status: omtx.StatusCancelled, Error: "cancelled"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			jobs := storetest.NewJobs()
			jobs.Put(&omtx.Job{JobID: "job_f", JobType: omtx.JobTypeIndividual, Status: omtx.StatusRunning, CreatedAt: time.Now()})
			o := &Orchestration{Jobs: jobs, Blobs: storetest.NewBlobs()}
			var s testsuite.WorkflowTestSuite
			env := s.NewTestActivityEnvironment()
			env.RegisterActivity(o.FailJob)
			c.in.JobID = "job_f"
			_, err := env.ExecuteActivity(o.FailJob, c.in)
			require.NoError(t, err)
			d := jobs.Doc("job_f")
			assert.Equal(t, c.in.Status, d.Status)
			assert.Equal(t, c.want, d.FailureCause)
		})
	}
}
