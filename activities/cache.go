package activities

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/resultcache"
)

// ResultCacheStore stores the result cache's documents (store.ResultCache).
type ResultCacheStore interface {
	// GetEntries reads entries by key hash, in order; a missing one is nil.
	GetEntries(ctx context.Context, keys []string) ([]*omtx.CacheEntry, error)
	PutEntry(ctx context.Context, e *omtx.CacheEntry) error
	// ModelRuns reads a model's runs; nil when none is recorded.
	ModelRuns(ctx context.Context, model string) (*omtx.ModelRuns, error)
	RecordModelRun(ctx context.Context, model, id string, r omtx.ModelRun) error
}

// ResultCache is the result cache as the activities use it: the store,
// the users the deployment shares results among (OMTX_RESULT_CACHE_SHARED_USERS),
// and, for lookups, how server MSAs are cached (the MSA activity's
// msa.KeySpec). A nil *ResultCache, or one without a Store, is no cache.
type ResultCache struct {
	Store       ResultCacheStore
	SharedUsers []string
	MSASpec     msa.KeySpec

	mu       sync.Mutex
	recorded map[string]time.Time // model run id → when this process last recorded it
}

func (c *ResultCache) on() bool { return c != nil && c.Store != nil }

// recordEvery is how often a GPU worker refreshes a model run it has
// recorded already, so that lookups try the runs the fleet runs now first.
const recordEvery = time.Hour

// cacheSubject is what a stored result's key is made of besides the model:
// whose it is, the target part and the run settings.
type cacheSubject struct {
	userID string
	target string // resultcache.TargetHash of the request's complex; "" when unknown
	params omtx.Parameters
}

// subjectOf is the key's target part of a predictor request: the complex
// the worker built, with the digests of the MSAs it read.
func subjectOf(userID string, req omtx.PredictRequest, params omtx.Parameters) cacheSubject {
	s := cacheSubject{userID: userID, params: params}
	if req.Target != nil {
		if h, err := resultcache.TargetHash(req.Target.JSON, req.Target.MSADigests); err == nil {
			s.target = h
		}
	}
	return s
}

// store writes a GPU-computed result to the cache and records the model
// run, best effort: a cache that cannot be written costs a later job a
// GPU run, never this job its result. A model that names no checkpoint
// digest is not cached (no lookup could find it).
func (c *ResultCache) store(ctx context.Context, log *slog.Logger, s cacheSubject, model omtx.ModelInfo, jobID, modelled string, res omtx.Results, now time.Time) {
	if !c.on() || s.target == "" || model.Checkpoint == "" || res.CacheHit {
		return
	}
	warn := func(msg string, err error) {
		if log != nil {
			log.WarnContext(ctx, msg, "job_id", jobID, "error", err)
		}
	}
	c.recordRun(ctx, model, now, warn)
	lig, err := resultcache.Ligand(modelled)
	if err != nil {
		return // the model ran what chem cannot read: no lookup would find it
	}
	k := resultcache.Key{
		Scope: resultcache.Scope(s.userID, c.SharedUsers), Target: s.target, Ligand: lig, Settings: s.params,
		Model: model.Name, ModelVersion: model.Version, Checkpoint: model.Checkpoint, Defaults: model.Defaults,
	}
	e := &omtx.CacheEntry{Key: k.Hash(), Scope: k.Scope, SourceJobID: jobID, ResultsFile: res.ResultsFile, Results: res, CreatedAt: now}
	if err := c.Store.PutEntry(ctx, e); err != nil {
		warn("result cache: entry not written", err)
	}
}

// recordRun records that this worker ran model with its version and
// checkpoint, once per process and recordEvery.
func (c *ResultCache) recordRun(ctx context.Context, model omtx.ModelInfo, now time.Time, warn func(string, error)) {
	id := resultcache.RunID(model.Version, model.Checkpoint, model.Defaults)
	key := model.Name + "/" + id
	c.mu.Lock()
	last, ok := c.recorded[key]
	c.mu.Unlock()
	if ok && now.Sub(last) < recordEvery {
		return
	}
	if err := c.Store.RecordModelRun(ctx, model.Name, id, omtx.ModelRun{Version: model.Version, Checkpoint: model.Checkpoint, Defaults: model.Defaults, LastSeen: now}); err != nil {
		warn("result cache: model run not recorded", err)
		return
	}
	c.mu.Lock()
	if c.recorded == nil {
		c.recorded = map[string]time.Time{}
	}
	c.recorded[key] = now
	c.mu.Unlock()
}

// finder is the cache's lookup side over blobs (where targets and MSAs
// are stored).
func (c *ResultCache) finder(blobs BlobStore) *resultcache.Finder {
	return &resultcache.Finder{Store: c.Store, Blobs: blobs, SharedUsers: c.SharedUsers, MSASpec: c.MSASpec}
}

// newProbe prepares the lookups of spec's ligands; nil (every ligand
// misses) without a cache or when the request bypasses it
// (resultcache.Finder.Probe says when else).
func (c *ResultCache) newProbe(ctx context.Context, blobs BlobStore, spec *contract.JobSpec) (*resultcache.Probe, error) {
	if !c.on() || spec.InputData.NoCache {
		return nil, nil
	}
	readsMSA := omtx.ModelUsesMSA(spec.Model)
	if spec.UsesMSA != nil {
		readsMSA = *spec.UsesMSA
	}
	in := spec.InputData
	return c.finder(blobs).Probe(ctx, resultcache.Subject{
		UserID: spec.UserID, Model: spec.Model, ProteinSequence: in.ProteinSequence, TargetID: in.TargetID,
		MSAObject: omtx.ObjectOf(in.MSAFile), Parameters: in.Parameters, ReadsMSA: readsMSA,
	})
}

// lookup returns each modelled ligand's entry, nil where it misses.
func (c *ResultCache) lookup(ctx context.Context, p *resultcache.Probe, modelled []string) ([]*omtx.CacheEntry, error) {
	if !c.on() {
		return make([]*omtx.CacheEntry, len(modelled)), nil
	}
	return c.finder(nil).Lookup(ctx, p, modelled)
}

// cachedResults are the results a job completes with from entry e: the
// source's, marked as a cache hit, with no GPU time or cost of their own
// (what the source spent is what the hit saved). The files stay the
// source job's. ligand and modelled are the job's own SMILES.
func cachedResults(e *omtx.CacheEntry, ligand, modelled string) omtx.Results {
	res := e.Results
	res.CacheHit, res.CacheSourceJobID = true, e.SourceJobID
	res.SavedGPUSeconds, res.SavedCostUSD = res.GPUSeconds, res.CostUSD
	res.GPUSeconds, res.CostUSD, res.ModelSeconds = 0, 0, 0
	res.LigandSMILES, res.ModelledSMILES = ligand, modelled
	if res.ResultsFile == "" {
		res.ResultsFile = e.ResultsFile
	}
	return res
}

// LookupResult looks a single prediction up in the result cache before
// any GPU work. A store that cannot answer is a miss (the job runs on the
// GPU), never a failed job.
func (o *Orchestration) LookupResult(ctx context.Context, in contract.LookupResultInput) (contract.LookupResultResult, error) {
	spec := in.Job
	log := logFor(ctx, o.Logger, "job_id", spec.JobID)
	p, err := o.Cache.newProbe(ctx, o.Blobs, &spec)
	if err != nil {
		log.Warn("result cache: lookup failed; the job runs", "error", err)
		return contract.LookupResultResult{}, nil
	}
	modelled := spec.InputData.ModelledSMILES
	if modelled == "" {
		modelled = spec.InputData.LigandSMILES
	}
	hits, err := o.Cache.lookup(ctx, p, []string{modelled})
	if err != nil {
		log.Warn("result cache: lookup failed; the job runs", "error", err)
		return contract.LookupResultResult{}, nil
	}
	if hits[0] == nil {
		return contract.LookupResultResult{}, nil
	}
	log.Info("result cache hit", "source_job_id", hits[0].SourceJobID)
	return contract.LookupResultResult{Hit: true, Results: cachedResults(hits[0], spec.InputData.LigandSMILES, modelled)}, nil
}

// batchCache completes a batch's new children from the result cache, as
// PrepareBatch creates them, and follows which chunks end up with every
// child terminal (those need no GPU).
type batchCache struct {
	cache *ResultCache
	probe *resultcache.Probe
	now   time.Time
	log   *slog.Logger
	// chunk is batch_config.chunk_size (0: chunks are not followed).
	chunk int
	// cur is the chunk being followed and allTerminal whether its children
	// so far are all terminal.
	cur         int
	allTerminal bool
	completed   int
	failed      int
	hits        int
	out         []contract.ChunkRange
	doneC       int // completed children of the terminal chunks
	doneF       int // failed children of the terminal chunks
}

// newBatchCache prepares the lookups of a batch's children; a lookup that
// fails leaves the whole batch to the GPU.
func (o *Orchestration) newBatchCache(ctx context.Context, spec *contract.JobSpec, now time.Time) *batchCache {
	bc := &batchCache{cache: o.Cache, now: now, allTerminal: true, log: logFor(ctx, o.Logger, "batch_id", spec.JobID)}
	if spec.BatchConfig != nil {
		bc.chunk = spec.BatchConfig.ChunkSize
	}
	p, err := o.Cache.newProbe(ctx, o.Blobs, spec)
	if err != nil {
		bc.log.Warn("result cache: lookup failed; every ligand runs", "error", err)
	}
	bc.probe = p
	return bc
}

// apply completes the pending children that hit, before they are
// created. A lookup that fails leaves these children to the GPU.
func (bc *batchCache) apply(ctx context.Context, children []*omtx.Job) {
	modelled := make([]string, len(children))
	for i, c := range children {
		if c.Status == omtx.StatusPending {
			modelled[i] = c.InputData.ModelledSMILES
		}
	}
	hits, err := bc.cache.lookup(ctx, bc.probe, modelled)
	if err != nil {
		bc.log.Warn("result cache: lookup failed; these ligands run", "error", err)
		hits = make([]*omtx.CacheEntry, len(children))
	}
	for i, c := range children {
		if e := hits[i]; e != nil {
			res := cachedResults(e, c.InputData.LigandSMILES, c.InputData.ModelledSMILES)
			now := bc.now
			c.Status, c.Results, c.StartedAt, c.CompletedAt = omtx.StatusCompleted, &res, &now, &now
		}
	}
}

// created follows the children in index order for the terminal chunks,
// once CreateMany has said which existed already. children are
// consecutive, in index order, and follow those of the previous call. A
// child that existed was left as it is stored (pending again after a
// requeue, say), whatever apply made of it here: it keeps its chunk on
// the GPU path, which skips what is terminal.
func (bc *batchCache) created(children []*omtx.Job, existed []bool) {
	for i, c := range children {
		old := i < len(existed) && existed[i]
		if !old && c.Results != nil && c.Results.CacheHit {
			bc.hits++
		}
		bc.follow(c, old)
	}
}

// follow counts child (the next in index order) into its chunk; one that
// existed already counts as not terminal.
func (bc *batchCache) follow(c *omtx.Job, existed bool) {
	if bc.chunk <= 0 || c.BatchIndex == nil {
		return
	}
	n := *c.BatchIndex / bc.chunk
	if n != bc.cur {
		bc.close()
		bc.cur, bc.allTerminal = n, true
	}
	switch {
	case existed:
		bc.allTerminal = false
	case c.Status == omtx.StatusCompleted:
		bc.completed++
	case c.Status == omtx.StatusFailed:
		bc.failed++
	default:
		bc.allTerminal = false
	}
}

// close ends the chunk being followed.
func (bc *batchCache) close() {
	if bc.allTerminal && bc.completed+bc.failed > 0 {
		if k := len(bc.out); k > 0 && bc.out[k-1].To == bc.cur {
			bc.out[k-1].To++
		} else {
			bc.out = append(bc.out, contract.ChunkRange{From: bc.cur, To: bc.cur + 1})
		}
		bc.doneC += bc.completed
		bc.doneF += bc.failed
	}
	bc.completed, bc.failed = 0, 0
}

// finish writes the hits and terminal chunks into out, once every child
// has been applied. A retried PrepareBatch reports no terminal chunk: a
// child created by an earlier attempt is kept as that attempt wrote it,
// which may differ from what this one looked up, so every chunk runs
// (the GPU activity skips the children that are terminal).
func (bc *batchCache) finish(out *contract.PrepareBatchResult, attempt int32) {
	bc.close()
	out.CacheHits = bc.hits
	if attempt > 1 {
		return
	}
	out.TerminalChunks, out.TerminalCompleted, out.TerminalFailed = bc.out, bc.doneC, bc.doneF
}
