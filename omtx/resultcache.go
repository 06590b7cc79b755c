package omtx

import "time"

// Firestore collections of the result cache (package resultcache builds
// the keys).
const (
	// ResultCacheCollection holds one CacheEntry per key hash.
	ResultCacheCollection = "result_cache"
	// ModelRunsCollection holds one ModelRuns document per model name: the
	// versions and checkpoint digests GPU workers have run it with.
	ModelRunsCollection = "model_runs"
)

// CacheEntry is a stored result that a later job with the same key
// reuses instead of running the model: the job that produced it, its
// results.json and its results block.
type CacheEntry struct {
	// Key is the key hash (resultcache.Key.Hash), the document's id.
	Key         string `json:"key" firestore:"key"`
	Scope       string `json:"scope" firestore:"scope"`
	SourceJobID string `json:"source_job_id" firestore:"source_job_id"`
	// ResultsFile is the source job's results.json (gs:// address).
	ResultsFile string `json:"results_file" firestore:"results_file"`
	// Results is the source job's results block as it was stored.
	Results   Results   `json:"results" firestore:"results"`
	CreatedAt time.Time `json:"created_at" firestore:"created_at"`
}

// ModelRun is one model version and checkpoint digest a GPU worker ran.
type ModelRun struct {
	Version    string `json:"version" firestore:"version"`
	Checkpoint string `json:"checkpoint" firestore:"checkpoint"`
	// Defaults is ModelInfo.Defaults: the worker's default settings.
	Defaults string    `json:"defaults,omitempty" firestore:"defaults,omitempty"`
	LastSeen time.Time `json:"last_seen" firestore:"last_seen"`
}

// ModelRuns is a model's document of ModelRunsCollection: what the fleet
// has run it with, by an id of the version and checkpoint.
type ModelRuns struct {
	Model string              `json:"model" firestore:"model"`
	Runs  map[string]ModelRun `json:"runs" firestore:"runs"`
}
