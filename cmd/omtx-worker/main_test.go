package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestWorkersLinkNoGin keeps the HTTP framework out of the workers'
// binaries: they start workflows through package jobstart and serve only
// /metrics and health on net/http, so gin, and the API package on it, has
// no reason to be in them (cmd/omtx-api's TestAPILinksNoCgo is the mirror
// image).
func TestWorkersLinkNoGin(t *testing.T) {
	t.Parallel()
	for _, bin := range []string{".", "../omtx-gpu-worker"} {
		out, err := exec.Command("go", "list", "-deps", bin).CombinedOutput()
		require.NoError(t, err, string(out))
		for _, pkg := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			for _, banned := range []string{"github.com/gin-gonic/gin", "github.com/omtx-hub/omtx-hub/api", "github.com/omtx-hub/omtx-hub/app/apiapp"} {
				require.False(t, pkg == banned || strings.HasPrefix(pkg, banned+"/"), "%s links %s", bin, pkg)
			}
		}
	}
}
