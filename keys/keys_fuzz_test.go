package keys

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// FuzzParse feeds arbitrary key files (both formats) to Parse and checks
// what it promises: an accepted set holds at least one key; every key
// listed in the text is at least MinKeyLength characters, has no white
// space, is found by Lookup under its user, and is listed once (listing
// any entry twice more makes Parse refuse the file); and every key's
// attributes are within their ranges.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"abcdefghijklmnop=alice",
		"abcdefghijklmnopqrstuv==bob, qrstuvwxyz0123456789=carol\n# comment\n",
		"abcdefghijklmnop=alice,abcdefghijklmnop=bob",
		"short=alice",
		"abcdefghijklmnop=",
		"=alice",
		"abcdefghijklmnop=al ice",
		"keys:\n  - key: abcdefghijklmnop\n    user: alice\n    priorities: [low, high]\n    submit_rate: 2.5\n",
		"keys:\n  - key_sha256: " + strings.Repeat("ab", 32) + "\n    user: bob\n    max_inflight_ligands: 10\n",
		"keys:\n  - key: abcdefghijklmnop\n    user: a\n  - key: abcdefghijklmnop\n    user: b\n",
		"keys:\n  - key: abcdefghijklmnop\n    key_sha256: " + strings.Repeat("0", 64) + "\n    user: a\n",
		"keys:\n  - key: abcdefghijklmnop\n    user: a\n    webhook_secret: tooshort\n",
		"keys:\n  - key: abcdefghijklmnop\n    user: a\n    unknown: 1\n",
		"keys: []\n",
		"",
	} {
		f.Add(s, []byte("deployment-secret"))
		f.Add(s, []byte(nil))
	}
	f.Fuzz(func(t *testing.T, spec string, secret []byte) {
		set, err := Parse(spec, secret)
		if err != nil {
			if set != nil {
				t.Fatalf("set returned with error %v", err)
			}
			if !strings.HasPrefix(err.Error(), "api keys") {
				t.Fatalf("error %q does not say it is about the api keys", err)
			}
			return
		}
		if set.Len() < 1 {
			t.Fatalf("accepted a file with no keys")
		}
		for id, k := range set.byID {
			checkKey(t, set, id, k, secret)
		}
		listed, ok := listedKeys(spec)
		if !ok {
			return
		}
		seen := map[string]bool{}
		for _, e := range listed {
			if e.Key == "" {
				continue
			}
			if len(e.Key) < MinKeyLength || strings.ContainsAny(e.Key, " \t") {
				t.Fatalf("accepted key %q (%d characters)", e.Key, len(e.Key))
			}
			if seen[e.Key] {
				t.Fatalf("accepted key %q listed twice", e.Key)
			}
			seen[e.Key] = true
			k, found := set.Lookup(e.Key)
			if !found || k.User != e.User {
				t.Fatalf("Lookup(%q) = %v, %v; want user %q", e.Key, k, found, e.User)
			}
		}
		if len(listed) != set.Len() {
			t.Fatalf("%d entries listed, %d keys in the set", len(listed), set.Len())
		}
		if first := listed[0]; first.Key != "" && !isYAML(spec) {
			again := spec + "\n" + first.Key + "=" + first.User
			if _, err := Parse(again, secret); err == nil {
				t.Fatalf("accepted %q, which lists key %q twice", again, first.Key)
			}
		}
	})
}

// listedKeys reads the entries of spec independently of Parse; ok is false
// when it cannot (a YAML file it does not understand).
func listedKeys(spec string) (entries []entry, ok bool) {
	if isYAML(spec) {
		var doc struct {
			Keys []entry `json:"keys"`
		}
		if err := yaml.Unmarshal([]byte(spec), &doc); err != nil {
			return nil, false
		}
		return doc.Keys, true
	}
	for _, line := range strings.Split(strings.ReplaceAll(spec, ",", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndex(line, "=")
		entries = append(entries, entry{Key: strings.TrimSpace(line[:i]), User: strings.TrimSpace(line[i+1:])})
	}
	return entries, true
}

// isYAML is Parse's test for the YAML format.
func isYAML(spec string) bool {
	trimmed := strings.TrimSpace(spec)
	return strings.HasPrefix(trimmed, "keys:") || strings.Contains(trimmed, "\nkeys:")
}

func checkKey(t *testing.T, set *Set, id string, k *Key, secret []byte) {
	t.Helper()
	if b, err := hex.DecodeString(id); err != nil || len(b) != 8 || k.ID != id {
		t.Fatalf("key id %q (stored under %q)", k.ID, id)
	}
	if !userID.MatchString(k.User) {
		t.Fatalf("user %q", k.User)
	}
	for _, p := range k.Priorities {
		if !slices.Contains(Priorities, p) {
			t.Fatalf("key %s: priority %q", id, p)
		}
	}
	if k.MaxInflightLigands < 1 || k.MaxConcurrentBatches < 0 || k.SubmitRate <= 0 || k.SubmitBurst < 1 {
		t.Fatalf("key %s: limits %+v", id, k)
	}
	if ws := k.WebhookSecret(); len(secret) > 0 && len(ws) < MinKeyLength {
		t.Fatalf("key %s: webhook secret of %d bytes with a deployment secret", id, len(ws))
	}
	if got, ok := set.ByID(id); !ok || got != k {
		t.Fatalf("ByID(%s) does not find its key", id)
	}
}
