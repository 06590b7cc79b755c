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
// history unchanged. Decisions that may change (whether the model reads an
// MSA) are made at submission and carried in contract.JobSpec; workflow
// code calls no omtx function but the naming ones that
// TestWorkflowsApplyNoOmtxRules allows.
//
// A long workflow is a struct with one method per phase (prediction,
// batch); the helpers both share (runRerouting after an out-of-memory
// failure, recordEnd for the final records in a disconnected context) are
// in options.go, and the batch's advisory progress writes in progress.go.
//
// Every released shape of a history is kept under
// testdata/histories/<release>/ and replayed by the tests; every change of
// behaviour goes behind workflow.GetVersion (versions.go lists the change
// ids), with both sides of each tested (TestEveryChangeBothSides) and each
// kept history's coverage stated (coverage_test.go). The README's
// "Changing a workflow safely" is the procedure.
package workflows
