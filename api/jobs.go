package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Page sizes of list calls.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	// maxPageToken bounds a page token's length.
	maxPageToken = 512
)

// validID matches the job and batch ids this API makes.
var validID = regexp.MustCompile(`^(job|batch)_[0-9a-z_]{1,80}$`)

// ownJob loads a job and checks that the caller owns it. Another user's job
// is reported as not found, so ids cannot be probed.
func (s *Server) ownJob(c *gin.Context, jobID string) (*omtx.Job, bool) {
	notFound := omtx.Errorf(omtx.ENotFound, "job_id", "job %s not found", jobID)
	if !validID.MatchString(jobID) {
		// Not an id this API makes; Firestore would reject some as
		// invalid document names.
		s.writeError(c, omtx.Errorf(omtx.ENotFound, "job_id", "no job has this id"))
		return nil, false
	}
	job, err := s.jobs.Get(c.Request.Context(), jobID)
	if err == nil && job.UserID != userOf(c) {
		err = notFound
	}
	if err != nil {
		s.writeError(c, s.unavailable(c, "the job store", err))
		return nil, false
	}
	return job, true
}

func (s *Server) getJob(c *gin.Context) {
	job, ok := s.ownJob(c, c.Param("job_id"))
	if !ok {
		return
	}
	c.JSON(http.StatusOK, job)
}

// jobFiles are the files a job folder may hold (seed 1.3).
var jobFiles = []string{omtx.FileInput, omtx.FileResults, omtx.FileStructureCIF, omtx.FileStructurePDB, omtx.FileLogs}

func (s *Server) getJobFile(c *gin.Context) {
	name := c.Param("name")
	if !slices.Contains(jobFiles, name) {
		s.writeError(c, omtx.Errorf(omtx.ENotFound, "name", "unknown file %q (files: %s)", name, strings.Join(jobFiles, ", ")))
		return
	}
	job, ok := s.ownJob(c, c.Param("job_id"))
	if !ok {
		return
	}
	if r := job.Results; r != nil && r.CacheHit {
		s.serveCacheHitFile(c, job, name)
		return
	}
	if name == omtx.FileLogs && job.LogsFile != "" {
		s.serveObject(c, omtx.ObjectOf(job.LogsFile)) // a batch child's group log
		return
	}
	s.serveObject(c, omtx.JobFolder(job)+name)
}

// cacheHitResults is a cache hit's results.json: the source job's file
// (the model's own outputs, in results.json's layout) with this job's id
// and record, marked as a hit of the source. A source file that is gone
// leaves the id and the record, which is all the record needs.
func (s *Server) cacheHitResults(c *gin.Context, job *omtx.Job) ([]byte, error) {
	doc := map[string]any{}
	if obj := omtx.ObjectOf(job.Results.ResultsFile); obj != "" {
		if src, err := s.blobs.Get(c.Request.Context(), obj); err == nil {
			_ = json.Unmarshal(src.Data, &doc) // a source that does not read as JSON is left out
		} else if omtx.ErrorCode(err) != omtx.ENotFound {
			return nil, s.unavailable(c, "file storage", err)
		}
	}
	doc["job_id"], doc["record"] = job.JobID, job.Results
	doc["cache_hit"], doc["cache_source_job_id"] = true, job.Results.CacheSourceJobID
	return json.MarshalIndent(doc, "", "  ")
}

// serveCacheHitFile serves a file of a job completed from the result
// cache, which ran nothing and wrote no folder of its own: results.json is
// its own results (the source's scores, marked cache_hit with the source's
// id and no GPU time of its own), the structure files are the source's,
// and logs.txt says where the results came from.
func (s *Server) serveCacheHitFile(c *gin.Context, job *omtx.Job, name string) {
	r := job.Results
	attach := func(ct string, data []byte) {
		c.Header("X-Content-Type-Options", "nosniff")
		c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		c.Header("Cache-Control", "private, no-store")
		c.Data(http.StatusOK, ct, data)
	}
	switch name {
	case omtx.FileResults:
		data, err := s.cacheHitResults(c, job)
		if err != nil {
			s.writeError(c, err)
			return
		}
		attach("application/json", data)
	case omtx.FileStructureCIF, omtx.FileStructurePDB:
		src := r.StructureFile
		if name == omtx.FileStructurePDB {
			src = r.StructurePDBFile
		}
		if !r.StructureAvailable || src == "" {
			s.writeError(c, omtx.Errorf(omtx.ENotFound, "name", "job %s has no %s", job.JobID, name))
			return
		}
		s.serveObject(c, omtx.ObjectOf(src))
	case omtx.FileLogs:
		attach("text/plain; charset=utf-8", []byte(fmt.Sprintf(
			"completed from the result cache: the results of job %s (the same target, ligand, settings and model); no model ran for this job\n",
			r.CacheSourceJobID)))
	default:
		s.serveObject(c, omtx.JobFolder(job)+name)
	}
}

// serveObject sends a stored file as a download: its type, nosniff, and a
// Content-Disposition naming it, so no browser renders it as a page.
func (s *Server) serveObject(c *gin.Context, object string) {
	obj, err := s.blobs.Get(c.Request.Context(), object)
	if err != nil {
		s.writeError(c, s.unavailable(c, "file storage", err))
		return
	}
	ct := obj.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(object)}))
	c.Header("Cache-Control", "private, no-store")
	c.Data(http.StatusOK, ct, obj.Data)
}

// JobList is a page of jobs, or of a batch's children.
type JobList struct {
	Jobs          []*omtx.Job `json:"jobs"`
	NextPageToken string      `json:"next_page_token,omitempty"`
}

// jobToken continues a user's job listing after a job.
type jobToken struct {
	CreatedAt time.Time `json:"c"`
	JobID     string    `json:"j"`
}

// pageSize reads page_size.
func pageSize(c *gin.Context) (int, error) {
	v := c.Query("page_size")
	if v == "" {
		return DefaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, omtx.Errorf(omtx.EInvalid, "page_size", "must be an integer from 1 to %d", MaxPageSize)
	}
	return n, nil
}

func encodeToken(v any) string {
	raw, _ := json.Marshal(v) // plain data: cannot fail
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodeToken(s string, v any) error {
	if len(s) > maxPageToken {
		return omtx.Errorf(omtx.EInvalid, "page_token", "is too long")
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

func (s *Server) listJobs(c *gin.Context) {
	size, err := pageSize(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	f := omtx.ListFilter{
		UserID:   userOf(c),
		JobTypes: []omtx.JobType{omtx.JobTypeIndividual, omtx.JobTypeBatchParent},
		Limit:    size + 1,
	}
	if v := c.Query("status"); v != "" {
		if !omtx.JobStatus(v).Valid() {
			s.writeError(c, omtx.Errorf(omtx.EInvalid, "status", "unknown status %q", v))
			return
		}
		f.Status = omtx.JobStatus(v)
	}
	if v := c.Query("page_token"); v != "" {
		var t jobToken
		if err := decodeToken(v, &t); err != nil || !validID.MatchString(t.JobID) {
			s.writeError(c, omtx.Errorf(omtx.EInvalid, "page_token", "is not a token from a previous page"))
			return
		}
		f.AfterCreatedAt, f.AfterJobID = t.CreatedAt, t.JobID
	}
	jobs, err := s.jobs.List(c.Request.Context(), f)
	if err != nil {
		s.writeError(c, s.unavailable(c, "the job store", err))
		return
	}
	out := JobList{Jobs: jobs}
	if out.Jobs == nil {
		out.Jobs = []*omtx.Job{}
	}
	if len(jobs) > size {
		out.Jobs = jobs[:size]
		last := jobs[size-1]
		out.NextPageToken = encodeToken(jobToken{CreatedAt: last.CreatedAt, JobID: last.JobID})
	}
	c.JSON(http.StatusOK, out)
}

// contextTimeout bounds a call a handler makes.
func contextTimeout(c *gin.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request.Context(), d)
}
