package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// Keys maps API keys to user ids. It holds only the keys' SHA-256 digests.
type Keys struct {
	users map[[32]byte]string
}

// ParseKeys reads "key=user_id" pairs separated by commas or newlines;
// blank lines and lines starting with # are ignored.
func ParseKeys(spec string) (*Keys, error) {
	k := &Keys{users: map[[32]byte]string{}}
	for _, line := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == '\n' }) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, user, ok := strings.Cut(line, "=")
		key, user = strings.TrimSpace(key), strings.TrimSpace(user)
		if !ok || key == "" || user == "" {
			return nil, fmt.Errorf("api keys: entry %q is not key=user_id", redact(line))
		}
		if len(key) < 16 {
			return nil, fmt.Errorf("api keys: key for user %s is shorter than 16 characters", user)
		}
		k.users[sha256.Sum256([]byte(key))] = user
	}
	if len(k.users) == 0 {
		return nil, fmt.Errorf("api keys: none configured")
	}
	return k, nil
}

func redact(s string) string {
	if len(s) > 6 {
		return s[:3] + "…"
	}
	return "…"
}

// User returns the user of key, comparing digests in constant time.
func (k *Keys) User(key string) (string, bool) {
	d := sha256.Sum256([]byte(key))
	for kd, user := range k.users {
		if subtle.ConstantTimeCompare(kd[:], d[:]) == 1 {
			return user, true
		}
	}
	return "", false
}

const userKey = "omtx.user"

// authenticate requires "Authorization: Bearer <api key>".
func (s *Server) authenticate(c *gin.Context) {
	h := c.GetHeader("Authorization")
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		c.Header("WWW-Authenticate", `Bearer realm="omtx-hub"`)
		s.writeError(c, omtx.Errorf(omtx.EUnauthorized, "Authorization", "missing bearer API key"))
		return
	}
	user, ok := s.keys.User(strings.TrimSpace(token))
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="omtx-hub", error="invalid_token"`)
		s.writeError(c, omtx.Errorf(omtx.EUnauthorized, "Authorization", "unknown API key"))
		return
	}
	c.Set(userKey, user)
	c.Next()
}

func userOf(c *gin.Context) string { return c.GetString(userKey) }
