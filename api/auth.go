package api

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/omtx-hub/omtx-hub/keys"
	"github.com/omtx-hub/omtx-hub/omtx"
)

const (
	userKey   = "omtx.user"
	apiKeyKey = "omtx.key"
)

// authenticate requires "Authorization: Bearer <api key>" (the scheme is
// case-insensitive, RFC 7235), exactly once: with two Authorization
// headers this server would read the first while a proxy in front may
// have checked the last, so such a request is refused.
func (s *Server) authenticate(c *gin.Context) {
	if len(c.Request.Header.Values("Authorization")) > 1 {
		s.writeError(c, omtx.Errorf(eMalformed, "Authorization", "send one Authorization header, not several"))
		return
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(c.GetHeader("Authorization")), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		c.Header("WWW-Authenticate", `Bearer realm="omtx-hub"`)
		s.writeError(c, omtx.Errorf(omtx.EUnauthorized, "Authorization", "missing bearer API key"))
		return
	}
	k, ok := s.keys.Lookup(token)
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="omtx-hub", error="invalid_token"`)
		s.writeError(c, omtx.Errorf(omtx.EUnauthorized, "Authorization", "unknown API key"))
		return
	}
	c.Set(userKey, k.User)
	c.Set(apiKeyKey, k)
	c.Next()
}

func userOf(c *gin.Context) string { return c.GetString(userKey) }

func keyOf(c *gin.Context) *keys.Key {
	k, _ := c.Get(apiKeyKey)
	key, _ := k.(*keys.Key)
	return key
}

// limiter holds one token bucket per API key, in this process (a fleet of
// n replicas admits up to n times a key's rate).
type limiter struct {
	now     func() time.Time
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, buckets: map[string]*rate.Limiter{}}
}

// allow takes one token of k's bucket, or says how long until one frees.
func (l *limiter) allow(k *keys.Key) (bool, time.Duration) {
	l.mu.Lock()
	b, ok := l.buckets[k.ID]
	if !ok {
		b = rate.NewLimiter(rate.Limit(k.SubmitRate), k.SubmitBurst)
		l.buckets[k.ID] = b
	}
	l.mu.Unlock()
	r := b.ReserveN(l.now(), 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(l.now()); d > 0 {
		r.CancelAt(l.now())
		return false, d
	}
	return true, 0
}

// rateLimited admits a submission within its key's submit rate, or
// answers 429 with Retry-After.
func (s *Server) rateLimited(c *gin.Context) {
	k := keyOf(c)
	if ok, wait := s.limiter.allow(k); !ok {
		s.tooMany(c, wait, "submit rate", "this API key may submit %g requests per second (burst %d); retry after the Retry-After header's seconds", k.SubmitRate, k.SubmitBurst)
		return
	}
	c.Next()
}

// tooMany answers 429 with Retry-After in whole seconds (at least 1).
func (s *Server) tooMany(c *gin.Context, wait time.Duration, field, format string, args ...any) {
	c.Header("Retry-After", strconv.Itoa(int(math.Max(1, math.Ceil(wait.Seconds())))))
	s.writeError(c, omtx.Errorf(eRateLimited, field, format, args...))
}

// WebhookSecret is GET /api/v1/webhook-secret's body.
type WebhookSecret struct {
	KeyID  string `json:"key_id"`
	Secret string `json:"secret"`
	Scheme string `json:"scheme"`
}

// webhookSecret tells the caller the secret that signs its webhooks.
func (s *Server) webhookSecret(c *gin.Context) {
	k := keyOf(c)
	if len(k.WebhookSecret()) == 0 {
		s.writeError(c, omtx.Errorf(omtx.ENotFound, "", "this deployment signs no webhooks for this API key"))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, WebhookSecret{
		KeyID: k.ID, Secret: string(k.WebhookSecret()),
		Scheme: `X-OMTX-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>`,
	})
}
