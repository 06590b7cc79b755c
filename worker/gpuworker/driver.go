package gpuworker

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// minDriverForCUDA is the minimum Linux x86_64 driver of each CUDA toolkit
// release the images are built on, by major.minor: NVIDIA's CUDA Toolkit
// release notes, Table 3 "CUDA Toolkit and Corresponding Driver Versions"
// (CUDA 12.8 GA: >= 570.26). Dockerfile.gpu-worker's base image sets
// CUDA_VERSION (nvidia/cuda:12.8.1-...); deploytest checks that its
// major.minor has a row here.
var minDriverForCUDA = map[string]string{
	"12.8": "570.26",
}

var (
	// /proc/driver/nvidia/version: "NVRM version: NVIDIA UNIX x86_64 Kernel
	// Module  570.124.06  Wed Feb 26 ..." or "... Open Kernel Module for
	// x86_64  535.183.01  Release Build ...": the first dotted number.
	procDriverRe = regexp.MustCompile(`NVRM version:.*?\s([0-9]+(?:\.[0-9]+)+)\s`)
	// nvidia-smi --query-gpu=driver_version --format=csv,noheader: one
	// version per GPU.
	smiDriverRe = regexp.MustCompile(`^\s*([0-9]+(?:\.[0-9]+)+)\s*$`)
)

// ParseProcDriverVersion reads the driver version from the text of
// /proc/driver/nvidia/version.
func ParseProcDriverVersion(text string) (string, error) {
	m := procDriverRe.FindStringSubmatch(text)
	if m == nil {
		return "", fmt.Errorf("no driver version in /proc/driver/nvidia/version: %q", firstLine(text))
	}
	return m[1], nil
}

// ParseSMIDriverVersion reads the driver version from nvidia-smi's
// --query-gpu=driver_version --format=csv,noheader output (the first GPU's).
func ParseSMIDriverVersion(out string) (string, error) {
	m := smiDriverRe.FindStringSubmatch(firstLine(out))
	if m == nil {
		return "", fmt.Errorf("no driver version in nvidia-smi's output: %q", firstLine(out))
	}
	return m[1], nil
}

func firstLine(s string) string {
	s = strings.TrimLeft(s, "\n")
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// CheckDriverForCUDA refuses a driver older than the one the image's CUDA
// (cudaVersion, e.g. "12.8.1") needs, with a message that names both and
// what to change.
func CheckDriverForCUDA(driver, cudaVersion string) error {
	parts := strings.SplitN(cudaVersion, ".", 3)
	if len(parts) < 2 {
		return fmt.Errorf("CUDA_VERSION %q is not major.minor[.patch]", cudaVersion)
	}
	mm := parts[0] + "." + parts[1]
	min, ok := minDriverForCUDA[mm]
	if !ok {
		return fmt.Errorf("the image's CUDA %s has no known minimum driver; add its row from NVIDIA's CUDA release notes (worker/gpuworker/driver.go)", cudaVersion)
	}
	older, err := versionLess(driver, min)
	if err != nil {
		return err
	}
	if older {
		return fmt.Errorf("NVIDIA driver %s is too old for this image's CUDA %s, which needs %s or later: "+
			"run the GPU node pool on a GKE version whose gpu-driver-version=default installs an R570 or later driver (deploy/README.md, \"GPU driver\")",
			driver, cudaVersion, min)
	}
	return nil
}

// versionLess compares dotted numeric versions (570.86.15 < 570.124.06).
func versionLess(a, b string) (bool, error) {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < max(len(pa), len(pb)); i++ {
		var x, y int
		var err error
		if i < len(pa) {
			if x, err = strconv.Atoi(pa[i]); err != nil {
				return false, fmt.Errorf("driver version %q is not numeric", a)
			}
		}
		if i < len(pb) {
			if y, err = strconv.Atoi(pb[i]); err != nil {
				return false, fmt.Errorf("driver version %q is not numeric", b)
			}
		}
		if x != y {
			return x < y, nil
		}
	}
	return false, nil
}

// driverSource is where the running driver's version is read.
type driverSource struct {
	procFile string                                    // /proc/driver/nvidia/version
	smi      func(ctx context.Context) (string, error) // nvidia-smi's query output
}

var hostDriver = driverSource{
	procFile: "/proc/driver/nvidia/version",
	smi: func(ctx context.Context) (string, error) {
		out, err := exec.CommandContext(ctx, "nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader").Output()
		return string(out), err
	},
}

// driverVersion reads the driver version from the proc file, or from
// nvidia-smi where the file is not visible.
func (s driverSource) driverVersion() (string, error) {
	if b, err := os.ReadFile(s.procFile); err == nil {
		return ParseProcDriverVersion(string(b))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := s.smi(ctx)
	if err != nil {
		return "", fmt.Errorf("no NVIDIA driver found (%s unreadable, nvidia-smi: %w)", s.procFile, err)
	}
	return ParseSMIDriverVersion(out)
}

// checkDriver is the start-up check of a worker that requires a GPU: the
// host's driver against the image's CUDA_VERSION. An image without
// CUDA_VERSION (not built on nvidia/cuda) is not checked.
func checkDriver(src driverSource, cudaVersion string) error {
	if cudaVersion == "" {
		return nil
	}
	driver, err := src.driverVersion()
	if err != nil {
		return fmt.Errorf("GPU driver check: %w", err)
	}
	if err := CheckDriverForCUDA(driver, cudaVersion); err != nil {
		return fmt.Errorf("GPU driver check: %w", err)
	}
	return nil
}
