package target

import (
	"errors"
	"strings"
	"testing"

	"github.com/omtx-hub/omtx-hub/omtx"
)

func TestDefaultLimitsTokensAreTheLargestClass(t *testing.T) {
	t.Parallel()
	f, err := omtx.ParseFleet(omtx.DefaultFleetSpec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := DefaultLimits().MaxTokens, f[len(f)-1].MaxTokens; got != want {
		t.Errorf("MaxTokens: got %d, want the largest class's %d", got, want)
	}
	small := omtx.Fleet{{Name: "a", MaxTokens: 100}, {Name: "b", MaxTokens: 700}}
	if got := LimitsForFleet(small).MaxTokens; got != 700 {
		t.Errorf("LimitsForFleet: got %d, want 700", got)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	tg := &Target{
		Chains: []Chain{
			{Type: Protein, IDs: ChainIDs{"A", "B"}, Sequence: "MKTAY", Modifications: []Modification{{Position: 2, CCD: "SEP"}}},
			{Type: DNA, IDs: ChainIDs{"C"}, Sequence: "ACGT"},
		},
		Ligands: []FixedLigand{{IDs: ChainIDs{"D", "E"}, CCD: "ATP"}, {IDs: ChainIDs{"F"}, SMILES: "[Mg+2]"}},
	}
	// 2×5 residues (a modified residue is one token in Boltz-2) + 4
	// nucleotides + 2×31 ATP heavy atoms + 1.
	n, err := Tokens(tg, fakeCounter{"ATP": 31, "[Mg+2]": 1})
	if err != nil {
		t.Fatal(err)
	}
	if n != 10+4+62+1 {
		t.Errorf("got %d tokens, want 77", n)
	}
	if _, err := Tokens(tg, nil); err == nil {
		t.Error("ligands without a counter: want an error")
	}
}

// TestBounds refuses each limit with the field it names, for a JSON
// target and for a Boltz YAML.
func TestBounds(t *testing.T) {
	t.Parallel()
	lim := Limits{MaxChains: 4, MaxCopies: 2, MaxTokens: 30, MaxModifications: 1, MaxConstraints: 1,
		MaxContacts: 2, MaxTemplates: 1, MaxYAMLBytes: 600}
	counter := fakeCounter{"ATP": 31, "MG": 1}
	cases := []struct {
		name, json, field string
	}{
		{"chains", `{"chains":[{"type":"protein","id":"A","sequence":"MK"},{"type":"protein","id":"B","sequence":"MKT"},{"type":"protein","id":"C","sequence":"MKTA"},{"type":"protein","id":"D","sequence":"MKTAY"}]}`, "chains"},
		{"copies", `{"chains":[{"type":"protein","id":["A","B","C"],"sequence":"MK"}]}`, "chains[0].id"},
		{"ligand copies", `{"chains":[{"type":"protein","id":"A","sequence":"MK"}],"ligands":[{"id":["M","N","O"],"ccd":"MG"}]}`, "ligands[0].id"},
		{"tokens", `{"chains":[{"type":"protein","id":"A","sequence":"MKTAYIAK"}],"ligands":[{"id":"M","ccd":"ATP"}]}`, "chains"},
		{"tokens by copies", `{"chains":[{"type":"protein","id":["A","B"],"sequence":"MKTAYIAKQRQISFVK"}]}`, "chains"},
		{"modifications", `{"chains":[{"type":"protein","id":"A","sequence":"MKT","modifications":[{"position":1,"ccd":"MSE"},{"position":2,"ccd":"MLY"}]}]}`, "chains[0].modifications"},
		{"constraints", `{"chains":[{"type":"protein","id":"A","sequence":"MKT"}],"constraints":[{"pocket":{"binder":"B","contacts":[["A",1]]}},{"pocket":{"binder":"B","contacts":[["A",2]]}}]}`, "constraints"},
		{"contacts", `{"chains":[{"type":"protein","id":"A","sequence":"MKT"}],"constraints":[{"pocket":{"binder":"B","contacts":[["A",1],["A",2],["A",3]]}}]}`, "constraints[0].pocket.contacts"},
		{"templates", `{"chains":[{"type":"protein","id":"A","sequence":"MKT"}],"templates":[{"cif":"a.cif"},{"cif":"b.cif"}]}`, "templates"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tg := goldenTarget(t, c.json)
			if err := Validate(tg, counter); err != nil {
				t.Fatalf("valid but for its size: %v", err)
			}
			err := lim.CheckBounds(tg, counter)
			var e *Error
			if !errors.As(err, &e) || e.Rule != RuleBounds || e.Field != c.field {
				t.Errorf("got %v, want a bounds refusal of %s", err, c.field)
			}
			if err := DefaultLimits().CheckBounds(tg, counter); err != nil {
				t.Errorf("default limits: %v", err)
			}
		})
	}
	t.Run("yaml field names", func(t *testing.T) {
		t.Parallel()
		y := "sequences:\n  - protein:\n      id: [A, B, C]\n      sequence: MK\n"
		_, err := ParseYAML([]byte(y), ParseOptions{Limits: &lim})
		var e *Error
		if !errors.As(err, &e) || e.Rule != RuleBounds || e.Field != "sequences[0].protein.id" {
			t.Errorf("got %v", err)
		}
		y = "sequences:\n  - protein:\n      id: A\n      sequence: MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ\n"
		_, err = ParseYAML([]byte(y), ParseOptions{Limits: &lim})
		if !errors.As(err, &e) || e.Rule != RuleBounds || e.Field != "sequences" {
			t.Errorf("tokens: got %v", err)
		}
	})
	t.Run("yaml bytes", func(t *testing.T) {
		t.Parallel()
		y := "sequences:\n  - protein:\n      id: A\n      sequence: MK\n" + strings.Repeat("# padding\n", 60)
		_, err := ParseYAML([]byte(y), ParseOptions{Limits: &lim})
		var e *Error
		if !errors.As(err, &e) || e.Rule != RuleBounds || e.Field != "yaml" {
			t.Errorf("got %v", err)
		}
	})
	t.Run("files", func(t *testing.T) {
		t.Parallel()
		l := Limits{MaxA3MBytes: 10, MaxTemplateBytes: 20}
		if err := l.CheckA3M("files[0]", 11); err == nil || !strings.HasPrefix(err.Error(), "files[0]:") {
			t.Errorf("a3m: got %v", err)
		}
		if err := l.CheckA3M("files[0]", 10); err != nil {
			t.Errorf("a3m at the limit: %v", err)
		}
		if err := l.CheckTemplateFile("files[1]", 21); err == nil || !strings.HasPrefix(err.Error(), "files[1]:") {
			t.Errorf("template: got %v", err)
		}
	})
}
