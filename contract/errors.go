package contract

import (
	"errors"

	"go.temporal.io/sdk/temporal"
)

// Types of the application errors that activities and workflows end with.
// The retry policies name the non-retryable ones, and the workflows branch
// on them, so they are part of the contract.
const (
	// ErrTypeInvalidInput: the input cannot be run (bad SMILES, a ligand
	// the model refuses, a library file that is not a ligand list). Never
	// retried; the job fails with the message, as the user's error.
	ErrTypeInvalidInput = "InvalidInput"
	// ErrTypeCancelled: the job was cancelled while queued.
	ErrTypeCancelled = "JobCancelled"
	// ErrTypeNoModel: this worker does not serve the model.
	ErrTypeNoModel = "ModelUnavailable"
	// ErrTypeOutOfMemory: the input did not fit the GPU; the workflow
	// reroutes it to a larger class instead of retrying on this one.
	ErrTypeOutOfMemory = "OutOfMemory"
	// ErrTypePermanent: a failure no retry can fix that is not the user's
	// input (a document Firestore refuses, a stored file over the read
	// limit). Never retried; the job fails with the message.
	ErrTypePermanent = "PermanentFailure"
	// ErrTypeInterrupted: the worker stopped (scale-in, spot preemption,
	// node upgrade, deploy) at a ligand boundary, with every finished
	// ligand stored. Not retried by the activity's own policy, which is
	// kept for real failures; the workflow runs the work again within an
	// interruption budget of its own.
	ErrTypeInterrupted = "WorkerInterrupted"
	// ErrTypeJobFailed is the error a failed job's workflow ends with.
	ErrTypeJobFailed = "JobFailed"
)

// NonRetryable returns a non-retryable application error of type typ.
func NonRetryable(typ, msg string, cause error) error {
	return temporal.NewNonRetryableApplicationError(msg, typ, cause)
}

// IsType reports whether err is, or wraps, an application error of type typ.
func IsType(err error, typ string) bool {
	var ae *temporal.ApplicationError
	return errors.As(err, &ae) && ae.Type() == typ
}
