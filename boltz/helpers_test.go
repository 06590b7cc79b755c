package boltz

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// fakeBin is the stand-in boltz (internal/fakeboltz), built once by
// TestMain into a temporary folder.
var fakeBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "fakeboltz-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	fakeBin = filepath.Join(dir, "boltz")
	goTool, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "the go tool is needed to build the stand-in:", err)
		return 1
	}
	build := exec.Command(goTool, "build", "-o", fakeBin, "./internal/fakeboltz")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build fakeboltz: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// fixtureDir is the absolute path of testdata/fixture.
func fixtureDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("testdata", "fixture"))
	require.NoError(t, err)
	return d
}

// fake is one test's stand-in setup: its own record file and environment.
type fake struct {
	record string
	env    []string
}

func newFake(t *testing.T, env ...string) *fake {
	t.Helper()
	f := &fake{record: filepath.Join(t.TempDir(), "runs.jsonl")}
	f.env = append([]string{
		"FAKE_BOLTZ_FIXTURE=" + fixtureDir(t),
		"FAKE_BOLTZ_RECORD=" + f.record,
	}, env...)
	return f
}

// runner builds a Runner on the stand-in; cfg.Binary and cfg.Env are set
// here.
func (f *fake) runner(t *testing.T, cfg Config) *Runner {
	t.Helper()
	cfg.Binary = fakeBin
	cfg.Env = append(cfg.Env, f.env...)
	r, err := New(cfg)
	require.NoError(t, err)
	return r
}

// fakeRun is what the stand-in recorded of one invocation.
type fakeRun struct {
	Argv   []string          `json:"argv"`
	Inputs map[string]string `json:"inputs"`
}

func (f *fake) runs(t *testing.T) []fakeRun {
	t.Helper()
	file, err := os.Open(f.record)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	defer file.Close()
	var out []fakeRun
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r fakeRun
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		out = append(out, r)
	}
	require.NoError(t, sc.Err())
	return out
}

// flagValue returns the value after flag in argv.
func flagValue(argv []string, flag string) (string, bool) {
	for i, a := range argv {
		if a == flag && i+1 < len(argv) {
			return argv[i+1], true
		}
	}
	return "", false
}

// parseInputYAML is a minimal reader for the block-style YAML inputYAML
// writes: nested mappings and one-key list items ("- protein:"). It
// returns the scalars by dotted path, e.g. "sequences.ligand.smiles", and
// decodes double-quoted scalars with YAML's escapes. It is independent of
// the writer so the round trip means something.
func parseInputYAML(t *testing.T, doc string) map[string]string {
	t.Helper()
	type level struct {
		indent int
		key    string
	}
	var stack []level
	out := map[string]string{}
	for n, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(trimmed)
		if rest, ok := strings.CutPrefix(trimmed, "- "); ok {
			// A list item's key sits two columns right of the dash.
			indent += 2
			trimmed = rest
		}
		key, value, ok := strings.Cut(trimmed, ":")
		require.Truef(t, ok, "line %d %q has no key", n+1, line)
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		path := key
		if len(stack) > 0 {
			path = stack[len(stack)-1].key + "." + key
		}
		value = strings.TrimSpace(value)
		if value == "" {
			stack = append(stack, level{indent, path})
			continue
		}
		if strings.HasPrefix(value, `"`) {
			value = yamlUnquote(t, value)
		} else {
			require.NotContainsf(t, value, "#", "plain scalar with # on line %d", n+1)
		}
		_, dup := out[path]
		require.Falsef(t, dup, "duplicate key %s", path)
		out[path] = value
	}
	return out
}

// yamlUnquote decodes a YAML double-quoted scalar that ends its line.
func yamlUnquote(t *testing.T, s string) string {
	t.Helper()
	require.True(t, len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"', "not double-quoted: %s", s)
	body := s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(body); {
		c := body[i]
		if c == '"' {
			t.Fatalf("unescaped quote inside %s", s)
		}
		if c != '\\' {
			r, size := utf8.DecodeRuneInString(body[i:])
			require.NotEqualf(t, utf8.RuneError, r, "invalid UTF-8 in %s", s)
			require.Falsef(t, r < 0x20 || (r >= 0x7f && r <= 0x9f), "raw control character %U in %s", r, s)
			b.WriteRune(r)
			i += size
			continue
		}
		require.Less(t, i+1, len(body), "dangling backslash in %s", s)
		e := body[i+1]
		i += 2
		simple := map[byte]string{'0': "\x00", 'a': "\a", 'b': "\b", 't': "\t", 'n': "\n",
			'v': "\v", 'f': "\f", 'r': "\r", 'e': "\x1b", ' ': " ", '"': `"`, '/': "/",
			'\\': `\`, 'N': "\u0085", '_': "\u00a0", 'L': "\u2028", 'P': "\u2029"}
		if v, ok := simple[e]; ok {
			b.WriteString(v)
			continue
		}
		width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
		require.NotZerof(t, width, "unknown escape \\%c in %s", e, s)
		require.LessOrEqual(t, i+width, len(body))
		code, err := strconv.ParseUint(body[i:i+width], 16, 32)
		require.NoError(t, err)
		b.WriteRune(rune(code))
		i += width
	}
	return b.String()
}

// processGone reports whether pid no longer runs (gone, or a zombie
// waiting to be reaped).
func processGone(pid int) bool {
	if err := syscall.Kill(pid, 0); err == syscall.ESRCH {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	if i := strings.LastIndex(s, ")"); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z' || s[i+2] == 'X'
	}
	return false
}
