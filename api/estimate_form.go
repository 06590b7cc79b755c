package api

import (
	"bytes"
	"mime"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/library"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// isMultipart reports whether the request is a multipart form.
func isMultipart(c *gin.Context) bool {
	mt, _, _ := mime.ParseMediaType(c.GetHeader("Content-Type"))
	return mt == "multipart/form-data"
}

// estimateForm reads an estimate sent as the multipart form that POST
// /api/v1/predict/batch takes (readForm): the library file and the batch's
// fields. The results page prices the very form it then submits. The
// library is parsed as the batch parses it, so a library the batch would
// refuse is refused here with the same rows; with skip_invalid its valid
// ligands are priced and the invalid rows counted. The batch-only fields
// (batch_name, priority, ranking, notify_url) are read and not used.
func (s *Server) estimateForm(c *gin.Context) (req *EstimateRequest, inline *target.Target, invalid int, err error) {
	var b BatchRequest
	upl, err := s.readForm(c, &b)
	if err != nil {
		return nil, nil, 0, err
	}
	if b.Model == nil {
		return nil, nil, 0, omtx.Errorf(omtx.EInvalid, "model", "is required")
	}
	res, err := s.models.Resolve(*b.Model)
	if err != nil {
		return nil, nil, 0, err
	}
	lib, err := library.Parse(upl.name, bytes.NewReader(upl.data), library.Options{SkipInvalid: b.SkipInvalid, Model: res.Model, Sheet: b.Sheet})
	if err != nil {
		return nil, nil, 0, err
	}
	req = &EstimateRequest{
		Model: b.Model, ProteinSequence: b.ProteinSequence, TargetID: b.TargetID, Parameters: b.Parameters, Filters: b.Filters,
		Cache:   b.Cache,
		Ligands: make([]omtx.Ligand, 0, lib.Len()-lib.Invalid()),
	}
	if strings.TrimSpace(b.MSA) != "" {
		// The batch's results are keyed by its uploaded MSA's object.
		req.msaObject = msaUploadObject(b.MSA)
	}
	if b.MaxConcurrent != nil {
		req.MaxConcurrent = *b.MaxConcurrent
	}
	if b.ChunkSize != nil {
		req.ChunkSize = *b.ChunkSize
	}
	_ = lib.Each(func(e library.Entry) error { // the callback never fails
		if e.Error == "" {
			req.Ligands = append(req.Ligands, omtx.Ligand{Name: e.Name, SMILES: e.SMILES})
		}
		return nil
	})
	return req, b.Target, lib.Invalid(), nil
}
