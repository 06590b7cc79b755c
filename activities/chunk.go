package activities

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// PredictChunk runs the model on a chunk of a batch in one activity, so the
// model and the protein's features are loaded once for many ligands. It
// runs them in groups of ChunkGroup, one model call per group, and stores
// each ligand's result, to batches/{batch_id}/jobs/{job_id}/ and to its
// child document, as soon as the model has written it (a predictor that
// says so through PredictRequest.Finished, as Boltz's runner does), or
// else when its group ends.
//
// The child documents are the only record of which ligands are done: a
// retried attempt reads them and runs only the ligands that are not yet
// terminal. Heartbeats carry how many of the chunk's ligands this attempt
// has finished (chunkBeat), for the Web UI, and which attempt it is.
//
// When the worker is asked to stop (scale-in, preemption, a deploy), the
// chunk stops at the next group boundary with every finished ligand
// stored, and returns a contract.ErrTypeInterrupted error: the workflow
// runs the rest elsewhere without spending the retries kept for real
// failures. A pod found to be going away within seconds (Preempted) kills
// the group's model call at once instead, losing only the ligands in
// flight. An attempt that was lost without a word (its worker killed, its
// heartbeats timed out) after storing ligands or structure checkpoints is
// an interruption too: the
// next attempt finds it in the heartbeat details and hands the chunk back
// the same way (lostAttempt).
//
// With Boltz-2's two passes a ligand is finished only in the affinity
// pass, after the whole group's structures. So each ligand's structure
// checkpoint is stored as the model makes it (checkpoints), and a later
// call resumes it: a group killed in its structure pass then reruns only
// the ligand in flight there.
func (g *GPU) PredictChunk(ctx context.Context, in contract.PredictChunkInput) (counts contract.ChunkCounts, err error) {
	info := activity.GetInfo(ctx)
	pred, err := g.predictor(in.Model)
	if err != nil {
		return contract.ChunkCounts{}, err
	}
	defer g.busy(1)()
	docs, err := g.Jobs.GetMany(ctx, in.JobIDs)
	if err != nil {
		return contract.ChunkCounts{}, storeErr("read chunk", err)
	}
	log := logFor(ctx, g.Logger, "batch_id", in.BatchID, "chunk", in.Chunk)
	// The structure checkpoints earlier activities stored for this chunk
	// (an interruption starts a new activity, and leaves no trace in the
	// documents of the ligands it did not finish).
	store := &checkpoints{blobs: g.Blobs, batchID: in.BatchID, chunk: in.Chunk}
	found, listErr := store.manifests(ctx)
	if listErr != nil {
		log.Warn("structure checkpoints not listed; the chunk's ligands run both passes", "error", listErr)
	}
	prev, n := lostAttempt(ctx, docs, info.WorkflowExecution.RunID)
	cps := 0
	if n == 0 && prev.lost() {
		cps = storedBy(found, docs, prev, info.WorkflowExecution.RunID)
	}
	if n > 0 || cps > 0 {
		log.Info("previous attempt lost after storing ligands or structure checkpoints: an interruption, not a failed attempt",
			"lost_attempt", prev.Attempt, "lost_worker", prev.Worker, "stored", n, "checkpointed", cps)
		return contract.ChunkCounts{}, interrupted(fmt.Sprintf("attempt %d of chunk %d on worker %s stopped heartbeating after storing %d ligands and %d structure checkpoints; the rest run again without spending an attempt",
			prev.Attempt, in.Chunk, prev.Worker, n, cps))
	}
	now := g.now()
	c := &chunkRun{g: g, ctx: ctx, in: in, pred: pred, beat: chunkBeat{Attempt: info.Attempt, Worker: g.WorkerID, Start: now},
		checkpoints: store, found: found}
	activity.RecordHeartbeat(ctx, c.details())
	defer func() {
		if err != nil && !contract.IsType(err, contract.ErrTypeInterrupted) {
			// Say that this attempt ended itself: the next attempt must not
			// take it for a lost one (the SDK sends a buffered heartbeat
			// with the failure).
			activity.RecordHeartbeat(ctx, c.ended())
		}
	}()
	var todo []*omtx.Job
	for i, d := range docs {
		if d == nil {
			return contract.ChunkCounts{}, fmt.Errorf("child %s has no document", in.JobIDs[i])
		}
		if d.Status.Terminal() {
			continue
		}
		d.Status, d.UpdatedAt = omtx.StatusRunning, now
		if d.StartedAt == nil {
			d.StartedAt = &now
		}
		d.Temporal = &omtx.TemporalRef{
			WorkflowID: info.WorkflowExecution.ID, RunID: info.WorkflowExecution.RunID,
			TaskQueue: info.TaskQueue, GPUClass: g.GPUClass, Attempt: info.Attempt, Worker: g.WorkerID,
		}
		todo = append(todo, d)
	}
	if len(todo) < len(docs) {
		log.Info("chunk resumed", "already_finished", len(docs)-len(todo))
	}

	group := g.ChunkGroup
	if group <= 0 {
		group = 8
	}
	for start := 0; start < len(todo); start += group {
		if g.stopping(ctx) || g.preempted() {
			log.Info("worker stopping: chunk interrupted at a ligand boundary", "finished", c.done(), "left", len(todo)-start)
			return contract.ChunkCounts{}, interrupted(fmt.Sprintf("worker %s stopped after %d of %d ligands of chunk %d; the rest run elsewhere", g.WorkerID, c.done(), len(todo), in.Chunk))
		}
		part := todo[start:min(start+group, len(todo))]
		if err := c.predictGroup(part); err != nil {
			if g.cutShort(ctx, err) {
				log.Info("worker stopping: model run of chunk killed", "finished", c.done(), "preempted", g.preempted())
				return contract.ChunkCounts{}, interrupted(fmt.Sprintf("worker %s stopped during a model run of chunk %d, after %d of %d ligands, each stored as it finished", g.WorkerID, in.Chunk, c.done(), len(todo)))
			}
			return contract.ChunkCounts{}, err
		}
	}
	counts = contract.CountsOf(omtx.CountJobs(docs))
	log.Info("chunk done", "completed", counts.Completed, "failed", counts.Failed, "cancelled", counts.Cancelled, "filtered", counts.Filtered)
	return counts, nil
}

// chunkBeat is a chunk attempt's heartbeat details: its progress (Done,
// the ligands it finished), and who it is, so that the next attempt can
// tell an attempt that was lost from one that failed.
type chunkBeat struct {
	Done    int       `json:"done"`
	Attempt int32     `json:"attempt"`
	Worker  string    `json:"worker"`
	Start   time.Time `json:"start"`
	// Ended is set when the attempt returned an error itself.
	Ended bool `json:"ended,omitempty"`
	// Checkpointed counts the structure checkpoints the attempt stored
	// (Boltz-2's first pass): progress, though no ligand is finished yet.
	Checkpointed int `json:"checkpointed,omitempty"`
}

// lost reports whether the attempt these are the last details of ended
// without a word (it did not end itself).
func (b chunkBeat) lost() bool { return !b.Ended && b.Worker != "" }

// lostAttempt reads the previous attempt's heartbeat details and returns
// them with the number of the chunk's ligands it stored, when it was lost
// without ending itself (its worker killed or hung: the heartbeat timed
// out), in this workflow run; 0 otherwise. Such an attempt made progress,
// so its end is an interruption, not a failure of the model: counting it
// against the model's attempts would fail a chunk after a few spot
// preemptions. An attempt lost after storing only structure checkpoints
// (Boltz-2's first pass; checkpoints.storedBy) is an interruption too. An
// attempt that ended with an error, or stored nothing, counts as before.
func lostAttempt(ctx context.Context, docs []*omtx.Job, runID string) (chunkBeat, int) {
	var prev chunkBeat
	if !activity.HasHeartbeatDetails(ctx) || activity.GetHeartbeatDetails(ctx, &prev) != nil {
		return prev, 0 // none, or details of another shape (a release before chunkBeat)
	}
	if !prev.lost() {
		return prev, 0
	}
	n := 0
	for _, d := range docs {
		if d == nil || !d.Status.Terminal() || d.Temporal == nil || d.CompletedAt == nil {
			continue
		}
		t := d.Temporal
		if t.RunID == runID && t.Worker == prev.Worker && t.Attempt == prev.Attempt && !d.CompletedAt.Before(prev.Start) {
			n++
		}
	}
	return prev, n
}

// chunkRun is one attempt of PredictChunk.
type chunkRun struct {
	g    *GPU
	ctx  context.Context
	in   contract.PredictChunkInput
	pred Predictor

	mu   sync.Mutex
	beat chunkBeat

	checkpoints *checkpoints
	found       map[string]checkpointManifest // by job id, when the attempt began
}

func (c *chunkRun) details() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.beat
}

func (c *chunkRun) done() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.beat.Done
}

func (c *chunkRun) ended() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.beat.Ended = true
	return c.beat
}

// checkpointed counts one more stored structure checkpoint and heartbeats
// the progress.
func (c *chunkRun) checkpointed() {
	c.mu.Lock()
	c.beat.Checkpointed++
	b := c.beat
	c.mu.Unlock()
	activity.RecordHeartbeat(c.ctx, b)
}

// finished counts n more finished ligands and heartbeats the progress.
func (c *chunkRun) finished(n int) {
	c.mu.Lock()
	c.beat.Done += n
	b := c.beat
	c.mu.Unlock()
	activity.RecordHeartbeat(c.ctx, b)
}

// group is one model call of a chunk: its ligands' documents, and what
// their results record.
type group struct {
	part      []*omtx.Job
	msaDigest string
	// chainMSAs is each protein chain's MSA that ran, for a target's job.
	chainMSAs []omtx.ChainMSA
	// subject is what the result cache keys the group's results under,
	// besides each ligand.
	subject  cacheSubject
	log      *jobLog
	logsName string
	logsFile string
	// stored marks the ligands of part that are done: stored by this
	// attempt, or found terminal.
	stored []bool
}

// predictGroup runs one group of a chunk through the model and stores each
// ligand's outcome, updating part in place: a ligand the model hands over
// while it runs (PredictRequest.Finished) at once, the rest when the call
// ends.
func (c *chunkRun) predictGroup(part []*omtx.Job) error {
	g, in, ctx := c.g, c.in, c.ctx
	ligands := make([]omtx.Ligand, len(part))
	for i, d := range part {
		ligands[i] = omtx.Ligand{Name: d.InputData.LigandName, SMILES: d.InputData.LigandSMILES}
	}
	// The model's own output for the group goes to the group's log.
	gr := &group{part: part, log: newJobLog(g.now), stored: make([]bool, len(part))}
	req, msaDigest, cleanup, err := g.request(ctx, in.TargetID, in.Protein, ligands, in.Parameters, in.MSA, gr.log)
	if err != nil {
		return err
	}
	defer cleanup()
	gr.msaDigest, gr.chainMSAs = msaDigest, targetMSAs(in.TargetID, in.MSA, req.Target)
	gr.subject = subjectOf(part[0].UserID, req, in.Parameters)
	// One log for the group, beside the children's folders: the model's
	// output is shared by the group, so each ligand points at it
	// (logs_file) rather than carrying a copy in a logs.txt of its own.
	gr.logsName = omtx.BatchGroupLog(in.BatchID, derefIndex(part[0].BatchIndex), derefIndex(part[len(part)-1].BatchIndex))
	gr.logsFile = g.Blobs.URI(gr.logsName)
	gr.log.Printf("batch %s chunk %d attempt %d on worker %s (gpu class %s): one model run for %d ligands",
		in.BatchID, in.Chunk, activity.GetInfo(ctx).Attempt, g.WorkerID, g.GPUClass, len(part))
	c.checkpointsFor(gr, &req)
	req.Finished = func(i int, p omtx.Prediction) {
		if err := c.store(gr, []int{i}, []omtx.Prediction{p}); err != nil {
			// Stored when the call ends, if it ends.
			logFor(ctx, g.Logger, "batch_id", in.BatchID, "chunk", in.Chunk).Warn("ligand not stored as it finished", "job_id", part[i].JobID, "error", err)
		}
	}
	preds, err := g.run(ctx, c.pred, req, c.details)
	if err != nil {
		return err
	}
	if len(preds) != len(part) {
		return fmt.Errorf("predict: model returned %d predictions for %d ligands", len(preds), len(part))
	}
	var left []int
	for i := range part {
		if !gr.stored[i] {
			left = append(left, i)
		}
	}
	if len(left) == 0 {
		return nil
	}
	leftPreds := make([]omtx.Prediction, len(left))
	for k, i := range left {
		leftPreds[k] = preds[i]
	}
	return c.store(gr, left, leftPreds)
}

// store records the outcome of the group's ligands idx (their predictions
// preds): each ligand's files, the group's log, and the documents in one
// write. Only ligands no one else finished meanwhile (a cancel, or a
// retried attempt) are stored: a terminal status is never overwritten.
func (c *chunkRun) store(gr *group, idx []int, preds []omtx.Prediction) error {
	g, in, ctx := c.g, c.in, c.ctx
	// Asked at each store: a model that fetched its weights during the
	// run (Boltz on a cold cache) names them only once it has them.
	model := c.pred.Info()
	ids := make([]string, len(idx))
	for k, i := range idx {
		ids[k] = gr.part[i].JobID
	}
	fresh, err := g.Jobs.GetMany(ctx, ids)
	if err != nil {
		return storeErr("re-read chunk", err)
	}
	var keep []*omtx.Job
	var kept []int
	for k, i := range idx {
		d := gr.part[i]
		if fresh[k] != nil && fresh[k].Status.Terminal() {
			d.Status = fresh[k].Status
			gr.stored[i] = true
			continue
		}
		p := preds[k]
		folder := omtx.BatchChildPrefix(in.BatchID, d.JobID)
		gr.log.Printf("ligand %d %s (%s):", derefIndex(d.BatchIndex), d.JobID, d.InputData.LigandName)
		for _, w := range d.Warnings {
			gr.log.Printf("  warning: %s", w)
		}
		now := g.now()
		if p.Error != "" {
			gr.log.Printf("  rejected by the model: %s", p.Error)
			d.Status, d.Error, d.FailureCause = omtx.StatusFailed, "ligand_smiles: "+p.Error, omtx.CauseUserInput
		} else {
			gr.log.Printf("  model %s %s: affinity_pred_value=%.4f %s, affinity_probability_binary=%.4f, confidence=%.4f",
				model.Name, model.Version, p.AffinityPredValue, omtx.UnitsLog10IC50uM, p.AffinityProbabilityBinary, p.ConfidenceScore)
			res, err := g.storeResult(ctx, folder, d.JobID, in.Parameters, ranMSA{in.MSA, gr.msaDigest, gr.chainMSAs}, d.Warnings, model, p, d.InputData.ModelledSMILES, gr.log, gr.logsFile)
			if err != nil {
				return err
			}
			d.Status, d.Results, d.Error = omtx.StatusCompleted, &res, ""
			g.Cache.store(ctx, g.Logger, gr.subject, model, d.JobID, res.ModelledSMILES, res, now)
		}
		d.LogsFile = gr.logsFile
		d.UpdatedAt, d.CompletedAt = now, &now
		keep = append(keep, d)
		kept = append(kept, i)
	}
	if len(keep) == 0 {
		return nil
	}
	// The group's log so far, rewritten at each store: the ligands stored
	// point at it even if the call is killed before it ends.
	if err := g.Blobs.Put(ctx, gr.logsName, "text/plain; charset=utf-8", gr.log.Bytes()); err != nil {
		return storeErr("store logs", err)
	}
	if err := g.Jobs.SetMany(ctx, keep); err != nil {
		return storeErr("record chunk results", err)
	}
	for k, d := range keep {
		gr.stored[kept[k]] = true
		cause := ""
		if d.Status == omtx.StatusFailed {
			cause = omtx.CauseUserInput
		}
		metrics.JobEnded(omtx.JobTypeBatchChild, d.Status, cause, 1)
		logFor(ctx, g.Logger, "batch_id", in.BatchID, "chunk", in.Chunk).Info("ligand stored", "job_id", d.JobID, "status", string(d.Status), "worker", g.WorkerID)
	}
	c.finished(len(keep))
	return nil
}

// checkpointsFor names the group's model inputs after the ligands, hands
// the model the structure checkpoints earlier attempts stored for them
// (Resume), and stores each new one as the model makes it (Structured).
// Checkpoints only save model time: one that cannot be stored or read is
// logged and the ligand runs both passes.
func (c *chunkRun) checkpointsFor(gr *group, req *omtx.PredictRequest) {
	g, in, ctx := c.g, c.in, c.ctx
	log := logFor(ctx, g.Logger, "batch_id", in.BatchID, "chunk", in.Chunk)
	records := make([]string, len(gr.part))
	for i, d := range gr.part {
		if records[i] = recordOf(d); records[i] == "" {
			return
		}
	}
	req.Records = records
	model := modelKey(c.pred.Info())
	attempt := activity.GetInfo(ctx).Attempt
	resume := attempt == 1
	if !resume {
		// A retry after a failure (an interruption starts a new activity,
		// attempt 1): whatever failed may have come from a checkpoint, so
		// the model makes everything again.
		gr.log.Printf("attempt %d after a failure: structure checkpoints are not resumed", attempt)
	}
	found := make([]omtx.Checkpoint, len(gr.part))
	ok := make([]bool, len(gr.part))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16) // blob reads in flight
	for i, d := range gr.part {
		m, stored := c.found[d.JobID]
		if !resume || !stored {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var err error
			if found[i], ok[i], err = c.checkpoints.load(ctx, m, records[i], model); err != nil {
				log.Warn("structure checkpoint not read; the ligand runs both passes", "job_id", d.JobID, "error", err)
			}
		}()
	}
	wg.Wait()
	for i, d := range gr.part {
		if !ok[i] {
			continue
		}
		if req.Resume == nil {
			req.Resume = map[int]omtx.Checkpoint{}
		}
		req.Resume[i] = found[i]
		gr.log.Printf("ligand %d %s resumes from its structure checkpoint", derefIndex(d.BatchIndex), d.JobID)
	}
	if len(req.Resume) > 0 {
		log.Info("resuming ligands from structure checkpoints", "ligands", len(req.Resume), "group", len(gr.part))
	}
	req.Structured = func(i int, cp omtx.Checkpoint) {
		// Asked again: a model that fetched its weights during the call
		// names them only once it has them.
		if err := c.checkpoints.save(ctx, gr.part[i].JobID, c.details().(chunkBeat), activity.GetInfo(ctx).WorkflowExecution.RunID, g.now(), modelKey(c.pred.Info()), cp); err != nil {
			log.Warn("structure checkpoint not stored", "job_id", gr.part[i].JobID, "error", err)
			return
		}
		c.checkpointed()
	}
}

func derefIndex(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}
