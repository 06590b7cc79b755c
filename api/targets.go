package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// TargetStore is the target-document storage the API needs. store.Targets
// implements it (and storetest.Targets, in tests).
type TargetStore interface {
	// Create writes a new document, or fails with omtx.EConflict when
	// one exists.
	Create(ctx context.Context, t *omtx.TargetRecord) error
	Get(ctx context.Context, targetID string) (*omtx.TargetRecord, error)
	Delete(ctx context.Context, targetID string) error
	List(ctx context.Context, f omtx.TargetFilter) ([]*omtx.TargetRecord, error)
	// UpdateMSA changes a document atomically (its MSA status); a missing
	// one is an omtx ENotFound error.
	UpdateMSA(ctx context.Context, targetID string, update func(*omtx.TargetRecord)) error
}

// deadlineTargets bounds every target-store call.
type deadlineTargets struct {
	TargetStore
	d time.Duration
}

func (t deadlineTargets) Create(ctx context.Context, r *omtx.TargetRecord) error {
	return withDeadline0(ctx, t.d, func(ctx context.Context) error { return t.TargetStore.Create(ctx, r) })
}

func (t deadlineTargets) Get(ctx context.Context, id string) (*omtx.TargetRecord, error) {
	return withDeadline(ctx, t.d, func(ctx context.Context) (*omtx.TargetRecord, error) { return t.TargetStore.Get(ctx, id) })
}

func (t deadlineTargets) Delete(ctx context.Context, id string) error {
	return withDeadline0(ctx, t.d, func(ctx context.Context) error { return t.TargetStore.Delete(ctx, id) })
}

func (t deadlineTargets) UpdateMSA(ctx context.Context, id string, update func(*omtx.TargetRecord)) error {
	return withDeadline0(ctx, t.d, func(ctx context.Context) error { return t.TargetStore.UpdateMSA(ctx, id, update) })
}

func (t deadlineTargets) List(ctx context.Context, f omtx.TargetFilter) ([]*omtx.TargetRecord, error) {
	return withDeadline(ctx, t.d, func(ctx context.Context) ([]*omtx.TargetRecord, error) { return t.TargetStore.List(ctx, f) })
}

// Target limits of the API's own.
const (
	// MaxTargetNameBytes bounds a target's name.
	MaxTargetNameBytes = 200
	// maxTargetFiles bounds the files sent with one target.
	maxTargetFiles = 16
)

// validTargetID matches the target ids this API makes: "tgt_" and 16 hex
// digits of SHA-256 over the user and the target's content hash.
var validTargetID = regexp.MustCompile(`^tgt_[0-9a-f]{16}$`)

// targetID is a target's id for user: content-addressed, so the same
// content sent twice by one user is one target.
func targetID(user, hash string) string {
	sum := sha256.Sum256([]byte(user + "\x00" + hash))
	return "tgt_" + hex.EncodeToString(sum[:8])
}

// CreateTargetRequest is the JSON body of POST /api/v1/targets.
type CreateTargetRequest struct {
	Name   string         `json:"name"`
	Target *target.Target `json:"target"`
	// Files are the files the target names (A3M, mmCIF, PDB), by name,
	// as text.
	Files map[string]string `json:"files"`
}

// TargetResponse is a target: its document, and the target itself where
// one target is asked for.
type TargetResponse struct {
	omtx.TargetRecord
	Target    *target.Target `json:"target,omitempty"`
	Warnings  []string       `json:"warnings,omitempty"`
	Duplicate bool           `json:"duplicate,omitempty"`
	URL       string         `json:"url"`
}

// TargetList is a page of targets.
type TargetList struct {
	Targets       []*omtx.TargetRecord `json:"targets"`
	NextPageToken string               `json:"next_page_token,omitempty"`
}

// preparedTarget is a checked target, ready to store.
type preparedTarget struct {
	t        *target.Target
	record   *omtx.TargetRecord
	files    map[string][]byte
	warnings []string
}

// fieldPrefixed prefixes the field of a refusal: "target." for a target
// sent inline in a prediction.
func fieldPrefixed(prefix string, err error) error {
	var de *omtx.Error
	if prefix == "" || !errors.As(err, &de) {
		return err
	}
	out := *de
	out.Field = strings.TrimSuffix(prefix+de.Field, ".")
	return &out
}

// prepareTarget checks t (normalizing it) with the files sent beside it
// and builds its document for user. Every refusal names the field, as the
// JSON target spells it, after prefix.
func (s *Server) prepareTarget(user, name string, t *target.Target, files map[string][]byte, prefix string) (*preparedTarget, error) {
	fail := func(err error) (*preparedTarget, error) { return nil, fieldPrefixed(prefix, err) }
	if t == nil {
		return fail(omtx.Errorf(omtx.EInvalid, "", "is required"))
	}
	name = strings.TrimSpace(name)
	if len(name) > MaxTargetNameBytes {
		return nil, omtx.Errorf(omtx.EInvalid, "name", "is longer than %d bytes", MaxTargetNameBytes)
	}
	if err := target.Validate(t, s.counter); err != nil {
		return fail(err)
	}
	if err := s.tlimits.CheckBounds(t, s.counter); err != nil {
		return fail(err)
	}
	sent := make([]string, 0, len(files))
	for n := range files {
		sent = append(sent, n)
	}
	slices.Sort(sent)
	if err := target.CheckFiles(t, sent); err != nil {
		return fail(err)
	}
	named := map[string]bool{}
	for _, f := range t.Files() {
		named[f.Name] = true
		switch f.Kind {
		case target.FileMSA:
			if err := s.tlimits.CheckA3M(f.Field, int64(len(files[f.Name]))); err != nil {
				return fail(err)
			}
		case target.FileTemplate:
			if err := s.tlimits.CheckTemplateFile(f.Field, int64(len(files[f.Name]))); err != nil {
				return fail(err)
			}
		}
	}
	for _, n := range sent {
		if !named[n] {
			return nil, omtx.Errorf(omtx.EInvalid, "files."+n, "was sent, but the target names no file %q", n)
		}
	}
	p := &preparedTarget{t: t, files: files}
	rec := &omtx.TargetRecord{
		UserID: user, Name: name, LigandChain: t.LigandChain, Files: sent,
		CreatedAt: s.now().UTC().Truncate(time.Microsecond),
	}
	digests := map[string]string{}
	for i, c := range t.Chains {
		sum := omtx.TargetChainSummary{IDs: c.IDs, Type: c.Type, Length: len(c.Sequence)}
		if c.MSA != nil {
			sum.MSAMode = c.MSA.Mode
		}
		if c.MSA != nil && c.MSA.Mode == target.MSAFile {
			field := fmt.Sprintf("chains[%d].msa.file", i)
			if _, err := msa.ValidateA3M(files[c.MSA.File], c.Sequence); err != nil {
				return fail(omtx.Errorf(omtx.EInvalid, field, "%s: %v", c.MSA.File, err))
			}
			d := sha256.Sum256(files[c.MSA.File])
			sum.MSADigest = "sha256:" + hex.EncodeToString(d[:])
			digests[c.IDs[0]] = sum.MSADigest
		}
		rec.Chains = append(rec.Chains, sum)
	}
	for i, l := range t.Ligands {
		n, err := s.counter.HeavyAtoms(l.SMILES, l.CCD)
		if err != nil {
			return fail(omtx.Errorf(omtx.EInvalid, fmt.Sprintf("ligands[%d].smiles", i), "%v", err))
		}
		if l.CCD != "" && !chem.KnownCCD(l.CCD) {
			p.warnings = append(p.warnings, fmt.Sprintf(
				"%sligands[%d].ccd: %s is not among the cofactors whose size this deployment knows; it is counted as %d tokens for routing, and Boltz reads it from its CCD",
				prefix, i, l.CCD, chem.DefaultCCDHeavyAtoms))
		}
		rec.Ligands = append(rec.Ligands, omtx.TargetLigandSummary{IDs: l.IDs, CCD: l.CCD, SMILES: l.SMILES, HeavyAtoms: n})
	}
	for _, c := range t.Constraints {
		switch {
		case c.Pocket != nil:
			rec.Constraints = append(rec.Constraints, "pocket")
		case c.Contact != nil:
			rec.Constraints = append(rec.Constraints, "contact")
		case c.Bond != nil:
			rec.Constraints = append(rec.Constraints, "bond")
		}
	}
	for _, tp := range t.Templates {
		rec.Templates = append(rec.Templates, tp.CIF+tp.PDB)
	}
	tok, err := target.Tokens(t, s.counter)
	if err != nil {
		return fail(omtx.Errorf(omtx.EInvalid, "ligands", "%v", err))
	}
	rec.Tokens = tok
	hash, err := target.Hash(t, digests)
	if err != nil {
		return nil, err
	}
	rec.Hash, rec.TargetID = hash, targetID(user, hash)
	p.record = rec
	return p, nil
}

// storeTarget stores a prepared target: its files and target.json
// (immutable, create-if-absent), then its document. A target with the
// same id (the same content, from the same user) is returned as it is,
// with duplicate true, and nothing is written.
func (s *Server) storeTarget(c *gin.Context, p *preparedTarget) (rec *omtx.TargetRecord, duplicate bool, err error) {
	ctx := c.Request.Context()
	id := p.record.TargetID
	switch old, err := s.targets.Get(ctx, id); {
	case err == nil:
		return old, true, nil
	case omtx.ErrorCode(err) != omtx.ENotFound:
		return nil, false, s.unavailable(c, "the target store", err)
	}
	for _, n := range p.record.Files {
		if _, err := s.blobs.PutIfAbsent(ctx, omtx.TargetFile(id, n), "text/plain; charset=utf-8", p.files[n]); err != nil {
			return nil, false, s.unavailable(c, "file storage", err)
		}
	}
	raw, err := json.Marshal(p.t)
	if err != nil {
		return nil, false, fmt.Errorf("encode target: %w", err)
	}
	if _, err := s.blobs.PutIfAbsent(ctx, omtx.TargetObject(id), "application/json", raw); err != nil {
		return nil, false, s.unavailable(c, "file storage", err)
	}
	switch err := s.targets.Create(ctx, p.record); {
	case err == nil:
		return p.record, false, nil
	case omtx.ErrorCode(err) == omtx.EConflict:
		// A concurrent request created it first.
		old, err := s.targets.Get(ctx, id)
		if err != nil {
			return nil, false, s.unavailable(c, "the target store", err)
		}
		return old, true, nil
	default:
		return nil, false, s.unavailable(c, "the target store", err)
	}
}

// hasServerMSA reports whether any protein chain of t gets its MSA from
// the server (a normalized target's default).
func hasServerMSA(t *target.Target) bool { return len(t.ServerChains()) > 0 }

// serverHeteromer reports whether t's server chains have two or more
// distinct sequences: then each runs on Boltz's paired CSV, as the MSA
// activity computes it (msa.ServerSequences), not an A3M.
func serverHeteromer(t *target.Target) bool {
	return len(msa.ServerSequences(t.ServerChains())) > 1
}

// startTargetMSA starts the TargetMSAWorkflow of a stored target whose
// server chains have no MSA status yet: a new target, or one created
// again after its workflow could not start. The API never asks the MSA
// server itself (minutes); the workflow does, once, and records the
// result on rec's document, marked computing here only if nothing was
// recorded yet. When Temporal cannot be reached the target stays as it
// is, usable: its first job computes the MSAs through the same cache.
func (s *Server) startTargetMSA(c *gin.Context, t *target.Target, rec *omtx.TargetRecord) {
	if !s.msaServer || rec.MSAStatus != "" || !hasServerMSA(t) {
		return
	}
	ctx := c.Request.Context()
	st := StartRequest{
		WorkflowID: contract.TargetMSAWorkflowID(rec.TargetID), Workflow: contract.WorkflowTargetMSA,
		TaskQueue: contract.TaskQueueOrchestration, Input: contract.TargetMSAInput{TargetID: rec.TargetID},
		Priority: contract.PriorityKeys["interactive"], FairnessKey: rec.UserID, AllowReuse: true,
	}
	if _, err := s.sched.Start(ctx, st); err != nil {
		s.log.WarnContext(ctx, "target msa workflow not started; the target's first job computes its MSAs", "target_id", rec.TargetID, "error", err, "request_id", requestIDOf(c))
		return
	}
	err := s.targets.UpdateMSA(ctx, rec.TargetID, func(d *omtx.TargetRecord) {
		if d.MSAStatus == "" {
			d.MSAStatus = omtx.TargetMSAComputing
		}
		*rec = *d
	})
	if err != nil {
		s.log.WarnContext(ctx, "mark a target's msa computing", "target_id", rec.TargetID, "error", err, "request_id", requestIDOf(c))
	}
}

// loadTarget reads a stored target's immutable object.
func (s *Server) loadTarget(c *gin.Context, id string) (*target.Target, error) {
	obj, err := s.blobs.Get(c.Request.Context(), omtx.TargetObject(id))
	if err != nil {
		return nil, s.unavailable(c, "file storage", err)
	}
	var t target.Target
	if err := json.Unmarshal(obj.Data, &t); err != nil {
		return nil, fmt.Errorf("decode target %s: %w", id, err)
	}
	t.Normalize()
	return &t, nil
}

// ownTarget loads a target's document and checks that the caller owns
// it. Another user's target is reported as not found, as jobs are.
func (s *Server) ownTarget(c *gin.Context, id string, field string) (*omtx.TargetRecord, error) {
	if s.targets == nil {
		return nil, omtx.Errorf(omtx.EUnavailable, "", "this deployment stores no targets")
	}
	if !validTargetID.MatchString(id) {
		return nil, omtx.Errorf(omtx.ENotFound, field, "no target has this id")
	}
	rec, err := s.targets.Get(c.Request.Context(), id)
	if err == nil && rec.UserID != userOf(c) {
		err = omtx.Errorf(omtx.ENotFound, field, "target %s not found", id)
	}
	if err != nil {
		if omtx.ErrorCode(err) == omtx.ENotFound {
			return nil, omtx.Errorf(omtx.ENotFound, field, "target %s not found", id)
		}
		return nil, s.unavailable(c, "the target store", err)
	}
	return rec, nil
}

// yamlTypes are the media types of a Boltz YAML body.
var yamlTypes = []string{"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}

// createTarget takes a JSON target (CreateTargetRequest), a Boltz YAML
// body (Content-Type application/yaml; name and ligand_chain as query
// parameters), or a multipart form with one "yaml" part, optional "name"
// and "ligand_chain" fields, and the files the YAML names as file parts,
// matched by file name.
func (s *Server) createTarget(c *gin.Context) {
	if s.targets == nil {
		s.writeError(c, omtx.Errorf(omtx.EUnavailable, "", "this deployment stores no targets"))
		return
	}
	p, err := s.readTarget(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	rec, dup, err := s.storeTarget(c, p)
	if err != nil {
		s.writeError(c, err)
		return
	}
	s.startTargetMSA(c, p.t, rec)
	code := http.StatusCreated
	if dup {
		code = http.StatusOK
	}
	c.JSON(code, TargetResponse{
		TargetRecord: *rec, Target: p.t, Warnings: p.warnings, Duplicate: dup, URL: "/api/v1/targets/" + rec.TargetID,
	})
}

// readTarget reads and checks a target in any of createTarget's forms.
func (s *Server) readTarget(c *gin.Context) (*preparedTarget, error) {
	user := userOf(c)
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch {
	case slices.Contains(yamlTypes, mt):
		data, err := readLimited(http.MaxBytesReader(c.Writer, c.Request.Body, int64(s.tlimits.MaxYAMLBytes)+1), int64(s.tlimits.MaxYAMLBytes))
		if err != nil {
			return nil, fieldError("", err, fmt.Sprintf("the YAML is over %d bytes", s.tlimits.MaxYAMLBytes))
		}
		return s.parseTargetYAML(user, c.Query("name"), c.Query("ligand_chain"), data, map[string][]byte{})
	case mt == "multipart/form-data":
		return s.readTargetForm(c, user)
	}
	var req CreateTargetRequest
	if err := decodeJSON(c, s.tlimits.MaxA3MBytes+1<<20, &req); err != nil {
		return nil, err
	}
	if req.Target == nil {
		return nil, omtx.Errorf(omtx.EInvalid, "target", "is required (or send a Boltz YAML as application/yaml)")
	}
	files := make(map[string][]byte, len(req.Files))
	for n, d := range req.Files {
		if !goodFileName(n) {
			return nil, omtx.Errorf(omtx.EInvalid, "files."+n, "is not a plain file name")
		}
		files[n] = []byte(d)
	}
	return s.prepareTarget(user, req.Name, req.Target, files, "target.")
}

// goodFileName is a file name without a path, as a target names it.
func goodFileName(n string) bool {
	return n != "" && n != "." && n != ".." && len(n) <= 255 && !strings.ContainsAny(n, "/\\\x00")
}

// parseTargetYAML reads a Boltz YAML with the files sent beside it.
func (s *Server) parseTargetYAML(user, name, ligandChain string, data []byte, files map[string][]byte) (*preparedTarget, error) {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	t, err := target.ParseYAML(data, target.ParseOptions{
		Files: names, LigandChain: strings.TrimSpace(ligandChain), Counter: s.counter, Limits: &s.tlimits,
	})
	if err != nil {
		return nil, err
	}
	return s.prepareTarget(user, name, t, files, "")
}

// readTargetForm reads a multipart target: the YAML, the fields, the
// files, each within its limit, in memory.
func (s *Server) readTargetForm(c *gin.Context, user string) (*preparedTarget, error) {
	l := s.tlimits
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, int64(l.MaxYAMLBytes)+maxTargetFiles*max(l.MaxA3MBytes, l.MaxTemplateBytes)+1<<20)
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, omtx.Errorf(eMalformed, "", "malformed multipart form: %v", err)
	}
	var yml []byte
	values := map[string]string{}
	files := map[string][]byte{}
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, formError(err)
		}
		if n == maxTargetFiles+4 {
			return nil, omtx.Errorf(omtx.EInvalid, "", "the form has more than %d parts", maxTargetFiles+4)
		}
		switch field := part.FormName(); field {
		case "yaml":
			if yml != nil {
				return nil, omtx.Errorf(omtx.EInvalid, "yaml", "send exactly one Boltz YAML")
			}
			if yml, err = readLimited(part, int64(l.MaxYAMLBytes)); err != nil {
				return nil, fieldError("yaml", err, fmt.Sprintf("is over %d bytes", l.MaxYAMLBytes))
			}
		case "name", "ligand_chain":
			data, err := readLimited(part, maxFormField)
			if err != nil {
				return nil, fieldError(field, err, fmt.Sprintf("is over %d bytes", maxFormField))
			}
			values[field] = string(data)
		default:
			fn := part.FileName()
			if fn == "" {
				return nil, omtx.Errorf(omtx.EInvalid, field, "unknown field (send the files the YAML names as file parts)")
			}
			if !goodFileName(fn) {
				return nil, omtx.Errorf(omtx.EInvalid, "files."+fn, "is not a plain file name")
			}
			if _, dup := files[fn]; dup {
				return nil, omtx.Errorf(omtx.EInvalid, "files."+fn, "is sent more than once")
			}
			if len(files) == maxTargetFiles {
				return nil, omtx.Errorf(omtx.EInvalid, "files", "at most %d files are accepted", maxTargetFiles)
			}
			data, err := readLimited(part, max(l.MaxA3MBytes, l.MaxTemplateBytes))
			if err != nil {
				return nil, fieldError("files."+fn, err, "is over the limit for a file")
			}
			files[fn] = data
		}
	}
	if yml == nil {
		return nil, omtx.Errorf(omtx.EInvalid, "yaml", "is required: the Boltz YAML, as the form part \"yaml\"")
	}
	return s.parseTargetYAML(user, values["name"], values["ligand_chain"], yml, files)
}

func (s *Server) getTarget(c *gin.Context) {
	rec, err := s.ownTarget(c, c.Param("target_id"), "target_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	t, err := s.loadTarget(c, rec.TargetID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, TargetResponse{TargetRecord: *rec, Target: t, URL: "/api/v1/targets/" + rec.TargetID})
}

// targetYAML renders a target as a Boltz input file. A target whose
// constraints name the screened ligand needs that ligand (ligand_smiles)
// for Boltz to accept the file.
func (s *Server) targetYAML(c *gin.Context) {
	rec, err := s.ownTarget(c, c.Param("target_id"), "target_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	t, err := s.loadTarget(c, rec.TargetID)
	if err != nil {
		s.writeError(c, err)
		return
	}
	smiles := strings.TrimSpace(c.Query("ligand_smiles"))
	out, err := target.RenderBoltz(t, smiles)
	if err != nil {
		if smiles == "" {
			err = omtx.Errorf(omtx.EInvalid, "ligand_smiles",
				"this target's constraints name the screened ligand's chain %s; send ligand_smiles to render it with that ligand (%v)", t.LigandChain, err)
		} else {
			err = omtx.Errorf(omtx.EInvalid, "ligand_smiles", "%v", err)
		}
		s.writeError(c, err)
		return
	}
	c.Header("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": rec.TargetID + ".yaml"}))
	c.Data(http.StatusOK, "application/yaml", out)
}

// targetToken continues a user's target listing after a target.
type targetToken struct {
	CreatedAt time.Time `json:"c"`
	TargetID  string    `json:"t"`
}

func (s *Server) listTargets(c *gin.Context) {
	if s.targets == nil {
		s.writeError(c, omtx.Errorf(omtx.EUnavailable, "", "this deployment stores no targets"))
		return
	}
	size, err := pageSize(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	f := omtx.TargetFilter{UserID: userOf(c), Limit: size + 1}
	if v := c.Query("page_token"); v != "" {
		var t targetToken
		if err := decodeToken(v, &t); err != nil || !validTargetID.MatchString(t.TargetID) {
			s.writeError(c, omtx.Errorf(omtx.EInvalid, "page_token", "is not a token from a previous page"))
			return
		}
		f.AfterCreatedAt, f.AfterTargetID = t.CreatedAt, t.TargetID
	}
	recs, err := s.targets.List(c.Request.Context(), f)
	if err != nil {
		s.writeError(c, s.unavailable(c, "the target store", err))
		return
	}
	out := TargetList{Targets: recs}
	if out.Targets == nil {
		out.Targets = []*omtx.TargetRecord{}
	}
	if len(recs) > size {
		out.Targets = recs[:size]
		last := recs[size-1]
		out.NextPageToken = encodeToken(targetToken{CreatedAt: last.CreatedAt, TargetID: last.TargetID})
	}
	c.JSON(http.StatusOK, out)
}

// deleteTarget deletes a target's document: the target leaves the
// user's list and can no longer be named by a new job. Its target.json
// and files stay, immutable, so that jobs already queued or running on
// it finish as submitted; creating the same target again brings the
// document back under the same id.
func (s *Server) deleteTarget(c *gin.Context) {
	rec, err := s.ownTarget(c, c.Param("target_id"), "target_id")
	if err != nil {
		s.writeError(c, err)
		return
	}
	if err := s.targets.Delete(c.Request.Context(), rec.TargetID); err != nil {
		s.writeError(c, s.unavailable(c, "the target store", err))
		return
	}
	c.JSON(http.StatusOK, DeleteTargetResponse{TargetID: rec.TargetID, Status: "deleted"})
}

// DeleteTargetResponse answers DELETE /api/v1/targets/{target_id}.
type DeleteTargetResponse struct {
	TargetID string `json:"target_id"`
	Status   string `json:"status"` // "deleted"
}

// unknownFieldPath finds the first key of raw (in sorted order at each
// level) that the type t does not have, and returns its path as the
// JSON spells it ("chains[0].colour"), or "". It lets a refusal name
// where in a nested target the unknown key is, which encoding/json
// does not say.
func unknownFieldPath(raw []byte, t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	join := func(head, rest string) string {
		if rest == "" || strings.HasPrefix(rest, "[") {
			return head + rest
		}
		return head + "." + rest
	}
	switch t.Kind() {
	case reflect.Struct:
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return "" // not an object: the type reads it itself
		}
		fields := structJSONFields(t)
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			i, ok := fields[k]
			if !ok {
				return k
			}
			if p := unknownFieldPath(m[k], t.Field(i).Type); p != "" {
				return join(k, p)
			}
		}
	case reflect.Slice:
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil {
			return ""
		}
		for i, e := range arr {
			if p := unknownFieldPath(e, t.Elem()); p != "" {
				return join(fmt.Sprintf("[%d]", i), p)
			}
		}
	}
	return ""
}

// decodeTarget decodes a JSON target strictly; an unknown key is named
// by its path (json: unknown field "chains[0].colour").
func decodeTarget(raw []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err != nil && strings.HasPrefix(err.Error(), "json: unknown field ") {
		if p := unknownFieldPath(raw, reflect.TypeOf(dst)); p != "" {
			return fmt.Errorf("json: unknown field %q", p)
		}
	}
	return err
}
