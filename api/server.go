package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/jobstart"
	"github.com/omtx-hub/omtx-hub/keys"
	"github.com/omtx-hub/omtx-hub/metrics"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/resultcache"
	"github.com/omtx-hub/omtx-hub/target"
	"github.com/omtx-hub/omtx-hub/validate"
	"github.com/omtx-hub/omtx-hub/webhook"
)

// JobStore is the job-document storage the API needs. store.Jobs
// implements it (and storetest.Jobs, in tests).
type JobStore interface {
	// Create writes a new document, or fails with omtx.EConflict when one
	// exists: the API's lock for an idempotency key.
	Create(ctx context.Context, job *omtx.Job) error
	Get(ctx context.Context, jobID string) (*omtx.Job, error)
	Delete(ctx context.Context, jobID string) error
	List(ctx context.Context, f omtx.ListFilter) ([]*omtx.Job, error)
	ListChildren(ctx context.Context, f omtx.ChildFilter) ([]*omtx.Job, error)
	// Update reads a document in a transaction, applies fn and writes what
	// it returns (nil: nothing).
	Update(ctx context.Context, jobID string, fn func(*omtx.Job) (*omtx.Job, error)) (*omtx.Job, error)
	// ActiveOf counts a user's individual jobs that are not final, and
	// returns the user's batches that are not, for quotas.
	ActiveOf(ctx context.Context, userID string) (jobs int, batches []*omtx.Job, err error)
	Ping(ctx context.Context) error
}

// BlobStore is the file storage the API needs.
type BlobStore interface {
	Get(ctx context.Context, name string) (*omtx.Object, error)
	Put(ctx context.Context, name, contentType string, data []byte) error
	// PutIfAbsent writes an object only if none exists; created says
	// whether it did.
	PutIfAbsent(ctx context.Context, name, contentType string, data []byte) (created bool, err error)
	// CreateIfAbsent streams an object up; Close fails with omtx.EConflict
	// when one exists.
	CreateIfAbsent(ctx context.Context, name, contentType string) io.WriteCloser
	// Open streams an object's bytes.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	URI(name string) string
	Ping(ctx context.Context) error
}

// StartRequest starts one workflow; jobstart.Of builds it from a spec.
type StartRequest = jobstart.Start

// Scheduler starts and stops workflows. TemporalScheduler implements it.
type Scheduler interface {
	// Start starts a workflow; starting an id that already ran or runs
	// returns that run, so a retried submission runs once.
	Start(ctx context.Context, req StartRequest) (runID string, err error)
	// Cancel asks a workflow to cancel.
	Cancel(ctx context.Context, workflowID string) error
	// BatchProgress asks a running batch's workflow (by its id) for its
	// live progress.
	BatchProgress(ctx context.Context, workflowID string) (omtx.Progress, error)
	Ping(ctx context.Context) error
}

// Config holds the API's settings.
type Config struct {
	Keys   *keys.Set
	Models omtx.ModelCatalog
	// MaxBodyBytes bounds a single-prediction JSON body.
	MaxBodyBytes int64
	// ChunkSize is the default number of ligands per GPU activity.
	ChunkSize int
	// Fleet lists the GPU classes for routing by input size; empty routes
	// every job to its model's class.
	Fleet omtx.Fleet
	// Runtimes feed the estimate endpoint, by "model@class".
	Runtimes map[string]Runtime
	// Webhooks is the policy for notify_url.
	Webhooks webhook.Policy
	// MaxConcurrentUploads bounds the large submissions (batch bodies and
	// library uploads) that one API process reads at once.
	MaxConcurrentUploads int
	// DependencyTimeout bounds each call to Firestore, Cloud Storage and
	// Temporal (for a stream: each read or write); 0 means
	// DefaultDependencyTimeout.
	DependencyTimeout time.Duration
	// MSAServer says whether the deployment has an MSA server
	// (OMTX_MSA_URL): then Boltz-2 uses it unless a request asks for
	// single-sequence mode (validate.MSAMode).
	MSAServer bool
	// Bounds are the deployment's limits on run settings; zero fields
	// take validate.DefaultBounds'.
	Bounds validate.Bounds
	// ResultCache, when set, lets an estimate say how many of its ligands
	// the result cache would serve (resultcache.Finder, as the workers
	// look up), with the users who share one cache and how the workers
	// cache server MSAs (msa.ServerKeySpec).
	ResultCache            resultcache.Reader
	ResultCacheSharedUsers []string
	MSASpec                msa.KeySpec
	Logger                 *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Targets stores target documents; nil: the target routes answer
	// 503 and predictions take only the seed's one-chain shape.
	Targets TargetStore
	// TargetLimits bound a target; nil means
	// target.LimitsForFleet(Fleet), or target.DefaultLimits without a
	// fleet.
	TargetLimits *target.Limits
}

// Limits of the API's own.
const (
	// DefaultMaxBodyBytes bounds a single-prediction body: a 2,500-residue
	// protein, a SMILES string and an uploaded MSA of a few thousand
	// sequences.
	DefaultMaxBodyBytes = 8 << 20
	// DefaultMaxConcurrentUploads: each large submission may hold a few
	// tens of MiB while it is checked.
	DefaultMaxConcurrentUploads = 2
)

// Server is the REST API.
type Server struct {
	jobs     JobStore
	blobs    BlobStore
	sched    Scheduler
	keys     *keys.Set
	models   omtx.ModelCatalog
	maxBody  int64
	chunk    int
	fleet    omtx.Fleet
	runtimes map[string]Runtime
	webhooks webhook.Policy
	uploads  chan struct{}
	limiter  *limiter
	usage    *usageCache
	log      *slog.Logger
	now      func() time.Time
	engine   *gin.Engine
	targets  TargetStore
	tlimits  target.Limits
	counter  chem.AtomCounter

	msaServer bool
	bounds    validate.Bounds
	// finder answers estimates' cache lookups; nil without a cache.
	finder     *resultcache.Finder
	depTimeout time.Duration
}

// New builds the API server.
func New(cfg Config, jobs JobStore, blobs BlobStore, sched Scheduler) *Server {
	gin.SetMode(gin.ReleaseMode)
	d := cfg.DependencyTimeout
	if d <= 0 {
		d = DefaultDependencyTimeout
	}
	s := &Server{
		jobs: deadlineJobs{jobs, d}, blobs: deadlineBlobs{blobs, d}, sched: deadlineScheduler{sched, d},
		keys: cfg.Keys, models: cfg.Models, maxBody: cfg.MaxBodyBytes, chunk: cfg.ChunkSize,
		fleet: cfg.Fleet, runtimes: cfg.Runtimes, webhooks: cfg.Webhooks,
		log: cfg.Logger, now: cfg.Now, msaServer: cfg.MSAServer, bounds: cfg.Bounds, depTimeout: d,
	}
	if cfg.ResultCache != nil {
		s.finder = &resultcache.Finder{Store: cfg.ResultCache, Blobs: finderBlobs{s.blobs},
			SharedUsers: cfg.ResultCacheSharedUsers, MSASpec: cfg.MSASpec}
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.chunk <= 0 {
		s.chunk = DefaultChunkSize
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.Targets != nil {
		s.targets = deadlineTargets{cfg.Targets, d}
	}
	switch {
	case cfg.TargetLimits != nil:
		s.tlimits = *cfg.TargetLimits
	case len(s.fleet) > 0:
		s.tlimits = target.LimitsForFleet(s.fleet)
	default:
		s.tlimits = target.DefaultLimits()
	}
	uploads := cfg.MaxConcurrentUploads
	if uploads <= 0 {
		uploads = DefaultMaxConcurrentUploads
	}
	s.uploads = make(chan struct{}, uploads)
	s.limiter = newLimiter(s.now)
	s.usage = newUsageCache(s.now)
	s.engine = s.routes()
	return s
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.engine }

func (s *Server) routes() *gin.Engine {
	r := gin.New()
	r.Use(s.requestID, s.recoverJSON, s.accessLog)
	r.HandleMethodNotAllowed = true
	r.NoRoute(func(c *gin.Context) {
		s.writeError(c, omtx.Errorf(omtx.ENotFound, "", "no such route"))
	})
	r.NoMethod(func(c *gin.Context) {
		s.writeError(c, omtx.Errorf(eMethodNotAllowed, "", "this method is not allowed on this route"))
	})
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/openapi.yaml", s.openapi)
	s.uiRoutes(r)

	v1 := r.Group("/api/v1", s.authenticate)
	v1.POST("/predict", s.rateLimited, s.predict)
	v1.POST("/estimate", s.estimate)
	v1.GET("/jobs", s.listJobs)
	v1.GET("/jobs/:job_id", s.getJob)
	v1.GET("/jobs/:job_id/files/:name", s.getJobFile)
	v1.POST("/jobs/:job_id/cancel", s.cancelJob)
	v1.POST("/predict/batch", s.rateLimited, s.predictBatch)
	v1.GET("/batches/:batch_id", s.getBatch)
	v1.GET("/batches/:batch_id/jobs", s.listBatchJobs)
	v1.GET("/batches/:batch_id/results", s.batchResults)
	v1.GET("/batches/:batch_id/results.sdf", s.batchResultsSDF)
	v1.GET("/batches/:batch_id/poses.sdf", s.batchPosesSDF)
	v1.GET("/batches/:batch_id/files/*name", s.getBatchFile)
	v1.POST("/batches/:batch_id/cancel", s.cancelBatch)
	v1.POST("/batches/:batch_id/rerun", s.rerunBatch)
	v1.GET("/webhook-secret", s.webhookSecret)
	v1.POST("/targets", s.createTarget)
	v1.GET("/targets", s.listTargets)
	v1.GET("/targets/:target_id", s.getTarget)
	v1.DELETE("/targets/:target_id", s.deleteTarget)
	v1.GET("/targets/:target_id/boltz.yaml", s.targetYAML)
	return r
}

// RequestIDHeader carries the request id, in both directions.
const RequestIDHeader = "X-Request-Id"

const requestIDKey = "omtx.request_id"

var goodRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// requestID names every request: the caller's X-Request-Id when it is a
// plain token, else a random one. Errors and logs carry it.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader(RequestIDHeader)
	if !goodRequestID.MatchString(id) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	c.Set(requestIDKey, id)
	c.Header(RequestIDHeader, id)
	c.Next()
}

func requestIDOf(c *gin.Context) string { return c.GetString(requestIDKey) }

func (s *Server) recoverJSON(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.log.ErrorContext(c.Request.Context(), "panic in handler", "path", c.FullPath(), "panic", r, "request_id", requestIDOf(c))
			s.writeError(c, &omtx.Error{Code: omtx.EInternal, Message: "internal error"})
		}
	}()
	c.Next()
}

// knownMethods are the methods that label metrics as themselves; any other
// is "OTHER", so no request can add series.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	method := c.Request.Method
	if !knownMethods[method] {
		method = "OTHER"
	}
	route := c.FullPath() // the route's template, never the raw path
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	metrics.APIRequests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	metrics.APIDuration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
	s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "http",
		slog.String("method", method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("duration", time.Since(start)),
		slog.String("user_id", userOf(c)),
		slog.String("request_id", requestIDOf(c)),
	)
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// Readiness is /readyz's body.
type Readiness struct {
	Ready bool `json:"ready"`
	// Checks says "ok" or "unavailable" per dependency; details go to the
	// log, never to the response.
	Checks map[string]string `json:"checks"`
}

// readyz checks the dependencies the API needs to serve. Firestore and
// Cloud Storage are hard dependencies: without them no request can be
// answered. Temporal is a soft one: during its outage reads keep serving
// and submits answer 503 with Retry-After, so an outage of the cluster
// never takes every API replica out of service. Its state is reported.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 3*time.Second)
	defer cancel()
	out := Readiness{Ready: true, Checks: map[string]string{}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	check := func(name string, hard bool, ping func(context.Context) error) {
		defer wg.Done()
		state := "ok"
		if err := ping(ctx); err != nil {
			state = "unavailable"
			s.log.WarnContext(ctx, "readiness check failed", "dependency", name, "error", err, "request_id", requestIDOf(c))
		}
		mu.Lock()
		defer mu.Unlock()
		out.Checks[name] = state
		if hard && state != "ok" {
			out.Ready = false
		}
	}
	wg.Add(3)
	go check("firestore", true, s.jobs.Ping)
	go check("storage", true, s.blobs.Ping)
	go check("temporal", false, s.sched.Ping)
	wg.Wait()
	status := http.StatusOK
	if !out.Ready {
		status = http.StatusServiceUnavailable
	}
	c.JSON(status, out)
}
