// Package rdkittest runs the project's RDKit scripts (scripts/rdkit/*.mjs)
// under node with @rdkit/rdkit (WebAssembly, npm), for the tests that hold
// a committed table to RDKit's own verdicts. Every such test checks the
// table with no RDKit at all; the "IsCurrent" tests re-run RDKit through
// Run and Compare. They skip where node or @rdkit/rdkit is missing, unless
// OMTX_RDKIT=1 (CI) says they must be there; OMTX_RDKIT_UPDATE=1 rewrites
// a table from RDKit's answers instead of comparing.
package rdkittest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Install is the command that installs the RDKit these tests expect.
const Install = "npm install --prefix .tools/rdkit --ignore-scripts --no-audit --no-fund --save-exact @rdkit/rdkit@2026.9.1"

// Root is the module's root: the nearest folder above the test's own with
// a go.mod.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("rdkittest: no go.mod above the test's folder")
		}
		dir = up
	}
}

// Dir is where @rdkit/rdkit is installed: $RDKIT_DIR, else .tools/rdkit.
func Dir(root string) string {
	if d := os.Getenv("RDKIT_DIR"); d != "" {
		return d
	}
	return filepath.Join(root, ".tools", "rdkit")
}

// Run runs scripts/rdkit/<script> with args under node, from the module's
// root, with stdin (nil: none), and returns its stdout. It skips the test
// where node or @rdkit/rdkit is missing, or fails it under OMTX_RDKIT=1.
func Run(t testing.TB, script string, stdin io.Reader, args ...string) []byte {
	t.Helper()
	root := Root(t)
	missing := func(what string) {
		msg := fmt.Sprintf("RDKit check not run: %s; install with `%s`", what, Install)
		if os.Getenv("OMTX_RDKIT") == "1" {
			t.Fatal(msg + " (OMTX_RDKIT=1 requires it)")
		}
		t.Skip(msg + " (set OMTX_RDKIT=1 to make this a failure)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not on PATH")
	}
	if _, err := os.Stat(filepath.Join(Dir(root), "node_modules", "@rdkit", "rdkit", "dist", "RDKit_minimal.wasm")); err != nil {
		missing("@rdkit/rdkit is not installed under " + Dir(root))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{filepath.Join("scripts", "rdkit", script)}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "RDKIT_DIR="+Dir(root))
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v: %s", script, err, stderr.String())
	}
	return out
}

// Compare fails, showing the first differing lines, where got is not the
// committed file at path (relative to the test's folder); hint says how to
// regenerate it on purpose. Under OMTX_RDKIT_UPDATE=1 it writes got there
// instead.
func Compare(t testing.TB, path string, got []byte, hint string) {
	t.Helper()
	if os.Getenv("OMTX_RDKIT_UPDATE") == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, want) {
		return
	}
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	shown := 0
	for i := 0; i < max(len(g), len(w)) && shown < 20; i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("%s:%d\n  committed: %s\n  RDKit now: %s", path, i+1, wl, gl)
			shown++
		}
	}
	t.Fatalf("RDKit disagrees with %s; %s", path, hint)
}
