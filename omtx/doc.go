// Package omtx holds OMTX-Hub's domain: job records, prediction inputs and
// results, the names shared by the API and the workers (task queues, workflow
// IDs, query names), and the error codes that the API maps to HTTP status.
//
// It imports no adapter (Firestore, GCS, Temporal, ONNX Runtime), so every
// other package can depend on it.
package omtx
