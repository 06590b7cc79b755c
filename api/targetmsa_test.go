package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// heteromer is a two-chain target whose chains both use the MSA server.
func heteromer() map[string]any {
	return map[string]any{
		"chains": []any{
			map[string]any{"type": "protein", "id": "A", "sequence": kinaseSeq},
			map[string]any{"type": "protein", "id": "B", "sequence": "GSHMLEDPVAGKTFLW"},
		},
		"ligand_chain": "L",
	}
}

// TestCreateTargetStartsItsMSAWorkflow: creating a target with server
// chains starts its TargetMSAWorkflow once (not on a duplicate) and marks
// it computing; the API asks no MSA server itself. With Temporal down the
// target is still created, without an MSA status, and creating it again
// later starts the workflow.
func TestCreateTargetStartsItsMSAWorkflow(t *testing.T) {
	t.Parallel()
	create := func(t *testing.T, f *fixture, wantCode int) TargetResponse {
		t.Helper()
		w := f.callJSON(t, "POST", "/api/v1/targets", key1, map[string]any{"target": heteromer()})
		require.Equal(t, wantCode, w.Code, w.Body.String())
		var tr TargetResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &tr))
		return tr
	}
	starts := func(f *fixture) []StartRequest {
		f.sched.mu.Lock()
		defer f.sched.mu.Unlock()
		return append([]StartRequest(nil), f.sched.started...)
	}

	t.Run("started once", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.srv.msaServer = true
		tr := create(t, f, http.StatusCreated)
		assert.Equal(t, omtx.TargetMSAComputing, tr.MSAStatus)
		got := starts(f)
		require.Len(t, got, 1)
		assert.Equal(t, contract.TargetMSAWorkflowID(tr.TargetID), got[0].WorkflowID)
		assert.Equal(t, contract.WorkflowTargetMSA, got[0].Workflow)
		assert.Equal(t, contract.TaskQueueOrchestration, got[0].TaskQueue)
		assert.Equal(t, contract.TargetMSAInput{TargetID: tr.TargetID}, got[0].Input)

		again := create(t, f, http.StatusOK)
		assert.True(t, again.Duplicate)
		assert.Equal(t, omtx.TargetMSAComputing, again.MSAStatus)
		assert.Len(t, starts(f), 1, "a duplicate starts no second workflow")

		w := f.callJSON(t, "GET", "/api/v1/targets/"+tr.TargetID, key1, nil)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Contains(t, w.Body.String(), `"msa_status":"computing"`)
	})

	t.Run("temporal down", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.srv.msaServer = true
		f.sched.err = errors.New("temporal: unavailable")
		tr := create(t, f, http.StatusCreated)
		assert.Empty(t, tr.MSAStatus, "its first job computes the MSAs")
		w := f.callJSON(t, "GET", "/api/v1/targets/"+tr.TargetID, key1, nil)
		require.Equal(t, http.StatusOK, w.Code, "reads do not depend on Temporal")

		f.sched.mu.Lock()
		f.sched.err = nil
		f.sched.mu.Unlock()
		again := create(t, f, http.StatusOK)
		assert.Equal(t, omtx.TargetMSAComputing, again.MSAStatus)
		assert.Len(t, starts(f), 1)
	})

	t.Run("no server chain, no workflow", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.srv.msaServer = true
		createKinase(t, f)
		assert.Empty(t, starts(f))
	})
}

// TestDryRunOfAHeteromerNamesItsPairedCSVs: a dry run shows the Boltz YAML
// the runner writes, and a heteromer's server chains run on their paired
// CSVs, not A3Ms.
func TestDryRunOfAHeteromerNamesItsPairedCSVs(t *testing.T) {
	t.Parallel()
	f := boltzFixture(t)
	w := f.callJSON(t, "POST", "/api/v1/predict?dry_run=true", key1, map[string]any{"model": "boltz2", "target": heteromer(), "ligand_smiles": "CCO"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var d DryRunResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &d))
	assert.Contains(t, d.BoltzYAML, `msa: "msa/A.csv"`)
	assert.Contains(t, d.BoltzYAML, `msa: "msa/B.csv"`)

	homo := heteromer()
	homo["chains"] = []any{map[string]any{"type": "protein", "id": []string{"A", "B"}, "sequence": kinaseSeq}}
	w = f.callJSON(t, "POST", "/api/v1/predict?dry_run=true", key1, map[string]any{"model": "boltz2", "target": homo, "ligand_smiles": "CCO"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &d))
	assert.Contains(t, d.BoltzYAML, `msa: "msa/A.a3m"`, "a homomer is not paired")
}
