package api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/keys"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
	"github.com/omtx-hub/omtx-hub/validate"
)

// PredictRequest is the body of POST /api/v1/predict (seed 3.1). Required
// fields are pointers so that a missing field is told apart from an empty one.
type PredictRequest struct {
	Model           *string            `json:"model"`
	ProteinSequence *string            `json:"protein_sequence"`
	LigandSMILES    *string            `json:"ligand_smiles"`
	LigandName      string             `json:"ligand_name"`
	UserID          string             `json:"user_id"`
	Parameters      *RequestParameters `json:"parameters"`
	// MSA is an A3M alignment for the protein, used instead of computing
	// one (with parameters.use_msa).
	MSA string `json:"msa"`
	// NotifyURL receives a signed POST when the job ends.
	NotifyURL string `json:"notify_url"`
	// TargetID names one of the caller's targets, in place of
	// protein_sequence.
	TargetID string `json:"target_id"`
	// Target is a target sent inline, in place of protein_sequence; it
	// is stored as a target first (content-addressed).
	Target *target.Target `json:"target"`
	// Cache false skips the result-cache lookup: the model runs even if
	// the same prediction was stored (the result is still stored).
	Cache *bool `json:"cache"`
}

// SubmitResponse answers a submission.
type SubmitResponse struct {
	JobID          string         `json:"job_id"`
	Status         omtx.JobStatus `json:"status"`
	Model          string         `json:"model"`
	RequestedModel string         `json:"requested_model,omitempty"`
	TargetID       string         `json:"target_id,omitempty"`
	Warnings       []string       `json:"warnings,omitempty"`
	// Duplicate is true when an Idempotency-Key matched an earlier submission.
	Duplicate bool   `json:"duplicate,omitempty"`
	URL       string `json:"url"`
}

// MaxMSABytes bounds an uploaded MSA.
const MaxMSABytes = 6 << 20

// RequestParameters are a request's parameters as sent. UseMSA shadows
// omtx.Parameters.UseMSA as a pointer, so that a request that leaves
// use_msa out (the deployment's default: the MSA server where one is
// configured) is told apart from one that sends false (single-sequence,
// explicitly); see validate.MSAMode.
type RequestParameters struct {
	omtx.Parameters
	UseMSA *bool `json:"use_msa,omitempty"`
}

// parameters resolves a request's parameters for model: its run settings
// within the deployment's bounds, and its MSA mode (uploaded: the request
// sent an A3M). It returns the warning validate.MSAMode gives, if any.
// rp may be nil.
func (s *Server) parameters(model string, rp *RequestParameters, uploaded bool) (omtx.Parameters, string, error) {
	var p omtx.Parameters
	given := false
	if rp != nil {
		p = rp.Parameters
		if rp.UseMSA != nil {
			p.UseMSA, given = *rp.UseMSA, true
		}
	}
	if err := validate.ParametersWithin("parameters", &p, s.bounds); err != nil {
		return p, "", err
	}
	w, err := validate.MSAMode(model, "parameters", &p, given, uploaded, s.msaServer)
	return p, w, err
}

func (s *Server) predict(c *gin.Context) {
	var req PredictRequest
	if err := decodeJSON(c, s.maxBody, &req); err != nil {
		s.writeError(c, err)
		return
	}
	dry, err := dryRun(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	k := keyOf(c)
	jt, err := s.resolveTarget(c, req.ProteinSequence, req.TargetID, req.Target, req.MSA != "")
	if err != nil {
		s.writeError(c, err)
		return
	}
	spec, res, err := s.buildPredict(c, k, &req, jt)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if dry {
		s.writeDryRun(c, spec, res, jt, spec.InputData.LigandSMILES, append(noteOf(res), spec.Warnings...))
		return
	}
	if !s.checkQuota(c, k, 1, false) {
		return
	}
	if err := s.storeJobTarget(c, jt); err != nil {
		s.writeError(c, err)
		return
	}
	if err := s.storeMSA(c, req.MSA, &spec.InputData); err != nil {
		s.writeError(c, err)
		return
	}
	status, dup, err := s.submit(c, spec)
	if err != nil {
		s.writeError(c, err)
		return
	}
	resp := SubmitResponse{
		JobID: spec.JobID, Status: status, Model: spec.Model, RequestedModel: spec.RequestedModel,
		TargetID: jt.id, Duplicate: dup, URL: "/api/v1/jobs/" + spec.JobID,
	}
	if res.Note != "" {
		resp.Warnings = append(resp.Warnings, res.Note)
	}
	resp.Warnings = append(resp.Warnings, spec.Warnings...)
	code := http.StatusAccepted
	if dup {
		code = http.StatusOK
	}
	c.JSON(code, resp)
}

// buildPredict validates a request and builds its spec.
func (s *Server) buildPredict(c *gin.Context, k *keys.Key, req *PredictRequest, jt *jobTarget) (*contract.JobSpec, omtx.Resolution, error) {
	user := k.User
	var res omtx.Resolution
	if req.UserID != "" && req.UserID != user {
		return nil, res, omtx.Errorf(omtx.EInvalid, "user_id", "does not match the API key's user; omit it or send %q", user)
	}
	if req.Model == nil {
		return nil, res, omtx.Errorf(omtx.EInvalid, "model", "is required")
	}
	res, err := s.models.Resolve(*req.Model)
	if err != nil {
		return nil, res, err
	}
	if err := jt.checkModel(res); err != nil {
		return nil, res, err
	}
	if req.LigandSMILES == nil {
		return nil, res, omtx.Errorf(omtx.EInvalid, "ligand_smiles", "is required")
	}
	in := omtx.InputData{
		ProteinSequence: jt.protein,
		LigandSMILES:    *req.LigandSMILES,
		LigandName:      req.LigandName,
		NoCache:         req.Cache != nil && !*req.Cache,
	}
	params, msaWarning, err := s.parameters(res.Model, req.Parameters, strings.TrimSpace(req.MSA) != "")
	if err != nil {
		return nil, res, err
	}
	in.Parameters = params
	lig, err := validate.InputWithin(res.Model, &in, s.bounds)
	if err != nil {
		return nil, res, err
	}
	msaDigest, err := checkMSA(req.MSA, &in)
	if err != nil {
		return nil, res, err
	}
	notify, err := s.checkNotify(k, req.NotifyURL)
	if err != nil {
		return nil, res, err
	}
	idem, err := idempotencyKey(c)
	if err != nil {
		return nil, res, err
	}
	jt.apply(&in)
	tok := jt.complexTokens(in.ProteinSequence, lig.HeavyAtoms)
	_, step, err := s.route(res, tok)
	if err != nil {
		return nil, res, err
	}
	warnings := append(lig.Warnings, jt.warnings...)
	if msaWarning != "" && jt.seed() {
		warnings = append(warnings, msaWarning)
	}
	spec := &contract.JobSpec{
		JobID: newID("job_", user, idem), JobType: omtx.JobTypeIndividual, UserID: user,
		Model: res.Model, RequestedModel: res.Requested, ModelSubstitution: res.Note,
		CreatedAt: s.now().UTC().Truncate(time.Microsecond), InputData: in,
		IdempotencyKey: idem, Priority: "interactive", Tokens: tok, GPURouting: []omtx.RoutingStep{step},
		Warnings: warnings, NotifyURL: notify, KeyID: keyIDIf(notify, k),
		UsesMSA:     new(omtx.ModelUsesMSA(res.Model)),
		RequestHash: requestHash(user, res.Model, res.Requested, in, msaDigest, notify),
	}
	return spec, res, nil
}

// keyIDIf is the key's id when a webhook will be signed with its secret.
func keyIDIf(notify string, k *keys.Key) string {
	if notify == "" {
		return ""
	}
	return k.ID
}

// checkNotify checks a notify_url against the webhook policy.
func (s *Server) checkNotify(k *keys.Key, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if len(k.WebhookSecret()) == 0 {
		return "", omtx.Errorf(omtx.EInvalid, "notify_url", "this deployment signs no webhooks for this API key")
	}
	u, err := s.webhooks.CheckURL(raw)
	if err != nil {
		return "", omtx.Errorf(omtx.EInvalid, "notify_url", "%s", strings.TrimPrefix(err.Error(), "webhook destination refused: "))
	}
	return u.String(), nil
}

// checkMSA validates an uploaded A3M against the protein and returns its
// digest (part of the request hash), or "" when none was sent.
func checkMSA(a3m string, in *omtx.InputData) (string, error) {
	if strings.TrimSpace(a3m) == "" {
		return "", nil
	}
	if len(a3m) > MaxMSABytes {
		return "", omtx.Errorf(omtx.ETooLarge, "msa", "is over %d bytes", MaxMSABytes)
	}
	if !in.Parameters.UseMSA {
		return "", omtx.Errorf(omtx.EInvalid, "msa", "an MSA was sent but parameters.use_msa is false")
	}
	if _, err := msa.ValidateA3M([]byte(a3m), in.ProteinSequence); err != nil {
		return "", omtx.Errorf(omtx.EInvalid, "msa", "%v", err)
	}
	sum := sha256.Sum256([]byte(a3m))
	return hex.EncodeToString(sum[:]), nil
}

// msaUploadObject is where storeMSA stores an uploaded A3M.
func msaUploadObject(a3m string) string {
	sum := sha256.Sum256([]byte(a3m))
	return "msa/uploads/" + hex.EncodeToString(sum[:]) + ".a3m"
}

// storeMSA stores a checked A3M under msa/uploads/{sha256}.a3m (its
// content's address, so storing it again changes nothing), recording its
// address in the input.
func (s *Server) storeMSA(c *gin.Context, a3m string, in *omtx.InputData) error {
	if strings.TrimSpace(a3m) == "" {
		return nil
	}
	obj := msaUploadObject(a3m)
	if _, err := s.blobs.PutIfAbsent(c.Request.Context(), obj, "text/plain; charset=utf-8", []byte(a3m)); err != nil {
		return s.unavailable(c, "file storage", err)
	}
	in.MSAFile = s.blobs.URI(obj)
	return nil
}
