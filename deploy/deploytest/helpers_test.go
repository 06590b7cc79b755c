// Package deploytest checks the deployment files statically: the
// Dockerfiles, docker-compose.temporal.yml and the kustomize tree under
// deploy/, against each other and against the code (config/config.go,
// api/server.go, omtx/, metrics/). No Docker engine, cluster or schema
// download is needed.
package deploytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// root is the repository root (the test runs in deploy/deploytest/).
func root(t testing.TB) string {
	t.Helper()
	r, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(r, "go.mod"), "deploytest must sit in deploy/deploytest")
	return r
}

// repoPath joins parts under the repository root.
func repoPath(t testing.TB, parts ...string) string {
	return filepath.Join(append([]string{root(t)}, parts...)...)
}

func readFile(t testing.TB, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(repoPath(t, parts...))
	require.NoError(t, err)
	return string(b)
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*(#.*)?$`)

// splitYAML splits a multi-document YAML file, dropping documents that
// hold only comments and blank lines.
func splitYAML(s string) []string {
	var docs []string
	for _, d := range docSep.Split(s, -1) {
		empty := true
		for _, line := range strings.Split(d, "\n") {
			l := strings.TrimSpace(line)
			if l != "" && !strings.HasPrefix(l, "#") {
				empty = false
				break
			}
		}
		if !empty {
			docs = append(docs, d)
		}
	}
	return docs
}

// strictJSON decodes JSON into v, refusing unknown fields and trailing data.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// strictYAML converts YAML to JSON and decodes it strictly into v.
func strictYAML(doc []byte, v any) error {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return err
	}
	return strictJSON(j, v)
}

// --- the environment the code reads ---

// extraEnv are read by libraries, not config.go: the Google clients read the
// emulator hosts, ONNX Runtime's loader its library, Boltz its cache, and
// Go's crypto/x509 (on Linux) SSL_CERT_DIR, folders of extra root
// certificates.
var extraEnv = []string{"FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "ONNXRUNTIME_LIB", "BOLTZ_CACHE"}

var (
	configEnvOnce sync.Once
	configEnvSet  map[string]bool
)

var (
	quotedEnv = regexp.MustCompile(`"((?:OMTX|TEMPORAL)_[A-Z0-9_]+)"`)
	getenvArg = regexp.MustCompile(`(?:getenv|get|Getenv|LookupEnv)\("([A-Z][A-Z0-9_]*)"`)
)

// configEnv is every environment variable config/config.go reads (a quoted
// "OMTX_..."/"TEMPORAL_..." string or a getenv/get argument), plus extraEnv.
func configEnv(t testing.TB) map[string]bool {
	t.Helper()
	configEnvOnce.Do(func() {
		src := readFile(t, "config", "config.go")
		configEnvSet = map[string]bool{}
		for _, m := range quotedEnv.FindAllStringSubmatch(src, -1) {
			configEnvSet[m[1]] = true
		}
		for _, m := range getenvArg.FindAllStringSubmatch(src, -1) {
			configEnvSet[m[1]] = true
		}
		for _, e := range extraEnv {
			configEnvSet[e] = true
		}
	})
	require.True(t, configEnvSet["TEMPORAL_ADDRESS"] && configEnvSet["OMTX_API_ADDR"] && len(configEnvSet) > 10,
		"could not find the env vars config/config.go reads; has its form changed?")
	return configEnvSet
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// --- image references ---

type imageRef struct{ Repo, Tag, Digest string }

func parseImage(s string) imageRef {
	var r imageRef
	if i := strings.Index(s, "@"); i >= 0 {
		s, r.Digest = s[:i], s[i+1:]
	}
	slash := strings.LastIndex(s, "/")
	if i := strings.LastIndex(s, ":"); i > slash {
		s, r.Tag = s[:i], s[i+1:]
	}
	r.Repo = s
	return r
}

var (
	hasDigit = regexp.MustCompile(`[0-9]`)
	digestRe = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
)

// pinnedByDigest says why an image reference does not name its content by
// digest, or "": production pulls what was built and scanned, not whatever
// a tag points at now. The tag stays beside it for people to read.
func pinnedByDigest(image string) string {
	r := parseImage(image)
	switch {
	case r.Digest == "":
		return "has no digest (@sha256:...): a tag can be moved"
	case !digestRe.MatchString(r.Digest):
		return "has a malformed digest (want sha256: and 64 hex digits)"
	}
	return pinned(image)
}

// pinned says why an image reference is not pinned to an exact tag, or "".
// An exact tag names a version (has a digit) and is not "latest"; the one
// exception is distroless' nonroot, itself a variant of a Debian release.
// A digest beside the tag must be well formed.
func pinned(image string) string {
	r := parseImage(image)
	switch {
	case strings.ContainsAny(image, "${}"):
		return "is not a literal reference"
	case r.Digest != "" && !digestRe.MatchString(r.Digest):
		return "has a malformed digest (want sha256: and 64 hex digits)"
	case r.Tag == "":
		return "has no tag"
	case r.Tag == "latest" || strings.HasPrefix(r.Tag, "latest-"):
		return "uses latest"
	case !hasDigit.MatchString(r.Tag) && !(r.Repo == "gcr.io/distroless/static-debian12" && r.Tag == "nonroot"):
		return "has a tag without a version"
	}
	return ""
}

// portOf returns the port of host:port.
func portOf(t testing.TB, addr string) string {
	t.Helper()
	i := strings.LastIndex(addr, ":")
	require.Greater(t, i, -1, "%q has no port", addr)
	return addr[i+1:]
}

func TestImagePinChecksCanFail(t *testing.T) {
	const d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, c := range []struct {
		ref  string
		want bool // pinned by digest
	}{
		{"r.example/omtx-api:0.1.0", false},
		{"r.example/omtx-api:latest@" + d, false},
		{"r.example/omtx-api:0.1.0@sha256:abc", false},
		{"r.example/omtx-api@" + d, false},
		{"r.example/omtx-api:0.1.0@" + d, true},
	} {
		assert.Equal(t, c.want, pinnedByDigest(c.ref) == "", "%s: %s", c.ref, pinnedByDigest(c.ref))
	}
}
