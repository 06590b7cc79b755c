package deploytest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const boltzDir = "deploy/gpu/boltz"

type pin struct {
	Name, Version string
	Hashes        []string
}

var (
	pinLine   = regexp.MustCompile(`^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[a-z0-9,_-]+\])?==([^\s;\\]+)`)
	hashFlag  = regexp.MustCompile(`--hash=sha256:([0-9a-f]*)`)
	indexFlag = regexp.MustCompile(`^--(?:extra-)?index-url\s+(\S+)`)
)

// normName is a package name as pip compares them (PEP 503).
func normName(s string) string {
	return strings.ToLower(regexp.MustCompile(`[-_.]+`).ReplaceAllString(s, "-"))
}

// requirements reads a pip requirements file: pins (with their hashes),
// index options, and the lines it does not understand.
func requirements(t testing.TB, text string) (pins map[string]pin, indexes []string, other []string) {
	pins = map[string]pin{}
	var logical []string
	cur := ""
	for _, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "#") {
			continue
		}
		if i := strings.Index(l, " #"); i >= 0 {
			l = strings.TrimSpace(l[:i])
		}
		if strings.HasSuffix(l, "\\") {
			cur += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		cur += l
		if strings.TrimSpace(cur) != "" {
			logical = append(logical, strings.TrimSpace(cur))
		}
		cur = ""
	}
	for _, l := range logical {
		if m := indexFlag.FindStringSubmatch(l); m != nil {
			indexes = append(indexes, m[1])
			continue
		}
		m := pinLine.FindStringSubmatch(l)
		if m == nil {
			other = append(other, l)
			continue
		}
		p := pin{Name: normName(m[1]), Version: m[3]}
		for _, h := range hashFlag.FindAllStringSubmatch(l, -1) {
			p.Hashes = append(p.Hashes, h[1])
		}
		_, dup := pins[p.Name]
		require.False(t, dup, "%s is pinned twice", p.Name)
		pins[p.Name] = p
	}
	return pins, indexes, other
}

// cudaTag is the PyTorch wheel tag of the GPU image's CUDA (12.8.1 -> cu128).
func cudaTag(t testing.TB) string {
	df := parseDockerfile(t, "Dockerfile.gpu-worker", map[string]string{"INSTALL_BOLTZ": "true"})
	base := parseImage(df.base(t, df.final()))
	require.Equal(t, "nvidia/cuda", base.Repo)
	m := regexp.MustCompile(`^(\d+)\.(\d+)\.\d+-`).FindStringSubmatch(base.Tag)
	require.NotNil(t, m, "CUDA tag %s", base.Tag)
	return "cu" + m[1] + m[2]
}

func TestBoltzLock(t *testing.T) {
	in, inIdx, inOther := requirements(t, readFile(t, boltzDir, "requirements.in"))
	lockText := readFile(t, boltzDir, "requirements.lock")
	lock, lockIdx, lockOther := requirements(t, lockText)
	status := strings.TrimSpace(strings.SplitN(lockText, "\n", 2)[0])
	df := parseDockerfile(t, "Dockerfile.gpu-worker", map[string]string{"INSTALL_BOLTZ": "true"})
	cu := cudaTag(t)
	index := "https://download.pytorch.org/whl/" + cu

	t.Run("requirements.in pins exact versions only", func(t *testing.T) {
		assert.Empty(t, inOther, "every line of requirements.in is name==version")
		assert.Empty(t, inIdx, "the index belongs to lock.sh and the lock, not requirements.in")
		for _, n := range []string{"boltz", "torch", "cuequivariance-torch", "cuequivariance-ops-torch-cu12", "cuequivariance-ops-cu12"} {
			assert.Contains(t, in, n, "requirements.in must pin %s", n)
		}
		assert.Contains(t, readFile(t, boltzDir, "requirements.in"), "boltz[cuda]==", "Boltz with its cuda extra: the cuEquivariance kernels are decided in")
	})
	t.Run("torch is the CUDA build of the image's CUDA", func(t *testing.T) {
		assert.True(t, strings.HasSuffix(in["torch"].Version, "+"+cu), "torch %s: want the +%s build (base image CUDA)", in["torch"].Version, cu)
		assert.Equal(t, []string{index}, lockIdx, "the lock's index is PyTorch's %s wheel index", cu)
		assert.Contains(t, readFile(t, boltzDir, "lock.sh"), "index="+index)
	})
	t.Run("lock.sh resolves on the image's own base", func(t *testing.T) {
		sh := readFile(t, boltzDir, "lock.sh")
		assert.Contains(t, sh, "base="+df.base(t, df.final())+" ")
		assert.Contains(t, sh, "--generate-hashes")
		assert.Contains(t, sh, "echo '# lock-status: hashed'")
	})
	t.Run("every top-level pin is in the lock at the same version", func(t *testing.T) {
		for n, p := range in {
			l, ok := lock[n]
			if assert.True(t, ok, "%s is in requirements.in but not in the lock", n) {
				assert.Equal(t, p.Version, l.Version, "%s", n)
			}
		}
		ver := ""
		for _, in := range df.stage("boltz-build").all("ARG") {
			if k, v, _ := strings.Cut(in.Args, "="); k == "BOLTZ_VERSION" {
				ver = v
			}
		}
		assert.Equal(t, in["boltz"].Version, ver, "Dockerfile.gpu-worker's BOLTZ_VERSION")
	})
	t.Run("the lock: hashed, or refused by the build", func(t *testing.T) {
		assert.Empty(t, lockOther, "lines the lock check does not understand")
		switch status {
		case "# lock-status: hashed":
			assert.Greater(t, len(lock), len(in), "a hashed lock holds the transitive dependencies too")
			for n, p := range lock {
				assert.NotEmpty(t, p.Hashes, "%s has no hash", n)
				for _, h := range p.Hashes {
					assert.Len(t, h, 64, "%s: sha256 is 64 hex digits", n)
				}
			}
		case "# lock-status: unhashed":
			assert.Len(t, lock, len(in), "an unhashed lock holds the top-level pins only")
			for n, p := range lock {
				assert.Empty(t, p.Hashes, "%s: an unhashed lock with hashes is a contradiction", n)
			}
			t.Log("requirements.lock is not hashed yet: Dockerfile.gpu-worker refuses INSTALL_BOLTZ=true until deploy/gpu/boltz/lock.sh is run")
		default:
			t.Errorf("the lock's first line is %q, not a lock status", status)
		}
	})
	t.Run("the Dockerfile installs only the hashed lock", func(t *testing.T) {
		bb := df.stage("boltz-build")
		require.NotNil(t, bb)
		assert.Equal(t, "deploy/gpu/boltz/requirements.lock", df.copyDests(bb)["/tmp/boltz/requirements.lock"])
		var installs []string
		for _, st := range df.Stages {
			for _, in := range st.all("RUN") {
				for _, part := range strings.Split(in.Args, ";") {
					if strings.Contains(part, "pip install") {
						installs = append(installs, strings.TrimSpace(part))
					}
				}
			}
		}
		require.Len(t, installs, 1, "one pip install, of the lock: %v", installs)
		for _, f := range []string{"--require-hashes", "--no-deps", `-r "$lock"`} {
			assert.Contains(t, installs[0], f)
		}
		run := strings.Join(func() []string {
			var out []string
			for _, in := range bb.all("RUN") {
				out = append(out, in.Args)
			}
			return out
		}(), "\n")
		assert.Contains(t, run, `grep -qx '# lock-status: hashed'`, "the build refuses an unhashed lock")
		assert.Contains(t, run, "--hash=sha256:", "the build refuses a lock without hashes")
		assert.Contains(t, run, "exit 1")
		assert.Contains(t, run, "deploy/gpu/boltz/lock.sh", "the refusal says what to run")
		assert.Contains(t, run, "cuequivariance-torch", "the build checks the kernels are installed")
		assert.False(t, ignored(readDockerignore(t), "deploy/gpu/boltz/requirements.lock"), "the lock must reach the build context")
	})
	t.Run("the docs say what the lock is and what was not verified", func(t *testing.T) {
		doc := readFile(t, boltzDir, "README.md")
		for _, p := range in {
			assert.Contains(t, doc, p.Version, "README.md names %s's pin", p.Name)
		}
		for _, s := range []string{index, "--require-hashes", "lock.sh", "lock-status: unhashed", "not verified", "cuEquivariance"} {
			assert.Contains(t, doc, s)
		}
		top := readFile(t, "deploy", "README.md")
		assert.Contains(t, top, "deploy/gpu/boltz/README.md", "deploy/README.md points at the lock's README")
	})
	t.Run("ORT_SHA256 is required and its source documented", func(t *testing.T) {
		top := readFile(t, "deploy", "README.md")
		assert.Contains(t, top, "ORT_SHA256")
		assert.Contains(t, top, "https://github.com/microsoft/onnxruntime/releases/tag/v1.24.1")
		assert.Contains(t, df.Text, `if [ -z "${ORT_SHA256:-}" ]`)
	})
}

func TestBoltzLockChecksCanFail(t *testing.T) {
	hashed := "# lock-status: hashed\n--extra-index-url https://download.pytorch.org/whl/cu128\nboltz==2.2.1 \\\n    --hash=sha256:abc\nnumpy>=1.26\n"
	pins, idx, other := requirements(t, hashed)
	assert.Equal(t, []string{"https://download.pytorch.org/whl/cu128"}, idx)
	assert.Equal(t, []string{"abc"}, pins["boltz"].Hashes, "a short hash is read as written, so the 64-digit check catches it")
	assert.Equal(t, []string{"numpy>=1.26"}, other, "an unpinned line is reported")
	assert.Equal(t, "cuequivariance-ops-torch-cu12", normName("cuequivariance_ops_torch_cu12"))
}

// boltzPinCheck is the Dockerfile's own command that checks the lock pins
// boltz at BOLTZ_VERSION: the part of the boltz-build stage's RUN that
// names "boltz==${BOLTZ_VERSION}" outside the pip install.
func boltzPinCheck(t *testing.T) string {
	t.Helper()
	bb := parseDockerfile(t, "Dockerfile.gpu-worker", map[string]string{"INSTALL_BOLTZ": "true"}).stage("boltz-build")
	require.NotNil(t, bb)
	var found []string
	for _, in := range bb.all("RUN") {
		for _, part := range strings.Split(in.Args, ";") {
			if strings.Contains(part, "boltz==${BOLTZ_VERSION}") && !strings.Contains(part, "pip install") {
				found = append(found, strings.TrimSpace(part))
			}
		}
	}
	require.Len(t, found, 1, "one check of the boltz pin in the boltz-build stage")
	return found[0]
}

// runLockCheck runs check with bash, as the build's RUN does (set -eu, the
// lock in $lock), on a lock with the given text; it returns whether the
// check passed.
func runLockCheck(t *testing.T, check, lock string) bool {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	path := filepath.Join(t.TempDir(), "requirements.lock")
	require.NoError(t, os.WriteFile(path, []byte(lock), 0o600))
	cmd := exec.Command(bash, "-c", "set -eu\nlock=\"$1\"\nBOLTZ_VERSION=2.2.1\n"+check, "check", path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "%s", out)
		return false
	}
	return true
}

const (
	hashedLockFixture   = "# lock-status: hashed\n--extra-index-url https://download.pytorch.org/whl/cu128\nboltz==2.2.1 \\\n    --hash=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\nnumpy==1.26.4 \\\n    --hash=sha256:1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	unhashedLockFixture = "# lock-status: unhashed\n--extra-index-url https://download.pytorch.org/whl/cu128\nboltz==2.2.1\nnumpy==1.26.4\n"
)

func TestBoltzPinCheckRunsOnLocks(t *testing.T) {
	check := boltzPinCheck(t)
	for _, c := range []struct {
		name, lock string
		ok         bool
	}{
		{"a hashed lock (pin line ends in a backslash)", hashedLockFixture, true},
		{"an unhashed lock", unhashedLockFixture, true},
		{"the repository's lock, hashed or not", readFile(t, boltzDir, "requirements.lock"), true},
		{"another version", strings.ReplaceAll(hashedLockFixture, "boltz==2.2.1", "boltz==2.2.0"), false},
		{"a longer version with the same prefix", strings.ReplaceAll(hashedLockFixture, "boltz==2.2.1", "boltz==2.2.10"), false},
		{"a commented-out pin", strings.ReplaceAll(unhashedLockFixture, "boltz==2.2.1", "# boltz==2.2.1"), false},
		{"no boltz at all", "# lock-status: hashed\nnumpy==1.26.4 \\\n    --hash=sha256:00\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.ok, runLockCheck(t, check, c.lock))
		})
	}
}

func TestBoltzPinCheckCanFail(t *testing.T) {
	old := `grep -qx "boltz==${BOLTZ_VERSION}" "$lock"`
	assert.False(t, runLockCheck(t, old, hashedLockFixture), "the old check refuses every hashed lock")
	assert.True(t, runLockCheck(t, old, unhashedLockFixture))
}

var cudaBaseRe = regexp.MustCompile(`(?m)^FROM nvidia/cuda:([0-9]+)\.([0-9]+)\.[0-9]+-`)

// TestGPUDriverPinned: the GPU driver follows the node's pinned GKE version
// (gpu-driver-version=default), never latest, and the worker's start-up
// check knows the minimum driver of the image's CUDA.
func TestGPUDriverPinned(t *testing.T) {
	m := cudaBaseRe.FindStringSubmatch(readFile(t, "Dockerfile.gpu-worker"))
	require.NotNil(t, m, "Dockerfile.gpu-worker is not built on nvidia/cuda:<major>.<minor>.<patch>-...")
	cuda := m[1] + "." + m[2]
	src := readFile(t, "worker", "gpuworker", "driver.go")
	assert.Regexp(t, `"`+regexp.QuoteMeta(cuda)+`":\s+"[0-9.]+"`, src, "worker/gpuworker/driver.go has no minimum driver for CUDA %s", cuda)
	for _, f := range deployFiles(t) {
		assert.NotContains(t, readFile(t, "deploy", f), "gpu-driver-version=latest", "%s: latest moves under the image", f)
	}
	doc := readFile(t, "deploy", "README.md")
	assert.NotContains(t, doc, "gpu-driver-version=latest")
	assert.Contains(t, doc, "gpu-driver-version=default")
	assert.Contains(t, doc, "### GPU driver")
}
