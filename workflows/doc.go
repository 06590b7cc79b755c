// Package workflows holds OMTX-Hub's Temporal workflows: PredictionWorkflow
// for one protein–ligand prediction, and BatchWorkflow for a virtual screen.
//
// Workflow code is deterministic: it uses workflow.Now and workflow.Sleep,
// no map iteration order, and never drops an error from Future.Get
// (workflowcheck runs in make lint). Histories captured from real runs
// live under testdata/histories and are replayed in the tests; from the
// first production release on, every behaviour change goes behind
// workflow.GetVersion, with fresh captures (make histories). That includes
// the input validation that runs inside PredictionWorkflow: tightening the
// SMILES rules changes which command a history schedules first.
package workflows
