package deploytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The runbook's commands are checked against the real CLIs' help: for each
// `temporal`, `kubectl` and `gcloud` command line of a ```bash block, every
// subcommand must exist and every flag must be one that command accepts
// (and, where the temporal CLI lists accepted values, the value one of
// them). A missing CLI skips its checks with a message; CI installs them
// (deploy/README.md, "Tests").

// runbookDocs are the documents whose bash blocks are checked.
var runbookDocs = []string{"deploy/RUNBOOK.md"}

// command is one command of a bash block, tokenized.
type command struct {
	Doc  string
	Line string
	Args []string
}

var fence = regexp.MustCompile("^\\s*```(\\w*)\\s*$")

// bashCommands extracts the commands of a Markdown document's bash blocks:
// continuation lines joined, comments dropped, split on |, &&, || and ;,
// leading VAR=value assignments removed; export lines and $(...) bodies are
// commands too.
func bashCommands(t testing.TB, doc, text string) []command {
	t.Helper()
	var out []command
	in := false
	var pending string
	for _, line := range strings.Split(text, "\n") {
		if m := fence.FindStringSubmatch(line); m != nil {
			if !in {
				in = m[1] == "bash"
			} else {
				in = false
			}
			continue
		}
		if !in {
			continue
		}
		l := strings.TrimSpace(line)
		if strings.HasSuffix(l, "\\") {
			pending += strings.TrimSuffix(l, "\\") + " "
			continue
		}
		l = pending + l
		pending = ""
		words, err := shellWords(l)
		require.NoError(t, err, "%s: %q", doc, l)
		for _, seg := range splitCommands(words) {
			if c := stripAssignments(seg); len(c) > 0 {
				out = append(out, command{Doc: doc, Line: l, Args: c})
			}
		}
	}
	return out
}

// shellWords splits a line the way sh does for the checks here: quotes
// group, a # at a word start ends the line, $( and ) and the operators
// are words of their own.
func shellWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	have := false
	flush := func() {
		if have {
			out = append(out, cur.String())
			cur.Reset()
			have = false
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated '")
			}
			cur.WriteString(s[i+1 : i+1+j])
			have = true
			i += j + 1
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated \"")
			}
			cur.WriteString(s[i+1 : j])
			have = true
			i = j
		case c == ' ' || c == '\t':
			flush()
		case c == '#' && !have:
			flush()
			return out, nil
		case c == '$' && i+1 < len(s) && s[i+1] == '(':
			flush()
			out = append(out, "$(")
			i++
		case c == ')' || c == ';' || c == '>' || c == '<':
			flush()
			out = append(out, string(c))
		case c == '|' || c == '&':
			flush()
			if i+1 < len(s) && s[i+1] == c {
				i++
			}
			out = append(out, "|")
		default:
			cur.WriteByte(c)
			have = true
		}
	}
	flush()
	return out, nil
}

// splitCommands splits words on the operators, a redirection ending its
// command's words.
func splitCommands(words []string) [][]string {
	var out [][]string
	var cur []string
	skip := false
	for _, w := range words {
		switch w {
		case "|", ";", "$(", ")":
			out = append(out, cur)
			cur, skip = nil, false
		case ">", "<":
			skip = true
		default:
			if !skip {
				cur = append(cur, w)
			}
			skip = false
		}
	}
	return append(out, cur)
}

var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)

func stripAssignments(c []string) []string {
	if len(c) > 0 && c[0] == "export" {
		return nil
	}
	for len(c) > 0 && assignment.MatchString(c[0]) {
		c = c[1:]
	}
	return c
}

// --- cobra CLIs: temporal and kubectl ---

type cliHelp struct {
	Subcommands map[string]bool
	Flags       map[string]bool // long names, and short ones as "-x"
	Accepted    map[string][]string
}

type cli struct {
	Bin      string
	mu       sync.Mutex
	cache    map[string]*cliHelp
	parse    func(out string) *cliHelp
	global   *cliHelp // kubectl's "kubectl options"
	helpArgs func(path []string) []string
}

func (c *cli) help(t testing.TB, path []string) *cliHelp {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := strings.Join(path, " ")
	if h, ok := c.cache[key]; ok {
		return h
	}
	out, err := exec.Command(c.Bin, c.helpArgs(path)...).CombinedOutput()
	require.NoError(t, err, "%s %s --help: %s", c.Bin, key, out)
	h := c.parse(string(out))
	c.cache[key] = h
	return h
}

var (
	cobraSection = regexp.MustCompile(`^([A-Z][A-Za-z ()]*):\s*$`)
	cobraCmd     = regexp.MustCompile(`^  ([a-z][a-z0-9-]*)\s{2,}\S`)
	temporalFlag = regexp.MustCompile(`^\s+(?:-([A-Za-z]), )?--([a-z0-9-]+)`)
	kubectlFlag  = regexp.MustCompile(`^\s+(?:-([A-Za-z]), )?--([a-z0-9-]+)=`)
	accepted     = regexp.MustCompile(`Accepted values:\s*([^.]+)\.`)
)

// parseCobraHelp reads cobra's help: commands under a "...Commands..."
// heading, flags under "Flags:", "Global Flags:" or "Options:".
func parseCobraHelp(flagRe *regexp.Regexp) func(string) *cliHelp {
	return func(out string) *cliHelp {
		h := &cliHelp{Subcommands: map[string]bool{}, Flags: map[string]bool{}, Accepted: map[string][]string{}}
		section := ""
		last := ""
		for _, line := range strings.Split(out, "\n") {
			if m := cobraSection.FindStringSubmatch(line); m != nil {
				section = m[1]
				continue
			}
			switch {
			case strings.Contains(section, "Commands"):
				if m := cobraCmd.FindStringSubmatch(line); m != nil {
					h.Subcommands[m[1]] = true
				}
			case section == "Flags" || section == "Global Flags" || section == "Options" || strings.HasPrefix(section, "The following options"):
				if m := flagRe.FindStringSubmatch(line); m != nil {
					last = m[2]
					h.Flags[m[2]] = true
					if m[1] != "" {
						h.Flags["-"+m[1]] = true
					}
					h.Accepted[last] = nil
				}
				if last != "" {
					h.Accepted[last] = append(h.Accepted[last], strings.TrimSpace(line))
				}
			}
		}
		// Keep only the accepted values of flags whose help lists them.
		for f, text := range h.Accepted {
			if m := accepted.FindStringSubmatch(strings.Join(text, " ")); m != nil {
				var vals []string
				for _, v := range strings.Split(m[1], ",") {
					vals = append(vals, strings.TrimSpace(v))
				}
				h.Accepted[f] = vals
			} else {
				delete(h.Accepted, f)
			}
		}
		return h
	}
}

// checkCobra checks one command line against a cobra CLI's help.
func checkCobra(t testing.TB, r assert.TestingT, c *cli, cmd command) {
	args := cmd.Args[1:]
	var path []string
	h := c.help(t, nil)
	i := 0
	for ; i < len(args) && !strings.HasPrefix(args[i], "-"); i++ {
		if !h.Subcommands[args[i]] {
			break
		}
		path = append(path, args[i])
		h = c.help(t, path)
	}
	where := fmt.Sprintf("%s: %q", cmd.Doc, cmd.Line)
	if !assert.NotEmpty(r, path, "%s: no known subcommand of %s", where, cmd.Args[0]) {
		return
	}
	if i < len(args) && !strings.HasPrefix(args[i], "-") && len(h.Subcommands) > 0 && !runnable(c, path) {
		assert.Fail(r, "unknown subcommand", "%s: %s %s has no subcommand %q", where, cmd.Args[0], strings.Join(path, " "), args[i])
	}
	for j := i; j < len(args); j++ {
		a := args[j]
		if a == "--" {
			break // the rest is another program's command line
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		key := name
		if !strings.HasPrefix(a, "--") {
			key = "-" + name
		}
		known := h.Flags[key] || (c.global != nil && c.global.Flags[key])
		assert.True(r, known, "%s: %s %s has no flag %s", where, cmd.Args[0], strings.Join(path, " "), a)
		if vals, ok := h.Accepted[name]; ok {
			if !hasValue && j+1 < len(args) {
				value = args[j+1]
			}
			if value != "" && !strings.HasPrefix(value, "$") {
				assert.Contains(r, vals, value, "%s: %s takes one of %v", where, a, vals)
			}
		}
	}
}

// runnable says whether a command with subcommands also runs by itself
// (temporal's "workflow reset" does; "workflow" does not): its usage line
// shows "[flags]" right after the command.
func runnable(c *cli, path []string) bool {
	out, _ := exec.Command(c.Bin, c.helpArgs(path)...).CombinedOutput()
	return strings.Contains(string(out), strings.Join(append([]string{filepath.Base(c.Bin)}, path...), " ")+" [flags]")
}

// --- gcloud ---

var (
	ansi        = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	gcloudEntry = regexp.MustCompile(`^\s{4,6}([a-z][a-z0-9-]*)\s*$`)
	gcloudFlag  = regexp.MustCompile(`--(\[no-\])?([a-z][a-z0-9-]*)`)
)

func parseGcloudHelp(out string) *cliHelp {
	out = ansi.ReplaceAllString(out, "")
	h := &cliHelp{Subcommands: map[string]bool{}, Flags: map[string]bool{}}
	section := ""
	for _, line := range strings.Split(out, "\n") {
		if line != "" && strings.ToUpper(line) == line && !strings.HasPrefix(line, " ") {
			section = strings.TrimSpace(line)
			continue
		}
		if section == "GROUPS" || section == "COMMANDS" {
			if m := gcloudEntry.FindStringSubmatch(line); m != nil {
				h.Subcommands[m[1]] = true
			}
		}
		for _, m := range gcloudFlag.FindAllStringSubmatch(line, -1) {
			h.Flags[m[2]] = true
			if m[1] != "" {
				h.Flags["no-"+m[2]] = true
			}
		}
	}
	return h
}

func checkGcloud(t testing.TB, r assert.TestingT, c *cli, cmd command) {
	args := cmd.Args[1:]
	var path []string
	h := c.help(t, nil)
	i := 0
	for ; i < len(args) && !strings.HasPrefix(args[i], "-") && h.Subcommands[args[i]]; i++ {
		path = append(path, args[i])
		h = c.help(t, path)
	}
	where := fmt.Sprintf("%s: %q", cmd.Doc, cmd.Line)
	if !assert.NotEmpty(r, path, "%s: no known gcloud group", where) {
		return
	}
	if len(h.Subcommands) > 0 {
		next := ""
		if i < len(args) {
			next = args[i]
		}
		assert.Fail(r, "incomplete gcloud command", "%s: gcloud %s is a group; %q is none of its commands", where, strings.Join(path, " "), next)
	}
	for _, a := range args[i:] {
		if !strings.HasPrefix(a, "--") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		assert.True(r, h.Flags[name], "%s: gcloud %s has no flag --%s", where, strings.Join(path, " "), name)
	}
}

// --- the tools ---

// lookTool finds a CLI: the repository's .tools/bin first (make tools
// installs the temporal CLI there), then PATH.
func lookTool(t testing.TB, name string) string {
	if p := repoPath(t, ".tools", "bin", name); fileExecutable(p) {
		return p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return p
}

func fileExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func TestRunbookCommands(t *testing.T) {
	var cmds []command
	for _, d := range runbookDocs {
		cmds = append(cmds, bashCommands(t, d, readFile(t, d))...)
	}
	byTool := map[string][]command{}
	for _, c := range cmds {
		byTool[c.Args[0]] = append(byTool[c.Args[0]], c)
	}
	require.NotEmpty(t, byTool["temporal"], "the runbook has no temporal commands; has the extraction broken?")
	require.NotEmpty(t, byTool["kubectl"])
	require.NotEmpty(t, byTool["gcloud"])

	t.Run("temporal", func(t *testing.T) {
		bin := lookTool(t, "temporal")
		if bin == "" {
			t.Skip("temporal CLI not found (.tools/bin/temporal or PATH): scripts/install-tools.sh installs it; the runbook's temporal commands are NOT checked")
		}
		c := &cli{Bin: bin, cache: map[string]*cliHelp{}, parse: parseCobraHelp(temporalFlag),
			helpArgs: func(p []string) []string { return append(append([]string{}, p...), "--help") }}
		for _, cmd := range byTool["temporal"] {
			checkCobra(t, t, c, cmd)
		}
	})
	t.Run("kubectl", func(t *testing.T) {
		bin := lookTool(t, "kubectl")
		if bin == "" {
			t.Skip("kubectl not found on PATH (Debian package kubectl, or google-cloud-cli's): the runbook's kubectl commands are NOT checked")
		}
		c := &cli{Bin: bin, cache: map[string]*cliHelp{}, parse: parseCobraHelp(kubectlFlag),
			helpArgs: func(p []string) []string { return append(append([]string{}, p...), "--help") }}
		out, err := exec.Command(bin, "options").CombinedOutput()
		require.NoError(t, err, "kubectl options: %s", out)
		c.global = parseCobraHelp(kubectlFlag)(string(out))
		require.True(t, c.global.Flags["namespace"] && c.global.Flags["-n"], "kubectl options lists no --namespace; has its help changed?")
		for _, cmd := range byTool["kubectl"] {
			checkCobra(t, t, c, cmd)
		}
	})
	t.Run("gcloud", func(t *testing.T) {
		bin := lookTool(t, "gcloud")
		if bin == "" {
			t.Skip("gcloud not found on PATH (Debian package google-cloud-cli): the runbook's gcloud commands are NOT checked")
		}
		c := &cli{Bin: bin, cache: map[string]*cliHelp{}, parse: parseGcloudHelp,
			helpArgs: func(p []string) []string { return append(append([]string{}, p...), "--help") }}
		for _, cmd := range byTool["gcloud"] {
			checkGcloud(t, t, c, cmd)
		}
	})
}

// TestRunbookChecksCanFail feeds wrong commands to the same checks.
func TestRunbookChecksCanFail(t *testing.T) {
	bad := []string{
		"temporal workflow reset --workflow-id x --event-idd 5 --reason r",
		"temporal workflow rest --workflow-id x",
		"temporal workflow reset --query 'x' --type LastEvent --reason r",
		"kubectl annotate scaledobject gpu-worker a=b --namespac omtx-hub",
		"kubectl rollout statuz deployment/api",
		"gcloud compute regions describe us-central1 --projekt om-models",
		"gcloud compute regions",
	}
	tools := map[string]*cli{}
	if bin := lookTool(t, "temporal"); bin != "" {
		tools["temporal"] = &cli{Bin: bin, cache: map[string]*cliHelp{}, parse: parseCobraHelp(temporalFlag),
			helpArgs: func(p []string) []string { return append(append([]string{}, p...), "--help") }}
	}
	if bin := lookTool(t, "kubectl"); bin != "" {
		c := &cli{Bin: bin, cache: map[string]*cliHelp{}, parse: parseCobraHelp(kubectlFlag),
			helpArgs: func(p []string) []string { return append(append([]string{}, p...), "--help") }}
		out, err := exec.Command(bin, "options").CombinedOutput()
		require.NoError(t, err)
		c.global = parseCobraHelp(kubectlFlag)(string(out))
		tools["kubectl"] = c
	}
	if bin := lookTool(t, "gcloud"); bin != "" {
		tools["gcloud"] = &cli{Bin: bin, cache: map[string]*cliHelp{}, parse: parseGcloudHelp,
			helpArgs: func(p []string) []string { return append(append([]string{}, p...), "--help") }}
	}
	for _, line := range bad {
		cmds := bashCommands(t, "test", "```bash\n"+line+"\n```\n")
		require.Len(t, cmds, 1)
		c, ok := tools[cmds[0].Args[0]]
		if !ok {
			t.Logf("%s not installed: cannot show that %q is refused", cmds[0].Args[0], line)
			continue
		}
		r := &recorder{}
		if cmds[0].Args[0] == "gcloud" {
			checkGcloud(t, r, c, cmds[0])
		} else {
			checkCobra(t, r, c, cmds[0])
		}
		assert.NotEmpty(t, r.msgs, "the check accepted %q", line)
		if len(r.msgs) > 0 {
			t.Logf("%q refused (%d findings)", line, len(r.msgs))
		}
	}
	t.Run("extraction", func(t *testing.T) {
		cmds := bashCommands(t, "test", "```bash\nA=1 kubectl get pods \\\n  -n x   # comment\nexport B=$(cat f) && temporal batch list | head\n```\n")
		var got []string
		for _, c := range cmds {
			got = append(got, strings.Join(c.Args, " "))
		}
		assert.Equal(t, []string{"kubectl get pods -n x", "cat f", "temporal batch list", "head"}, got)
	})
}

// recorder collects assertion failures instead of failing the test.
type recorder struct{ msgs []string }

func (r *recorder) Errorf(format string, args ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

// TestRunbookReachesTemporalThroughItsPolicies: the runbook's access steps
// go through a port-forward to the frontend Service (NetworkPolicies admit
// no laptop), dial it on loopback, and verify the frontend certificate's
// name, as values.yaml sets it, with TEMPORAL_TLS_SERVER_NAME.
func TestRunbookReachesTemporalThroughItsPolicies(t *testing.T) {
	var v temporalValues
	require.NoError(t, strictYAML([]byte(readFile(t, "deploy", "temporal", "values.yaml")), &v))
	problems := runbookAccessProblems(readFile(t, "deploy", "RUNBOOK.md"), v.Server.TLS.Frontend.ServerName)
	assert.Empty(t, problems)
	t.Run("can fail: the old first command dials the in-cluster name", func(t *testing.T) {
		old := "```bash\nexport TEMPORAL_ADDRESS=temporal-frontend.temporal.svc.cluster.local:7233\ntemporal operator cluster health\n```\n"
		assert.Len(t, runbookAccessProblems(old, v.Server.TLS.Frontend.ServerName), 3)
	})
}

var exportRe = regexp.MustCompile(`(?m)^export (TEMPORAL_ADDRESS|TEMPORAL_TLS_SERVER_NAME)=(\S+)`)

func runbookAccessProblems(doc, serverName string) []string {
	var out []string
	env := map[string]string{}
	for _, m := range exportRe.FindAllStringSubmatch(doc, -1) {
		if _, seen := env[m[1]]; !seen {
			env[m[1]] = m[2]
		}
	}
	addr := env["TEMPORAL_ADDRESS"]
	host, port, _ := strings.Cut(addr, ":")
	if host != "127.0.0.1" && host != "localhost" {
		out = append(out, "the first TEMPORAL_ADDRESS is "+addr+", which the frontend's NetworkPolicies do not admit from outside the cluster")
	}
	if !strings.Contains(doc, "kubectl port-forward svc/temporal-frontend "+port+":7233 -n temporal") {
		out = append(out, "no `kubectl port-forward svc/temporal-frontend "+port+":7233 -n temporal`")
	}
	if env["TEMPORAL_TLS_SERVER_NAME"] != serverName {
		out = append(out, "TEMPORAL_TLS_SERVER_NAME is "+env["TEMPORAL_TLS_SERVER_NAME"]+", not the frontend certificate's "+serverName)
	}
	return out
}
