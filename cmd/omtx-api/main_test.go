package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAPILinksNoCgo keeps the API binary free of cgo and ONNX Runtime: it
// must build with CGO_ENABLED=0 into a small static image.
func TestAPILinksNoCgo(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{len .CgoFiles}}", ".").CombinedOutput()
	require.NoError(t, err, string(out))
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, n, _ := strings.Cut(line, " ")
		require.NotContains(t, pkg, "onnxruntime_go")
		require.NotContains(t, pkg, "gonum.org", "the API must not link the workers' plotting")
		for _, own := range []string{"gpu", "activities", "workflows", "worker", "worker/gpuworker", "boltz", "aggregate", "store/storetest"} {
			require.NotEqual(t, "github.com/omtx-hub/omtx-hub/"+own, pkg, "the API must not link %s", own)
		}
		if pkg != "runtime/cgo" && !strings.HasPrefix(pkg, "net") && !strings.HasPrefix(pkg, "os/user") {
			require.Equal(t, "0", n, "%s uses cgo", pkg)
		}
	}
	build := exec.Command("go", "build", "-o", t.TempDir()+"/omtx-api", ".")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	out, err = build.CombinedOutput()
	require.NoError(t, err, string(out))
}
