package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// PredictChunk runs the model on a chunk of a batch in one activity, so the
// model and the protein's features are loaded once for many ligands. It
// runs them in groups of ChunkGroup; each group's results are written as
// soon as it finishes, to batches/{batch_id}/jobs/{job_id}/ and to the
// child documents.
//
// The child documents are the only record of which ligands are done: a
// retried attempt reads them and runs only the ligands that are not yet
// terminal. Heartbeats carry how many of the chunk's ligands this attempt
// has finished, for the Web UI; nothing resumes from them.
//
// When the worker is asked to stop (scale-in, preemption, a deploy), the
// chunk stops at the next group boundary with every finished ligand
// stored, and returns a contract.ErrTypeInterrupted error: the workflow
// runs the rest elsewhere without spending the retries kept for real
// failures.
func (g *GPU) PredictChunk(ctx context.Context, in contract.PredictChunkInput) (contract.ChunkCounts, error) {
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
	now := g.now()
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
	log := logFor(ctx, g.Logger, "batch_id", in.BatchID, "chunk", in.Chunk)
	if len(todo) < len(docs) {
		log.Info("chunk resumed", "already_finished", len(docs)-len(todo))
	}

	group := g.ChunkGroup
	if group <= 0 {
		group = 8
	}
	done := 0
	for start := 0; start < len(todo); start += group {
		if g.stopping(ctx) {
			log.Info("worker stopping: chunk interrupted at a ligand boundary", "finished", done, "left", len(todo)-start)
			return contract.ChunkCounts{}, interrupted(fmt.Sprintf("worker %s stopped after %d of %d ligands of chunk %d; the rest run elsewhere", g.WorkerID, done, len(todo), in.Chunk))
		}
		part := todo[start:min(start+group, len(todo))]
		if err := g.predictGroup(ctx, in, pred, part, done); err != nil {
			if g.stopping(ctx) && errors.Is(err, context.Canceled) {
				return contract.ChunkCounts{}, interrupted(fmt.Sprintf("worker %s stopped during a model run of chunk %d", g.WorkerID, in.Chunk))
			}
			return contract.ChunkCounts{}, err
		}
		done += len(part)
		activity.RecordHeartbeat(ctx, done)
	}
	counts := contract.CountsOf(omtx.CountJobs(docs))
	log.Info("chunk done", "completed", counts.Completed, "failed", counts.Failed, "cancelled", counts.Cancelled)
	return counts, nil
}

// predictGroup runs one group of a chunk through the model and stores each
// ligand's outcome, updating part in place. done is the chunk's progress
// before this group, which the keepalive heartbeats carry while the model
// runs.
func (g *GPU) predictGroup(ctx context.Context, in contract.PredictChunkInput, pred Predictor, part []*omtx.Job, done int) error {
	model := pred.Info()
	ligands := make([]omtx.Ligand, len(part))
	for i, d := range part {
		ligands[i] = omtx.Ligand{Name: d.InputData.LigandName, SMILES: d.InputData.LigandSMILES}
	}
	// The model's own output for the group goes to the group's log.
	groupLog := newJobLog(g.now)
	req, msaDigest, cleanup, err := g.request(ctx, in.TargetID, in.Protein, ligands, in.Parameters, in.MSA, groupLog)
	if err != nil {
		return err
	}
	defer cleanup()
	preds, err := g.run(ctx, pred, req, done)
	if err != nil {
		return err
	}
	if len(preds) != len(part) {
		return fmt.Errorf("predict: model returned %d predictions for %d ligands", len(preds), len(part))
	}
	// Asked again after the run: a model that fetched its weights during
	// it (Boltz on a cold cache) names them only now.
	model = pred.Info()
	// Store only ligands no one else finished meanwhile (a cancel, or a
	// retried attempt): a terminal status is never overwritten.
	fresh, err := g.Jobs.GetMany(ctx, jobIDs(part))
	if err != nil {
		return storeErr("re-read chunk", err)
	}
	info := activity.GetInfo(ctx)
	// One log for the group, beside the children's folders: the model's
	// output is shared by the group, so each ligand points at it
	// (logs_file) rather than carrying a copy in a logs.txt of its own.
	logsName := omtx.BatchGroupLog(in.BatchID, derefIndex(part[0].BatchIndex), derefIndex(part[len(part)-1].BatchIndex))
	logsFile := g.Blobs.URI(logsName)
	groupLog.Printf("batch %s chunk %d attempt %d on worker %s (gpu class %s): one model run for %d ligands",
		in.BatchID, in.Chunk, info.Attempt, g.WorkerID, g.GPUClass, len(part))
	keep := part[:0:0]
	subject := subjectOf(part[0].UserID, req, in.Parameters)
	for i, d := range part {
		if fresh[i] != nil && fresh[i].Status.Terminal() {
			d.Status = fresh[i].Status
			continue
		}
		keep = append(keep, d)
		p := preds[i]
		folder := omtx.BatchChildPrefix(in.BatchID, d.JobID)
		groupLog.Printf("ligand %d %s (%s):", derefIndex(d.BatchIndex), d.JobID, d.InputData.LigandName)
		for _, w := range d.Warnings {
			groupLog.Printf("  warning: %s", w)
		}
		now := g.now()
		if p.Error != "" {
			groupLog.Printf("  rejected by the model: %s", p.Error)
			d.Status, d.Error = omtx.StatusFailed, "ligand_smiles: "+p.Error
		} else {
			groupLog.Printf("  model %s %s: affinity_pred_value=%.4f %s, affinity_probability_binary=%.4f, confidence=%.4f",
				model.Name, model.Version, p.AffinityPredValue, omtx.UnitsLog10IC50uM, p.AffinityProbabilityBinary, p.ConfidenceScore)
			res, err := g.storeResult(ctx, folder, d.JobID, in.Parameters, ranMSA{in.MSA, msaDigest}, d.Warnings, model, p, d.InputData.ModelledSMILES, groupLog, logsFile)
			if err != nil {
				return err
			}
			d.Status, d.Results, d.Error = omtx.StatusCompleted, &res, ""
			g.Cache.store(ctx, g.Logger, subject, model, d.JobID, res.ModelledSMILES, res, now)
		}
		d.LogsFile = logsFile
		d.UpdatedAt, d.CompletedAt = now, &now
	}
	if len(keep) > 0 {
		if err := g.Blobs.Put(ctx, logsName, "text/plain; charset=utf-8", groupLog.Bytes()); err != nil {
			return storeErr("store logs", err)
		}
	}
	if err := g.Jobs.SetMany(ctx, keep); err != nil {
		return storeErr("record chunk results", err)
	}
	for _, d := range keep {
		cause := ""
		if d.Status == omtx.StatusFailed {
			cause = omtx.CauseUserInput
		}
		metrics.JobEnded(omtx.JobTypeBatchChild, d.Status, cause, 1)
	}
	return nil
}

func jobIDs(docs []*omtx.Job) []string {
	ids := make([]string, len(docs))
	for i, d := range docs {
		ids[i] = d.JobID
	}
	return ids
}

func derefIndex(p *int) int {
	if p == nil {
		return -1
	}
	return *p
}
