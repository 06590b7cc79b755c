// Package keys reads OMTX-Hub's API keys and what each may do: the user it
// acts for, the priorities it may ask for, its quotas (ligands in flight,
// concurrent batches, submits per second) and the secret that signs its
// webhooks. The API authenticates and enforces quotas with it; the
// orchestration worker signs webhooks with it. It holds digests of the
// keys, never the keys.
//
// Two formats are read. The key file (OMTX_API_KEYS_FILE) is YAML:
//
//	keys:
//	  - key: "a-key-of-16-or-more-characters"   # or key_sha256: <hex digest>
//	    user: test_user_001
//	    priorities: [low, normal, high]          # default: low, normal
//	    max_inflight_ligands: 100000             # default: DefaultMaxInflightLigands
//	    max_concurrent_batches: 4                # default: DefaultMaxConcurrentBatches
//	    submit_rate: 10                          # submits per second; default DefaultSubmitRate
//	    submit_burst: 20                         # default: twice the rate
//	    webhook_secret: "..."                    # default: derived from the deployment's secret
//
// The short form (OMTX_API_KEYS, and files that are not YAML) is
// "key=user_id" entries separated by commas or newlines, with default
// attributes. A key may contain "=" (base64 keys end with it): the user id
// is what follows the last "=". A key listed twice is refused.
package keys

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Defaults of a key's attributes.
const (
	DefaultMaxInflightLigands   = 100_000
	DefaultMaxConcurrentBatches = 3
	DefaultSubmitRate           = 20.0
	MinKeyLength                = 16
)

// Priorities, lowest first.
var Priorities = []string{"low", "normal", "high"}

// DefaultPriorities are what a key may ask for unless its entry says.
var DefaultPriorities = []string{"low", "normal"}

// Key is one API key's identity and limits.
type Key struct {
	// ID names the key without revealing it: the first 16 hex digits of
	// its SHA-256 digest. Job documents and webhooks carry it.
	ID                   string
	User                 string
	Priorities           []string
	MaxInflightLigands   int
	MaxConcurrentBatches int
	SubmitRate           float64
	SubmitBurst          int
	webhookSecret        []byte
}

// WebhookSecret is the secret that signs this key's webhooks.
func (k *Key) WebhookSecret() []byte { return k.webhookSecret }

// Allows reports whether the key may ask for priority p.
func (k *Key) Allows(p string) bool { return slices.Contains(k.Priorities, p) }

// Set is a parsed key list.
type Set struct {
	byDigest map[[32]byte]*Key
	byID     map[string]*Key
}

type entry struct {
	Key                  string   `json:"key"`
	KeySHA256            string   `json:"key_sha256"`
	User                 string   `json:"user"`
	Priorities           []string `json:"priorities"`
	MaxInflightLigands   *int     `json:"max_inflight_ligands"`
	MaxConcurrentBatches *int     `json:"max_concurrent_batches"`
	SubmitRate           *float64 `json:"submit_rate"`
	SubmitBurst          *int     `json:"submit_burst"`
	WebhookSecret        string   `json:"webhook_secret"`
}

var userID = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,128}$`)

// Parse reads keys in either format. deploymentSecret derives the webhook
// secret of keys that do not set one (empty: such keys sign nothing).
func Parse(spec string, deploymentSecret []byte) (*Set, error) {
	var entries []entry
	trimmed := strings.TrimSpace(spec)
	if strings.HasPrefix(trimmed, "keys:") || strings.Contains(trimmed, "\nkeys:") {
		var doc struct {
			Keys []entry `json:"keys"`
		}
		if err := yaml.UnmarshalStrict([]byte(spec), &doc); err != nil {
			return nil, fmt.Errorf("api keys: %w", err)
		}
		entries = doc.Keys
	} else {
		for _, line := range strings.FieldsFunc(spec, func(r rune) bool { return r == ',' || r == '\n' }) {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			i := strings.LastIndexByte(line, '=')
			if i <= 0 {
				return nil, fmt.Errorf("api keys: entry %q is not key=user_id", redact(line))
			}
			entries = append(entries, entry{Key: strings.TrimSpace(line[:i]), User: strings.TrimSpace(line[i+1:])})
		}
	}
	s := &Set{byDigest: map[[32]byte]*Key{}, byID: map[string]*Key{}}
	for i, e := range entries {
		where := fmt.Sprintf("api keys: entry %d", i+1)
		var digest [32]byte
		switch {
		case e.Key != "" && e.KeySHA256 != "":
			return nil, fmt.Errorf("%s: give key or key_sha256, not both", where)
		case e.Key != "":
			if len(e.Key) < MinKeyLength {
				return nil, fmt.Errorf("%s (user %s): the key is shorter than %d characters", where, e.User, MinKeyLength)
			}
			if strings.ContainsAny(e.Key, " \t") {
				return nil, fmt.Errorf("%s (user %s): the key contains white space", where, e.User)
			}
			digest = sha256.Sum256([]byte(e.Key))
		case e.KeySHA256 != "":
			b, err := hex.DecodeString(e.KeySHA256)
			if err != nil || len(b) != 32 {
				return nil, fmt.Errorf("%s (user %s): key_sha256 is not 64 hex digits", where, e.User)
			}
			copy(digest[:], b)
		default:
			return nil, fmt.Errorf("%s: no key", where)
		}
		if !userID.MatchString(e.User) {
			return nil, fmt.Errorf("%s: user %q is not 1-128 letters, digits or _.@-", where, e.User)
		}
		if _, dup := s.byDigest[digest]; dup {
			return nil, fmt.Errorf("%s (user %s): the same key is listed twice", where, e.User)
		}
		k := &Key{
			ID: hex.EncodeToString(digest[:8]), User: e.User, Priorities: DefaultPriorities,
			MaxInflightLigands: DefaultMaxInflightLigands, MaxConcurrentBatches: DefaultMaxConcurrentBatches,
			SubmitRate: DefaultSubmitRate,
		}
		if e.Priorities != nil {
			for _, p := range e.Priorities {
				if !slices.Contains(Priorities, p) {
					return nil, fmt.Errorf("%s (user %s): unknown priority %q (low, normal, high)", where, e.User, p)
				}
			}
			k.Priorities = e.Priorities
		}
		if v := e.MaxInflightLigands; v != nil {
			if *v < 1 {
				return nil, fmt.Errorf("%s (user %s): max_inflight_ligands must be at least 1", where, e.User)
			}
			k.MaxInflightLigands = *v
		}
		if v := e.MaxConcurrentBatches; v != nil {
			if *v < 0 {
				return nil, fmt.Errorf("%s (user %s): max_concurrent_batches must not be negative", where, e.User)
			}
			k.MaxConcurrentBatches = *v
		}
		if v := e.SubmitRate; v != nil {
			if *v <= 0 {
				return nil, fmt.Errorf("%s (user %s): submit_rate must be positive", where, e.User)
			}
			k.SubmitRate = *v
		}
		k.SubmitBurst = max(1, int(2*k.SubmitRate))
		if v := e.SubmitBurst; v != nil {
			if *v < 1 {
				return nil, fmt.Errorf("%s (user %s): submit_burst must be at least 1", where, e.User)
			}
			k.SubmitBurst = *v
		}
		switch {
		case e.WebhookSecret != "":
			if len(e.WebhookSecret) < MinKeyLength {
				return nil, fmt.Errorf("%s (user %s): webhook_secret is shorter than %d characters", where, e.User, MinKeyLength)
			}
			k.webhookSecret = []byte(e.WebhookSecret)
		case len(deploymentSecret) > 0:
			m := hmac.New(sha256.New, deploymentSecret)
			m.Write([]byte("omtx-webhook-v1:" + k.ID))
			k.webhookSecret = []byte(hex.EncodeToString(m.Sum(nil)))
		}
		if _, dup := s.byID[k.ID]; dup {
			return nil, fmt.Errorf("%s (user %s): two keys share the id %s", where, e.User, k.ID)
		}
		s.byDigest[digest] = k
		s.byID[k.ID] = k
	}
	if len(s.byDigest) == 0 {
		return nil, fmt.Errorf("api keys: none configured")
	}
	return s, nil
}

func redact(s string) string {
	if len(s) > 6 {
		return s[:3] + "…"
	}
	return "…"
}

// Lookup returns the key, comparing digests in constant time.
func (s *Set) Lookup(key string) (*Key, bool) {
	d := sha256.Sum256([]byte(key))
	var found *Key
	for kd, k := range s.byDigest {
		if subtle.ConstantTimeCompare(kd[:], d[:]) == 1 {
			found = k
		}
	}
	return found, found != nil
}

// ByID returns the key with id (for signing webhooks).
func (s *Set) ByID(id string) (*Key, bool) {
	k, ok := s.byID[id]
	return k, ok
}

// Len is the number of keys.
func (s *Set) Len() int { return len(s.byDigest) }
