package api

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store"
)

// Page sizes of list calls.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// ownJob loads a job and checks that the caller owns it. Another user's job
// is reported as not found, so ids cannot be probed.
func (s *Server) ownJob(c *gin.Context, jobID string) (*omtx.Job, bool) {
	if !validID.MatchString(jobID) {
		// Not an id this API makes; Firestore would reject some as
		// invalid document names.
		s.writeError(c, omtx.Errorf(omtx.ENotFound, "job_id", "job %s not found", jobID))
		return nil, false
	}
	job, err := s.jobs.Get(c.Request.Context(), jobID)
	if err == nil && job.UserID != userOf(c) {
		err = omtx.Errorf(omtx.ENotFound, "job_id", "job %s not found", jobID)
	}
	if err != nil {
		s.writeError(c, err)
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

// validID matches the job and batch ids this API makes.
var validID = regexp.MustCompile(`^(job|batch)_[0-9a-z_]{1,80}$`)

// jobFiles are the files a job folder may hold (seed 1.3).
var jobFiles = []string{omtx.FileInput, omtx.FileResults, omtx.FileStructureCIF, omtx.FileStructurePDB, omtx.FileLogs}

func (s *Server) getJobFile(c *gin.Context) {
	name := c.Param("name")
	if !slices.Contains(jobFiles, name) {
		s.writeError(c, omtx.Errorf(omtx.ENotFound, "name", "unknown file %q (files: %v)", name, jobFiles))
		return
	}
	job, ok := s.ownJob(c, c.Param("job_id"))
	if !ok {
		return
	}
	s.serveObject(c, omtx.JobFolder(job)+name)
}

func (s *Server) serveObject(c *gin.Context, object string) {
	obj, err := s.blobs.Get(c.Request.Context(), object)
	if err != nil {
		s.writeError(c, err)
		return
	}
	ct := obj.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	c.Data(http.StatusOK, ct, obj.Data)
}

// JobList is a page of jobs.
type JobList struct {
	Jobs          []*omtx.Job `json:"jobs"`
	NextPageToken string      `json:"next_page_token,omitempty"`
}

type pageToken struct {
	CreatedAt time.Time `json:"c"`
	JobID     string    `json:"j"`
}

func (s *Server) listJobs(c *gin.Context) {
	size := DefaultPageSize
	if v := c.Query("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			s.writeError(c, omtx.Errorf(omtx.EInvalid, "page_size", "must be an integer from 1 to %d", MaxPageSize))
			return
		}
		size = n
	}
	f := store.ListFilter{
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
		var t pageToken
		raw, err := base64.RawURLEncoding.DecodeString(v)
		if err == nil {
			err = json.Unmarshal(raw, &t)
		}
		if err != nil || t.JobID == "" {
			s.writeError(c, omtx.Errorf(omtx.EInvalid, "page_token", "is not a token from a previous page"))
			return
		}
		f.AfterCreatedAt, f.AfterJobID = t.CreatedAt, t.JobID
	}
	jobs, err := s.jobs.List(c.Request.Context(), f)
	if err != nil {
		s.writeError(c, unavailable("firestore", err))
		return
	}
	out := JobList{Jobs: jobs}
	if out.Jobs == nil {
		out.Jobs = []*omtx.Job{}
	}
	if len(jobs) > size {
		out.Jobs = jobs[:size]
		last := jobs[size-1]
		raw, _ := json.Marshal(pageToken{CreatedAt: last.CreatedAt, JobID: last.JobID})
		out.NextPageToken = base64.RawURLEncoding.EncodeToString(raw)
	}
	c.JSON(http.StatusOK, out)
}
