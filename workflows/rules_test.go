package workflows_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// omtxFuncsAllowed are the omtx functions workflow code may call: names
// and paths that are part of the records' contract (a change to them is a
// data migration, not a rule change), never a decision about the input.
var omtxFuncsAllowed = map[string]string{
	"BatchChildJobIDs": "the ids of a batch's child documents",
	"JobPrefix":        "a job's folder in the bucket",
	"ObjectOf":         "the object name of a gs:// address",
}

// omtxFuncs lists the package-level functions declared in omtx (not
// methods: calls of omtx types' methods are outside this check).
func omtxFuncs(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("../omtx/*.go")
	require.NoError(t, err)
	funcs := map[string]bool{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil {
				funcs[fd.Name.Name] = true
			}
		}
	}
	require.NotEmpty(t, funcs)
	return funcs
}

// omtxFuncsUsed lists "file: omtx.Name" for each use of an omtx function
// in the non-test Go files of dir, called or passed as a value.
func omtxFuncsUsed(t *testing.T, dir string, funcs map[string]bool) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	require.NoError(t, err)
	var used []string
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "omtx" && funcs[sel.Sel.Name] {
				used = append(used, filepath.Base(path)+": omtx."+sel.Sel.Name)
			}
			return true
		})
	}
	sort.Strings(used)
	return used
}

// TestWorkflowsApplyNoOmtxRules keeps domain rules out of the replay
// boundary: workflow code may use omtx's types and constants, and only the
// functions of omtxFuncsAllowed. A rule such as which model reads an MSA
// is decided at submission and carried in the spec; were a workflow to
// call it, changing the rule would change running workflows' commands
// with no version check.
func TestWorkflowsApplyNoOmtxRules(t *testing.T) {
	t.Parallel()
	funcs := omtxFuncs(t)
	for name := range omtxFuncsAllowed {
		require.True(t, funcs[name], "omtxFuncsAllowed names %s, which omtx no longer declares", name)
	}
	for _, u := range omtxFuncsUsed(t, ".", funcs) {
		_, name, _ := strings.Cut(u, ": omtx.")
		_, ok := omtxFuncsAllowed[name]
		assert.True(t, ok, "%s: workflow code applies an omtx rule; carry the decision in the spec or an activity's result", u)
	}
}
