package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/library"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store"
	"github.com/omtx-hub/omtx-hub/validate"
	"github.com/omtx-hub/omtx-hub/workflows/wfinput"
)

// Batch limits, documented in the README.
const (
	MinMaxConcurrent     = 1
	MaxMaxConcurrent     = 500
	DefaultMaxConcurrent = 10
	MinChunkSize         = 1
	MaxChunkSize         = 64
	DefaultChunkSize     = 16
	// MaxBatchBodyBytes bounds a JSON batch body: 50,000 ligands fit.
	MaxBatchBodyBytes = 16 << 20
	MaxBatchNameBytes = 200
)

// Priorities map to Temporal task priority keys (1 is served first).
var priorities = map[string]int{"high": 1, "normal": 3, "low": 5}

// BatchRequest is the body of POST /api/v1/predict/batch (seed 3.2).
type BatchRequest struct {
	Model           *string          `json:"model"`
	BatchName       string           `json:"batch_name"`
	ProteinSequence *string          `json:"protein_sequence"`
	Ligands         []omtx.Ligand    `json:"ligands"`
	MaxConcurrent   *int             `json:"max_concurrent"`
	Priority        string           `json:"priority"`
	Parameters      *omtx.Parameters `json:"parameters"`
	UserID          string           `json:"user_id"`
	// SkipInvalid keeps invalid rows as failed children instead of
	// refusing the library.
	SkipInvalid bool `json:"skip_invalid"`
	// ChunkSize is how many ligands one GPU activity runs.
	ChunkSize *int `json:"chunk_size"`
	// MSA is an A3M alignment for the protein (with parameters.use_msa).
	MSA string `json:"msa"`
}

// BatchSubmitResponse answers a batch submission.
type BatchSubmitResponse struct {
	BatchID        string         `json:"batch_id"`
	JobID          string         `json:"job_id"`
	Status         omtx.JobStatus `json:"status"`
	Model          string         `json:"model"`
	RequestedModel string         `json:"requested_model,omitempty"`
	TotalLigands   int            `json:"total_ligands"`
	InvalidLigands int            `json:"invalid_ligands"`
	RenamedLigands int            `json:"renamed_ligands"`
	MaxConcurrent  int            `json:"max_concurrent"`
	ChunkSize      int            `json:"chunk_size"`
	Warnings       []string       `json:"warnings,omitempty"`
	Duplicate      bool           `json:"duplicate,omitempty"`
	URL            string         `json:"url"`
}

// predictBatch takes the seed's JSON body, or a multipart upload whose
// "library" file is a .csv or .smi ligand library and whose other form
// fields are the JSON body's fields (parameters as a JSON string).
func (s *Server) predictBatch(c *gin.Context) {
	var req BatchRequest
	var entries []library.Entry
	var err error
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if mt == "multipart/form-data" {
		entries, err = s.readUpload(c, &req)
	} else if err = decodeJSON(c, MaxBatchBodyBytes, &req); err == nil {
		if req.Ligands == nil {
			err = omtx.Errorf(omtx.EInvalid, "ligands", "is required (or upload a library file as multipart field \"library\")")
		} else {
			entries, err = library.FromLigands(req.Ligands, library.Options{SkipInvalid: req.SkipInvalid})
		}
	}
	if err != nil {
		s.writeLibraryError(c, err)
		return
	}
	parent, entriesOut, res, err := s.buildBatch(userOf(c), &req, entries, c.GetHeader(IdempotencyHeader))
	if err == nil {
		err = s.storeMSA(c.Request.Context(), req.MSA, &parent.InputData)
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	renamed := 0
	for _, e := range entries {
		if e.Renamed {
			renamed++
		}
	}
	resp, status, err := s.submitBatch(c.Request.Context(), parent, entriesOut, parent.GPURouting[0].GPUClass, priorities[parent.BatchConfig.Priority])
	if err != nil {
		s.writeError(c, err)
		return
	}
	resp.RenamedLigands = renamed
	if res.Note != "" {
		resp.Warnings = append(resp.Warnings, res.Note)
	}
	if renamed > 0 {
		resp.Warnings = append(resp.Warnings, fmt.Sprintf("%d duplicate ligand names were made unique by appending \" (2)\", \" (3)\", ...", renamed))
	}
	c.JSON(status, resp)
}

// writeLibraryError answers a library with invalid rows with every row's
// problem.
func (s *Server) writeLibraryError(c *gin.Context, err error) {
	var ie *library.InvalidError
	if errors.As(err, &ie) {
		c.AbortWithStatusJSON(http.StatusUnprocessableEntity, errorBody{Error: errorDetail{
			Code: omtx.EInvalid, Field: "ligands", Message: ie.Error(), Rows: ie.Problems,
		}})
		return
	}
	s.writeError(c, err)
}

// readUpload reads a multipart batch submission.
func (s *Server) readUpload(c *gin.Context, req *BatchRequest) ([]library.Entry, error) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, library.MaxFileBytes+1<<20)
	if err := c.Request.ParseMultipartForm(8 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, omtx.Errorf(omtx.ETooLarge, "library", "upload is over %d bytes", library.MaxFileBytes)
		}
		return nil, omtx.Errorf(eMalformed, "", "malformed multipart form: %v", err)
	}
	form := c.Request.MultipartForm
	defer form.RemoveAll()
	known := map[string]bool{"model": true, "batch_name": true, "protein_sequence": true, "max_concurrent": true,
		"priority": true, "parameters": true, "user_id": true, "skip_invalid": true, "chunk_size": true, "msa": true}
	for k := range form.Value {
		if !known[k] {
			return nil, omtx.Errorf(omtx.EInvalid, k, "unknown field")
		}
	}
	get := func(k string) (string, bool) {
		v, ok := form.Value[k]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	if v, ok := get("model"); ok {
		req.Model = &v
	}
	if v, ok := get("protein_sequence"); ok {
		req.ProteinSequence = &v
	}
	req.BatchName, _ = get("batch_name")
	req.Priority, _ = get("priority")
	req.UserID, _ = get("user_id")
	req.MSA, _ = get("msa")
	for _, f := range []struct {
		key string
		dst **int
	}{{"max_concurrent", &req.MaxConcurrent}, {"chunk_size", &req.ChunkSize}} {
		if v, ok := get(f.key); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return nil, omtx.Errorf(omtx.EInvalid, f.key, "must be an integer")
			}
			*f.dst = &n
		}
	}
	if v, ok := get("skip_invalid"); ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return nil, omtx.Errorf(omtx.EInvalid, "skip_invalid", "must be true or false")
		}
		req.SkipInvalid = b
	}
	if v, ok := get("parameters"); ok && strings.TrimSpace(v) != "" {
		var p omtx.Parameters
		dec := json.NewDecoder(strings.NewReader(v))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			e := jsonError(err)
			var de *omtx.Error
			if errors.As(e, &de) {
				de.Field = strings.TrimSuffix("parameters."+de.Field, ".")
				de.Code = omtx.EInvalid
			}
			return nil, e
		}
		req.Parameters = &p
	}
	files := form.File["library"]
	if len(files) != 1 {
		return nil, omtx.Errorf(omtx.EInvalid, "library", "upload exactly one ligand library file (.csv with a name,smiles header, or .smi)")
	}
	fh := files[0]
	f, err := fh.Open()
	if err != nil {
		return nil, omtx.Errorf(eMalformed, "library", "read upload: %v", err)
	}
	defer f.Close()
	return library.Parse(fh.Filename, f, library.Options{SkipInvalid: req.SkipInvalid})
}

// buildBatch validates a batch request and builds the parent document and
// the stored library.
func (s *Server) buildBatch(user string, req *BatchRequest, entries []library.Entry, idemKey string) (*omtx.Job, []omtx.LibraryEntry, omtx.Resolution, error) {
	var res omtx.Resolution
	if req.UserID != "" && req.UserID != user {
		return nil, nil, res, omtx.Errorf(omtx.EInvalid, "user_id", "does not match the API key's user; omit it or send %q", user)
	}
	if req.Model == nil {
		return nil, nil, res, omtx.Errorf(omtx.EInvalid, "model", "is required")
	}
	res, err := s.models.Resolve(*req.Model)
	if err != nil {
		return nil, nil, res, err
	}
	if req.ProteinSequence == nil {
		return nil, nil, res, omtx.Errorf(omtx.EInvalid, "protein_sequence", "is required")
	}
	protein, err := validate.ProteinSequence("protein_sequence", *req.ProteinSequence)
	if err != nil {
		return nil, nil, res, err
	}
	var params omtx.Parameters
	if req.Parameters != nil {
		params = *req.Parameters
	}
	if err := validate.Parameters("parameters", &params); err != nil {
		return nil, nil, res, err
	}
	maxConc := DefaultMaxConcurrent
	if req.MaxConcurrent != nil {
		maxConc = *req.MaxConcurrent
	}
	if maxConc < MinMaxConcurrent || maxConc > MaxMaxConcurrent {
		return nil, nil, res, omtx.Errorf(omtx.EInvalid, "max_concurrent", "must be between %d and %d", MinMaxConcurrent, MaxMaxConcurrent)
	}
	chunk := s.chunkSize
	if req.ChunkSize != nil {
		chunk = *req.ChunkSize
		if chunk < MinChunkSize || chunk > MaxChunkSize {
			return nil, nil, res, omtx.Errorf(omtx.EInvalid, "chunk_size", "must be between %d and %d", MinChunkSize, MaxChunkSize)
		}
	}
	// A chunk is in flight as a whole, so it may not exceed max_concurrent.
	chunk = min(chunk, maxConc)
	prio := strings.ToLower(strings.TrimSpace(req.Priority))
	if prio == "" {
		prio = "normal"
	}
	if _, ok := priorities[prio]; !ok {
		return nil, nil, res, omtx.Errorf(omtx.EInvalid, "priority", "must be low, normal or high")
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	name := strings.TrimSpace(req.BatchName)
	if name == "" {
		name = "Batch " + now.Format("2006-01-02 15:04 UTC")
	}
	if name, err = validate.LigandName("batch_name", name, name); err != nil {
		return nil, nil, res, err
	}
	if len(name) > MaxBatchNameBytes {
		return nil, nil, res, omtx.Errorf(omtx.EInvalid, "batch_name", "is longer than %d bytes", MaxBatchNameBytes)
	}
	idemKey = strings.TrimSpace(idemKey)
	if len(idemKey) > maxIdempotencyKey {
		return nil, nil, res, omtx.Errorf(omtx.EInvalid, IdempotencyHeader, "is longer than %d characters", maxIdempotencyKey)
	}
	stored := make([]omtx.LibraryEntry, len(entries))
	invalid := 0
	var valid []string
	for i, e := range entries {
		stored[i] = omtx.LibraryEntry{Index: e.Index, Row: e.Row, Name: e.Name, SMILES: e.SMILES, Metadata: e.Metadata, Error: e.Error}
		if e.Error != "" {
			invalid++
		} else {
			valid = append(valid, e.SMILES)
		}
	}
	// The batch runs on the class that holds its largest input.
	tok := tokens(protein, valid...)
	_, step, err := s.route(res, tok)
	if err != nil {
		return nil, nil, res, err
	}
	batchID := "batch_" + strings.TrimPrefix(newJobID(user, idemKey), "job_")
	parent := &omtx.Job{
		JobID: batchID, JobType: omtx.JobTypeBatchParent, BatchName: name,
		Model: res.Model, RequestedModel: res.Requested, ModelSubstitution: res.Note,
		Status: omtx.StatusPending, UserID: user, CreatedAt: now, UpdatedAt: now,
		InputData: omtx.InputData{ProteinSequence: protein, Parameters: params},
		BatchConfig: &omtx.BatchConfig{
			TotalLigands: len(entries), MaxConcurrent: maxConc, Priority: prio, ChunkSize: chunk,
			InvalidLigands: invalid, SkipInvalid: req.SkipInvalid,
		},
		Progress:       &omtx.Progress{Total: len(entries), Pending: len(entries) - invalid, Failed: invalid},
		Tokens:         tok,
		GPURouting:     []omtx.RoutingStep{step},
		RequestHash:    requestHash(user, res.Model, res.Requested, protein, params, maxConc, chunk, prio, req.SkipInvalid, stored),
		IdempotencyKey: idemKey,
	}
	return parent, stored, res, nil
}

// submitBatch stores the library, starts the workflow, then writes the
// parent record; as for single jobs, a crash between steps loses nothing
// (the workflow creates a missing record), and a repeated idempotency key
// returns the existing batch.
func (s *Server) submitBatch(ctx context.Context, parent *omtx.Job, entries []omtx.LibraryEntry, gpuClass string, priority int) (BatchSubmitResponse, int, error) {
	cfg := parent.BatchConfig
	resp := BatchSubmitResponse{
		BatchID: parent.JobID, JobID: parent.JobID, Status: parent.Status, Model: parent.Model,
		RequestedModel: parent.RequestedModel, TotalLigands: cfg.TotalLigands, InvalidLigands: cfg.InvalidLigands,
		MaxConcurrent: cfg.MaxConcurrent, ChunkSize: cfg.ChunkSize, URL: "/api/v1/batches/" + parent.JobID,
	}
	in := wfinput.Batch{Parent: *parent, GPUClass: gpuClass, Fleet: s.fleet}
	if parent.IdempotencyKey != "" {
		prev, err := s.jobs.Get(ctx, parent.JobID)
		switch {
		case err == nil:
			if prev.RequestHash != parent.RequestHash {
				return resp, 0, omtx.Errorf(omtx.EConflict, IdempotencyHeader, "was already used for a different request")
			}
			in.Parent = *prev
			if _, err := s.sched.StartBatch(ctx, in, priority); err != nil {
				return resp, 0, err
			}
			resp.Status, resp.Duplicate = prev.Status, true
			return resp, http.StatusOK, nil
		case omtx.ErrorCode(err) != omtx.ENotFound:
			return resp, 0, unavailable("firestore", err)
		}
	}
	lib, err := json.Marshal(entries)
	if err != nil {
		return resp, 0, fmt.Errorf("encode library: %w", err)
	}
	prefix := omtx.BatchPrefix(parent.JobID)
	created, err := s.blobs.PutIfAbsent(ctx, prefix+omtx.FileLigands, "application/json", lib)
	if err != nil {
		return resp, 0, unavailable("storage", err)
	}
	if !created {
		// A request with this key got here first; the library it stored
		// must be this one.
		prev, err := s.blobs.Get(ctx, prefix+omtx.FileLigands)
		if err != nil {
			return resp, 0, unavailable("storage", err)
		}
		if !bytes.Equal(prev.Data, lib) {
			return resp, 0, omtx.Errorf(omtx.EConflict, IdempotencyHeader, "was already used for a different request")
		}
	}
	parent.BatchConfig.LibraryFile = s.blobs.URI(prefix + omtx.FileLigands)
	in.Parent = *parent
	runID, err := s.sched.StartBatch(ctx, in, priority)
	if err != nil {
		return resp, 0, err
	}
	parent.Temporal = &omtx.TemporalRef{WorkflowID: omtx.BatchWorkflowID(parent.JobID), RunID: runID, TaskQueue: omtx.TaskQueueOrchestration, GPUClass: gpuClass}
	if err := s.jobs.Create(ctx, parent); err != nil && omtx.ErrorCode(err) != omtx.EConflict {
		s.log.WarnContext(ctx, "write pending batch record; the workflow will create it", "batch_id", parent.JobID, "error", err)
	}
	return resp, http.StatusAccepted, nil
}

// ownBatch loads a batch parent the caller owns.
func (s *Server) ownBatch(c *gin.Context) (*omtx.Job, bool) {
	id := c.Param("batch_id")
	job, ok := s.ownJob(c, id)
	if !ok {
		return nil, false
	}
	if job.JobType != omtx.JobTypeBatchParent {
		s.writeError(c, omtx.Errorf(omtx.ENotFound, "batch_id", "batch %s not found", id))
		return nil, false
	}
	return job, true
}

// BatchView is a batch parent with, while it runs, the workflow's live
// progress (the document's progress is written every few seconds).
type BatchView struct {
	*omtx.Job
	LiveProgress *omtx.Progress `json:"live_progress,omitempty"`
}

func (s *Server) getBatch(c *gin.Context) {
	b, ok := s.ownBatch(c)
	if !ok {
		return
	}
	view := BatchView{Job: b}
	if !b.Status.Terminal() {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if p, err := s.sched.BatchProgress(ctx, b.JobID); err == nil {
			view.LiveProgress = &p
		}
	}
	c.JSON(http.StatusOK, view)
}

// ChildPage is a page of a batch's children.
type ChildPage struct {
	Jobs     []*omtx.Job `json:"jobs"`
	Page     int         `json:"page"`
	PageSize int         `json:"page_size"`
	HasMore  bool        `json:"has_more"`
}

func (s *Server) listBatchJobs(c *gin.Context) {
	b, ok := s.ownBatch(c)
	if !ok {
		return
	}
	page, size := 1, DefaultPageSize
	for _, q := range []struct {
		key      string
		dst      *int
		min, max int
	}{{"page", &page, 1, 1 << 20}, {"page_size", &size, 1, MaxPageSize}} {
		if v := c.Query(q.key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < q.min || n > q.max {
				s.writeError(c, omtx.Errorf(omtx.EInvalid, q.key, "must be an integer from %d to %d", q.min, q.max))
				return
			}
			*q.dst = n
		}
	}
	f := store.ChildFilter{BatchID: b.JobID, AfterIndex: -1, Offset: (page - 1) * size, Limit: size + 1}
	if v := c.Query("status"); v != "" {
		if !omtx.JobStatus(v).Valid() {
			s.writeError(c, omtx.Errorf(omtx.EInvalid, "status", "unknown status %q", v))
			return
		}
		f.Statuses = []omtx.JobStatus{omtx.JobStatus(v)}
	} else {
		// Without a status filter, pages are ranges of batch_index.
		f.AfterIndex, f.Offset = (page-1)*size-1, 0
	}
	jobs, err := s.jobs.ListChildren(c.Request.Context(), f)
	if err != nil {
		s.writeError(c, unavailable("firestore", err))
		return
	}
	out := ChildPage{Jobs: jobs, Page: page, PageSize: size}
	if len(jobs) > size {
		out.Jobs, out.HasMore = jobs[:size], true
	}
	if out.Jobs == nil {
		out.Jobs = []*omtx.Job{}
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) getBatchFile(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("name"), "/")
	if !slices.Contains(omtx.BatchFiles, name) {
		s.writeError(c, omtx.Errorf(omtx.ENotFound, "name", "unknown file %q (files: %v)", name, omtx.BatchFiles))
		return
	}
	b, ok := s.ownBatch(c)
	if !ok {
		return
	}
	s.serveObject(c, omtx.BatchPrefix(b.JobID)+name)
}

// CancelResponse answers a cancel request.
type CancelResponse struct {
	JobID  string `json:"job_id"`
	Status string `json:"status"`
}

func (s *Server) cancelBatch(c *gin.Context) {
	b, ok := s.ownBatch(c)
	if !ok {
		return
	}
	s.cancel(c, b)
}

func (s *Server) cancelJob(c *gin.Context) {
	job, ok := s.ownJob(c, c.Param("job_id"))
	if !ok {
		return
	}
	if job.JobType == omtx.JobTypeBatchChild {
		s.writeError(c, omtx.Errorf(omtx.EConflict, "job_id", "job %s is part of batch %s; cancel the batch", job.JobID, job.BatchParentID))
		return
	}
	s.cancel(c, job)
}

// cancel asks the job's workflow to stop; the workflow records the
// cancelled statuses.
func (s *Server) cancel(c *gin.Context, job *omtx.Job) {
	if job.Status.Terminal() {
		s.writeError(c, omtx.Errorf(omtx.EConflict, "job_id", "job %s is already %s", job.JobID, job.Status))
		return
	}
	wid := omtx.PredictionWorkflowID(job.JobID)
	if job.JobType == omtx.JobTypeBatchParent {
		wid = omtx.BatchWorkflowID(job.JobID)
	}
	if err := s.sched.Cancel(c.Request.Context(), wid); err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, CancelResponse{JobID: job.JobID, Status: "cancelling"})
}
