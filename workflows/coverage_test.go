package workflows_test

import (
	"os"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/omtx-hub/omtx-hub/workflows"
)

// covers is what one kept history replays: the activities, local
// activities and child workflows its run scheduled, the change ids whose
// marker it recorded (their new side), and the change ids whose GetVersion
// its run reached before the change existed (their old side: no marker).
type covers struct {
	runs, newSide, oldSide []string
}

// Change ids reached by every run of a workflow type.
var (
	// Every PredictionWorkflow asks local-job-writes before AcceptJob.
	predictionAsks = []string{"local-job-writes"}
	// Every BatchWorkflow run that reaches its chunks asks
	// advisory-progress.
	batchAsks = []string{"advisory-progress"}
)

// kept lists every history under testdata/histories and what it covers.
// TestKeptHistoriesCoverTestedBranches checks it against the files both
// ways, and that every branch a history covers has a test of both its
// sides; a history added without its row, or a row without its file,
// fails.
var kept = map[string]covers{
	"v1/batch-batch_be744f49954cce62-chunk-00000__01a22612-c380-7a7a-8715-d7ed8dd58823.json": {runs: []string{"PredictChunk"}},
	"v1/batch-batch_be744f49954cce62__01a22612-bf08-7655-b1f4-e92bc8db9634.json":             {runs: []string{"AggregateBatch", "BatchChunkWorkflow", "PrepareBatch"}, oldSide: batchAsks},
	"v1/prediction-job_067d73d01930c7ad__01a22612-c628-70ae-9fe8-a9f4736f534a.json":          {runs: []string{"AcceptJob", "FinalizeJob", "Predict"}, oldSide: predictionAsks},

	"v2/batch-batch_29ec8e9f39b811f5-chunk-00000__01a22887-200a-7e10-a147-9222bbb6bd43.json": {runs: []string{"PredictChunk"}, newSide: []string{"interruption-budget"}},
	"v2/batch-batch_ba5bf4b9dbb51508-chunk-00000__01a22886-fb10-733f-8a39-417390b02063.json": {runs: []string{"PredictChunk"}},
	"v2/batch-batch_ba5bf4b9dbb51508__01a22886-f990-703b-8bb6-690712117c09.json":             {runs: []string{"AggregateBatch", "BatchChunkWorkflow", "PrepareBatch"}, oldSide: batchAsks},
	"v2/batch-batch_bb2fc05cc1b9c03b__01a22887-428a-7833-a88b-e9b0a1ebb4c5.json":             {runs: []string{"AggregateBatch", "BatchChunkWorkflow", "NotifyWorkflow", "PrepareBatch"}, newSide: []string{"notify-webhook"}, oldSide: batchAsks},
	"v2/batch-batch_midrun77679063__01a22887-0168-7f37-9783-47cd7db64b5f.json":               {runs: []string{"BatchChunkWorkflow", "PrepareBatch"}, oldSide: batchAsks},
	"v2/batch-batch_midrun77679063__5af4341a-5cab-47c9-bdde-69de0ec3b5a4.json":               {runs: []string{"BatchChunkWorkflow"}, oldSide: batchAsks},
	"v2/notify-batch_bb2fc05cc1b9c03b__01a22887-47ba-7cd5-bd90-b4a220b6516a.json":            {runs: []string{"Notify"}},
	"v2/prediction-job_74184bbe66a11d44__01a22887-3d80-76f8-9d96-577af8a3e9b7.json":          {runs: []string{"AcceptJob", "FinalizeJob", "Predict"}, oldSide: predictionAsks},
	"v2/prediction-job_refused402193666__01a22887-1dfc-71e9-8a61-d2f9dddfee95.json":          {runs: []string{"AcceptJob"}, oldSide: predictionAsks},

	"v3/batch-batch_024e6d22a624ac35__01a228cb-580b-7468-bd8c-9f2fceca87e3.json":             {runs: []string{"AggregateBatch", "BatchChunkWorkflow", "NotifyWorkflow", "PrepareBatch"}, newSide: []string{"notify-webhook"}, oldSide: batchAsks},
	"v3/batch-batch_291f40f67ef03099-chunk-00000__01a228cb-2306-7027-9964-ca0622cc2c16.json": {runs: []string{"PredictChunk"}},
	"v3/batch-batch_291f40f67ef03099__01a228cb-2246-71db-a035-065d5d0d932d.json":             {runs: []string{"AggregateBatch", "BatchChunkWorkflow", "PrepareBatch"}, oldSide: batchAsks},
	"v3/batch-batch_800cc2847e6215ee-chunk-00000__01a228cb-3bfc-7336-bed4-c37005d0ac57.json": {runs: []string{"PredictChunk"}, newSide: []string{"interruption-budget"}},
	"v3/batch-batch_midrun816956394__01a228cb-25b6-707b-939e-33b4c5f7e6fc.json":              {runs: []string{"BatchChunkWorkflow", "PrepareBatch"}, oldSide: batchAsks},
	"v3/batch-batch_midrun816956394__14d84408-6866-42b6-8dda-486e694747a6.json":              {runs: []string{"BatchChunkWorkflow"}, oldSide: batchAsks},
	"v3/notify-batch_024e6d22a624ac35__01a228cb-59ff-751c-9529-cab115adc52c.json":            {runs: []string{"Notify"}},
	"v3/prediction-job_6f496f6f33b997bb__01a228cb-55be-75ac-af9c-6d6fa988b168.json":          {runs: []string{"AcceptJob", "FinalizeJob", "Predict"}, newSide: predictionAsks},
	"v3/prediction-job_refused275485296__01a228cb-3afd-7017-97df-4a166adeb194.json":          {runs: []string{"AcceptJob"}, newSide: predictionAsks},

	// v4: the workflow structs, and the paths other than completed.
	// TestSIGTERMMidChunkLosesNothing: a chunk whose worker stopped, run again.
	"v4/batch-batch_0a246d5ee3b779fe-chunk-00000__01a24e89-c345-70f6-900d-cc62412167f7.json": {runs: []string{"PredictChunk"}, newSide: []string{"interruption-budget"}},
	// TestWebhooks: a batch and its delivered webhook.
	"v4/batch-batch_2e61abfbbe9b523d__01a24e89-f238-78b1-a2dd-7c2b110fa181.json":  {runs: []string{"AggregateBatch", "BatchChunkWorkflow", "NotifyWorkflow", "PrepareBatch"}, newSide: []string{"advisory-progress", "notify-webhook"}},
	"v4/notify-batch_2e61abfbbe9b523d__01a24e89-f95e-7424-9c79-e6cd8931d545.json": {runs: []string{"Notify"}},
	// TestBatchSkipInvalidAndCancel: a batch cancelled mid-chunk, and its
	// cancelled chunk.
	"v4/batch-batch_805e414e9035bf9c__01a24e89-3d9a-7354-ba61-f960ea4d012f.json":             {runs: []string{"AggregateBatch", "BatchChunkWorkflow", "CancelBatchRemainder", "PrepareBatch"}, newSide: batchAsks},
	"v4/batch-batch_805e414e9035bf9c-chunk-00000__01a24e89-4038-771a-a48f-f2ccb0f2b22d.json": {runs: []string{"FinishChildren", "PredictChunk"}},
	// TestSeedBatchEndToEnd.
	"v4/batch-batch_cae52b408a3a3b31__01a24e89-3434-7a03-b0e8-a3935a19706b.json":             {runs: []string{"AggregateBatch", "BatchChunkWorkflow", "PrepareBatch"}, newSide: batchAsks},
	"v4/batch-batch_cae52b408a3a3b31-chunk-00000__01a24e89-36cb-7476-b929-34d79ebf4675.json": {runs: []string{"PredictChunk"}},
	// TestEndsOtherThanCompleted: a chunk whose model fails, its ligands
	// failed by the chunk.
	"v4/batch-batch_chunkfail50969427__01a24e89-e6aa-736b-914e-93dc6abf54f6.json":             {runs: []string{"AggregateBatch", "BatchChunkWorkflow", "PrepareBatch"}, newSide: batchAsks},
	"v4/batch-batch_chunkfail50969427-chunk-00000__01a24e89-e6ee-7df3-aa7f-0d9368b90b69.json": {runs: []string{"FinishChildren", "PredictChunk"}},
	// TestMSAComputedOncePerProtein: a batch that computes its MSA.
	"v4/batch-batch_f4eb15d7d1ca14cf__01a24e89-5a0c-72da-9852-3ffda0b5c5c4.json": {runs: []string{"AggregateBatch", "BatchChunkWorkflow", "EnsureMSA", "PrepareBatch"}, newSide: batchAsks},
	// TestBatchContinuesAsNewMidRun: a first run, and a second in flight.
	"v4/batch-batch_midrun134195538__01a24e89-a893-741e-9184-55ae86687699.json": {runs: []string{"BatchChunkWorkflow", "PrepareBatch"}, newSide: batchAsks},
	"v4/batch-batch_midrun134195538__798d2699-8bfc-4ad7-be1f-8a3a8b5eef73.json": {runs: []string{"BatchChunkWorkflow"}, newSide: batchAsks},
	// TestEndsOtherThanCompleted: a batch that cannot run.
	"v4/batch-batch_noconfig874022711__01a24e89-e601-78c6-b2ca-1eb84fcb8a51.json": {runs: []string{"CancelBatchRemainder", "FailJob"}, newSide: []string{"fail-batch-children"}},
	// TestEndsOtherThanCompleted: a prediction whose MSA fails, and its
	// webhook that fails.
	"v4/prediction-job_nomsa396704809__01a24e89-e033-7c87-bde3-febee1f4c03c.json": {runs: []string{"AcceptJob", "EnsureMSA", "FailJob", "NotifyWorkflow"}, newSide: []string{"local-job-writes", "notify-webhook"}},
	"v4/notify-job_nomsa396704809__01a24e89-e0e3-7283-9bd4-aa4f7c66f800.json":     {runs: []string{"Notify"}},
	// TestEndsOtherThanCompleted: a prediction whose model fails.
	"v4/prediction-job_nomodel955486270__01a24e89-e25e-737f-a9e0-9ac8efb3cb86.json": {runs: []string{"AcceptJob", "FailJob", "Predict"}, newSide: predictionAsks},
	// TestOutOfMemoryReroutesToLargerGPU: an OOM on l4, rerouted to a100.
	"v4/prediction-job_2c1a8ad7c548b584__01a24e89-9f96-7b65-8944-2b476ac97dad.json": {runs: []string{"AcceptJob", "FinalizeJob", "Predict", "RecordRouting"}, newSide: predictionAsks},
	// TestSeedPredictionEndToEnd.
	"v4/prediction-job_607966d91c14e551__01a24e89-e84d-7401-aa5e-4bc0e5c43b15.json": {runs: []string{"AcceptJob", "FinalizeJob", "Predict"}, newSide: predictionAsks},
	// TestBatchContinuesAsNewMidRun: an input AcceptJob refuses.
	"v4/prediction-job_refused565808986__01a24e89-c198-75ab-8c1b-a063c1e63bbb.json": {runs: []string{"AcceptJob"}, newSide: predictionAsks},
}

// historyCovers reads what a history file's run scheduled and which
// change ids it recorded.
func historyCovers(t *testing.T, path string) (runs, changes []string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	hist, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	require.NoError(t, err)
	dc := converter.GetDefaultDataConverter()
	for _, ev := range hist.GetEvents() {
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			runs = append(runs, a.GetActivityType().GetName())
		}
		if a := ev.GetStartChildWorkflowExecutionInitiatedEventAttributes(); a != nil {
			runs = append(runs, a.GetWorkflowType().GetName())
		}
		m := ev.GetMarkerRecordedEventAttributes()
		switch m.GetMarkerName() {
		case "Version":
			var id string
			require.NoError(t, dc.FromPayloads(m.GetDetails()["change-id"], &id), path)
			changes = append(changes, id)
		case "LocalActivity":
			var la struct{ ActivityType string }
			require.NoError(t, dc.FromPayloads(m.GetDetails()["data"], &la), path)
			runs = append(runs, la.ActivityType)
		}
	}
	slices.Sort(runs)
	slices.Sort(changes)
	return slices.Compact(runs), slices.Compact(changes)
}

// TestKeptHistoriesCoverTestedBranches is the replay gate's other half:
// TestReplayCapturedHistories replays every kept history; this checks that
// kept says truly what each covers, and that every change id a history
// covers (either side) is in versions.go and is run on both sides by
// TestEveryChangeBothSides.
func TestKeptHistoriesCoverTestedBranches(t *testing.T) {
	t.Parallel()
	ids := workflows.ChangeIDs(t)
	tested := workflows.ChangesTestedBothSides()
	files := map[string]bool{}
	for _, h := range histories(t) {
		rel := h.release + "/" + h.exec.ID + "__" + h.exec.RunID + ".json"
		files[rel] = true
		c, ok := kept[rel]
		if !assert.True(t, ok, "%s is kept but not in kept: add its row", rel) {
			continue
		}
		runs, changes := historyCovers(t, h.path)
		assert.Equal(t, runs, sorted(c.runs), "%s: the activities and children it runs", rel)
		assert.Equal(t, changes, sorted(c.newSide), "%s: the change ids it records", rel)
		for _, id := range append(slices.Clone(c.newSide), c.oldSide...) {
			assert.Contains(t, ids, id, "%s covers %s, which versions.go does not declare", rel, id)
			assert.Contains(t, tested, id, "%s covers %s, whose sides no test runs", rel, id)
		}
		for _, id := range c.oldSide {
			assert.NotContains(t, changes, id, "%s records %s: it covers the new side, not the old", rel, id)
		}
	}
	for _, id := range ids {
		assert.Contains(t, tested, id, "change id %s: no test runs its old and new sides", id)
	}
	for rel := range kept {
		assert.True(t, files[rel], "kept names %s, which is not under testdata/histories", rel)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		return nil
	}
	return s
}
