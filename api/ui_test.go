package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/aggregate/ranking"
)

// TestVendoredFilesMatchTheLock checks every vendored file of the results
// page against the sha256 recorded in api/ui/vendor.lock.json, and that
// nothing is vendored without a record.
func TestVendoredFilesMatchTheLock(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("ui/vendor.lock.json")
	require.NoError(t, err)
	var lock struct {
		Packages []struct {
			Name, Version, Integrity string
			Files                    map[string]struct{ SHA256 string }
		}
	}
	require.NoError(t, json.Unmarshal(raw, &lock))
	recorded := map[string]bool{}
	for _, p := range lock.Packages {
		assert.NotEmpty(t, p.Version, p.Name)
		assert.True(t, strings.HasPrefix(p.Integrity, "sha512-"), "%s records its npm tarball's integrity", p.Name)
		for name, f := range p.Files {
			recorded[name] = true
			t.Run(name, func(t *testing.T) {
				data, err := os.ReadFile(filepath.Join("ui", name))
				require.NoError(t, err, "a file the lock marks fetched is not committed: scripts/vendor-ui.sh --fetched (make tools) brings it")
				sum := sha256.Sum256(data)
				assert.Equal(t, f.SHA256, hex.EncodeToString(sum[:]), "%s is not the %s@%s file recorded in vendor.lock.json", name, p.Name, p.Version)
			})
		}
	}
	require.NoError(t, filepath.WalkDir("ui/assets/vendor", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel("ui", p)
			assert.True(t, recorded[filepath.ToSlash(rel)], "%s is vendored without a record in vendor.lock.json", rel)
		}
		return err
	}))
}

// TestUIIsServedAndSelfContained checks the page and its files are served
// without a key, and that the page loads nothing from another origin.
func TestUIIsServedAndSelfContained(t *testing.T) {
	t.Parallel()
	h := newFixture(t).srv.Handler()
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	page := get("/ui")
	require.Equal(t, http.StatusOK, page.Code)
	assert.Contains(t, page.Header().Get("Content-Type"), "text/html")
	assert.Contains(t, page.Header().Get("Content-Security-Policy"), "default-src 'self'")
	if w := get("/ui/"); assert.Equal(t, http.StatusMovedPermanently, w.Code) {
		assert.Equal(t, "/ui", w.Header().Get("Location"))
	}

	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`)
	assert.NotRegexp(t, external, page.Body.String(), "the page loads nothing from another origin")
	refs := regexp.MustCompile(`(?:src|href)="ui/assets/([^"]+)"`).FindAllStringSubmatch(page.Body.String(), -1)
	require.NotEmpty(t, refs)
	for _, m := range append(refs, []string{"", "vendor/3Dmol-min.js"}) {
		w := get("/ui/assets/" + m[1])
		assert.Equal(t, http.StatusOK, w.Code, m[1])
		assert.NotEmpty(t, w.Body.Len(), m[1])
	}
	for _, p := range []string{"/ui/assets/nope.js", "/ui/assets/../index.html", "/ui/assets/vendor", "/ui/assets/%2e%2e/ui.go"} {
		assert.Equal(t, http.StatusNotFound, get(p).Code, p)
	}
	for _, script := range []string{"app.js", "screen.js", "depict-worker.js"} {
		src := get("/ui/assets/" + script).Body.String()
		assert.NotEmpty(t, src, script)
		assert.NotRegexp(t, regexp.MustCompile(`https?://`), src, "%s calls only this origin", script)
	}
}

// TestVendoredFilesAreServedForTheBrowser checks what the browser needs to
// use the vendored libraries: RDKit's WebAssembly as application/wasm
// (instantiateStreaming refuses anything else); a policy that lets RDKit
// compile and bind in its worker only, never in the page; and a year's
// caching only where the address carries the version, which the page's
// scripts must ask for as recorded in the lock.
func TestVendoredFilesAreServedForTheBrowser(t *testing.T) {
	t.Parallel()
	h := newFixture(t).srv.Handler()
	get := func(path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		return w
	}
	wasm := get("/ui/assets/vendor/RDKit_minimal.wasm?v=2026.9.1")
	require.Equal(t, http.StatusOK, wasm.Code)
	assert.Equal(t, "application/wasm", wasm.Header().Get("Content-Type"))
	assert.Equal(t, []byte("\x00asm"), wasm.Body.Bytes()[:4])
	assert.Contains(t, wasm.Header().Get("Cache-Control"), "max-age=31536000")
	assert.Equal(t, "no-cache", get("/ui/assets/app.js").Header().Get("Cache-Control"), "the page's own files are revalidated")

	worker := get("/ui/assets/depict-worker.js")
	require.Equal(t, http.StatusOK, worker.Code)
	assert.Regexp(t, `script-src [^;]*'wasm-unsafe-eval'`, worker.Header().Get("Content-Security-Policy"))
	assert.Regexp(t, `script-src [^;]*'unsafe-eval'`, worker.Header().Get("Content-Security-Policy"), "embind builds functions from strings")
	for _, p := range []string{"/ui", "/ui/assets/app.js", "/ui/assets/vendor/RDKit_minimal.js"} {
		assert.NotContains(t, get(p).Header().Get("Content-Security-Policy"), "eval", "%s: eval stays in the worker", p)
	}

	raw, err := os.ReadFile("ui/vendor.lock.json")
	require.NoError(t, err)
	var lock struct {
		Packages []struct {
			Name, Version string
			Files         map[string]json.RawMessage
		}
	}
	require.NoError(t, json.Unmarshal(raw, &lock))
	version := map[string]string{}
	for _, p := range lock.Packages {
		for name := range p.Files {
			version[strings.TrimPrefix(name, "assets/")] = p.Version
		}
	}
	ref := regexp.MustCompile(`'(?:ui/assets/)?(vendor/[^'?]+)(\?v=[^']*)?'`)
	for _, script := range []string{"app.js", "depict-worker.js"} {
		src, err := os.ReadFile("ui/assets/" + script)
		require.NoError(t, err)
		refs := ref.FindAllStringSubmatch(string(src), -1)
		require.NotEmpty(t, refs, script)
		for _, m := range refs {
			want, ok := version[m[1]]
			if assert.True(t, ok, "%s asks for %s, which the lock does not record", script, m[1]) {
				assert.Equal(t, "?v="+want, m[2], "%s asks for %s with its locked version, so a year's caching never serves an old copy", script, m[1])
			}
		}
	}
}

// TestPageKnowsTheCSVColumns checks that the page's list of
// batch_results.csv's fixed columns is the aggregator's: a fixed column
// the page does not know would be shown as one of the user's own.
func TestPageKnowsTheCSVColumns(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("ui/assets/app.js")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?s)var CSV_COLUMNS = \[(.*?)\];`).FindSubmatch(src)
	require.NotNil(t, m, "app.js declares CSV_COLUMNS")
	var page []string
	for _, q := range regexp.MustCompile(`'([^']*)'`).FindAllSubmatch(m[1], -1) {
		page = append(page, string(q[1]))
	}
	assert.Equal(t, append(ranking.CSVColumns(), "error"), page)
}
