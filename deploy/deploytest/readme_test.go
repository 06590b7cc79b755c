package deploytest

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestREADMELayoutMatchesTheTree: every folder the README's layout table
// names exists, and every top-level folder of the repository is in it.
func TestREADMELayoutMatchesTheTree(t *testing.T) {
	readme := readFile(t, "README.md")
	start := strings.Index(readme, "## Layout")
	require.GreaterOrEqual(t, start, 0, "README.md has no Layout section")
	section := readme[start:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	named := map[string]bool{}
	cell := regexp.MustCompile("`([a-z][a-z0-9_./-]*)/`")
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		first := strings.SplitN(strings.TrimPrefix(line, "|"), "|", 2)[0]
		for _, m := range cell.FindAllStringSubmatch(first, -1) {
			named[m[1]] = true
		}
	}
	require.NotEmpty(t, named)
	for dir := range named {
		st, err := os.Stat(repoPath(t, dir))
		if assert.NoError(t, err, "README names %s/, which does not exist", dir) {
			assert.True(t, st.IsDir(), "%s is not a folder", dir)
		}
	}
	out, err := exec.Command("git", "-C", repoPath(t), "ls-files").Output()
	require.NoError(t, err)
	top := map[string]bool{}
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if dir, _, ok := strings.Cut(f, "/"); ok && !strings.HasPrefix(dir, ".") {
			top[dir] = true
		}
	}
	for dir := range top {
		assert.True(t, named[dir], "top-level folder %s/ is missing from README.md's layout table", dir)
	}
}
