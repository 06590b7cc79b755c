package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/omtx-hub/omtx-hub/"

// rule is one row of the doc's import-rules table.
type rule struct {
	pkg        string
	mayImport  []string // module packages, without the module path; "x/..." covers x and below
	neverLinks []string // import paths; a module package without the module path
	sourceLine int
}

// pkgInfo is what `go list -json` says of one package.
type pkgInfo struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

var (
	rulesBlock = regexp.MustCompile(`(?s)<!-- import-rules:begin -->\n(.*?)<!-- import-rules:end -->`)
	codeSpan   = regexp.MustCompile("`([^`]+)`")
)

// parseRules reads the table between the import-rules markers.
func parseRules(doc string) ([]rule, error) {
	m := rulesBlock.FindStringSubmatchIndex(doc)
	if m == nil {
		return nil, errors.New("no <!-- import-rules:begin --> ... <!-- import-rules:end --> block")
	}
	first := strings.Count(doc[:m[2]], "\n") + 1
	var rules []rule
	for i, line := range strings.Split(strings.TrimSpace(doc[m[2]:m[3]]), "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) != 4 {
			return nil, fmt.Errorf("line %d: %d cells, want 4: %q", first+i, len(cells), line)
		}
		if i < 2 { // the header and its rule
			continue
		}
		spans := func(cell string) []string {
			var out []string
			for _, s := range codeSpan.FindAllStringSubmatch(cell, -1) {
				out = append(out, s[1])
			}
			return out
		}
		pkg := spans(cells[0])
		if len(pkg) != 1 {
			return nil, fmt.Errorf("line %d: the package cell must hold one `name`: %q", first+i, cells[0])
		}
		may := spans(cells[1])
		if len(may) == 0 && strings.TrimSpace(cells[1]) != "-" {
			return nil, fmt.Errorf("line %d: may import is neither a list of `names` nor -: %q", first+i, cells[1])
		}
		never := spans(cells[2])
		if len(never) == 0 {
			return nil, fmt.Errorf("line %d: never links is empty", first+i)
		}
		rules = append(rules, rule{pkg: pkg[0], mayImport: may, neverLinks: never, sourceLine: first + i})
	}
	if len(rules) == 0 {
		return nil, errors.New("the import-rules table has no rows")
	}
	return rules, nil
}

// covers reports whether pattern (a module package, "x/..." for x and
// below) names pkg.
func covers(pattern, pkg string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return pkg == base || strings.HasPrefix(pkg, base+"/")
	}
	return pkg == pattern
}

// full turns a never-links entry into an import path: a module package
// gets the module path.
func full(p string) string {
	if strings.Contains(strings.SplitN(p, "/", 2)[0], ".") {
		return p
	}
	return module + p
}

// check returns every way pkgs break rules.
func check(rules []rule, pkgs map[string]pkgInfo) []string {
	var bad []string
	for _, r := range rules {
		p, ok := pkgs[module+r.pkg]
		if !ok {
			bad = append(bad, fmt.Sprintf("ARCHITECTURE.md:%d: package %s does not exist", r.sourceLine, r.pkg))
			continue
		}
		for _, imp := range p.Imports {
			own, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			if !slices.ContainsFunc(r.mayImport, func(pat string) bool { return covers(pat, own) }) {
				bad = append(bad, fmt.Sprintf("ARCHITECTURE.md:%d: %s imports %s, which its rule does not allow", r.sourceLine, r.pkg, own))
			}
		}
		for _, banned := range r.neverLinks {
			b := full(banned)
			for _, dep := range p.Deps {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					bad = append(bad, fmt.Sprintf("ARCHITECTURE.md:%d: %s links %s (never links %s)", r.sourceLine, r.pkg, dep, banned))
					break
				}
			}
		}
	}
	return bad
}

// listModule runs `go list -json ./...` at the module's root.
func listModule(t *testing.T) map[string]pkgInfo {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", "./...")
	cmd.Dir = ".."
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	pkgs := map[string]pkgInfo{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkgInfo
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else {
			require.NoError(t, err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// TestImportRulesHold: the import rules docs/ARCHITECTURE.md states hold
// for the module as it is.
func TestImportRulesHold(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "ARCHITECTURE.md"))
	require.NoError(t, err)
	rules, err := parseRules(string(doc))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(rules), 10, "the table lost rows")
	pkgs := listModule(t)
	for _, b := range check(rules, pkgs) {
		t.Error(b)
	}
	var ruled []string
	for _, r := range rules {
		ruled = append(ruled, module+r.pkg)
	}
	for path := range pkgs {
		if !slices.Contains(ruled, path) && !strings.Contains(path, "/cmd/") {
			t.Logf("no import rule for %s", strings.TrimPrefix(path, module))
		}
	}
}

// TestCheckFindsBrokenRules: the checker itself reports a direct import
// the rule does not allow, a dependency at any depth it bans, and a rule
// for a package that does not exist.
func TestCheckFindsBrokenRules(t *testing.T) {
	t.Parallel()
	doc := "x\n<!-- import-rules:begin -->\n| package | may import | never links | why |\n|---|---|---|---|\n" +
		"| `contract` | `omtx` | `store`, `github.com/gin-gonic/gin` | y |\n" +
		"| `workflows` | `contract`, `workflows/...` | `store` | y |\n" +
		"| `gone` | - | `store` | y |\n<!-- import-rules:end -->\n"
	rules, err := parseRules(doc)
	require.NoError(t, err)
	require.Len(t, rules, 3)
	assert.Equal(t, 5, rules[0].sourceLine)
	pkgs := map[string]pkgInfo{
		module + "contract": {ImportPath: module + "contract", Imports: []string{module + "omtx", module + "validate", "fmt"},
			Deps: []string{module + "omtx", module + "validate", "github.com/gin-gonic/gin/render"}},
		module + "workflows": {ImportPath: module + "workflows", Imports: []string{module + "contract", module + "workflows/internal/x"},
			Deps: []string{module + "contract", module + "workflows/internal/x"}},
	}
	got := check(rules, pkgs)
	assert.Equal(t, []string{
		"ARCHITECTURE.md:5: contract imports validate, which its rule does not allow",
		"ARCHITECTURE.md:5: contract links github.com/gin-gonic/gin/render (never links github.com/gin-gonic/gin)",
		"ARCHITECTURE.md:7: package gone does not exist",
	}, got)

	_, err = parseRules("no table here")
	require.Error(t, err)
	_, err = parseRules("<!-- import-rules:begin -->\n| a | b |\n<!-- import-rules:end -->")
	require.Error(t, err, "a row without four cells")
}
