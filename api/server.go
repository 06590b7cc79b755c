package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store"
	"github.com/omtx-hub/omtx-hub/workflows/wfinput"
)

// JobStore is the job-document storage the API needs.
type JobStore interface {
	Create(ctx context.Context, job *omtx.Job) error
	Get(ctx context.Context, jobID string) (*omtx.Job, error)
	List(ctx context.Context, f store.ListFilter) ([]*omtx.Job, error)
	ListChildren(ctx context.Context, f store.ChildFilter) ([]*omtx.Job, error)
	Ping(ctx context.Context) error
}

// BlobStore is the file storage the API needs.
type BlobStore interface {
	Get(ctx context.Context, name string) (*store.Object, error)
	Put(ctx context.Context, name, contentType string, data []byte) error
	// PutIfAbsent writes an object only if none exists; created says
	// whether it did.
	PutIfAbsent(ctx context.Context, name, contentType string, data []byte) (created bool, err error)
	URI(name string) string
	Ping(ctx context.Context) error
}

// Scheduler starts workflows. TemporalScheduler implements it.
type Scheduler interface {
	StartPrediction(ctx context.Context, in wfinput.Prediction) (runID string, err error)
	// StartBatch starts a batch; priority is a Temporal priority key
	// (1 is served first).
	StartBatch(ctx context.Context, in wfinput.Batch, priority int) (runID string, err error)
	// Cancel asks a workflow to cancel.
	Cancel(ctx context.Context, workflowID string) error
	// BatchProgress asks a running batch for its live progress.
	BatchProgress(ctx context.Context, batchID string) (omtx.Progress, error)
	Ping(ctx context.Context) error
}

// Config holds the API's settings.
type Config struct {
	Keys   *Keys
	Models omtx.ModelCatalog
	// MaxBodyBytes bounds a JSON request body.
	MaxBodyBytes int64
	// ChunkSize is the default number of ligands per GPU activity.
	ChunkSize int
	// Fleet lists the GPU classes for routing by input size; empty routes
	// every job to its model's class.
	Fleet omtx.Fleet
	// Runtimes feed the estimate endpoint, by "model@class".
	Runtimes map[string]Runtime
	Logger   *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DefaultMaxBodyBytes bounds a single-prediction body: a 2,500-residue
// protein and a SMILES string fit many times over.
const DefaultMaxBodyBytes = 256 << 10

// Server is the REST API.
type Server struct {
	jobs      JobStore
	blobs     BlobStore
	sched     Scheduler
	keys      *Keys
	models    omtx.ModelCatalog
	maxBody   int64
	chunkSize int
	fleet     omtx.Fleet
	runtimes  map[string]Runtime
	log       *slog.Logger
	now       func() time.Time
	engine    *gin.Engine
}

// New builds the API server.
func New(cfg Config, jobs JobStore, blobs BlobStore, sched Scheduler) *Server {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		jobs: jobs, blobs: blobs, sched: sched,
		keys: cfg.Keys, models: cfg.Models, maxBody: cfg.MaxBodyBytes, chunkSize: cfg.ChunkSize,
		fleet: cfg.Fleet, runtimes: cfg.Runtimes,
		log: cfg.Logger, now: cfg.Now,
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.chunkSize <= 0 {
		s.chunkSize = DefaultChunkSize
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.engine = s.routes()
	return s
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) routes() *gin.Engine {
	r := gin.New()
	r.Use(s.recoverJSON, s.accessLog)
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) {
		s.writeError(c, omtx.Errorf(omtx.ENotFound, "", "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		c.AbortWithStatusJSON(http.StatusMethodNotAllowed, errorBody{Error: errorDetail{Code: "method_not_allowed", Message: c.Request.Method + " is not allowed here"}})
	})
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/openapi.yaml", s.openapi)
	s.uiRoutes(r)

	v1 := r.Group("/api/v1", s.authenticate)
	v1.POST("/predict", s.predict)
	v1.POST("/estimate", s.estimate)
	v1.GET("/jobs", s.listJobs)
	v1.GET("/jobs/:job_id", s.getJob)
	v1.GET("/jobs/:job_id/files/:name", s.getJobFile)
	v1.POST("/jobs/:job_id/cancel", s.cancelJob)
	v1.POST("/predict/batch", s.predictBatch)
	v1.GET("/batches/:batch_id", s.getBatch)
	v1.GET("/batches/:batch_id/jobs", s.listBatchJobs)
	v1.GET("/batches/:batch_id/files/*name", s.getBatchFile)
	v1.POST("/batches/:batch_id/cancel", s.cancelBatch)
	return r
}

func (s *Server) recoverJSON(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.log.ErrorContext(c.Request.Context(), "panic in handler", "path", c.FullPath(), "panic", r)
			c.AbortWithStatusJSON(http.StatusInternalServerError, errorBody{Error: errorDetail{Code: omtx.EInternal, Message: "internal error"}})
		}
	}()
	c.Next()
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	metrics.APIRequests.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Inc()
	metrics.APIDuration.WithLabelValues(c.Request.Method, route).Observe(time.Since(start).Seconds())
	s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "http",
		slog.String("method", c.Request.Method),
		slog.String("route", c.FullPath()),
		slog.Int("status", c.Writer.Status()),
		slog.Duration("duration", time.Since(start)),
		slog.String("user_id", userOf(c)),
	)
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz checks every dependency the API needs to accept work.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{}
	ok := true
	for name, ping := range map[string]func(context.Context) error{
		"firestore": s.jobs.Ping, "storage": s.blobs.Ping, "temporal": s.sched.Ping,
	} {
		if err := ping(ctx); err != nil {
			checks[name], ok = err.Error(), false
		} else {
			checks[name] = "ok"
		}
	}
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	c.JSON(status, gin.H{"ready": ok, "checks": checks})
}
