package target

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of the render tests")

const kinase = "MGSSHHHHHHSSGLVPRGSHMSKLTQLGRGTFGSVYKA"

// goldenCases are one target per feature, given as JSON as the API
// receives them.
var goldenCases = []struct{ name, json string }{
	{"one_chain", `{"chains":[{"type":"protein","id":"A","sequence":"` + kinase + `","msa":{"mode":"empty"}}]}`},
	{"msa_file", `{"chains":[{"type":"protein","id":"A","sequence":"` + kinase + `","msa":{"mode":"file","file":"kinase.a3m"}}]}`},
	{"msa_server", `{"chains":[{"type":"protein","id":"A","sequence":"` + kinase + `"}]}`},
	{"multimer_copies", `{"chains":[{"type":"protein","id":["A","B"],"sequence":"` + kinase + `"},
		{"type":"protein","id":"C","sequence":"MKTAYIAKQR","msa":{"mode":"empty"}}]}`},
	{"modifications", `{"chains":[{"type":"protein","id":"A","sequence":"` + kinase + `",
		"modifications":[{"position":22,"ccd":"SEP"},{"position":1,"ccd":"MSE"}]}]}`},
	{"cyclic", `{"chains":[{"type":"protein","id":"A","sequence":"QLEDSEVEAVAKG","cyclic":true}]}`},
	{"dna_rna", `{"chains":[{"type":"protein","id":"A","sequence":"` + kinase + `"},
		{"type":"dna","id":["B","C"],"sequence":"ACGTN"},{"type":"rna","id":"D","sequence":"GCAUAGC","cyclic":true}]}`},
	{"cofactor_ccd", `{"chains":[{"type":"protein","id":"A","sequence":"` + kinase + `"}],
		"ligands":[{"id":["M1","M2"],"ccd":"MG"},{"id":"N","ccd":"ATP"}]}`},
	{"cofactor_smiles", `{"chains":[{"type":"protein","id":"A","sequence":"` + kinase + `"}],
		"ligands":[{"id":"H","smiles":"[Fe+2]"},{"id":"S","smiles":"C[S+](CC[C@H](N)C(=O)O)C[C@H]1O[C@@H](n2cnc3c(N)ncnc32)[C@H](O)[C@@H]1O"}],"ligand_chain":"L"}`},
	{"pocket", `{"chains":[{"type":"protein","id":"A","sequence":"` + kinase + `"}],
		"ligands":[{"id":"M","ccd":"MG"}],
		"constraints":[{"pocket":{"binder":"L","contacts":[["A",22],["A",31],["M","MG"]],"max_distance":5.5,"force":true}}],
		"ligand_chain":"L"}`},
	{"contact", `{"chains":[{"type":"protein","id":["A","B"],"sequence":"` + kinase + `"}],
		"constraints":[{"contact":{"token1":["A",10],"token2":["B",12]}},{"contact":{"token1":["A",3],"token2":["C","C1"],"max_distance":8,"force":true}}]}`},
	{"bond", `{"chains":[{"type":"protein","id":"A","sequence":"` + kinase + `"}],
		"ligands":[{"id":"G","ccd":"NAG"}],
		"constraints":[{"bond":{"atom1":["A",23,"SG"],"atom2":["G",1,"C1"]}}]}`},
	{"template", `{"chains":[{"type":"protein","id":["A","B"],"sequence":"` + kinase + `"}],
		"templates":[{"cif":"1abc.cif"},{"pdb":"2xyz.pdb","chain_id":["A","B"],"template_id":["A1","B1"],"force":true,"threshold":2}]}`},
	{"odd_names", `{"chains":[{"type":"protein","id":["ON","1"],"sequence":"` + kinase + `"}],"ligand_chain":"no"}`},
}

func goldenTarget(t *testing.T, js string) *Target {
	t.Helper()
	var tg Target
	dec := json.NewDecoder(strings.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&tg); err != nil {
		t.Fatal(err)
	}
	return &tg
}

func jobFiles(tg *Target) JobFiles {
	f := JobFiles{MSA: map[string]string{}, Templates: map[string]string{}}
	for _, c := range tg.Chains {
		f.MSA[c.IDs[0]] = "/work/msa/" + c.IDs[0] + ".a3m"
	}
	for _, tp := range tg.Templates {
		f.Templates[tp.CIF+tp.PDB] = "/work/templates/" + tp.CIF + tp.PDB
	}
	return f
}

// TestRenderGolden renders each feature for a job and compares the bytes
// with testdata/golden (go test ./target -update rewrites them).
func TestRenderGolden(t *testing.T) {
	t.Parallel()
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tg := goldenTarget(t, c.json)
			got, err := RenderJob(tg, "CC(=O)Nc1ccc(O)cc1", jobFiles(tg))
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", c.name+".yaml")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("rendered YAML differs from %s:\n%s", path, got)
			}
			// The job's YAML reads back as the target and the screened
			// ligand.
			back, smiles, err := ParseJobYAML(got, ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if smiles != "CC(=O)Nc1ccc(O)cc1" {
				t.Errorf("screened ligand: got %q", smiles)
			}
			// The MSA and template paths are the runner's; the rest is
			// the target.
			for i := range back.Chains {
				if c := back.Chains[i]; c.MSA != nil && c.MSA.Mode == MSAFile {
					back.Chains[i].MSA = tg.Chains[i].MSA
				}
			}
			for i := range back.Templates {
				back.Templates[i].CIF, back.Templates[i].PDB = tg.Templates[i].CIF, tg.Templates[i].PDB
			}
			if !reflect.DeepEqual(back, tg) {
				a, _ := json.Marshal(tg)
				b, _ := json.Marshal(back)
				t.Errorf("read back:\nwant %s\n got %s", a, b)
			}
		})
	}
}

// TestRenderBoltzRoundTrip exports each feature as a Boltz file and reads
// it back to the same target.
func TestRenderBoltzRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tg := goldenTarget(t, c.json)
			files := ParseOptions{Files: []string{"kinase.a3m", "1abc.cif", "2xyz.pdb"}}
			// With the screened ligand, every target exports.
			out, err := RenderBoltz(tg, "CCO")
			if err != nil {
				t.Fatal(err)
			}
			back, smiles, err := ParseJobYAML(out, files)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !reflect.DeepEqual(back, tg) || smiles != "CCO" {
				a, _ := json.Marshal(tg)
				b, _ := json.Marshal(back)
				t.Errorf("round trip changed the target:\nwant %s\n got %s (%q)", a, b, smiles)
			}
			// Without, every target whose constraints do not name the
			// screened ligand's chain.
			out, err = RenderBoltz(tg, "")
			if strings.Contains(c.json, `"binder":"L"`) || strings.Contains(c.json, `["C","C1"]`) {
				if err == nil {
					t.Fatalf("a constraint on the screened ligand without one: want an error\n%s", out)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			files.LigandChain = tg.LigandChain
			back, err = ParseYAML(out, files)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !reflect.DeepEqual(back, tg) {
				a, _ := json.Marshal(tg)
				b, _ := json.Marshal(back)
				t.Errorf("round trip changed the target:\nwant %s\n got %s", a, b)
			}
		})
	}
}

// TestBoltzExamplesRoundTrip imports every example of Boltz's repository
// with its A3M files, renders it back as a Boltz file, and reads that to
// the same structure.
func TestBoltzExamplesRoundTrip(t *testing.T) {
	t.Parallel()
	files := []string{"seq1.a3m", "seq2.a3m"}
	for _, path := range boltzExamples(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			tg, err := ParseYAML(data, ParseOptions{Files: files})
			if err != nil {
				t.Fatal(err)
			}
			out, err := RenderBoltz(tg, "")
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseYAML(out, ParseOptions{Files: files})
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !reflect.DeepEqual(back, tg) {
				t.Errorf("round trip changed the structure:\n%s", out)
			}
			// And as a job, with a screened ligand, it renders a file
			// Boltz reads.
			jf := JobFiles{MSA: map[string]string{}}
			for _, c := range tg.Chains {
				jf.MSA[c.IDs[0]] = "/msa/" + c.IDs[0] + ".a3m"
			}
			if _, err := RenderJob(tg, "CCO", jf); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRenderJobRefuses(t *testing.T) {
	t.Parallel()
	tg := OneChain(kinase, MSAServer)
	if _, err := RenderJob(tg, "CCO", JobFiles{}); err == nil || !strings.Contains(err.Error(), "no MSA path for protein chain A") {
		t.Errorf("server MSA without a path: got %v", err)
	}
	if _, err := RenderJob(tg, "", JobFiles{MSA: map[string]string{"A": "/m.a3m"}}); err == nil {
		t.Error("empty SMILES: want an error")
	}
	if _, err := RenderJob(tg, "bad \xff", JobFiles{MSA: map[string]string{"A": "/m.a3m"}}); err == nil {
		t.Error("invalid UTF-8: want an error")
	}
	tg.Templates = []Template{{CIF: "x.cif"}}
	if _, err := RenderJob(tg, "CCO", JobFiles{MSA: map[string]string{"A": "/m.a3m"}}); err == nil || !strings.Contains(err.Error(), `"x.cif"`) {
		t.Errorf("template without a path: got %v", err)
	}
}

// TestRenderQuotesSMILES checks SMILES characters YAML treats specially
// arrive unchanged.
func TestRenderQuotesSMILES(t *testing.T) {
	t.Parallel()
	for _, smi := range []string{"C#N", `F/C=C\F`, "[C@@H](O)(N)C", "O=C(O)c1ccccc1 |&1:2|", "*C", "C:C", "'C'", "%10"} {
		out, err := RenderJob(OneChain(kinase, MSAEmpty), smi, JobFiles{})
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseYAML(out, ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := back.Ligands[0].SMILES; got != smi {
			t.Errorf("got %q, want %q", got, smi)
		}
	}
}
