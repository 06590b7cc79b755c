package deploytest

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var dockerfiles = []string{"Dockerfile.api", "Dockerfile.worker", "Dockerfile.gpu-worker"}

// imageDockerfile maps an image name (its last path element) to the
// Dockerfile that builds it.
var imageDockerfile = map[string]string{
	"omtx-api":        "Dockerfile.api",
	"omtx-worker":     "Dockerfile.worker",
	"omtx-gpu-worker": "Dockerfile.gpu-worker",
}

const distrolessNonroot = "gcr.io/distroless/static-debian12:nonroot"

var (
	goImageTag   = regexp.MustCompile(`^(\d+\.\d+\.\d+)-[a-z0-9]+$`)
	cudaImageTag = regexp.MustCompile(`^12\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+$`)
	goDirective  = regexp.MustCompile(`(?m)^(?:go|toolchain go)\s+(\d+\.\d+(?:\.\d+)?)\s*$`)
)

func TestDockerfiles(t *testing.T) {
	for _, name := range dockerfiles {
		df := parseDockerfile(t, name)
		t.Run(name+"/every FROM is a stage or an image pinned to an exact tag", func(t *testing.T) {
			seen := map[string]bool{}
			for _, st := range df.Stages {
				if !seen[strings.ToLower(st.From)] {
					assert.Empty(t, pinned(st.From), "FROM %s %s", st.From, pinned(st.From))
				}
				if st.Name != "" {
					seen[st.Name] = true
				}
			}
		})
		t.Run(name+"/Go build image matches go.mod", func(t *testing.T) {
			need := "0.0.0"
			for _, m := range goDirective.FindAllStringSubmatch(readFile(t, "go.mod"), -1) {
				if versionLess(need, m[1]) {
					need = m[1]
				}
			}
			found := false
			for _, st := range df.Stages {
				r := parseImage(st.From)
				if r.Repo != "golang" {
					continue
				}
				found = true
				m := goImageTag.FindStringSubmatch(r.Tag)
				require.NotNil(t, m, "golang tag %q is not an exact version", r.Tag)
				// GOTOOLCHAIN=local in the build: the image must not be older than go.mod asks.
				assert.False(t, versionLess(m[1], need), "golang:%s is older than go.mod's go %s", r.Tag, need)
			}
			assert.True(t, found, "no golang build stage")
		})
		t.Run(name+"/has a HEALTHCHECK whose binary the image has", func(t *testing.T) {
			var hc []instr
			for _, st := range df.lineage(df.final()) {
				hc = append(hc, st.all("HEALTHCHECK")...)
			}
			require.Len(t, hc, 1)
			require.Contains(t, hc[0].Args, `CMD ["`)
			bin := strings.SplitN(strings.SplitN(hc[0].Args, `CMD ["`, 2)[1], `"`, 2)[0]
			_, ok := df.copyDests(df.final())[bin]
			assert.True(t, ok, "the health check runs %s, which no COPY puts in the final image", bin)
		})
		t.Run(name+"/runs as a non-root user", func(t *testing.T) {
			u := df.user()
			require.NotEmpty(t, u)
			uid, _, _ := strings.Cut(u, ":")
			n, err := strconv.Atoi(uid)
			require.NoError(t, err, "USER %q: use a numeric uid so Kubernetes can verify runAsNonRoot", u)
			assert.NotZero(t, n)
		})
		t.Run(name+"/ENV names only variables the code reads", func(t *testing.T) {
			known := configEnv(t)
			for k := range df.env(df.final()) {
				if strings.HasPrefix(k, "OMTX_") || strings.HasPrefix(k, "TEMPORAL_") {
					assert.True(t, known[k], "%s sets %s, which config/config.go does not read", name, k)
				}
			}
		})
	}

	for _, name := range []string{"Dockerfile.api", "Dockerfile.worker"} {
		df := parseDockerfile(t, name)
		bin := map[string]string{"Dockerfile.api": "omtx-api", "Dockerfile.worker": "omtx-worker"}[name]
		t.Run(name+"/static CGO_ENABLED=0 build on distroless nonroot", func(t *testing.T) {
			assert.Equal(t, distrolessNonroot, df.final().From)
			assert.Equal(t, "65532:65532", df.user())
			build := df.stage("build")
			require.NotNil(t, build)
			assert.Equal(t, "0", df.env(build)["CGO_ENABLED"])
			assert.Contains(t, df.Text, "./cmd/"+bin)
			entry := df.final().all("ENTRYPOINT")
			require.Len(t, entry, 1)
			assert.Equal(t, `["/usr/local/bin/`+bin+`"]`, entry[0].Args)
		})
	}

	t.Run("Dockerfile.gpu-worker", func(t *testing.T) {
		df := parseDockerfile(t, "Dockerfile.gpu-worker")
		t.Run("runtime is a CUDA 12 + cuDNN runtime image, with and without Boltz", func(t *testing.T) {
			require.Equal(t, "false", df.GlobalArgs["INSTALL_BOLTZ"], "Boltz must be opt-in")
			for _, v := range []string{"false", "true"} {
				d := parseDockerfile(t, "Dockerfile.gpu-worker", map[string]string{"INSTALL_BOLTZ": v})
				base := parseImage(d.base(t, d.final()))
				assert.Equal(t, "nvidia/cuda", base.Repo, "INSTALL_BOLTZ=%s", v)
				assert.Regexp(t, cudaImageTag, base.Tag, "INSTALL_BOLTZ=%s", v)
			}
		})
		t.Run("cgo build", func(t *testing.T) {
			build := df.stage("build")
			require.NotNil(t, build)
			assert.Equal(t, "1", df.env(build)["CGO_ENABLED"])
			assert.Contains(t, df.Text, "./cmd/omtx-gpu-worker")
		})
		t.Run("ONNX Runtime 1.24.1 GPU release, checksum verified", func(t *testing.T) {
			ort := df.stage("ort")
			require.NotNil(t, ort)
			var args = map[string]string{}
			for _, in := range ort.all("ARG") {
				k, v, _ := strings.Cut(in.Args, "=")
				args[k] = v
			}
			assert.Equal(t, "1.24.1", args["ORT_VERSION"])
			v, ok := args["ORT_SHA256"]
			assert.True(t, ok, "ORT_SHA256 must be an ARG")
			assert.Empty(t, v, "ORT_SHA256 has no default: whoever builds fills it")
			assert.Contains(t, df.Text, "https://github.com/microsoft/onnxruntime/releases/download/v${ORT_VERSION}/onnxruntime-linux-x64-gpu-${ORT_VERSION}.tgz")
			assert.Regexp(t, `sha256sum -c`, df.Text)
			assert.Contains(t, df.Text, `if [ -z "${ORT_SHA256:-}" ]`, "an empty checksum must stop the build")
		})
		t.Run("Boltz-2 stage: pinned boltz in a venv, weights cached into BOLTZ_CACHE", func(t *testing.T) {
			bb := df.stage("boltz-build")
			require.NotNil(t, bb)
			require.NotNil(t, df.stage("boltz-true"))
			require.NotNil(t, df.stage("boltz-false"))
			var ver string
			for _, in := range bb.all("ARG") {
				if k, v, ok := strings.Cut(in.Args, "="); ok && k == "BOLTZ_VERSION" {
					ver = v
				}
			}
			assert.Regexp(t, `^\d+\.\d+\.\d+$`, ver, "BOLTZ_VERSION must be an exact version")
			assert.Contains(t, df.Text, `"boltz==${BOLTZ_VERSION}"`)
			assert.Contains(t, df.Text, "python3 -m venv "+boltzVenv)
			cache := df.env(df.final())["BOLTZ_CACHE"]
			assert.Equal(t, "/opt/boltz/cache", cache)
			assert.Contains(t, df.Text, "download_boltz2(Path('"+cache+"'))")
		})
		t.Run("model bundle and library where the ENV says", func(t *testing.T) {
			env := df.env(df.final())
			dests := df.copyDests(df.final())
			lib := env["ONNXRUNTIME_LIB"]
			require.NotEmpty(t, lib)
			assert.Equal(t, "ort:/opt/onnxruntime/lib", dests[filepath.Dir(lib)])
			bundle := env["OMTX_MODEL_BUNDLE"]
			require.NotEmpty(t, bundle)
			assert.Equal(t, "models/", dests[filepath.Dir(bundle)])
			for _, f := range []string{"model.onnx", "manifest.json"} {
				assert.FileExists(t, repoPath(t, "models", filepath.Base(bundle), f))
			}
			assert.True(t, strings.HasPrefix(env["LD_LIBRARY_PATH"], filepath.Dir(lib)+":"), "LD_LIBRARY_PATH must reach the CUDA provider libraries")
		})
	})

	t.Run(".dockerignore", func(t *testing.T) {
		patterns := readDockerignore(t)
		for _, p := range []string{".git", ".tools", ".omtx", "bin", "foo.test", "cmd/x/y.test", "integration", "deploy/base/api.yaml", "deploy/deploytest/helpers_test.go"} {
			assert.True(t, ignored(patterns, p), "%s should not reach the build context", p)
		}
		for _, p := range []string{"go.mod", "go.sum", "cmd/omtx-api/main.go", "models/descriptor-baseline-v1/model.onnx",
			"deploy/httpcheck/main.go", "deploy/httpcheck/go.mod", "config/config.go"} {
			assert.False(t, ignored(patterns, p), "%s is needed by the builds", p)
		}
		entries, err := os.ReadDir(repoPath(t))
		require.NoError(t, err)
		for _, e := range entries {
			// Every Go package the binaries import must reach the context.
			if e.IsDir() && e.Name() != "integration" && !strings.HasPrefix(e.Name(), ".") {
				if hasGo(t, e.Name()) {
					assert.False(t, ignored(patterns, e.Name()+"/x.go"), "package folder %s is ignored", e.Name())
				}
			}
		}
	})
}

// boltzVenv is where the GPU image installs Boltz-2.
const boltzVenv = "/opt/boltz/venv"

func hasGo(t *testing.T, dir string) bool {
	m, _ := filepath.Glob(repoPath(t, dir, "*.go"))
	return len(m) > 0
}

func readDockerignore(t *testing.T) []string {
	var out []string
	for _, l := range strings.Split(readFile(t, ".dockerignore"), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// ignored applies .dockerignore patterns (last match wins, ! re-includes,
// a pattern matching a folder matches what is under it, ** any depth).
func ignored(patterns []string, path string) bool {
	out := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		if matchIgnore(p, path) {
			out = !neg
		}
	}
	return out
}

func matchIgnore(pattern, path string) bool {
	elems := strings.Split(path, "/")
	for i := 1; i <= len(elems); i++ {
		prefix := strings.Join(elems[:i], "/")
		if globMatch(pattern, prefix) {
			return true
		}
	}
	return false
}

func globMatch(pattern, path string) bool {
	if rest, ok := strings.CutPrefix(pattern, "**/"); ok {
		elems := strings.Split(path, "/")
		for i := range elems {
			if globMatch(rest, strings.Join(elems[i:], "/")) {
				return true
			}
		}
		return false
	}
	ok, _ := filepath.Match(pattern, path)
	return ok
}

// versionLess compares dotted numeric versions.
func versionLess(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		var x, y int
		if i < len(as) {
			x, _ = strconv.Atoi(as[i])
		}
		if i < len(bs) {
			y, _ = strconv.Atoi(bs[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}
