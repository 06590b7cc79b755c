package gpuworker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return string(b)
}

func TestParseDriverVersion(t *testing.T) {
	t.Parallel()
	t.Run("proc file, proprietary module", func(t *testing.T) {
		v, err := ParseProcDriverVersion(fixture(t, "proc-driver-570.txt"))
		require.NoError(t, err)
		assert.Equal(t, "570.124.06", v)
	})
	t.Run("proc file, open kernel module", func(t *testing.T) {
		v, err := ParseProcDriverVersion(fixture(t, "proc-driver-535-open.txt"))
		require.NoError(t, err)
		assert.Equal(t, "535.183.01", v)
	})
	t.Run("nvidia-smi, two GPUs", func(t *testing.T) {
		v, err := ParseSMIDriverVersion(fixture(t, "nvidia-smi-570.txt"))
		require.NoError(t, err)
		assert.Equal(t, "570.172.08", v)
	})
	t.Run("garbage", func(t *testing.T) {
		_, err := ParseProcDriverVersion("no driver here")
		assert.Error(t, err)
		_, err = ParseSMIDriverVersion("NVIDIA-SMI has failed\n")
		assert.Error(t, err)
	})
}

func TestCheckDriverForCUDA(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		driver, cuda string
		ok           bool
	}{
		{"570.124.06", "12.8.1", true},
		{"570.26", "12.8.1", true},
		{"580.65.06", "12.8.1", true},
		{"570.9", "12.8.1", false}, // numeric, not string, order
		{"535.183.01", "12.8.1", false},
		{"550.90.07", "12.8", false},
		{"570.124.06", "13.0.0", false}, // no row: refuse, do not guess
		{"570.124.06", "12", false},
	} {
		err := CheckDriverForCUDA(c.driver, c.cuda)
		if c.ok {
			assert.NoError(t, err, "%s with CUDA %s", c.driver, c.cuda)
		} else {
			assert.Error(t, err, "%s with CUDA %s", c.driver, c.cuda)
		}
	}
	err := CheckDriverForCUDA("535.183.01", "12.8.1")
	require.Error(t, err)
	for _, s := range []string{"535.183.01", "12.8.1", "570.26", "gpu-driver-version"} {
		assert.Contains(t, err.Error(), s, "the refusal names the driver, the CUDA, the minimum and the fix")
	}
}

func TestCheckDriverSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	proc := filepath.Join(dir, "version")
	require.NoError(t, os.WriteFile(proc, []byte(fixture(t, "proc-driver-535-open.txt")), 0o600))
	noSMI := func(context.Context) (string, error) { return "", errors.New("not found") }
	assert.ErrorContains(t, checkDriver(driverSource{procFile: proc, smi: noSMI}, "12.8.1"), "too old")
	smi := func(context.Context) (string, error) { return fixture(t, "nvidia-smi-570.txt"), nil }
	assert.NoError(t, checkDriver(driverSource{procFile: filepath.Join(dir, "absent"), smi: smi}, "12.8.1"), "nvidia-smi where the proc file is not visible")
	assert.ErrorContains(t, checkDriver(driverSource{procFile: filepath.Join(dir, "absent"), smi: noSMI}, "12.8.1"), "no NVIDIA driver")
	assert.NoError(t, checkDriver(driverSource{procFile: proc, smi: noSMI}, ""), "an image not built on nvidia/cuda is not checked")
}
