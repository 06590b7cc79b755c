package api

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/library"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Which ligands of a finished batch a rerun runs again.
const (
	RerunFailed             = "failed"
	RerunCancelled          = "cancelled"
	RerunFailedAndCancelled = "failed_and_cancelled"
)

// rerunStatuses are the child statuses each "which" selects.
var rerunStatuses = map[string][]omtx.JobStatus{
	RerunFailed:             {omtx.StatusFailed},
	RerunCancelled:          {omtx.StatusCancelled},
	RerunFailedAndCancelled: {omtx.StatusFailed, omtx.StatusCancelled},
}

// RerunRequest is the body of POST /api/v1/batches/{batch_id}/rerun.
type RerunRequest struct {
	Which string `json:"which"`
}

// rerunPage is how many children one read of a rerun takes.
const rerunPage = 1000

// rerunBatch starts a new batch of a finished batch's failed and/or
// cancelled ligands: the same protein or target, model, run settings,
// chunking, priority and ranking, and each ligand's name, SMILES and
// metadata columns. The new batch records rerun_of; the first lists it
// in reruns. It is a submission like POST /api/v1/predict/batch: the
// Idempotency-Key header maps a retry to the same new batch.
//
// The notify_url of the first batch is not carried over: a rerun is a
// new request, whose key may not sign webhooks.
func (s *Server) rerunBatch(c *gin.Context) {
	first, ok := s.ownBatch(c)
	if !ok {
		return
	}
	var req RerunRequest
	if err := decodeJSON(c, 4<<10, &req); err != nil {
		s.writeError(c, err)
		return
	}
	which := strings.TrimSpace(req.Which)
	statuses, ok := rerunStatuses[which]
	if !ok {
		s.writeError(c, omtx.Errorf(omtx.EInvalid, "which", "must be %s, %s or %s", RerunFailed, RerunCancelled, RerunFailedAndCancelled))
		return
	}
	if !first.Status.Terminal() {
		s.writeError(c, omtx.Errorf(omtx.EConflict, "batch_id", "batch %s is %s: rerun it once it has finished", first.JobID, first.Status))
		return
	}
	k := keyOf(c)
	prio := first.Priority
	if prio == "" && first.BatchConfig != nil {
		prio = first.BatchConfig.Priority
	}
	if err := allowPriority(k, prio); err != nil {
		s.writeError(c, err)
		return
	}
	idem, err := idempotencyKey(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	entries, err := s.rerunEntries(c, first, statuses)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if len(entries) == 0 {
		s.writeError(c, omtx.Errorf(omtx.EInvalid, "which", "batch %s has no %s ligands to rerun", first.JobID, strings.ReplaceAll(which, "_", " ")))
		return
	}
	spec, lib, err := s.rerunSpec(c, first, which, idem, entries)
	if err != nil {
		s.writeLibraryError(c, err)
		return
	}
	if !s.checkQuota(c, k, ligandsOf(spec), true) {
		return
	}
	resp, ok := s.submitBatch(c, spec, lib)
	if !ok {
		return
	}
	resp.TargetID, resp.RerunOf = spec.InputData.TargetID, first.JobID
	if spec.ModelSubstitution != "" {
		resp.Warnings = append(resp.Warnings, spec.ModelSubstitution)
	}
	resp.Warnings = append(resp.Warnings, spec.Warnings...)
	if err := s.linkRerun(c, first.JobID, spec.JobID); err != nil {
		// The new batch runs; only the first batch's link to it is
		// missing. A retry with the same Idempotency-Key adds it.
		s.log.WarnContext(c.Request.Context(), "link a rerun to its first batch", "batch_id", first.JobID, "rerun", spec.JobID, "error", err, "request_id", requestIDOf(c))
		resp.Warnings = append(resp.Warnings, fmt.Sprintf("batch %s could not be updated to list this rerun; retry with the same Idempotency-Key to link it", first.JobID))
	}
	resp.write(c)
}

// rerunEntries reads the first batch's children of the given statuses,
// in batch_index order, page by page, at most library.MaxLigands. A batch
// cancelled before all its children were created has ligands with no
// child at all: cancelled too, they are read from its ligands.json.
func (s *Server) rerunEntries(c *gin.Context, first *omtx.Job, statuses []omtx.JobStatus) ([]omtx.LibraryEntry, error) {
	var seen map[int]bool // every child's index, when ligands with none are wanted
	if first.Status == omtx.StatusCancelled && slices.Contains(statuses, omtx.StatusCancelled) {
		seen = map[int]bool{}
	}
	out, err := s.rerunChildren(c, first, statuses, seen)
	if err != nil {
		return nil, err
	}
	if seen != nil {
		missing, err := s.neverCreated(c, first, seen)
		if err != nil {
			return nil, err
		}
		out = append(out, missing...)
		slices.SortStableFunc(out, func(a, b omtx.LibraryEntry) int { return a.Index - b.Index })
		out = out[:min(len(out), library.MaxLigands)]
	}
	// The new batch's own order: index and row from the first.
	for i := range out {
		out[i].Index, out[i].Row = i, i+1
	}
	return out, nil
}

// neverCreated is the library entries of a cancelled batch that have no
// child document (it was cancelled before PrepareBatch created them),
// with their index in the first batch; seen holds every child's index.
func (s *Server) neverCreated(c *gin.Context, first *omtx.Job, seen map[int]bool) ([]omtx.LibraryEntry, error) {
	if first.BatchConfig != nil && len(seen) >= first.BatchConfig.TotalLigands {
		return nil, nil
	}
	obj, err := s.blobs.Get(c.Request.Context(), omtx.BatchPrefix(first.JobID)+omtx.FileLigands)
	if err != nil {
		return nil, s.unavailable(c, "file storage", err)
	}
	var lib []omtx.LibraryEntry
	if err := json.Unmarshal(obj.Data, &lib); err != nil {
		return nil, fmt.Errorf("read ligands.json of batch %s: %w", first.JobID, err)
	}
	var out []omtx.LibraryEntry
	for _, e := range lib {
		if !seen[e.Index] && e.Error == "" {
			out = append(out, omtx.LibraryEntry{Index: e.Index, Name: e.Name, SMILES: e.SMILES, Metadata: e.Metadata})
		}
	}
	return out, nil
}

// rerunChildren reads the first batch's children of the given statuses,
// in batch_index order, as library entries with their index there. With
// seen it reads every child, recording each one's index in seen, in the
// same one pass.
func (s *Server) rerunChildren(c *gin.Context, first *omtx.Job, statuses []omtx.JobStatus, seen map[int]bool) ([]omtx.LibraryEntry, error) {
	var out []omtx.LibraryEntry
	f := omtx.ChildFilter{BatchID: first.JobID, Statuses: statuses, AfterIndex: -1, Limit: rerunPage}
	if seen != nil {
		f.Statuses = nil
	}
	for {
		page, err := s.jobs.ListChildren(c.Request.Context(), f)
		if err != nil {
			return nil, s.unavailable(c, "the job store", err)
		}
		for _, j := range page {
			if j.BatchIndex != nil && seen != nil {
				seen[*j.BatchIndex] = true
			}
			if len(out) == library.MaxLigands || !slices.Contains(statuses, j.Status) {
				continue
			}
			out = append(out, omtx.LibraryEntry{
				Index: indexOf(j), Name: j.InputData.LigandName, SMILES: j.InputData.LigandSMILES,
				Metadata: j.LigandMetadata,
			})
		}
		if len(page) < rerunPage || page[len(page)-1].BatchIndex == nil {
			return out, nil
		}
		f.AfterIndex = *page[len(page)-1].BatchIndex
	}
}

// rerunSpec is the new batch's spec: the first batch's, with its own id,
// name, time, library and request fingerprint. The GPU routing is the
// first batch's: the largest of a subset of its ligands is no larger.
func (s *Server) rerunSpec(c *gin.Context, first *omtx.Job, which, idem string, entries []omtx.LibraryEntry) (*contract.JobSpec, *library.Library, error) {
	cfg := omtx.BatchConfig{}
	if first.BatchConfig != nil {
		cfg = *first.BatchConfig
	}
	lib, err := library.FromEntries(entries, library.Options{SkipInvalid: cfg.SkipInvalid, Model: first.Model})
	if err != nil {
		return nil, nil, err
	}
	warnings, n := lib.Warnings(20)
	if n > len(warnings) {
		warnings = append(warnings, fmt.Sprintf("and %d more warnings about ligands: see the warnings column of batch_results.csv", n-len(warnings)))
	}
	user := userOf(c)
	spec := contract.SpecOf(first)
	spec.JobID = newID("batch_", user, idem)
	spec.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
	spec.IdempotencyKey, spec.RerunOf = idem, first.JobID
	spec.BatchName = rerunName(first.BatchName, which)
	spec.Warnings = warnings
	spec.NotifyURL, spec.KeyID = "", ""
	cfg.TotalLigands, cfg.InvalidLigands, cfg.LibraryFile = lib.Len(), lib.Invalid(), ""
	spec.BatchConfig = &cfg
	spec.RequestHash = requestHash(user, "rerun", first.JobID, which, lib)
	return &spec, lib, nil
}

// rerunName names a rerun after the batch it re-runs, within
// MaxBatchNameBytes.
func rerunName(name, which string) string {
	suffix := " (rerun of " + strings.ReplaceAll(which, "_", " ") + ")"
	room := MaxBatchNameBytes - len(suffix)
	for len(name) > room {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name + suffix
}

// linkRerun lists rerun in the first batch's reruns, once, keeping at
// most omtx.MaxRerunsListed (the oldest).
func (s *Server) linkRerun(c *gin.Context, firstID, rerun string) error {
	_, err := s.jobs.Update(c.Request.Context(), firstID, func(cur *omtx.Job) (*omtx.Job, error) {
		if cur == nil || slices.Contains(cur.Reruns, rerun) || len(cur.Reruns) >= omtx.MaxRerunsListed {
			return nil, nil
		}
		cur.Reruns = append(cur.Reruns, rerun)
		return cur, nil
	})
	return err
}

// indexOf is a child's batch_index; -1 for none (which no child lacks).
func indexOf(j *omtx.Job) int {
	if j.BatchIndex == nil {
		return -1
	}
	return *j.BatchIndex
}
