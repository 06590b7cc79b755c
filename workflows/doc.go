// Package workflows holds OMTX-Hub's Temporal workflows: PredictionWorkflow
// for one protein–ligand prediction, BatchWorkflow and BatchChunkWorkflow
// for a virtual screen, and NotifyWorkflow for a completion webhook.
//
// Workflow code is deterministic: it uses workflow.Now and timers, no map
// iteration order, never drops an error from Future.Get (workflowcheck
// runs in make lint), and calls activities and child workflows by the names
// in package contract, with contract's input and result types. It imports
// no adapter and no validation rules: input is checked by the API and again
// by the first activity (AcceptJob), so changing a rule replays every
// history unchanged.
//
// Every released shape of a history is kept under
// testdata/histories/<release>/ and replayed by the tests; every change of
// behaviour goes behind workflow.GetVersion (versions.go lists the change
// ids). The README's "Changing a workflow safely" is the procedure.
package workflows
