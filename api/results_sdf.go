package api

import (
	"bytes"
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/aggregate/ranking"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/sdf"
)

// Limits of the SD files of a batch.
const (
	// DefaultPosesTop is how many ranked ligands poses.sdf reads the
	// structures of unless top says otherwise: each is one stored file.
	DefaultPosesTop = 100
	// MaxPosesTop bounds top for poses.sdf.
	MaxPosesTop = 1000
	// sdfContentType is the SD file's MIME type, as chemistry software
	// registers it.
	sdfContentType = "chemical/x-mdl-sdfile"
)

// Headers of an SD file's answer.
const (
	headerSDFRecords = "X-Omtx-Records"
	headerSDFSkipped = "X-Omtx-Skipped"
)

// batchResultsSDF answers GET /api/v1/batches/{batch_id}/results.sdf: the
// ranked ligands, best first, each as the modelled molecule's connection
// table (no coordinates: 0,0,0, marked 2D) with its batch_results.csv row
// as data fields, under the same ranking query as .../results.
func (s *Server) batchResultsSDF(c *gin.Context) { s.batchSDF(c, false) }

// batchPosesSDF answers GET /api/v1/batches/{batch_id}/poses.sdf: the
// predicted pose (3D) of each of the top ranked ligands with a structure,
// best first, with the same data fields.
func (s *Server) batchPosesSDF(c *gin.Context) { s.batchSDF(c, true) }

func (s *Server) batchSDF(c *gin.Context, poses bool) {
	b, opts, ok := s.batchRule(c)
	if !ok {
		return
	}
	var err error
	top, limit := MaxResultsDepth, MaxResultsDepth
	if poses {
		top, limit = DefaultPosesTop, MaxPosesTop
	}
	if v := c.Query("top"); v != "" {
		if top, err = strconv.Atoi(v); err != nil || top < 1 || top > limit {
			s.writeError(c, omtx.Errorf(omtx.EInvalid, "top", "must be an integer from 1 to %d", limit))
			return
		}
	}
	agg := ranking.NewAggregator(ranking.Options{BatchID: b.JobID, BatchName: b.BatchName, Ranking: opts, Keep: top})
	if err := s.eachChild(c, b, agg.Add); err != nil {
		s.writeError(c, err)
		return
	}
	agg.Finish()
	ranked := agg.Ranked()
	var out bytes.Buffer
	records, skipped := 0, 0
	for i := range min(top, len(ranked)) {
		child := ranked[i]
		names, values := agg.Cells(i+1, child)
		fields := sdf.Fields(names, values)
		var rec sdf.Record
		if poses {
			if child.Results == nil || !child.Results.StructureAvailable || child.Results.StructureFile == "" {
				skipped++
				continue
			}
			// Where the result says: a ligand completed from the result
			// cache keeps its source job's files, not a folder of its own.
			obj, err := s.blobs.Get(c.Request.Context(), omtx.ObjectOf(child.Results.StructureFile))
			if omtx.ErrorCode(err) == omtx.ENotFound {
				skipped++ // recorded but not stored: no pose to give
				continue
			}
			if err != nil {
				s.writeError(c, s.unavailable(c, "file storage", err))
				return
			}
			rec, err = sdf.PoseRecord(child.InputData.LigandName, obj.Data, modelledSMILES(child), sdf.PoseOptions{}, fields)
			if errors.Is(err, sdf.ErrNoPose) {
				skipped++
				continue
			}
		} else {
			rec, err = sdf.Ligand(child.InputData.LigandName, modelledSMILES(child), fields)
		}
		if err != nil {
			skipped++ // a molecule the writer cannot write (over V2000's counts)
			continue
		}
		_ = sdf.Write(&out, rec) // a bytes.Buffer does not fail
		records++
	}
	name := b.JobID + "_results.sdf"
	if poses {
		name = b.JobID + "_poses.sdf"
	}
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	c.Header("Cache-Control", "private, no-store")
	c.Header(headerSDFRecords, strconv.Itoa(records))
	c.Header(headerSDFSkipped, strconv.Itoa(skipped))
	c.Data(http.StatusOK, sdfContentType, out.Bytes())
}

// modelledSMILES is the molecule the model ran for a child: the results'
// record of it, else the submission's, else the SMILES as submitted.
func modelledSMILES(j *omtx.Job) string {
	if j.Results != nil && j.Results.ModelledSMILES != "" {
		return j.Results.ModelledSMILES
	}
	if j.InputData.ModelledSMILES != "" {
		return j.InputData.ModelledSMILES
	}
	return j.InputData.LigandSMILES
}
