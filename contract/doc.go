// Package contract is everything a Temporal history holds: the names of
// OMTX-Hub's task queues, workflows, activities, queries and search
// attributes, and one input and one result struct per workflow and per
// activity. The API, the workers, the workflows and the tests import it;
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
// The README's "Changing a workflow safely" says how workflow code changes.
package contract
