package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPythonClient installs clients/python into a fresh venv with Debian's
// python3 exactly as the README says (pip install ./clients/python: no
// index is reached) and runs its tests against this stack's API, with a
// GPU worker serving the jobs.
func TestPythonClient(t *testing.T) {
	py, err := exec.LookPath("python3")
	require.NoError(t, err, "python3 is needed for the Python client's tests")
	startGPUWorker(t)
	venv := filepath.Join(t.TempDir(), "venv")
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = env.root
		cmd.Env = append(os.Environ(), "OMTX_URL="+env.api.URL, "OMTX_API_KEY="+testKey, "PIP_DISABLE_PIP_VERSION_CHECK=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s %v:\n%s", name, args, out)
		t.Logf("%s %v:\n%s", filepath.Base(name), args, out)
	}
	run(py, "-m", "venv", venv)
	run(filepath.Join(venv, "bin", "pip"), "install", "--no-index", "./clients/python")
	// From another folder, so the installed package is imported, not the tree's.
	tests, err := filepath.Abs(filepath.Join(env.root, "clients", "python", "tests"))
	require.NoError(t, err)
	cmd := exec.Command(filepath.Join(venv, "bin", "python"), "-m", "unittest", "discover", "-v", "-s", tests, "-t", tests)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "OMTX_URL="+env.api.URL, "OMTX_API_KEY="+testKey)
	out, err := cmd.CombinedOutput()
	t.Logf("python tests:\n%s", out)
	require.NoError(t, err, "the Python client's tests failed:\n%s", out)
	require.NotContains(t, string(out), "skipped", "the stack tests must run here")
}
