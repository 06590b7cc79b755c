package target

import (
	"testing"
)

func mustHash(t *testing.T, tg *Target, d map[string]string) string {
	t.Helper()
	h, err := Hash(tg, d)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestHashStable: one target written several ways hashes the same.
func TestHashStable(t *testing.T) {
	t.Parallel()
	block := `version: 1
sequences:
  - protein:
      id: A
      sequence: MKTAYIAK
      msa: ./msa/seq1.a3m
  - ligand:
      id: M
      ccd: MG
constraints:
  - pocket:
      binder: L
      contacts: [[A, 2], [M, MG]]
`
	flow := `{sequences: [{ligand: {ccd: "MG", id: [M]}}, {protein: {msa: "seq1.a3m", sequence: 'MKTAYIAK', id: ["A"]}}],
constraints: [{pocket: {max_distance: 6.0, contacts: [["A", 2], ["M", "MG"]], force: false, binder: "L"}}]}`
	opts := ParseOptions{Files: []string{"seq1.a3m"}, LigandChain: "L"}
	a, err := ParseYAML([]byte(block), opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseYAML([]byte(flow), opts)
	if err != nil {
		t.Fatal(err)
	}
	js := goldenTarget(t, `{"ligand_chain":"L","chains":[{"type":"protein","id":"A","sequence":"MKTAYIAK","msa":{"mode":"file","file":"renamed.a3m"}}],
		"ligands":[{"id":"M","ccd":"MG"}],"constraints":[{"pocket":{"binder":"L","contacts":[["A",2],["M","MG"]]}}]}`)
	d := map[string]string{"A": "sha256:aaaa"}
	ha, hb, hj := mustHash(t, a, d), mustHash(t, b, d), mustHash(t, js, d)
	if ha != hb || ha != hj {
		t.Errorf("hashes differ: block %s, flow %s, json %s", ha, hb, hj)
	}
	// The order of ligands and polymers in the file does not matter (the
	// target keeps them apart), but changes of content do.
	changes := map[string]func(*Target){
		"sequence":     func(x *Target) { x.Chains[0].Sequence = "MKTAYIAQ" },
		"ligand chain": func(x *Target) { x.LigandChain = "Z" },
		"cofactor":     func(x *Target) { x.Ligands[0].CCD = "ZN" },
		"distance":     func(x *Target) { x.Constraints[0].Pocket.MaxDistance = 7 },
		"msa mode":     func(x *Target) { x.Chains[0].MSA = &MSA{Mode: MSAEmpty} },
	}
	for name, change := range changes {
		c := goldenTarget(t, `{"ligand_chain":"L","chains":[{"type":"protein","id":"A","sequence":"MKTAYIAK","msa":{"mode":"file","file":"seq1.a3m"}}],
		"ligands":[{"id":"M","ccd":"MG"}],"constraints":[{"pocket":{"binder":"L","contacts":[["A",2],["M","MG"]]}}]}`)
		change(c)
		dd := d
		if name == "msa mode" {
			dd = nil
		}
		if h := mustHash(t, c, dd); h == ha {
			t.Errorf("%s: hash unchanged", name)
		}
	}
	if h := mustHash(t, a, map[string]string{"A": "sha256:bbbb"}); h == ha {
		t.Error("MSA digest: hash unchanged")
	}
	if _, err := Hash(a, map[string]string{"M": "x"}); err == nil {
		t.Error("a digest for a ligand: want an error")
	}
	if a.Chains[0].MSA.File != "seq1.a3m" {
		t.Error("Hash changed its argument")
	}
}
