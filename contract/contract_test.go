package contract_test

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
)

var update = flag.Bool("update", false, "rewrite testdata/shapes.json (after checking that every change only adds fields)")

// payloads are every type that a history holds.
var payloads = []any{
	contract.JobSpec{}, contract.PredictionInput{}, contract.PredictionResult{}, contract.PredictionState{},
	contract.BatchInput{}, contract.BatchState{}, contract.BatchResult{}, contract.ChunkInput{}, contract.ChunkCounts{},
	contract.NotifyInput{}, contract.NotifyResult{},
	contract.AcceptJobInput{}, contract.AcceptJobResult{}, contract.FinalizeJobInput{}, contract.FinalizeJobResult{},
	contract.FailJobInput{}, contract.FailJobResult{}, contract.RecordRoutingInput{}, contract.RecordRoutingResult{},
	contract.PrepareBatchInput{}, contract.PrepareBatchResult{}, contract.FinishChildrenInput{},
	contract.CancelBatchRemainderInput{}, contract.CancelBatchRemainderResult{}, contract.BatchProgressInput{},
	contract.BatchProgressResult{}, contract.AggregateBatchInput{}, contract.AggregateBatchResult{},
	contract.EnsureMSAInput{}, contract.EnsureMSAResult{}, contract.PredictInput{}, contract.PredictResult{},
	contract.PredictChunkInput{},
	contract.TargetMSAInput{}, contract.TargetMSAResult{}, contract.RecordTargetMSAInput{}, contract.RecordTargetMSAResult{},
}

// shape lists a type's JSON keys with their types, recursively.
func shape(t reflect.Type, prefix string, out map[string]string, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == reflect.TypeFor[time.Time]() || seen[t] {
		return
	}
	seen[t] = true
	defer delete(seen, t)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[prefix+name] = f.Type.String()
		shape(f.Type, prefix+name+".", out, seen)
	}
}

// TestPayloadShapes freezes the JSON shape of every payload: a running
// workflow decodes what an older worker wrote and the other way round, so
// a key that is renamed, retyped or removed breaks workflows in flight. A
// new key is fine, once reviewed: rerun with -update.
func TestPayloadShapes(t *testing.T) {
	t.Parallel()
	got := map[string]map[string]string{}
	for _, p := range payloads {
		typ := reflect.TypeOf(p)
		m := map[string]string{}
		shape(typ, "", m, map[reflect.Type]bool{})
		got[typ.String()] = m
	}
	const file = "testdata/shapes.json"
	if *update {
		data, err := json.MarshalIndent(got, "", "  ")
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(file, append(data, '\n'), 0o644))
	}
	data, err := os.ReadFile(file)
	require.NoError(t, err, "run go test ./contract -update once to create it")
	var want map[string]map[string]string
	require.NoError(t, json.Unmarshal(data, &want))
	for typ, fields := range want {
		for key, wt := range fields {
			gt, ok := got[typ][key]
			assert.True(t, ok, "%s lost key %s: histories that carry it no longer decode into it", typ, key)
			if ok {
				assert.Equal(t, wt, gt, "%s.%s changed type", typ, key)
			}
		}
	}
	for typ, fields := range got {
		var added []string
		for key := range fields {
			if _, ok := want[typ][key]; !ok {
				added = append(added, key)
			}
		}
		sort.Strings(added)
		assert.Empty(t, added, "%s has new keys: check that their zero value means \"as before\", then run go test ./contract -update", typ)
	}
}

// TestFirstReleasePayloadsDecode: the first release sent the whole job
// document as a workflow's input; its keys decode into a JobSpec.
func TestFirstReleasePayloadsDecode(t *testing.T) {
	t.Parallel()
	idx := 3
	doc := omtx.Job{
		JobID: "batch_x", JobType: omtx.JobTypeBatchParent, UserID: "u", Model: omtx.BaselineModel, Status: omtx.StatusRunning,
		InputData:   omtx.InputData{ProteinSequence: "MKT", Parameters: omtx.Parameters{NumSamples: 2}},
		BatchConfig: &omtx.BatchConfig{TotalLigands: 10, MaxConcurrent: 4, ChunkSize: 2, Priority: "low"},
		Progress:    &omtx.Progress{Total: 10}, BatchIndex: &idx, RequestHash: "h",
	}
	old, err := json.Marshal(map[string]any{"Parent": doc, "GPUClass": "l4"})
	require.NoError(t, err)
	var in contract.BatchInput
	require.NoError(t, json.Unmarshal(old, &in))
	assert.Equal(t, "batch_x", in.Parent.JobID)
	assert.Equal(t, 2, in.Parent.BatchConfig.ChunkSize)
	assert.Equal(t, 2, in.Parent.InputData.Parameters.NumSamples)
	assert.Equal(t, "h", in.Parent.RequestHash)
	assert.Equal(t, "l4", in.GPUClass)
}

// TestSpecRoundTrip: the document of a spec gives the spec back, so a
// workflow restarted from a stored record runs what was submitted.
func TestSpecRoundTrip(t *testing.T) {
	t.Parallel()
	spec := contract.JobSpec{
		JobID: "batch_y", JobType: omtx.JobTypeBatchParent, UserID: "u", Model: omtx.BaselineModel,
		RequestedModel: omtx.ModelBoltz2, ModelSubstitution: "note", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		InputData: omtx.InputData{ProteinSequence: "MKT"}, IdempotencyKey: "k", RequestHash: "h", Priority: "high",
		Tokens: 40, GPURouting: []omtx.RoutingStep{{GPUClass: "l4", Reason: "fits"}}, Warnings: []string{"w"},
		NotifyURL: "https://example.org/h", KeyID: "abcd", BatchName: "n", UsesMSA: new(false),
		BatchConfig: &omtx.BatchConfig{TotalLigands: 5, MaxConcurrent: 2, ChunkSize: 1, Priority: "high"},
	}
	doc := spec.Document()
	assert.Equal(t, omtx.StatusPending, doc.Status)
	assert.Equal(t, &omtx.Progress{Total: 5, Pending: 5}, doc.Progress)
	assert.Equal(t, spec, contract.SpecOf(doc))
}

// TestContractLinksNoAdapter keeps the contract, and the workflows that
// speak it, free of storage clients, ONNX Runtime and the validation rules:
// the workflows replay the same whatever Firestore, the model or the SMILES
// rules do.
func TestContractLinksNoAdapter(t *testing.T) {
	t.Parallel()
	for _, pkg := range []string{"./", "../workflows/..."} {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		require.NoError(t, err, string(out))
		deps := string(out)
		for _, banned := range []string{
			"cloud.google.com/go/firestore", "cloud.google.com/go/storage", "github.com/yalue/onnxruntime_go",
			"github.com/omtx-hub/omtx-hub/store", "github.com/omtx-hub/omtx-hub/activities",
			"github.com/omtx-hub/omtx-hub/chem", "github.com/omtx-hub/omtx-hub/validate",
			"github.com/omtx-hub/omtx-hub/api", "github.com/gin-gonic/gin",
		} {
			for _, line := range strings.Split(deps, "\n") {
				if line == banned || strings.HasPrefix(line, banned+"/") {
					t.Errorf("%s links %s", pkg, line)
				}
			}
		}
	}
}

func TestRequeueWorkflowIDs(t *testing.T) {
	t.Parallel()
	base := contract.PredictionWorkflowID("job_0123456789abcdef")
	for n := range 3 {
		id := contract.RequeueWorkflowID(base, n)
		gotBase, gotN := contract.SplitRequeue(id)
		assert.Equal(t, base, gotBase, id)
		assert.Equal(t, n, gotN, id)
	}
	assert.Equal(t, base+"-requeue-2", contract.RequeueWorkflowID(base, 2))
	for _, id := range []string{base + "-requeue-", base + "-requeue-x", base + "-requeue-0", base + "-requeue-01"} {
		b, n := contract.SplitRequeue(id)
		assert.Equal(t, id, b, "not a requeue id")
		assert.Zero(t, n)
	}
	j := &omtx.Job{JobID: "batch_0123456789abcdef", JobType: omtx.JobTypeBatchParent, Requeues: 1}
	assert.Equal(t, "batch-batch_0123456789abcdef-requeue-1", contract.WorkflowOf(j))
}
