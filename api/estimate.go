package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/filters"
	"github.com/omtx-hub/omtx-hub/library"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/resultcache"
	"github.com/omtx-hub/omtx-hub/target"
	"github.com/omtx-hub/omtx-hub/validate"
)

// Runtime is a planning figure for one model on one GPU class.
type Runtime struct {
	SecondsPerLigand float64
	LoadSeconds      float64 // once per GPU activity (per chunk)
}

// ParseRuntimes reads "model@class=seconds_per_ligand+load_seconds,...".
func ParseRuntimes(spec string) (map[string]Runtime, error) {
	out := map[string]Runtime{}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, val, ok := strings.Cut(part, "=")
		per, load, _ := strings.Cut(val, "+")
		p, err1 := strconv.ParseFloat(per, 64)
		l := 0.0
		var err2 error
		if load != "" {
			l, err2 = strconv.ParseFloat(load, 64)
		}
		if !ok || !strings.Contains(key, "@") || err1 != nil || err2 != nil || p < 0 || l < 0 {
			return nil, fmt.Errorf("runtime estimate %q is not model@class=seconds_per_ligand+load_seconds", part)
		}
		out[strings.TrimSpace(key)] = Runtime{SecondsPerLigand: p, LoadSeconds: l}
	}
	return out, nil
}

// route picks the GPU class for an input and says why.
func (s *Server) route(res omtx.Resolution, n int) (omtx.GPUClassSpec, omtx.RoutingStep, error) {
	if len(s.fleet) == 0 {
		return omtx.GPUClassSpec{Name: res.GPUClass}, omtx.RoutingStep{GPUClass: res.GPUClass, Reason: "default class of the model"}, nil
	}
	c, reason, err := s.fleet.Route(res.GPUClass, n)
	if err != nil {
		return c, omtx.RoutingStep{}, err
	}
	return c, omtx.RoutingStep{GPUClass: c.Name, Reason: reason, At: s.now().UTC().Format("2006-01-02T15:04:05Z07:00")}, nil
}

// EstimateRequest is the body of POST /api/v1/estimate: a single request
// (ligand_smiles) or a batch (ligands, or just num_ligands).
type EstimateRequest struct {
	Model           *string            `json:"model"`
	ProteinSequence *string            `json:"protein_sequence"`
	LigandSMILES    string             `json:"ligand_smiles"`
	Ligands         []omtx.Ligand      `json:"ligands"`
	NumLigands      int                `json:"num_ligands"`
	MaxConcurrent   int                `json:"max_concurrent"`
	ChunkSize       int                `json:"chunk_size"`
	Parameters      *RequestParameters `json:"parameters"`
	// TargetID names one of the caller's targets, in place of
	// protein_sequence: the estimate is for its whole complex.
	TargetID string `json:"target_id"`
	// Filters are a batch's filters (BatchRequest.Filters), applied to
	// the listed ligands as the batch would apply them.
	Filters *omtx.Filters `json:"filters"`
	// Cache false prices every listed ligand, as a batch that skips the
	// result cache runs them all.
	Cache *bool `json:"cache"`
	// msaObject is the uploaded MSA a form estimate's batch would run
	// with (its object), which its results are cached under.
	msaObject string
}

// maxFilterHits is how many rules an estimate or a batch's 202 lists.
const maxFilterHits = 10

// EstimateResponse is a cost and time estimate.
type EstimateResponse struct {
	Model          string `json:"model"`
	RequestedModel string `json:"requested_model,omitempty"`
	GPUClass       string `json:"gpu_class"`
	RoutingReason  string `json:"routing_reason"`
	Tokens         int    `json:"tokens"`
	// Ligands counts every ligand; FilteredLigands those the filters
	// would hold back, by rule in FilterHits (the most frequent first, at
	// most 10). Chunks, GPU seconds, cost and wall time are for the
	// others, the ligands that would run.
	Ligands          int              `json:"ligands"`
	FilteredLigands  int              `json:"filtered_ligands"`
	FilterHits       []omtx.FilterHit `json:"filter_hits,omitempty"`
	Chunks           int              `json:"chunks"`
	SecondsPerLigand float64          `json:"seconds_per_ligand"`
	LoadSeconds      float64          `json:"model_load_seconds_per_chunk"`
	GPUSeconds       float64          `json:"gpu_seconds"`
	PricePerGPUHour  float64          `json:"price_per_gpu_hour"`
	CostUSD          float64          `json:"cost_usd"`
	CostPerLigandUSD float64          `json:"cost_per_ligand_usd"`
	WallSeconds      float64          `json:"wall_seconds"`
	Basis            string           `json:"basis"`
	// ModelSubstitution says another model would serve the request than
	// the one asked for, and ModelNote what the served model is (the
	// baseline: a ligand-only model).
	ModelSubstitution string `json:"model_substitution,omitempty"`
	ModelNote         string `json:"model_note,omitempty"`
	// InvalidLigands counts an uploaded library's invalid rows, kept as
	// failed ligands with skip_invalid and not priced.
	InvalidLigands int `json:"invalid_ligands,omitempty"`
	// CacheHitsExpected counts the listed ligands the result cache would
	// serve now (the lookup a batch makes, per user unless shared); they
	// are not priced. Absent when it cannot be said: no cache, no listed
	// ligands, cache false, or a lookup that failed.
	CacheHitsExpected *int `json:"cache_hits_expected,omitempty"`
}

// estimate takes an EstimateRequest as JSON, or the batch's multipart
// form with its library file (estimateForm).
func (s *Server) estimate(c *gin.Context) {
	req := &EstimateRequest{}
	var inline *target.Target
	invalid := 0
	var err error
	if isMultipart(c) {
		release, ok := s.takeUpload(c)
		if !ok {
			return
		}
		defer release()
		req, inline, invalid, err = s.estimateForm(c)
	} else {
		err = decodeJSON(c, MaxBatchBodyBytes, req)
	}
	if err != nil {
		s.writeLibraryError(c, err)
		return
	}
	jt, err := s.resolveTarget(c, req.ProteinSequence, req.TargetID, inline, false)
	if err != nil {
		s.writeError(c, err)
		return
	}
	out, err := s.buildEstimate(c, req, jt)
	if err != nil {
		s.writeError(c, err)
		return
	}
	out.InvalidLigands = invalid
	c.JSON(http.StatusOK, out)
}

func (s *Server) buildEstimate(c *gin.Context, req *EstimateRequest, jt *jobTarget) (*EstimateResponse, error) {
	if req.Model == nil {
		return nil, omtx.Errorf(omtx.EInvalid, "model", "is required")
	}
	res, err := s.models.Resolve(*req.Model)
	if err != nil {
		return nil, err
	}
	if err := jt.checkModel(res); err != nil {
		return nil, err
	}
	protein, err := validate.ProteinSequence("protein_sequence", jt.protein)
	if err != nil {
		return nil, err
	}
	flt, err := filters.Compile("filters", req.Filters)
	if err != nil {
		return nil, err
	}
	if !flt.Empty() && len(req.Ligands) == 0 {
		return nil, omtx.Errorf(omtx.EInvalid, "filters", "apply to listed ligands: send ligands")
	}
	if len(req.Ligands) > library.MaxLigands {
		return nil, omtx.Errorf(omtx.ETooLarge, "ligands", "lists %d ligands; a batch holds at most %d", len(req.Ligands), library.MaxLigands)
	}
	if req.NumLigands < 0 || req.NumLigands > library.MaxLigands {
		return nil, omtx.Errorf(omtx.EInvalid, "num_ligands", "must be between 1 and %d", library.MaxLigands)
	}
	most, listed, filtered := 0, 0, 0
	hits := map[string]int{}
	var modelled []string // of the ligands that would run, for the cache
	switch {
	case req.LigandSMILES != "":
		l, err := validate.LigandFor(res.Model, "ligand_smiles", req.LigandSMILES)
		if err != nil {
			return nil, err
		}
		most, listed = l.HeavyAtoms, 1
		modelled = append(modelled, l.ModelledSMILES)
	case len(req.Ligands) > 0:
		for i, lig := range req.Ligands {
			l, err := validate.LigandFor(res.Model, fmt.Sprintf("ligands[%d].smiles", i), lig.SMILES)
			if err != nil {
				return nil, err
			}
			if rule, _ := library.Filter(flt, l.ModelledSMILES); rule != "" {
				filtered++
				hits[rule]++
				continue
			}
			most = max(most, l.HeavyAtoms)
			modelled = append(modelled, l.ModelledSMILES)
		}
		listed = len(req.Ligands)
		if filtered == listed {
			return nil, omtx.Errorf(omtx.EInvalid, "filters", "hold back every ligand listed; a batch would have nothing to run")
		}
	case req.NumLigands > 0:
	default:
		return nil, omtx.Errorf(omtx.EInvalid, "ligand_smiles", "send ligand_smiles, ligands or num_ligands")
	}
	all := max(listed, req.NumLigands)
	// What can be refused without the store comes before the cache lookup.
	if req.MaxConcurrent != 0 && (req.MaxConcurrent < MinMaxConcurrent || req.MaxConcurrent > MaxMaxConcurrent) {
		return nil, omtx.Errorf(omtx.EInvalid, "max_concurrent", "must be between %d and %d", MinMaxConcurrent, MaxMaxConcurrent)
	}
	if req.ChunkSize != 0 && (req.ChunkSize < MinChunkSize || req.ChunkSize > MaxChunkSize) {
		return nil, omtx.Errorf(omtx.EInvalid, "chunk_size", "must be between %d and %d", MinChunkSize, MaxChunkSize)
	}
	tok := jt.complexTokens(protein, most)
	class, step, err := s.route(res, tok)
	if err != nil {
		return nil, err
	}
	rt, ok := s.runtimes[res.Model+"@"+class.Name]
	if !ok {
		return nil, omtx.Errorf(omtx.EUnavailable, "model", "no runtime figures for %s on %s (OMTX_RUNTIME_ESTIMATES)", res.Model, class.Name)
	}
	var cached *int
	if len(modelled) > 0 && (req.Cache == nil || *req.Cache) {
		cached = s.expectedHits(c, res.Model, protein, jt.id, req.msaObject, req.Parameters, modelled)
	}
	n := all - filtered // the ligands that would run on a GPU
	if cached != nil {
		n -= min(*cached, n)
	}
	conc := req.MaxConcurrent
	if conc == 0 {
		conc = 1
		if n > 1 {
			conc = DefaultMaxConcurrent
		}
	}
	chunk := req.ChunkSize
	if chunk == 0 {
		chunk = s.chunk
	}
	chunk = min(chunk, conc, max(n, 1))
	chunks := (n + chunk - 1) / chunk
	gpuSec := float64(n)*rt.SecondsPerLigand + float64(chunks)*rt.LoadSeconds
	window := max(1, conc/chunk)
	perChunk := float64(chunk)*rt.SecondsPerLigand + rt.LoadSeconds
	cost := class.CostUSD(gpuSec)
	return &EstimateResponse{
		Model: res.Model, RequestedModel: res.Requested, GPUClass: class.Name, RoutingReason: step.Reason,
		ModelSubstitution: res.Note, ModelNote: omtx.ModelNote(res.Model), CacheHitsExpected: cached,
		Tokens: tok, Ligands: all, FilteredLigands: filtered, FilterHits: omtx.TopFilterHits(hits, maxFilterHits), Chunks: chunks,
		SecondsPerLigand: rt.SecondsPerLigand, LoadSeconds: rt.LoadSeconds,
		GPUSeconds: round(gpuSec, 3), PricePerGPUHour: class.PricePerHour,
		CostUSD: round(cost, 6), CostPerLigandUSD: round(cost/float64(max(n, 1)), 8),
		WallSeconds: round(math.Ceil(float64(chunks)/float64(window))*perChunk, 1),
		Basis: "planning figures (OMTX_RUNTIME_ESTIMATES) for this model and GPU class, assuming enough GPU workers for max_concurrent; " +
			"queueing and MSA computation are not included; results record the measured GPU seconds and cost",
	}, nil
}

func round(v float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(v*p) / p
}

// expectedHits counts the ligands (their modelled SMILES) the result
// cache would serve a batch of this user, model, target and parameters
// now; nil when that cannot be said (no cache, or a lookup that failed:
// the estimate then prices every ligand).
func (s *Server) expectedHits(c *gin.Context, model, protein, targetID, msaObject string, rp *RequestParameters, modelled []string) *int {
	if s.finder == nil {
		return nil
	}
	params, _, err := s.parameters(model, rp, msaObject != "")
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.depTimeout)
	defer cancel()
	subject := resultcache.Subject{UserID: keyOf(c).User, Model: model, ProteinSequence: protein, TargetID: targetID,
		MSAObject: msaObject, Parameters: params, ReadsMSA: omtx.ModelUsesMSA(model)}
	p, err := s.finder.Probe(ctx, subject)
	if err == nil && p == nil {
		return new(int) // nothing the cache holds could match
	}
	var found []*omtx.CacheEntry
	if err == nil {
		found, err = s.finder.Lookup(ctx, p, modelled)
	}
	if err != nil {
		s.log.WarnContext(ctx, "estimate: result cache lookup failed", "error", err, "request_id", requestIDOf(c))
		return nil
	}
	n := 0
	for _, e := range found {
		if e != nil {
			n++
		}
	}
	return &n
}

// finderBlobs reads objects for the result cache's lookups through the
// API's blob store (with its deadlines).
type finderBlobs struct{ b BlobStore }

// Exists opens the object's stream and closes it unread: an MSA may be
// megabytes, and Read fetches it once, after.
func (f finderBlobs) Exists(ctx context.Context, name string) (bool, error) {
	r, err := f.b.Open(ctx, name)
	if omtx.ErrorCode(err) == omtx.ENotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, r.Close()
}

func (f finderBlobs) Read(ctx context.Context, name string) ([]byte, error) {
	obj, err := f.b.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	return obj.Data, nil
}
