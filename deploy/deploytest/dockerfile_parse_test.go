package deploytest

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// instr is one Dockerfile instruction, continuation lines joined.
type instr struct {
	Cmd  string // upper case
	Args string
}

// stage is one FROM ... and its instructions.
type stage struct {
	From   string // as written, ARGs expanded
	Name   string // the AS name, lower case
	Instrs []instr
}

type dockerfile struct {
	Path       string
	Text       string
	GlobalArgs map[string]string // ARG before the first FROM, with defaults
	Stages     []stage
}

// parseDockerfile reads a Dockerfile at the repository root; buildArgs
// override ARG defaults as --build-arg does.
func parseDockerfile(t testing.TB, name string, buildArgs ...map[string]string) *dockerfile {
	t.Helper()
	text := readFile(t, name)
	df := &dockerfile{Path: name, Text: text, GlobalArgs: map[string]string{}}
	var logical []string
	var cur strings.Builder
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue // comments, also inside continuations, as Docker does
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\"))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(trimmed)
		if s := strings.TrimSpace(cur.String()); s != "" {
			logical = append(logical, s)
		}
		cur.Reset()
	}
	require.Zero(t, cur.Len(), "%s ends inside a continuation", name)
	for _, l := range logical {
		cmd, args, _ := strings.Cut(l, " ")
		in := instr{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		switch {
		case in.Cmd == "FROM":
			f := strings.Fields(in.Args)
			for len(f) > 0 && strings.HasPrefix(f[0], "--") {
				f = f[1:]
			}
			require.NotEmpty(t, f, "%s: FROM without an image", name)
			st := stage{From: df.expand(f[0])}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.Name = strings.ToLower(f[2])
			} else {
				require.Len(t, f, 1, "%s: cannot read %q", name, l)
			}
			df.Stages = append(df.Stages, st)
		case len(df.Stages) == 0:
			require.Equal(t, "ARG", in.Cmd, "%s: only ARG may come before the first FROM", name)
			k, v, _ := strings.Cut(in.Args, "=")
			df.GlobalArgs[k] = strings.Trim(v, `"`)
			for _, ba := range buildArgs {
				if o, ok := ba[k]; ok {
					df.GlobalArgs[k] = o
				}
			}
		default:
			st := &df.Stages[len(df.Stages)-1]
			st.Instrs = append(st.Instrs, in)
		}
	}
	require.NotEmpty(t, df.Stages, "%s has no FROM", name)
	return df
}

var argRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?`)

// expand substitutes the global ARG defaults into a FROM reference.
func (df *dockerfile) expand(s string) string {
	return argRef.ReplaceAllStringFunc(s, func(m string) string {
		k := argRef.FindStringSubmatch(m)[1]
		if v, ok := df.GlobalArgs[k]; ok {
			return v
		}
		return m
	})
}

func (df *dockerfile) stage(name string) *stage {
	for i := range df.Stages {
		if df.Stages[i].Name == strings.ToLower(name) {
			return &df.Stages[i]
		}
	}
	return nil
}

func (df *dockerfile) final() *stage { return &df.Stages[len(df.Stages)-1] }

// base follows FROM through earlier stages to the external image a stage
// starts from.
func (df *dockerfile) base(t testing.TB, st *stage) string {
	t.Helper()
	for range 32 {
		prev := df.stage(st.From)
		if prev == nil {
			return st.From
		}
		st = prev
	}
	t.Fatalf("%s: FROM loop", df.Path)
	return ""
}

// lineage is st and the stages it is built on, nearest first.
func (df *dockerfile) lineage(st *stage) []*stage {
	out := []*stage{st}
	for prev := df.stage(st.From); prev != nil && len(out) < 32; prev = df.stage(prev.From) {
		out = append(out, prev)
	}
	return out
}

func (st *stage) all(cmd string) []instr {
	var out []instr
	for _, in := range st.Instrs {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// env is the ENV a stage ends with, inherited ENV included.
func (df *dockerfile) env(st *stage) map[string]string {
	env := map[string]string{}
	lin := df.lineage(st)
	for i := len(lin) - 1; i >= 0; i-- {
		for _, in := range lin[i].all("ENV") {
			for k, v := range parseEnvArgs(in.Args) {
				env[k] = v
			}
		}
	}
	return env
}

// parseEnvArgs reads `K=V K2="V 2"` (and the legacy `K V`).
func parseEnvArgs(args string) map[string]string {
	out := map[string]string{}
	fields := shellFields(args)
	if len(fields) >= 2 && !strings.Contains(fields[0], "=") {
		out[fields[0]] = strings.Join(fields[1:], " ")
		return out
	}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, "=")
		out[k] = v
	}
	return out
}

// shellFields splits on blanks, keeping double-quoted runs together.
func shellFields(s string) []string {
	var out []string
	var cur strings.Builder
	inQ, have := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQ, have = !inQ, true
		case (r == ' ' || r == '\t') && !inQ:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteRune(r)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

// exposed is the set of ports the final stage EXPOSEs (inherited included).
func (df *dockerfile) exposed() map[string]bool {
	out := map[string]bool{}
	for _, st := range df.lineage(df.final()) {
		for _, in := range st.all("EXPOSE") {
			for _, p := range strings.Fields(in.Args) {
				p, _, _ = strings.Cut(p, "/")
				out[p] = true
			}
		}
	}
	return out
}

// user is the last USER of the final stage (or of a stage it builds on).
func (df *dockerfile) user() string {
	for _, st := range df.lineage(df.final()) {
		if us := st.all("USER"); len(us) > 0 {
			return us[len(us)-1].Args
		}
	}
	return ""
}

// copyDests are the destinations of COPY/ADD in st and the stages under it,
// with their sources.
func (df *dockerfile) copyDests(st *stage) map[string]string {
	out := map[string]string{}
	for _, s := range df.lineage(st) {
		for _, in := range s.Instrs {
			if in.Cmd != "COPY" && in.Cmd != "ADD" {
				continue
			}
			var f []string
			from := ""
			for _, x := range strings.Fields(in.Args) {
				if v, ok := strings.CutPrefix(x, "--from="); ok {
					from = v
				} else if !strings.HasPrefix(x, "--") {
					f = append(f, x)
				}
			}
			if len(f) < 2 {
				continue
			}
			src := strings.Join(f[:len(f)-1], " ")
			if from != "" {
				src = from + ":" + src
			}
			out[strings.TrimSuffix(f[len(f)-1], "/")] = src
		}
	}
	return out
}
