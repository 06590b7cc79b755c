package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/validate"
	"github.com/omtx-hub/omtx-hub/workflows/wfinput"
)

// PredictRequest is the body of POST /api/v1/predict (seed 3.1). Required
// fields are pointers so that a missing field is told apart from an empty one.
type PredictRequest struct {
	Model           *string          `json:"model"`
	ProteinSequence *string          `json:"protein_sequence"`
	LigandSMILES    *string          `json:"ligand_smiles"`
	LigandName      string           `json:"ligand_name"`
	UserID          string           `json:"user_id"`
	Parameters      *omtx.Parameters `json:"parameters"`
	// MSA is an A3M alignment for the protein, used instead of computing
	// one (with parameters.use_msa).
	MSA string `json:"msa"`
}

// SubmitResponse answers a submission.
type SubmitResponse struct {
	JobID          string         `json:"job_id"`
	Status         omtx.JobStatus `json:"status"`
	Model          string         `json:"model"`
	RequestedModel string         `json:"requested_model,omitempty"`
	Warnings       []string       `json:"warnings,omitempty"`
	// Duplicate is true when an Idempotency-Key matched an earlier submission.
	Duplicate bool   `json:"duplicate,omitempty"`
	URL       string `json:"url"`
}

// IdempotencyHeader carries the client's idempotency key.
const IdempotencyHeader = "Idempotency-Key"

// maxIdempotencyKey bounds the header's length.
const maxIdempotencyKey = 200

func (s *Server) predict(c *gin.Context) {
	var req PredictRequest
	if err := decodeJSON(c, s.maxBody, &req); err != nil {
		s.writeError(c, err)
		return
	}
	user := userOf(c)
	job, res, err := s.buildJob(user, &req, c.GetHeader(IdempotencyHeader))
	if err != nil {
		s.writeError(c, err)
		return
	}
	if err := s.storeMSA(c.Request.Context(), req.MSA, &job.InputData); err != nil {
		s.writeError(c, err)
		return
	}
	resp, status, err := s.submit(c.Request.Context(), job, job.GPURouting[0].GPUClass)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if res.Note != "" {
		resp.Warnings = append(resp.Warnings, res.Note)
	}
	c.JSON(status, resp)
}

// buildJob validates a request and builds the pending job document.
func (s *Server) buildJob(user string, req *PredictRequest, idemKey string) (*omtx.Job, omtx.Resolution, error) {
	if req.UserID != "" && req.UserID != user {
		return nil, omtx.Resolution{}, omtx.Errorf(omtx.EInvalid, "user_id", "does not match the API key's user; omit it or send %q", user)
	}
	if req.Model == nil {
		return nil, omtx.Resolution{}, omtx.Errorf(omtx.EInvalid, "model", "is required")
	}
	res, err := s.models.Resolve(*req.Model)
	if err != nil {
		return nil, res, err
	}
	if req.ProteinSequence == nil {
		return nil, res, omtx.Errorf(omtx.EInvalid, "protein_sequence", "is required")
	}
	if req.LigandSMILES == nil {
		return nil, res, omtx.Errorf(omtx.EInvalid, "ligand_smiles", "is required")
	}
	in := omtx.InputData{
		ProteinSequence: *req.ProteinSequence,
		LigandSMILES:    *req.LigandSMILES,
		LigandName:      req.LigandName,
	}
	if req.Parameters != nil {
		in.Parameters = *req.Parameters
	}
	if err := validate.InputData(&in); err != nil {
		return nil, res, err
	}
	idemKey = strings.TrimSpace(idemKey)
	if len(idemKey) > maxIdempotencyKey {
		return nil, res, omtx.Errorf(omtx.EInvalid, IdempotencyHeader, "is longer than %d characters", maxIdempotencyKey)
	}
	tok := tokens(in.ProteinSequence, in.LigandSMILES)
	_, step, err := s.route(res, tok)
	if err != nil {
		return nil, res, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	job := &omtx.Job{
		Tokens:            tok,
		GPURouting:        []omtx.RoutingStep{step},
		JobID:             newJobID(user, idemKey),
		JobType:           omtx.JobTypeIndividual,
		Model:             res.Model,
		RequestedModel:    res.Requested,
		ModelSubstitution: res.Note,
		Status:            omtx.StatusPending,
		UserID:            user,
		CreatedAt:         now,
		UpdatedAt:         now,
		InputData:         in,
		IdempotencyKey:    idemKey,
		RequestHash:       requestHash(user, res.Model, res.Requested, in),
	}
	return job, res, nil
}

// newJobID derives the id from the idempotency key when there is one, so
// that resubmitting maps to the same job and workflow id; otherwise it is
// random.
func newJobID(user, idemKey string) string {
	if idemKey != "" {
		sum := sha256.Sum256([]byte(user + "\x00" + idemKey))
		return "job_" + hex.EncodeToString(sum[:8])
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return "job_" + hex.EncodeToString(b[:])
}

// submit starts the workflow, then writes the pending record. In that
// order a crash in between loses nothing: the workflow's first activity
// creates the record if it is missing. A resubmission with the same
// idempotency key returns the existing job.
func (s *Server) submit(ctx context.Context, job *omtx.Job, gpuClass string) (SubmitResponse, int, error) {
	resp := SubmitResponse{
		JobID: job.JobID, Status: job.Status, Model: job.Model, RequestedModel: job.RequestedModel,
		URL: "/api/v1/jobs/" + job.JobID,
	}
	if job.IdempotencyKey != "" {
		prev, err := s.jobs.Get(ctx, job.JobID)
		switch {
		case err == nil:
			if prev.RequestHash != job.RequestHash {
				return resp, 0, omtx.Errorf(omtx.EConflict, IdempotencyHeader, "was already used for a different request")
			}
			// Make sure its workflow exists (the first submit may have
			// crashed after writing the record); starting again is a no-op.
			if _, err := s.sched.StartPrediction(ctx, wfinput.Prediction{Job: *prev, GPUClass: gpuClass, Fleet: s.fleet}); err != nil {
				return resp, 0, err
			}
			resp.Status, resp.Duplicate = prev.Status, true
			return resp, http.StatusOK, nil
		case omtx.ErrorCode(err) != omtx.ENotFound:
			return resp, 0, unavailable("firestore", err)
		}
	}
	runID, err := s.sched.StartPrediction(ctx, wfinput.Prediction{Job: *job, GPUClass: gpuClass, Fleet: s.fleet})
	if err != nil {
		return resp, 0, err
	}
	job.Temporal = &omtx.TemporalRef{WorkflowID: omtx.PredictionWorkflowID(job.JobID), RunID: runID, TaskQueue: omtx.GPUTaskQueue(gpuClass), GPUClass: gpuClass}
	if err := s.jobs.Create(ctx, job); err != nil && omtx.ErrorCode(err) != omtx.EConflict {
		// The workflow creates the record itself; report success, since
		// the job will run.
		s.log.WarnContext(ctx, "write pending job record; the workflow will create it", "job_id", job.JobID, "error", err)
	}
	return resp, http.StatusAccepted, nil
}

// requestHash fingerprints what a request asks for.
func requestHash(parts ...any) string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	for _, p := range parts {
		_ = enc.Encode(p) // plain data: cannot fail
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// unavailable wraps a dependency failure as a 503.
func unavailable(dep string, err error) error {
	var de *omtx.Error
	if errors.As(err, &de) {
		return err
	}
	return &omtx.Error{Code: omtx.EUnavailable, Message: dep + " is unavailable; try again"}
}

// storeMSA validates an uploaded A3M against the protein and stores it
// under msa/uploads/{sha256}.a3m, recording its address in the input.
func (s *Server) storeMSA(ctx context.Context, a3m string, in *omtx.InputData) error {
	if strings.TrimSpace(a3m) == "" {
		return nil
	}
	if !in.Parameters.UseMSA {
		return omtx.Errorf(omtx.EInvalid, "msa", "an MSA was sent but parameters.use_msa is false")
	}
	if _, err := msa.ValidateA3M([]byte(a3m), in.ProteinSequence); err != nil {
		return omtx.Errorf(omtx.EInvalid, "msa", "%v", err)
	}
	sum := sha256.Sum256([]byte(a3m))
	obj := "msa/uploads/" + hex.EncodeToString(sum[:]) + ".a3m"
	if err := s.blobs.Put(ctx, obj, "text/plain; charset=utf-8", []byte(a3m)); err != nil {
		return unavailable("storage", err)
	}
	in.MSAFile = s.blobs.URI(obj)
	return nil
}
