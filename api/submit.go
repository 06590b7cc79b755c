package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/jobstart"
	"github.com/omtx-hub/omtx-hub/keys"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// IdempotencyHeader carries the client's idempotency key.
const IdempotencyHeader = "Idempotency-Key"

// maxIdempotencyKey bounds the header's length.
const maxIdempotencyKey = 200

// idempotencyKey reads and bounds the Idempotency-Key header.
func idempotencyKey(c *gin.Context) (string, error) {
	k := strings.TrimSpace(c.GetHeader(IdempotencyHeader))
	if len(k) > maxIdempotencyKey {
		return "", omtx.Errorf(omtx.EInvalid, IdempotencyHeader, "is longer than %d characters", maxIdempotencyKey)
	}
	for _, r := range k {
		if r < 0x21 || r > 0x7e {
			return "", omtx.Errorf(omtx.EInvalid, IdempotencyHeader, "must be printable ASCII without spaces")
		}
	}
	return k, nil
}

// newID derives a job or batch id from the idempotency key when there is
// one, so that resubmitting maps to the same record and workflow;
// otherwise it is random.
func newID(prefix, user, idemKey string) string {
	if idemKey != "" {
		sum := sha256.Sum256([]byte(user + "\x00" + idemKey))
		return prefix + hex.EncodeToString(sum[:8])
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return prefix + hex.EncodeToString(b[:])
}

// requestHash fingerprints what a request asks for: each part's JSON and a
// newline (a streamer writes its own JSON, so a whole library is never
// encoded in memory at once).
func requestHash(parts ...any) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, p := range parts {
		if s, ok := p.(streamer); ok {
			_ = s.WriteJSON(h) // into a hash: cannot fail
			_, _ = h.Write([]byte{'\n'})
			continue
		}
		_ = enc.Encode(p) // plain data: cannot fail
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// streamer writes its own JSON, piece by piece.
type streamer interface {
	WriteJSON(w io.Writer) error
}

// submit runs the one submission flow of jobs and batches, exactly once
// per idempotency key:
//
//  1. create the pending record with a create-if-absent precondition: the
//     lock. Of two requests with one key, one creates it; the other finds
//     it, and gets the same job back if it asked for the same thing (200,
//     duplicate), or 409 if not, even when both arrive together;
//  2. start the workflow, whose id derives from the job id, so starting
//     it twice runs it once. A duplicate starts it again from the stored
//     record, in case the first request died between the two steps.
//
// If the workflow cannot be started, the record is removed, so nothing is
// left pending (the client's retry, with the same key, starts over).
//
// The workflow's start (its id, input, priority) is built by jobstart.Of,
// as reconcile builds it for a record whose workflow is missing.
func (s *Server) submit(c *gin.Context, spec *contract.JobSpec) (status omtx.JobStatus, duplicate bool, err error) {
	ctx := c.Request.Context()
	first, err := jobstart.Of(*spec, s.fleet)
	if err != nil {
		return "", false, err
	}
	doc := spec.Document()
	doc.Temporal = &omtx.TemporalRef{WorkflowID: first.WorkflowID, TaskQueue: first.TaskQueue, GPUClass: spec.GPUClass()}
	start := func(st jobstart.Start, err error) error {
		if err == nil {
			_, err = s.sched.Start(ctx, st)
		}
		return err
	}
	switch err := s.jobs.Create(ctx, doc); {
	case err == nil:
	case omtx.ErrorCode(err) == omtx.EConflict:
		prev, err := s.jobs.Get(ctx, spec.JobID)
		if err != nil {
			return "", false, s.unavailable(c, "the job store", err)
		}
		if prev.RequestHash != spec.RequestHash || prev.UserID != spec.UserID {
			return "", false, omtx.Errorf(omtx.EConflict, IdempotencyHeader, "was already used for a different request")
		}
		if err := start(jobstart.Of(contract.SpecOf(prev), s.fleet)); err != nil {
			return "", false, s.unavailable(c, "the scheduler", err)
		}
		return prev.Status, true, nil
	default:
		return "", false, s.unavailable(c, "the job store", err)
	}
	if err := start(first, nil); err != nil {
		if derr := s.jobs.Delete(context.WithoutCancel(ctx), spec.JobID); derr != nil {
			s.log.ErrorContext(ctx, "remove the record of a job that did not start", "job_id", spec.JobID, "error", derr, "request_id", requestIDOf(c))
		}
		return "", false, s.unavailable(c, "the scheduler", err)
	}
	s.usage.add(spec.UserID, ligandsOf(spec), spec.JobType == omtx.JobTypeBatchParent)
	return omtx.StatusPending, false, nil
}

// ligandsOf counts the ligands a spec runs.
func ligandsOf(spec *contract.JobSpec) int {
	if spec.BatchConfig != nil {
		return spec.BatchConfig.TotalLigands - spec.BatchConfig.InvalidLigands - spec.BatchConfig.FilteredLigands
	}
	return 1
}

// Usage is what a user has in flight.
type Usage struct {
	Ligands int
	Batches int
}

// usageCache remembers each user's usage, so that single predictions do
// not wait on a store query: a submit reads the remembered figure, and when
// it is older than usageTTL a refresh runs in the background (one per user
// at a time). Submits made through this process are added at once. So a
// quota is enforced within a few seconds, and the key's submit rate bounds
// what can slip past in that time. A user's first submit, and every batch
// submission, read afresh.
type usageCache struct {
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]*usageEntry
}

type usageEntry struct {
	u          Usage
	at         time.Time
	refreshing bool
}

const usageTTL = 3 * time.Second

func newUsageCache(now func() time.Time) *usageCache {
	return &usageCache{now: now, entries: map[string]*usageEntry{}}
}

// get returns the remembered usage, and whether the caller should start a
// refresh (it was stale and no refresh runs).
func (u *usageCache) get(user string) (us Usage, ok, refresh bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	e, ok := u.entries[user]
	if !ok {
		return Usage{}, false, false
	}
	if u.now().Sub(e.at) > usageTTL && !e.refreshing {
		e.refreshing, refresh = true, true
	}
	return e.u, true, refresh
}

func (u *usageCache) put(user string, us Usage) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.entries[user] = &usageEntry{u: us, at: u.now()}
	if len(u.entries) > 10000 {
		for k, e := range u.entries {
			if u.now().Sub(e.at) > time.Minute {
				delete(u.entries, k)
			}
		}
	}
}

// done ends a refresh that failed, so a later submit tries again.
func (u *usageCache) done(user string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if e, ok := u.entries[user]; ok {
		e.refreshing = false
	}
}

func (u *usageCache) add(user string, ligands int, batch bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	e, ok := u.entries[user]
	if !ok {
		return
	}
	e.u.Ligands += ligands
	if batch {
		e.u.Batches++
	}
}

// usageOf returns what a user has in flight (see usageCache): fresh reads
// the store now.
func (s *Server) usageOf(c *gin.Context, user string, fresh bool) (Usage, error) {
	if !fresh {
		u, ok, refresh := s.usage.get(user)
		if refresh {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if u, err := s.readUsage(ctx, user); err == nil {
					s.usage.put(user, u)
				} else {
					s.usage.done(user)
					s.log.Warn("refresh a user's usage", "user_id", user, "error", err)
				}
			}()
		}
		if ok {
			return u, nil
		}
	}
	u, err := s.readUsage(c.Request.Context(), user)
	if err != nil {
		return Usage{}, s.unavailable(c, "the job store", err)
	}
	s.usage.put(user, u)
	return u, nil
}

// readUsage counts a user's work not yet final: every job, and every
// ligand of a batch not yet finished.
func (s *Server) readUsage(ctx context.Context, user string) (Usage, error) {
	jobs, batches, err := s.jobs.ActiveOf(ctx, user)
	if err != nil {
		return Usage{}, err
	}
	u := Usage{Ligands: jobs, Batches: len(batches)}
	for _, b := range batches {
		if p := b.Progress; p != nil {
			u.Ligands += max(0, p.Total-p.Completed-p.Failed-p.Cancelled-p.Filtered)
		} else if b.BatchConfig != nil {
			u.Ligands += b.BatchConfig.TotalLigands
		}
	}
	return u, nil
}

// checkQuota refuses work beyond the key's quotas with 429.
func (s *Server) checkQuota(c *gin.Context, k *keys.Key, ligands int, batch bool) bool {
	u, err := s.usageOf(c, k.User, batch)
	if err != nil {
		s.writeError(c, err)
		return false
	}
	if batch && u.Batches >= k.MaxConcurrentBatches {
		s.tooMany(c, time.Minute, "max_concurrent_batches", "this API key may run %d batches at once and has %d running; retry when one ends", k.MaxConcurrentBatches, u.Batches)
		return false
	}
	if u.Ligands+ligands > k.MaxInflightLigands {
		s.tooMany(c, time.Minute, "max_inflight_ligands", "this API key may have %d ligands in flight; it has %d and this request adds %d", k.MaxInflightLigands, u.Ligands, ligands)
		return false
	}
	return true
}

// allowPriority refuses a priority the key may not ask for.
func allowPriority(k *keys.Key, p string) error {
	if !k.Allows(p) {
		return omtx.Errorf(eForbidden, "priority", "this API key may ask for priorities %s, not %q", strings.Join(k.Priorities, ", "), p)
	}
	return nil
}
