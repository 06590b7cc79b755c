// Package api is OMTX-Hub's REST API (gin), used by the frontend. It
// validates requests, writes the pending job record and starts the
// workflow; it never runs a model and never links cgo or ONNX Runtime.
//
// Errors are JSON {"error": {"code", "message", "field"}}; domain error
// codes map to HTTP status in one place (errorStatus).
package api
