// Package contract is everything a Temporal history holds: the names of
// OMTX-Hub's task queues, workflows, activities, queries and search
// attributes, and the input and result structs of the workflows and
// activities. The API, the workers, the workflows and the tests import it;
// it imports no adapter (no Firestore, no Cloud Storage, no ONNX Runtime),
// only the domain (package omtx) and the Temporal SDK's value types.
//
// Every running workflow is a reader of these types. So:
//   - a name here is never changed once released;
//   - fields are only added (with a zero value that means "as before"),
//     never renamed, retyped or removed; JSON keys are frozen by
//     TestPayloadShapes against testdata/shapes.json;
//   - workflows take an immutable JobSpec, never the job document, so a
//     new field on the document changes no payload.
//
// Most workflows and activities have an input and a result struct of their
// own, so that one can gain a field without touching another. A few share,
// because the histories already released hold them that way (a shared
// struct's JSON is what every reader decodes, so splitting it later keeps
// the JSON and changes only the Go names):
//   - NotifyInput and NotifyResult are NotifyWorkflow's and the Notify
//     activity's input and result alike: the workflow passes its input on;
//   - ChunkCounts is the result of BatchChunkWorkflow, PredictChunk and
//     FinishChildren;
//   - EnsureMSAResult is an alias of omtx.MSARef, not a struct of its own.
//
// Names say less than the activities do, and a registered name is never
// changed (histories hold it): CancelBatchRemainder ends every unfinished
// child of a batch, cancelled or failed as its input says; FinalizeJob
// records only a job that completed, and FailJob the ones that failed or
// were cancelled.
//
// The README's "Changing a workflow safely" says how workflow code changes.
package contract
