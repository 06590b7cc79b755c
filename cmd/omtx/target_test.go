package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const targetDoc = `{"target_id":"tgt_0123456789abcdef","user_id":"u","name":"kinase","created_at":"2026-12-07T00:00:00Z",` +
	`"target_hash":"sha256:ab","tokens":39,"ligand_chain":"L",` +
	`"chains":[{"ids":["A"],"type":"protein","length":38,"msa_mode":"file","msa_digest":"sha256:cd"}],` +
	`"ligands":[{"ids":["M"],"ccd":"MG","heavy_atoms":1}],"constraints":["pocket"],"files":["kinase.a3m"],"url":"/api/v1/targets/tgt_0123456789abcdef"}`

// heteromerDoc is a two-chain target whose server MSAs are ready, paired.
const heteromerDoc = `{"target_id":"tgt_aaaaaaaaaaaaaaaa","user_id":"u","name":"dimer","created_at":"2026-12-07T00:00:00Z",` +
	`"target_hash":"sha256:ab","tokens":60,"ligand_chain":"L","msa_status":"ready",` +
	`"chains":[{"ids":["A"],"type":"protein","length":38,"msa_mode":"server","msa_digest":"sha256:a1","msa_paired":true},` +
	`{"ids":["B"],"type":"protein","length":22,"msa_mode":"server","msa_digest":"sha256:b2","msa_paired":true}]}`

// targetAPI is a stand-in for the targets routes and dry runs; it keeps
// what it was sent.
type targetAPI struct {
	mu       sync.Mutex
	requests []string // "METHOD path?query"
	bodies   []string
	types    []string
}

func (f *targetAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	f.bodies = append(f.bodies, string(body))
	f.types = append(f.types, r.Header.Get("Content-Type"))
	f.mu.Unlock()
	w.Header().Set("X-Request-Id", "req-1")
	switch {
	case r.Method == "POST" && r.URL.Path == "/api/v1/targets":
		w.WriteHeader(201)
		fmt.Fprint(w, targetDoc)
	case r.Method == "GET" && r.URL.Path == "/api/v1/targets":
		fmt.Fprint(w, `{"targets":[`+targetDoc+`]}`)
	case r.Method == "GET" && r.URL.Path == "/api/v1/targets/tgt_aaaaaaaaaaaaaaaa":
		fmt.Fprint(w, heteromerDoc)
	case r.Method == "GET" && r.URL.Path == "/api/v1/targets/tgt_0123456789abcdef/boltz.yaml":
		w.Header().Set("Content-Type", "application/yaml")
		fmt.Fprint(w, "version: 1\nsequences: []\n")
	case r.Method == "DELETE":
		fmt.Fprint(w, `{"target_id":"tgt_0123456789abcdef","status":"deleted"}`)
	case r.URL.Query().Get("dry_run") == "true":
		fmt.Fprint(w, `{"dry_run":true,"boltz_yaml":"version: 1\nsequences:\n  - ligand:\n      id: L\n","settings":{"use_msa":false},`+
			`"model":"descriptor-baseline-v1","requested_model":"boltz2","substituted":true,"warnings":["the baseline serves this"],"tokens":41,"gpu_class":"l4",`+
			`"target_id":"tgt_0123456789abcdef","target_hash":"sha256:ab"}`)
	default:
		w.WriteHeader(404)
		fmt.Fprint(w, `{"error":{"code":"not_found","message":"no route","request_id":"req-1"}}`)
	}
}

func newTargetAPI(t *testing.T) (*targetAPI, string) {
	f := &targetAPI{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func TestTargetCreateSendsTheYAMLAndItsFiles(t *testing.T) {
	t.Parallel()
	api, url := newTargetAPI(t)
	dir := t.TempDir()
	yml, a3m := filepath.Join(dir, "complex.yaml"), filepath.Join(dir, "msa", "kinase.a3m")
	require.NoError(t, os.MkdirAll(filepath.Dir(a3m), 0o755))
	require.NoError(t, os.WriteFile(yml, []byte("version: 1\nsequences: []\n"), 0o644))
	require.NoError(t, os.WriteFile(a3m, []byte(">q\nMKT\n"), 0o644))

	code, out, errOut := omtxRun(t, url, "target", "create", "-f", yml, "--file", a3m, "--name", "kinase", "--ligand-chain", "L")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "Created target tgt_0123456789abcdef")
	assert.Contains(t, out, "protein A (38) msa file; ligand M MG; constraints pocket; 39 tokens; screened ligand chain L")
	assert.Contains(t, out, "omtx screen --target tgt_0123456789abcdef")
	require.Len(t, api.requests, 1)
	assert.Equal(t, "POST /api/v1/targets", api.requests[0])
	assert.True(t, strings.HasPrefix(api.types[0], "multipart/form-data"))
	for _, want := range []string{`name="yaml"`, "version: 1\nsequences: []\n", `filename="kinase.a3m"`, ">q\nMKT\n", `name="ligand_chain"`} {
		assert.Contains(t, api.bodies[0], want)
	}

	code, _, errOut = omtxRun(t, url, "target", "create")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "-f is required")
}

func TestScreenOnATargetDryRunPrintsTheYAML(t *testing.T) {
	t.Parallel()
	api, url := newTargetAPI(t)
	_, lib := writeFiles(t)
	code, out, errOut := omtxRun(t, url, "screen", "--target", "tgt_0123456789abcdef", "--library", lib, "--dry-run")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "version: 1\nsequences:\n  - ligand:\n      id: L\n", out, "stdout is the YAML alone")
	assert.Contains(t, errOut, "Dry run: nothing was created. Model descriptor-baseline-v1 (for boltz2), 41 tokens, GPU class l4")
	assert.Contains(t, errOut, "warning: the baseline serves this")
	require.Len(t, api.requests, 1)
	assert.Equal(t, "POST /api/v1/predict/batch?dry_run=true", api.requests[0])
	var body map[string]any
	require.NoError(t, json.Unmarshal([]byte(api.bodies[0]), &body))
	assert.Equal(t, "tgt_0123456789abcdef", body["target_id"])
	assert.NotContains(t, body, "protein_sequence")
	assert.Len(t, body["ligands"], 2)

	code, _, errOut = omtxRun(t, url, "predict", "--target", "tgt_0123456789abcdef", "--protein", "MKTAYIAKQR", "--ligand", "CCO")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "not both")
}

func TestTargetShowListDelete(t *testing.T) {
	t.Parallel()
	api, url := newTargetAPI(t)
	code, out, errOut := omtxRun(t, url, "target", "show", "tgt_0123456789abcdef", "--yaml", "--ligand", "CCO")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "version: 1\nsequences: []\n", out)
	assert.Equal(t, "GET /api/v1/targets/tgt_0123456789abcdef/boltz.yaml?ligand_smiles=CCO", api.requests[0])

	code, out, errOut = omtxRun(t, url, "target", "list")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "tgt_0123456789abcdef")
	assert.Contains(t, out, "kinase")

	code, out, errOut = omtxRun(t, url, "target", "delete", "tgt_0123456789abcdef")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "tgt_0123456789abcdef: deleted\n", out)
	assert.Equal(t, "DELETE /api/v1/targets/tgt_0123456789abcdef", api.requests[len(api.requests)-1])

	code, out, errOut = omtxRun(t, url, "target", "show", "tgt_aaaaaaaaaaaaaaaa")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "\n  msas ready: A sha256:a1 (paired); B sha256:b2 (paired)\n")

	code, _, _ = omtxRun(t, url, "target", "show", "tgt_nosuch")
	assert.Equal(t, exitUsage, code, "a 404 is a usage error")
}
