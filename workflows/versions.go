package workflows

// Change ids of workflow.GetVersion, one per change of workflow behaviour
// since the first release. A change id is never reused or removed while a
// history that predates it may still be running (or be replayed from
// testdata/histories).
const (
	// versionInterruptionBudget: a GPU activity that ends with
	// contract.ErrTypeInterrupted (its worker stopped) runs again, within
	// its own budget, instead of failing its ligands.
	versionInterruptionBudget = "interruption-budget"
	// versionFailBatchChildren: a batch that cannot run fails the children
	// already created, rather than leaving them pending.
	versionFailBatchChildren = "fail-batch-children"
	// versionChunkFailureFatal: a chunk whose ligands could not be recorded
	// (FinishChildren failed for good) fails the batch workflow visibly,
	// rather than counting its ligands as neither done nor failed.
	versionChunkFailureFatal = "chunk-failure-fatal"
	// versionNotify: a job or batch with a notify_url starts a
	// NotifyWorkflow when it ends.
	versionNotify = "notify-webhook"
	// versionLocalJobWrites: a prediction's AcceptJob and FinalizeJob run
	// as local activities in the workflow's own worker: no activity task
	// through the server for a single document write. At 50 submissions
	// a second the server's CPU per prediction was the largest cost on the
	// machine, and it is shared with the submissions' own StartWorkflow.
	versionLocalJobWrites = "local-job-writes"
	// versionAdvisoryProgress: a batch's progress write no longer runs
	// inside the progress timer's callback with the store's six-hour
	// budget, holding up every chunk behind it during a Firestore outage.
	// It runs beside the chunks with short timeouts, one at a time, and a
	// state that changed while one was in flight is written when it ends.
	versionAdvisoryProgress = "advisory-progress"
	// versionResultCache: a prediction is looked up in the result cache
	// (LookupResult) before its MSA and its GPU activity, and a hit
	// completes it with neither; a batch never starts the chunks whose
	// children PrepareBatch created all terminal (result-cache hits and
	// invalid rows), so they reach no GPU queue.
	versionResultCache = "result-cache"
)
