package target

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/omtx-hub/omtx-hub/omtx"
)

func TestJSONShapes(t *testing.T) {
	t.Parallel()
	in := `{"chains":[{"type":"protein","id":"A","sequence":"MKT"}],
	"constraints":[{"pocket":{"binder":"L","contacts":[["A",2]]}},
	               {"contact":{"token1":["A",1],"token2":["C","MG"]}},
	               {"bond":{"atom1":["A",1,"SG"],"atom2":["C",1,"MG"]}}],
	"ligands":[{"id":["C"],"ccd":"MG"}],"ligand_chain":"L"}`
	var tg Target
	if err := json.Unmarshal([]byte(in), &tg); err != nil {
		t.Fatal(err)
	}
	if got, want := tg.Chains[0].IDs, (ChainIDs{"A"}); !reflect.DeepEqual(got, want) {
		t.Errorf("id: got %q, want %q", got, want)
	}
	if got, want := tg.Constraints[0].Pocket.Contacts[0], (TokenRef{Chain: "A", Residue: 2}); got != want {
		t.Errorf("contact: got %+v, want %+v", got, want)
	}
	if got, want := tg.Constraints[1].Contact.Token2, (TokenRef{Chain: "C", Atom: "MG"}); got != want {
		t.Errorf("token2: got %+v, want %+v", got, want)
	}
	if got, want := tg.Constraints[2].Bond.Atom1, (AtomRef{Chain: "A", Residue: 1, Atom: "SG"}); got != want {
		t.Errorf("atom1: got %+v, want %+v", got, want)
	}
	out, err := json.Marshal(&tg)
	if err != nil {
		t.Fatal(err)
	}
	var back Target
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, tg) {
		t.Errorf("JSON round trip changed the target:\n got %s", out)
	}
	for _, bad := range []string{`{"chains":[{"id":3}]}`, `{"constraints":[{"pocket":{"contacts":[["A"]]}}]}`,
		`{"constraints":[{"bond":{"atom1":["A","x","CA"]}}]}`} {
		if err := json.Unmarshal([]byte(bad), &Target{}); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

func TestOneChain(t *testing.T) {
	t.Parallel()
	tg := OneChain("MKTAYIAK", MSAServer)
	if err := Validate(tg, nil); err != nil {
		t.Fatal(err)
	}
	if tg.LigandChain != "B" || tg.Chains[0].IDs[0] != "A" || tg.Chains[0].MSA.Mode != MSAServer {
		t.Errorf("got %+v", tg)
	}
}

func TestNormalizeLigandChain(t *testing.T) {
	t.Parallel()
	tg := &Target{Chains: []Chain{{Type: Protein, IDs: ChainIDs{"A", "B"}, Sequence: "MK"}},
		Ligands: []FixedLigand{{IDs: ChainIDs{"C"}, CCD: "MG"}}}
	tg.Normalize()
	if tg.LigandChain != "D" {
		t.Errorf("ligand chain: got %q, want D", tg.LigandChain)
	}
}

func TestErrorIsDomainError(t *testing.T) {
	t.Parallel()
	err := Validate(&Target{Chains: []Chain{{Type: Protein, IDs: ChainIDs{"A"}, Sequence: "MK1"}}}, nil)
	var oe *omtx.Error
	if !errors.As(err, &oe) {
		t.Fatalf("errors.As found no *omtx.Error in %v", err)
	}
	if oe.Code != omtx.EInvalid || oe.Field != "chains[0].sequence" {
		t.Errorf("got code %q field %q", oe.Code, oe.Field)
	}
}
