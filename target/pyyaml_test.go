package target

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// testdata/pyyaml_scalars.tsv is PyYAML's type for plain scalars that
// YAML 1.1 and 1.2 read differently, made by pyyamlScript below.
// TestPyKindAgreesWithPyYAML holds pyKind to it; with OMTX_PYYAML=1 and
// python3 with PyYAML installed, TestPyYAMLTableIsCurrent re-runs PyYAML so
// the table cannot drift from it.
const pyyamlTable = "testdata/pyyaml_scalars.tsv"

const pyyamlScript = `
import sys, yaml
print("# PyYAML %s's type for each plain scalar (yaml.safe_load), made by the python in pyyaml_test.go." % yaml.__version__)
print("scalar\ttype")
for s in sys.stdin.read().split("\n"):
    if not s:
        continue
    v = yaml.safe_load("k: " + s)["k"]
    t = {str: "str", int: "int", float: "float", bool: "bool", type(None): "null"}.get(type(v))
    if t is None:
        t = "timestamp" if type(v).__name__ in ("date", "datetime") else type(v).__name__
    print(s + "\t" + t)
`

func readPyYAMLTable(t *testing.T) (header string, rows [][2]string) {
	t.Helper()
	data, err := os.ReadFile(pyyamlTable)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			header = line
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 2 {
			t.Fatalf("%s: %q is not scalar<TAB>type", pyyamlTable, line)
		}
		if f[0] != "scalar" {
			rows = append(rows, [2]string{f[0], f[1]})
		}
	}
	if len(rows) < 50 {
		t.Fatalf("%s: only %d rows", pyyamlTable, len(rows))
	}
	return header, rows
}

func TestPyKindAgreesWithPyYAML(t *testing.T) {
	t.Parallel()
	_, rows := readPyYAMLTable(t)
	for _, r := range rows {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte("k: "+r[0]), &doc); err != nil {
			t.Fatalf("%q: %v", r[0], err)
		}
		if got := pyKind(doc.Content[0].Content[1]); got != r[1] {
			t.Errorf("%q: pyKind says %s, PyYAML %s", r[0], got, r[1])
		}
	}
}

func TestPyYAMLTableIsCurrent(t *testing.T) {
	if os.Getenv("OMTX_PYYAML") != "1" {
		t.Skip("set OMTX_PYYAML=1 (with python3 and PyYAML) to re-run PyYAML")
	}
	_, rows := readPyYAMLTable(t)
	var in strings.Builder
	for _, r := range rows {
		in.WriteString(r[0] + "\n")
	}
	cmd := exec.Command("python3", "-c", pyyamlScript)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	want, err := os.ReadFile(pyyamlTable)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != string(want) {
		t.Errorf("PyYAML now says:\n%s", out)
	}
}
