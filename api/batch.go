package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/filters"
	"github.com/omtx-hub/omtx-hub/keys"
	"github.com/omtx-hub/omtx-hub/library"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
	"github.com/omtx-hub/omtx-hub/validate"
)

// Batch limits, documented in the README.
const (
	MinMaxConcurrent     = 1
	MaxMaxConcurrent     = 500
	DefaultMaxConcurrent = 10
	MinChunkSize         = 1
	MaxChunkSize         = 64
	DefaultChunkSize     = 16
	// MaxBatchBodyBytes bounds a JSON batch body: 100,000 ligands with
	// names fit.
	MaxBatchBodyBytes = 24 << 20
	MaxBatchNameBytes = 200
	// maxFormField bounds a multipart form field other than the library
	// and the MSA; maxFormParts bounds their number.
	maxFormField = 64 << 10
	maxFormParts = 16
)

// BatchRequest is the body of POST /api/v1/predict/batch (seed 3.2).
type BatchRequest struct {
	Model           *string            `json:"model"`
	BatchName       string             `json:"batch_name"`
	ProteinSequence *string            `json:"protein_sequence"`
	Ligands         []omtx.Ligand      `json:"ligands"`
	MaxConcurrent   *int               `json:"max_concurrent"`
	Priority        string             `json:"priority"`
	Parameters      *RequestParameters `json:"parameters"`
	UserID          string             `json:"user_id"`
	// SkipInvalid keeps invalid rows as failed children instead of
	// refusing the library.
	SkipInvalid bool `json:"skip_invalid"`
	// ChunkSize is how many ligands one GPU activity runs.
	ChunkSize *int `json:"chunk_size"`
	// MSA is an A3M alignment for the protein (with parameters.use_msa).
	MSA string `json:"msa"`
	// NotifyURL receives a signed POST when the batch ends.
	NotifyURL string `json:"notify_url"`
	// TargetID names one of the caller's targets, in place of
	// protein_sequence; each library ligand is the affinity binder in
	// the target's complex.
	TargetID string `json:"target_id"`
	// Target is a target sent inline, stored as a target first.
	Target *target.Target `json:"target"`
	// Sheet names the worksheet of an uploaded .xlsx library (multipart
	// field "sheet"); empty reads the first.
	Sheet string `json:"-"`
	// Ranking is how the screen's results are ordered (omtx.RankingOptions):
	// hit_discovery (the default) or lead_optimization, the binder
	// threshold, and optional confidence floors.
	Ranking         omtx.Ranking `json:"ranking"`
	BinderThreshold float64      `json:"binder_threshold"`
	MinLigandIPTM   *float64     `json:"min_ligand_iptm"`
	MinIPTM         *float64     `json:"min_iptm"`
	// Filters hold ligands back before the GPU (package filters): property
	// windows, shipped SMARTS catalogs and the user's own SMARTS. Multipart
	// forms send it as a JSON string in field "filters".
	Filters *omtx.Filters `json:"filters"`
	// Cache false skips the result-cache lookup: every ligand runs on the
	// GPU (results are still stored).
	Cache *bool `json:"cache"`
}

// rankingOptions are the request's ranking fields.
func (r *BatchRequest) rankingOptions() omtx.RankingOptions {
	return omtx.RankingOptions{Mode: r.Ranking, BinderThreshold: r.BinderThreshold, MinLigandIPTM: r.MinLigandIPTM, MinIPTM: r.MinIPTM}
}

// BatchSubmitResponse answers a batch submission.
type BatchSubmitResponse struct {
	BatchID        string         `json:"batch_id"`
	JobID          string         `json:"job_id"`
	Status         omtx.JobStatus `json:"status"`
	Model          string         `json:"model"`
	RequestedModel string         `json:"requested_model,omitempty"`
	TargetID       string         `json:"target_id,omitempty"`
	TotalLigands   int            `json:"total_ligands"`
	InvalidLigands int            `json:"invalid_ligands"`
	// FilteredLigands counts the ligands the request's filters held back:
	// their children are filtered, never run.
	FilteredLigands int              `json:"filtered_ligands"`
	FilterHits      []omtx.FilterHit `json:"filter_hits,omitempty"`
	RenamedLigands  int              `json:"renamed_ligands"`
	MaxConcurrent   int              `json:"max_concurrent"`
	ChunkSize       int              `json:"chunk_size"`
	Warnings        []string         `json:"warnings,omitempty"`
	// DuplicateStructures lists the molecules given by more than one
	// entry of the library (by chem.Identity), with their rows (1-based), at most
	// maxDuplicateReport of them.
	DuplicateStructures []library.Duplicate `json:"duplicate_structures,omitempty"`
	Duplicate           bool                `json:"duplicate,omitempty"`
	URL                 string              `json:"url"`
	// RerunOf names the batch a rerun re-runs (POST
	// /api/v1/batches/{id}/rerun); empty for a new library.
	RerunOf string `json:"rerun_of,omitempty"`
}

// maxDuplicateReport bounds the duplicate structures a 202 lists.
const maxDuplicateReport = 100

// predictBatch takes the seed's JSON body, or a multipart upload whose
// "library" file is a .csv, .tsv, .txt, .smi, .sdf or .xlsx ligand library and whose other
// form fields are the JSON body's fields (parameters as a JSON string).
// At most MaxConcurrentUploads of these large requests are read at once.
func (s *Server) predictBatch(c *gin.Context) {
	release, ok := s.takeUpload(c)
	if !ok {
		return
	}
	defer release()
	var req BatchRequest
	var upl *upload
	var err error
	if isMultipart(c) {
		upl, err = s.readForm(c, &req)
	} else if err = decodeJSON(c, MaxBatchBodyBytes, &req); err == nil && req.Ligands == nil {
		err = omtx.Errorf(omtx.EInvalid, "ligands", "is required (or upload a library file as multipart field \"library\")")
	}
	if err != nil {
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
	spec, lib, res, err := s.buildBatch(c, k, &req, upl, jt)
	if err != nil {
		s.writeLibraryError(c, err)
		return
	}
	if dry {
		s.writeBatchDryRun(c, spec, res, jt, lib)
		return
	}
	if !s.checkQuota(c, k, ligandsOf(spec), true) {
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
	resp, ok := s.submitBatch(c, spec, lib)
	if !ok {
		return
	}
	resp.TargetID, resp.RenamedLigands = jt.id, lib.Renamed()
	if res.Note != "" {
		resp.Warnings = append(resp.Warnings, res.Note)
	}
	if n := lib.Renamed(); n > 0 {
		resp.Warnings = append(resp.Warnings, fmt.Sprintf("%d duplicate ligand names were made unique by appending \" (2)\", \" (3)\", ...", n))
	}
	if n := lib.GeneratedNames(); n > 0 {
		resp.Warnings = append(resp.Warnings, fmt.Sprintf("%d %s had no name and %s named Ligand_<row>; name a column \"name\" (or Compound ID, ID, Title) to keep yours",
			n, plural(n, "ligand", "ligands"), plural(n, "was", "were")))
	}
	if d := lib.Duplicates(); len(d) > 0 {
		resp.Warnings = append(resp.Warnings, fmt.Sprintf("%d %s more than once in the library (the same molecule, however it is written); duplicate_structures lists their rows",
			len(d), plural(len(d), "structure appears", "structures appear")))
		resp.DuplicateStructures = d[:min(len(d), maxDuplicateReport)]
	}
	resp.Warnings = append(resp.Warnings, spec.Warnings...)
	resp.write(c)
}

// submitBatch stores a batch's library and submits it (submit), and
// answers with what every batch submission says; ok is false when it has
// written an error.
func (s *Server) submitBatch(c *gin.Context, spec *contract.JobSpec, lib *library.Library) (resp BatchSubmitResponse, ok bool) {
	if err := s.storeLibrary(c, spec, lib); err != nil {
		s.writeError(c, err)
		return resp, false
	}
	status, dup, err := s.submit(c, spec)
	if err != nil {
		s.writeError(c, err)
		return resp, false
	}
	cfg := spec.BatchConfig
	return BatchSubmitResponse{
		BatchID: spec.JobID, JobID: spec.JobID, Status: status, Model: spec.Model,
		RequestedModel: spec.RequestedModel, TotalLigands: cfg.TotalLigands, InvalidLigands: cfg.InvalidLigands,
		FilteredLigands: cfg.FilteredLigands, FilterHits: omtx.TopFilterHits(lib.FilterHits(), maxFilterHits),
		MaxConcurrent: cfg.MaxConcurrent, ChunkSize: cfg.ChunkSize, Duplicate: dup, URL: "/api/v1/batches/" + spec.JobID,
	}, true
}

// write answers 202, or 200 for a duplicate submission.
func (r *BatchSubmitResponse) write(c *gin.Context) {
	code := http.StatusAccepted
	if r.Duplicate {
		code = http.StatusOK
	}
	c.JSON(code, r)
}

// takeUpload takes one of the MaxConcurrentUploads slots for reading a
// large submission, or answers 429 and reports false.
func (s *Server) takeUpload(c *gin.Context) (release func(), ok bool) {
	select {
	case s.uploads <- struct{}{}:
		return func() { <-s.uploads }, true
	default:
		s.tooMany(c, 5*time.Second, "", "the API is reading as many large submissions as it takes at once; retry shortly")
		return nil, false
	}
}

// writeLibraryError answers a library with invalid rows with every row's
// problem.
func (s *Server) writeLibraryError(c *gin.Context, err error) {
	var ie *library.InvalidError
	if errors.As(err, &ie) {
		c.AbortWithStatusJSON(http.StatusUnprocessableEntity, ErrorBody{Error: ErrorDetail{
			Code: omtx.EInvalid, Field: "ligands", Message: ie.Error(), Rows: ie.Problems, RequestID: requestIDOf(c),
		}})
		return
	}
	s.writeError(c, err)
}

// upload is a library file read from a multipart form.
type upload struct {
	name string
	data []byte
}

// formFields are the multipart fields of a batch, and their size limits.
var formFields = map[string]int64{
	"model": maxFormField, "batch_name": maxFormField, "protein_sequence": maxFormField, "max_concurrent": maxFormField,
	"priority": maxFormField, "parameters": maxFormField, "user_id": maxFormField, "skip_invalid": maxFormField,
	"chunk_size": maxFormField, "notify_url": maxFormField, "msa": MaxMSABytes, "sheet": maxFormField,
	"ranking": maxFormField, "binder_threshold": maxFormField, "min_ligand_iptm": maxFormField, "min_iptm": maxFormField,
	"target_id": maxFormField, "target": MaxBatchTargetBytes, "filters": maxFormField, "cache": maxFormField,
}

// MaxBatchTargetBytes bounds an inline target's JSON in a multipart batch.
const MaxBatchTargetBytes = 1 << 20

// readForm reads a multipart batch submission part by part, in memory and
// within bounds (no part spills to disk): the library file at most
// library.MaxFileBytes, each field its own limit, at most maxFormParts
// parts.
func (s *Server) readForm(c *gin.Context, req *BatchRequest) (*upload, error) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, library.MaxFileBytes+MaxMSABytes+1<<20)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, omtx.Errorf(eMalformed, "", "malformed multipart form: %v", err)
	}
	values := map[string]string{}
	var lib *upload
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, formError(err)
		}
		if n == maxFormParts {
			return nil, omtx.Errorf(omtx.EInvalid, "", "the form has more than %d parts", maxFormParts)
		}
		name := part.FormName()
		if name == "library" {
			if lib != nil {
				return nil, omtx.Errorf(omtx.EInvalid, "library", "upload exactly one ligand library file")
			}
			data, err := readLimited(part, library.MaxFileBytes)
			if err != nil {
				return nil, fieldError("library", err, fmt.Sprintf("is larger than %d MiB, the limit for a library", library.MaxFileBytes>>20))
			}
			lib = &upload{name: part.FileName(), data: data}
			continue
		}
		limit, ok := formFields[name]
		if !ok {
			return nil, omtx.Errorf(omtx.EInvalid, name, "unknown field")
		}
		if _, dup := values[name]; dup {
			return nil, omtx.Errorf(omtx.EInvalid, name, "is given more than once")
		}
		data, err := readLimited(part, limit)
		if err != nil {
			return nil, fieldError(name, err, fmt.Sprintf("is over %d bytes", limit))
		}
		values[name] = string(data)
	}
	if lib == nil {
		return nil, omtx.Errorf(omtx.EInvalid, "library", "upload exactly one ligand library file (.csv, .tsv or .txt with a SMILES column, .smi, .sdf or .xlsx)")
	}
	if v, ok := values["model"]; ok {
		req.Model = &v
	}
	if v, ok := values["protein_sequence"]; ok {
		req.ProteinSequence = &v
	}
	req.BatchName, req.Priority, req.UserID = values["batch_name"], values["priority"], values["user_id"]
	req.MSA, req.NotifyURL, req.Sheet = values["msa"], values["notify_url"], values["sheet"]
	req.Ranking = omtx.Ranking(values["ranking"])
	for _, f := range []struct {
		key string
		dst **float64
	}{{"binder_threshold", nil}, {"min_ligand_iptm", &req.MinLigandIPTM}, {"min_iptm", &req.MinIPTM}} {
		v, ok := values[f.key]
		if !ok {
			continue
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, omtx.Errorf(omtx.EInvalid, f.key, "must be a number")
		}
		if f.dst == nil {
			req.BinderThreshold = x
		} else {
			*f.dst = &x
		}
	}
	req.TargetID = strings.TrimSpace(values["target_id"])
	if v, ok := values["target"]; ok && strings.TrimSpace(v) != "" {
		var t target.Target
		if err := decodeTarget([]byte(v), &t); err != nil {
			return nil, fieldPrefixed("target.", jsonError(err))
		}
		req.Target = &t
	}
	for _, f := range []struct {
		key string
		dst **int
	}{{"max_concurrent", &req.MaxConcurrent}, {"chunk_size", &req.ChunkSize}} {
		if v, ok := values[f.key]; ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return nil, omtx.Errorf(omtx.EInvalid, f.key, "must be an integer")
			}
			*f.dst = &n
		}
	}
	if v, ok := values["skip_invalid"]; ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return nil, omtx.Errorf(omtx.EInvalid, "skip_invalid", "must be true or false")
		}
		req.SkipInvalid = b
	}
	if v, ok := values["cache"]; ok {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return nil, omtx.Errorf(omtx.EInvalid, "cache", "must be true or false")
		}
		req.Cache = &b
	}
	if v, ok := values["parameters"]; ok && strings.TrimSpace(v) != "" {
		var p RequestParameters
		if err := decodeFormJSON("parameters", v, &p); err != nil {
			return nil, err
		}
		req.Parameters = &p
	}
	if v, ok := values["filters"]; ok && strings.TrimSpace(v) != "" {
		var f omtx.Filters
		if err := decodeFormJSON("filters", v, &f); err != nil {
			return nil, err
		}
		req.Filters = &f
	}
	return lib, nil
}

// decodeFormJSON decodes a form field that holds a JSON object; errors
// name the field inside it ("parameters.seed").
func decodeFormJSON(field, v string, dst any) error {
	dec := json.NewDecoder(strings.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		e := jsonError(err)
		var de *omtx.Error
		if errors.As(e, &de) {
			de.Field = strings.TrimSuffix(field+"."+de.Field, ".")
			de.Code = omtx.EInvalid
		}
		return e
	}
	return nil
}

var errOverLimit = errors.New("over the limit")

// readLimited reads r whole, or fails with errOverLimit past limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errOverLimit
	}
	return data, nil
}

// fieldError names the field of a failed form read.
func fieldError(field string, err error, tooLarge string) error {
	if errors.Is(err, errOverLimit) {
		return omtx.Errorf(omtx.ETooLarge, field, "%s", tooLarge)
	}
	return formError(err)
}

func formError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return omtx.Errorf(omtx.ETooLarge, "", "the form is over %d bytes", mbe.Limit)
	}
	return omtx.Errorf(eMalformed, "", "malformed multipart form")
}

// buildBatch validates a batch request and builds its spec and the
// library to store.
func (s *Server) buildBatch(c *gin.Context, k *keys.Key, req *BatchRequest, upl *upload, jt *jobTarget) (*contract.JobSpec, *library.Library, omtx.Resolution, error) {
	user := k.User
	var res omtx.Resolution
	fail := func(err error) (*contract.JobSpec, *library.Library, omtx.Resolution, error) {
		return nil, nil, res, err
	}
	if req.UserID != "" && req.UserID != user {
		return fail(omtx.Errorf(omtx.EInvalid, "user_id", "does not match the API key's user; omit it or send %q", user))
	}
	if req.Model == nil {
		return fail(omtx.Errorf(omtx.EInvalid, "model", "is required"))
	}
	res, err := s.models.Resolve(*req.Model)
	if err != nil {
		return fail(err)
	}
	if err := jt.checkModel(res); err != nil {
		return fail(err)
	}
	protein, err := validate.ProteinSequence("protein_sequence", jt.protein)
	if err != nil {
		return fail(err)
	}
	params, msaWarning, err := s.parameters(res.Model, req.Parameters, strings.TrimSpace(req.MSA) != "")
	if err != nil {
		return fail(err)
	}
	maxConc := DefaultMaxConcurrent
	if req.MaxConcurrent != nil {
		maxConc = *req.MaxConcurrent
	}
	if maxConc < MinMaxConcurrent || maxConc > MaxMaxConcurrent {
		return fail(omtx.Errorf(omtx.EInvalid, "max_concurrent", "must be between %d and %d", MinMaxConcurrent, MaxMaxConcurrent))
	}
	chunk := s.chunk
	if req.ChunkSize != nil {
		chunk = *req.ChunkSize
		if chunk < MinChunkSize || chunk > MaxChunkSize {
			return fail(omtx.Errorf(omtx.EInvalid, "chunk_size", "must be between %d and %d", MinChunkSize, MaxChunkSize))
		}
	}
	// A chunk is in flight as a whole, so it may not exceed max_concurrent.
	chunk = min(chunk, maxConc)
	prio := strings.ToLower(strings.TrimSpace(req.Priority))
	if prio == "" {
		prio = "normal"
	}
	if !slices.Contains(keys.Priorities, prio) {
		return fail(omtx.Errorf(omtx.EInvalid, "priority", "must be low, normal or high"))
	}
	if err := allowPriority(k, prio); err != nil {
		return fail(err)
	}
	ranking := req.rankingOptions()
	if err := ranking.Validate(); err != nil {
		return fail(err)
	}
	flt, err := filters.Compile("filters", req.Filters)
	if err != nil {
		return fail(err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	name := strings.TrimSpace(req.BatchName)
	if name == "" {
		name = "Batch " + now.Format("2006-01-02 15:04 UTC")
	}
	if len(name) > MaxBatchNameBytes {
		return fail(omtx.Errorf(omtx.EInvalid, "batch_name", "is longer than %d bytes", MaxBatchNameBytes))
	}
	if name, err = validate.LigandName("batch_name", name, name); err != nil {
		return fail(err)
	}
	in := omtx.InputData{ProteinSequence: protein, Parameters: params, NoCache: req.Cache != nil && !*req.Cache}
	jt.apply(&in)
	msaDigest, err := checkMSA(req.MSA, &in)
	if err != nil {
		return fail(err)
	}
	notify, err := s.checkNotify(k, req.NotifyURL)
	if err != nil {
		return fail(err)
	}
	idem, err := idempotencyKey(c)
	if err != nil {
		return fail(err)
	}
	// The library, last: the costly part, each SMILES parsed once.
	opts := library.Options{SkipInvalid: req.SkipInvalid, Model: res.Model, Sheet: req.Sheet}
	if !flt.Empty() {
		opts.Filters = flt
	}
	var lib *library.Library
	if upl != nil {
		lib, err = library.Parse(upl.name, bytes.NewReader(upl.data), opts)
	} else {
		lib, err = library.FromLigands(req.Ligands, opts)
	}
	if err != nil {
		return fail(err)
	}
	warnings, n := lib.Warnings(20)
	if n > len(warnings) {
		warnings = append(warnings, fmt.Sprintf("and %d more warnings about ligands: see the warnings column of batch_results.csv", n-len(warnings)))
	}
	if msaWarning != "" && jt.seed() {
		warnings = append(warnings, msaWarning)
	}
	warnings = append(warnings, jt.warnings...)
	// The batch runs on the class that holds its largest input.
	tok := jt.complexTokens(protein, lib.MaxHeavyAtoms())
	_, step, err := s.route(res, tok)
	if err != nil {
		return fail(err)
	}
	spec := &contract.JobSpec{
		JobID: newID("batch_", user, idem), JobType: omtx.JobTypeBatchParent, UserID: user, BatchName: name,
		Model: res.Model, RequestedModel: res.Requested, ModelSubstitution: res.Note,
		CreatedAt: now, InputData: in, IdempotencyKey: idem, Priority: prio,
		Tokens: tok, GPURouting: []omtx.RoutingStep{step}, Warnings: warnings,
		NotifyURL: notify, KeyID: keyIDIf(notify, k),
		UsesMSA: new(omtx.ModelUsesMSA(res.Model)),
		BatchConfig: &omtx.BatchConfig{
			TotalLigands: lib.Len(), MaxConcurrent: maxConc, Priority: prio, ChunkSize: chunk,
			InvalidLigands: lib.Invalid(), SkipInvalid: req.SkipInvalid,
		},
		RequestHash: requestHash(user, res.Model, res.Requested, protein, params, maxConc, chunk, prio, req.SkipInvalid, msaDigest, notify, ranking.Normalized(), lib),
	}
	spec.BatchConfig.SetRanking(ranking)
	if in.NoCache {
		spec.RequestHash = requestHash(spec.RequestHash, "cache=false")
	}
	if !jt.seed() {
		spec.RequestHash = requestHash(spec.RequestHash, jt.hash)
	}
	if !req.Filters.IsZero() {
		// Only a request with filters hashes them, so that every other
		// request keeps the hash it had before filters existed.
		spec.BatchConfig.Filters, spec.BatchConfig.FilteredLigands = req.Filters, lib.Filtered()
		spec.RequestHash = requestHash(spec.RequestHash, req.Filters)
		if lib.Filtered() == lib.Len()-lib.Invalid() {
			return fail(omtx.Errorf(omtx.EInvalid, "filters", "hold back every valid ligand of the library; the batch would have nothing to run"))
		}
	}
	return spec, lib, res, nil
}

// storeLibrary writes batches/{id}/ligands.json once, before the record,
// streaming it: a request that reuses the key with another library finds
// a different file there (by digest), and is refused.
func (s *Server) storeLibrary(c *gin.Context, spec *contract.JobSpec, lib *library.Library) error {
	name := omtx.BatchPrefix(spec.JobID) + omtx.FileLigands
	ctx := c.Request.Context()
	ours := sha256.New()
	w := s.blobs.CreateIfAbsent(ctx, name, "application/json")
	if err := lib.WriteJSON(io.MultiWriter(w, ours)); err != nil {
		if a, ok := w.(interface{ Abort() }); ok {
			a.Abort()
		}
		return s.unavailable(c, "file storage", err)
	}
	switch err := w.Close(); {
	case err == nil:
	case omtx.ErrorCode(err) == omtx.EConflict:
		// A request with this key got here first; its library must be
		// this one.
		r, err := s.blobs.Open(ctx, name)
		if err != nil {
			return s.unavailable(c, "file storage", err)
		}
		theirs := sha256.New()
		_, err = io.Copy(theirs, io.LimitReader(r, MaxBatchBodyBytes*4))
		r.Close()
		if err != nil {
			return s.unavailable(c, "file storage", err)
		}
		if !bytes.Equal(ours.Sum(nil), theirs.Sum(nil)) {
			return omtx.Errorf(omtx.EConflict, IdempotencyHeader, "was already used for a different request")
		}
	default:
		return s.unavailable(c, "file storage", err)
	}
	spec.BatchConfig.LibraryFile = s.blobs.URI(name)
	return nil
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
		ctx, cancel := contextTimeout(c, 2*time.Second)
		defer cancel()
		if p, err := s.sched.BatchProgress(ctx, contract.WorkflowOf(b)); err == nil {
			view.LiveProgress = &p
		}
	}
	c.JSON(http.StatusOK, view)
}

func (s *Server) listBatchJobs(c *gin.Context) {
	b, ok := s.ownBatch(c)
	if !ok {
		return
	}
	size, err := pageSize(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	f := omtx.ChildFilter{BatchID: b.JobID, AfterIndex: -1, Limit: size + 1}
	if v := c.Query("status"); v != "" {
		if !omtx.JobStatus(v).Valid() {
			s.writeError(c, omtx.Errorf(omtx.EInvalid, "status", "unknown status %q", v))
			return
		}
		f.Statuses = []omtx.JobStatus{omtx.JobStatus(v)}
	}
	if v := c.Query("page_token"); v != "" {
		var t childToken
		if err := decodeToken(v, &t); err != nil || t.After < 0 || t.Batch != b.JobID {
			s.writeError(c, omtx.Errorf(omtx.EInvalid, "page_token", "is not a token from a previous page of this batch"))
			return
		}
		f.AfterIndex = t.After
	}
	jobs, err := s.jobs.ListChildren(c.Request.Context(), f)
	if err != nil {
		s.writeError(c, s.unavailable(c, "the job store", err))
		return
	}
	out := JobList{Jobs: jobs}
	if len(jobs) > size {
		out.Jobs = jobs[:size]
		last := jobs[size-1]
		if last.BatchIndex != nil {
			out.NextPageToken = encodeToken(childToken{Batch: b.JobID, After: *last.BatchIndex})
		}
	}
	if out.Jobs == nil {
		out.Jobs = []*omtx.Job{}
	}
	c.JSON(http.StatusOK, out)
}

// childToken continues a batch's child listing after a batch_index.
type childToken struct {
	Batch string `json:"b"`
	After int    `json:"a"`
}

func (s *Server) getBatchFile(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("name"), "/")
	if !slices.Contains(omtx.BatchFiles, name) {
		s.writeError(c, omtx.Errorf(omtx.ENotFound, "name", "unknown file %q (files: %s)", name, strings.Join(omtx.BatchFiles, ", ")))
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
	if err := s.sched.Cancel(c.Request.Context(), contract.WorkflowOf(job)); err != nil {
		s.writeError(c, s.unavailable(c, "the scheduler", err))
		return
	}
	c.JSON(http.StatusAccepted, CancelResponse{JobID: job.JobID, Status: "cancelling"})
}

// plural picks the word for n of something.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
