package integration

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

func TestSeedPredictionEndToEnd(t *testing.T) {
	startGPUWorker(t)

	code, body := call(t, "POST", "/api/v1/predict", testKey, seedBody)
	require.Equal(t, http.StatusAccepted, code, string(body))
	sub := decode[api.SubmitResponse](t, body)
	require.NotEmpty(t, sub.JobID)
	require.Equal(t, omtx.StatusPending, sub.Status)
	require.Equal(t, omtx.BaselineModel, sub.Model)
	require.Equal(t, omtx.ModelBoltz2, sub.RequestedModel)
	require.NotEmpty(t, sub.Warnings, "a substituted model must be announced")

	job := waitJob(t, sub.JobID, omtx.StatusCompleted, 90*time.Second)
	captureHistory(t, job.Temporal.WorkflowID, "")

	t.Run("job document follows the seed schema", func(t *testing.T) {
		assert.Equal(t, sub.JobID, job.JobID)
		assert.Equal(t, omtx.JobTypeIndividual, job.JobType)
		assert.Equal(t, testUser, job.UserID)
		assert.Equal(t, omtx.BaselineModel, job.Model)
		assert.Equal(t, omtx.ModelBoltz2, job.RequestedModel)
		assert.Contains(t, job.ModelSubstitution, "not boltz2")
		assert.Equal(t, "Aspirin", job.InputData.LigandName)
		assert.Equal(t, "CC(=O)OC1=CC=CC=C1C(=O)O", job.InputData.LigandSMILES)
		require.NotNil(t, job.StartedAt)
		require.NotNil(t, job.CompletedAt)
		assert.False(t, job.CreatedAt.IsZero())
		assert.False(t, job.StartedAt.Before(job.CreatedAt))
		assert.False(t, job.CompletedAt.Before(*job.StartedAt))
		assert.False(t, job.UpdatedAt.Before(*job.CompletedAt))
		require.NotNil(t, job.Temporal)
		assert.Equal(t, contract.PredictionWorkflowID(job.JobID), job.Temporal.WorkflowID)
		assert.Equal(t, "omtx-gpu-l4", job.Temporal.TaskQueue)
	})

	t.Run("results name the model and the units", func(t *testing.T) {
		r := job.Results
		require.NotNil(t, r)
		assert.Equal(t, omtx.BaselineModel, r.Model)
		assert.Equal(t, "onnx", r.ModelKind)
		assert.Equal(t, omtx.UnitsLog10IC50uM, r.AffinityPredValueUnits)
		assert.InDelta(t, 6-r.AffinityPredValue, r.PIC50, 1e-9)
		assert.InDelta(t, -1.364*r.PIC50, r.DeltaGKcalMol, 1e-9)
		assert.Equal(t, r.DeltaGKcalMol, r.Affinity)
		assert.Equal(t, omtx.UnitsKcalPerMol, r.AffinityUnits)
		assert.Less(t, r.Affinity, 0.0)
		assert.GreaterOrEqual(t, r.AffinityProbabilityBinary, 0.0)
		assert.LessOrEqual(t, r.AffinityProbabilityBinary, 1.0)
		assert.False(t, r.StructureAvailable)
		assert.NotEmpty(t, r.StructureUnavailableReason)
		assert.Empty(t, r.StructureFile)
		assert.Equal(t, "gs://hub-job-files/jobs/"+job.JobID+"/results.json", r.ResultsFile)
	})

	t.Run("files are in GCS under jobs/{job_id}/", func(t *testing.T) {
		names, err := env.deps.Blobs.List(ctxT(t), omtx.JobPrefix(job.JobID))
		require.NoError(t, err)
		sort.Strings(names)
		p := omtx.JobPrefix(job.JobID)
		assert.Equal(t, []string{p + "input.json", p + "logs.txt", p + "results.json"}, names)

		code, body := call(t, "GET", "/api/v1/jobs/"+job.JobID+"/files/results.json", testKey, "")
		require.Equal(t, http.StatusOK, code)
		rf := decode[map[string]any](t, body)
		pred := rf["prediction"].(map[string]any)
		assert.InDelta(t, job.Results.AffinityPredValue, pred["affinity_pred_value"].(float64), 1e-9)
		assert.Equal(t, omtx.BaselineModel, rf["model"].(map[string]any)["name"])

		code, body = call(t, "GET", "/api/v1/jobs/"+job.JobID+"/files/logs.txt", testKey, "")
		require.Equal(t, http.StatusOK, code)
		assert.Contains(t, string(body), "affinity_pred_value=")

		code, _ = call(t, "GET", "/api/v1/jobs/"+job.JobID+"/files/structure.cif", testKey, "")
		assert.Equal(t, http.StatusNotFound, code)
	})

	t.Run("another user cannot see it", func(t *testing.T) {
		code, body := call(t, "GET", "/api/v1/jobs/"+job.JobID, otherKey, "")
		assert.Equal(t, http.StatusNotFound, code, string(body))
		code, _ = call(t, "GET", "/api/v1/jobs/"+job.JobID+"/files/results.json", otherKey, "")
		assert.Equal(t, http.StatusNotFound, code)
	})

	t.Run("it is listed, newest first", func(t *testing.T) {
		code, body := call(t, "GET", "/api/v1/jobs?page_size=100", testKey, "")
		require.Equal(t, http.StatusOK, code)
		list := decode[api.JobList](t, body)
		var ids []string
		for i, j := range list.Jobs {
			ids = append(ids, j.JobID)
			if i > 0 {
				assert.False(t, j.CreatedAt.After(list.Jobs[i-1].CreatedAt))
			}
		}
		assert.Contains(t, ids, job.JobID)
		code, body = call(t, "GET", "/api/v1/jobs", otherKey, "")
		require.Equal(t, http.StatusOK, code)
		assert.NotContains(t, string(body), job.JobID)
	})

	t.Run("Temporal ran the model on the GPU task queue", func(t *testing.T) {
		ctx := ctxT(t)
		desc, err := env.deps.Temporal.DescribeWorkflow(ctx, job.Temporal.WorkflowID, "")
		require.NoError(t, err)
		assert.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, desc.RawResponse.WorkflowExecutionInfo.Status)
		it := env.deps.Temporal.GetWorkflowHistory(ctx, job.Temporal.WorkflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		queues := map[string]string{}
		local := 0
		for it.HasNext() {
			ev, err := it.Next()
			require.NoError(t, err)
			if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
				queues[a.ActivityType.Name] = a.TaskQueue.Name
			}
			if m := ev.GetMarkerRecordedEventAttributes(); m != nil && m.MarkerName == "LocalActivity" {
				local++
			}
		}
		// The model is the one activity task; AcceptJob, the result-cache
		// lookup (LookupResult) and FinalizeJob run as local activities in
		// the orchestration worker.
		assert.Equal(t, map[string]string{contract.ActivityPredict: "omtx-gpu-l4"}, queues)
		assert.Equal(t, 3, local, "AcceptJob, LookupResult and FinalizeJob as local activities")

		wantWorkflows(t, 1, `JobType = "INDIVIDUAL" AND UserId = %q AND WorkflowId = %q`, testUser, job.Temporal.WorkflowID)
	})
}

func TestIdempotentSubmission(t *testing.T) {
	startGPUWorker(t)
	key := fmt.Sprintf("idem-%d", time.Now().UnixNano())
	code, body := call(t, "POST", "/api/v1/predict", testKey, seedBody, api.IdempotencyHeader, key)
	require.Equal(t, http.StatusAccepted, code, string(body))
	first := decode[api.SubmitResponse](t, body)

	code, body = call(t, "POST", "/api/v1/predict", testKey, seedBody, api.IdempotencyHeader, key)
	require.Equal(t, http.StatusOK, code, string(body))
	second := decode[api.SubmitResponse](t, body)
	assert.Equal(t, first.JobID, second.JobID)
	assert.True(t, second.Duplicate)

	waitJob(t, first.JobID, omtx.StatusCompleted, 90*time.Second)
	code, body = call(t, "POST", "/api/v1/predict", testKey, seedBody, api.IdempotencyHeader, key)
	require.Equal(t, http.StatusOK, code, string(body))
	assert.Equal(t, omtx.StatusCompleted, decode[api.SubmitResponse](t, body).Status)

	other := strings.Replace(seedBody, "Aspirin", "Salicylate", 1)
	code, body = call(t, "POST", "/api/v1/predict", testKey, other, api.IdempotencyHeader, key)
	assert.Equal(t, http.StatusConflict, code, string(body))

	wantWorkflows(t, 1, `WorkflowId = %q`, contract.PredictionWorkflowID(first.JobID)) // one submission key, one run
}

func TestBadInputIsRefused(t *testing.T) {
	long := strings.Repeat("A", 2501)
	cases := []struct {
		name, body string
		code       int
		field      string
	}{
		{"invalid SMILES", `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligand_smiles":"C1CC(C"}`, 422, "ligand_smiles"},
		{"unknown atom", `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligand_smiles":"C[Xx]C"}`, 422, "ligand_smiles"},
		{"impossible valence", `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligand_smiles":"C(C)(C)(C)(C)C"}`, 422, "ligand_smiles"},
		{"non amino-acid letters", `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQ1SFVKSHFSRQ","ligand_smiles":"CCO"}`, 422, "protein_sequence"},
		{"empty sequence", `{"model":"boltz2","protein_sequence":"","ligand_smiles":"CCO"}`, 422, "protein_sequence"},
		{"oversized sequence", `{"model":"boltz2","protein_sequence":"` + long + `","ligand_smiles":"CCO"}`, 422, "protein_sequence"},
		{"missing ligand", `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ"}`, 422, "ligand_smiles"},
		{"missing model", `{"protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligand_smiles":"CCO"}`, 422, "model"},
		{"unknown model", `{"model":"alphafold9","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligand_smiles":"CCO"}`, 422, "model"},
		{"malformed JSON", `{"model":"boltz2",`, 400, ""},
		{"wrong type", `{"model":"boltz2","protein_sequence":42,"ligand_smiles":"CCO"}`, 422, "protein_sequence"},
		{"unknown field", `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligand_smile":"CCO"}`, 422, "ligand_smile"},
		{"someone else's user_id", `{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQ","ligand_smiles":"CCO","user_id":"mallory"}`, 422, "user_id"},
		{"body over the limit", `{"model":"boltz2","protein_sequence":"` + strings.Repeat("A", api.DefaultMaxBodyBytes) + `","ligand_smiles":"CCO"}`, 413, ""},
	}
	before := countAll(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := call(t, "POST", "/api/v1/predict", testKey, c.body)
			require.Equal(t, c.code, code, string(body))
			e := decode[struct {
				Error struct{ Code, Message, Field string }
			}](t, body)
			assert.Equal(t, c.field, e.Error.Field, string(body))
			assert.NotEmpty(t, e.Error.Message)
		})
	}
	t.Run("no key", func(t *testing.T) {
		code, _ := call(t, "POST", "/api/v1/predict", "", seedBody)
		assert.Equal(t, http.StatusUnauthorized, code)
	})
	t.Run("nothing was created", func(t *testing.T) {
		assert.Equal(t, before, countAll(t))
	})
}

// countAll counts the test user's job documents and workflows.
func countAll(t *testing.T) [2]int {
	t.Helper()
	jobs, err := env.deps.Jobs.List(ctxT(t), storeFilter(testUser))
	require.NoError(t, err)
	return [2]int{len(jobs), workflowsMatching(t, `UserId = %q`, testUser)}
}

// wantWorkflows asserts that a visibility query finds want workflow runs.
// Visibility trails the start of a workflow by a moment, so it waits up to
// 10 s for the count to reach want before it fails.
func wantWorkflows(t *testing.T, want int, query string, args ...any) {
	t.Helper()
	got := 0
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if got = workflowsMatching(t, query, args...); got == want || time.Now().After(deadline) {
			break
		}
	}
	assert.Equal(t, want, got, "workflows matching %s", fmt.Sprintf(query, args...))
}

// workflowsMatching counts the workflow runs a visibility query (as typed
// in the Web UI) finds now.
func workflowsMatching(t *testing.T, query string, args ...any) int {
	t.Helper()
	resp, err := env.deps.Temporal.CountWorkflow(ctxT(t), &workflowservice.CountWorkflowExecutionsRequest{Query: fmt.Sprintf(query, args...)})
	require.NoError(t, err)
	return int(resp.Count)
}
