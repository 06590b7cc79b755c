package api

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// uiFiles is the results page: static files with no build step, and the
// npm libraries it uses vendored under ui/assets/vendor (their versions
// and checksums are in ui/vendor.lock.json).
//
//go:embed ui/index.html ui/assets
var uiFiles embed.FS

// uiTypes are the content types of the files the page serves; other files
// are not served.
var uiTypes = map[string]string{
	".js":   "application/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".txt":  "text/plain; charset=utf-8",
	".wasm": "application/wasm", // WebAssembly.instantiateStreaming needs it
}

// uiVendorCache lets browsers keep the vendored files (RDKit's 7 MB
// WebAssembly among them) for a year: the page asks for each with its
// version in the query (?v=2026.9.1), so a new version is a new address.
// The page's own files are revalidated on every load.
const uiVendorCache = "public, max-age=31536000, immutable"

// uiPolicy keeps the page to its own origin: scripts, styles and API
// calls come from here, images are the API's files shown as blob: URLs,
// and the one worker (depict-worker.js) is the page's own file.
const uiPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' blob: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// uiWorkerPolicy is the policy of the depiction worker, which a worker
// takes from its own script's response. It runs RDKit's WebAssembly
// ('wasm-unsafe-eval'), and RDKit's bindings build functions from strings
// (Emscripten's embind calls new Function: 'unsafe-eval'). The worker has
// no DOM and talks to the page only by messages; the page keeps uiPolicy,
// which allows neither.
const uiWorkerPolicy = "default-src 'self'; script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'; connect-src 'self'"

// uiWorker is the one script served with uiWorkerPolicy.
const uiWorker = "depict-worker.js"

// uiRoutes serves the results page at /ui (/ui/ redirects there) and its
// files under /ui/assets/. No key is needed for them: the page asks the
// user for one and sends it as a Bearer header with every API call.
func (s *Server) uiRoutes(r *gin.Engine) {
	r.GET("/ui", s.uiIndex)
	r.GET("/ui/assets/*filepath", s.uiAsset)
}

func uiHeaders(c *gin.Context) {
	c.Header("Content-Security-Policy", uiPolicy)
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("Cache-Control", "no-cache")
}

func (s *Server) uiIndex(c *gin.Context) {
	data, err := uiFiles.ReadFile("ui/index.html")
	if err != nil {
		s.writeError(c, err)
		return
	}
	uiHeaders(c)
	c.Data(http.StatusOK, "text/html; charset=utf-8", data)
}

func (s *Server) uiAsset(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("filepath"), "/")
	ct, ok := uiTypes[path.Ext(name)]
	var data []byte
	var err error
	if ok && fs.ValidPath(name) {
		data, err = uiFiles.ReadFile("ui/assets/" + name)
	}
	if !ok || !fs.ValidPath(name) || err != nil {
		s.writeError(c, omtx.Errorf(omtx.ENotFound, "filepath", "no file %q on the results page", name))
		return
	}
	uiHeaders(c)
	if name == uiWorker {
		c.Header("Content-Security-Policy", uiWorkerPolicy)
	}
	if strings.HasPrefix(name, "vendor/") {
		c.Header("Cache-Control", uiVendorCache)
	}
	c.Data(http.StatusOK, ct, data)
}
