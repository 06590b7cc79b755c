// Package workflows holds OMTX-Hub's Temporal workflows: PredictionWorkflow
// for one protein–ligand prediction, and BatchWorkflow for a virtual screen.
//
// Workflow code is deterministic: it uses workflow.Now and workflow.Sleep,
// no map iteration order, and never drops an error from Future.Get. Every
// behaviour change is guarded by workflow.GetVersion, and committed
// histories under testdata/ are replayed in the tests.
package workflows
