package target

import (
	"errors"
	"testing"
)

func TestRequiresBoltz(t *testing.T) {
	t.Parallel()
	one := `{"type":"protein","id":"A","sequence":"MKT"}`
	cases := []struct{ name, json, field string }{
		{"one chain", `{"chains":[` + one + `]}`, ""},
		{"one chain with an MSA file", `{"chains":[{"type":"protein","id":"A","sequence":"MKT","msa":{"mode":"file","file":"a.a3m"}}]}`, ""},
		{"two chains", `{"chains":[` + one + `,{"type":"protein","id":"B","sequence":"MK"}]}`, "chains[1]"},
		{"copies", `{"chains":[{"type":"protein","id":["A","B"],"sequence":"MKT"}]}`, "chains[0].id"},
		{"dna", `{"chains":[{"type":"dna","id":"A","sequence":"ACGT"}]}`, "chains[0].type"},
		{"modification", `{"chains":[{"type":"protein","id":"A","sequence":"MKT","modifications":[{"position":1,"ccd":"MSE"}]}]}`, "chains[0].modifications"},
		{"cyclic", `{"chains":[{"type":"protein","id":"A","sequence":"MKT","cyclic":true}]}`, "chains[0].cyclic"},
		{"cofactor", `{"chains":[` + one + `],"ligands":[{"id":"M","ccd":"MG"}]}`, "ligands[0]"},
		{"pocket", `{"chains":[` + one + `],"constraints":[{"pocket":{"binder":"B","contacts":[["A",1]]}}]}`, "constraints[0]"},
		{"template", `{"chains":[` + one + `],"templates":[{"cif":"t.cif"}]}`, "templates[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tg := goldenTarget(t, c.json)
			if err := Validate(tg, nil); err != nil {
				t.Fatal(err)
			}
			field, ok := RequiresBoltz(tg)
			if field != c.field || ok != (c.field != "") {
				t.Errorf("got %q, %v; want %q", field, ok, c.field)
			}
			err := CheckBaseline(tg, "descriptor-baseline-v1")
			var e *Error
			if c.field == "" {
				if err != nil {
					t.Errorf("CheckBaseline: %v", err)
				}
			} else if !errors.As(err, &e) || e.Field != c.field || e.Rule != RuleRequiresBoltz {
				t.Errorf("CheckBaseline: got %v", err)
			}
		})
	}
	if f, ok := RequiresBoltz(OneChain("MKT", MSAServer)); ok {
		t.Errorf("the seed's shape needs Boltz? %q", f)
	}
}
