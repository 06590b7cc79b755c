package target

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeCounter counts atoms from a table, for tests.
type fakeCounter map[string]int

func (f fakeCounter) HeavyAtoms(smiles, ccd string) (int, error) {
	n, ok := f[smiles+ccd]
	if !ok {
		return 0, errors.New("unknown ligand")
	}
	return n, nil
}

var testFiles = []string{"seq1.a3m", "seq2.a3m", "tmpl.cif", "tmpl.pdb"}

// TestParseRefuses feeds one broken input per rule and checks the rule
// and the field path the refusal names.
func TestParseRefuses(t *testing.T) {
	t.Parallel()
	prot := "  - protein:\n      id: A\n      sequence: MKTAYIAK\n"
	lig := "  - ligand:\n      id: C\n      ccd: MG\n"
	cases := []struct {
		name, yaml string
		field      string
		rule       Rule
	}{
		{"not a mapping", "- 1\n", "", RuleYAML},
		{"two documents", "sequences: []\n---\nversion: 1\n", "", RuleYAML},
		{"version 2", "version: 2\nsequences:\n" + prot, "version", RuleVersion},
		{"no sequences", "version: 1\n", "sequences", RuleSequences},
		{"empty sequences", "sequences: []\n", "sequences", RuleSequences},
		{"unknown top-level key", "sequences:\n" + prot + "constraint: []\n", ".constraint", RuleUnknownField},
		{"entity type", "sequences:\n  - peptide:\n      id: A\n      sequence: MK\n", "sequences[0]", RuleEntityType},
		{"entity type upper case", "sequences:\n  - Protein:\n      id: A\n      sequence: MK\n", "sequences[0]", RuleEntityType},
		{"two keys in an entry", "sequences:\n  - protein: {id: A, sequence: MK}\n    dna: {id: B, sequence: ACGT}\n", "sequences[0]", RuleYAML},
		{"no id", "sequences:\n  - protein:\n      sequence: MK\n", "sequences[0].protein.id", RuleChainID},
		{"id read as bool", "sequences:\n  - protein:\n      id: ON\n      sequence: MK\n", "sequences[0].protein.id", RuleYAML},
		{"id read as int", "sequences:\n  - protein:\n      id: [A, 2]\n      sequence: MK\n", "sequences[0].protein.id[1]", RuleYAML},
		{"empty id list", "sequences:\n  - protein:\n      id: []\n      sequence: MK\n", "sequences[0].protein.id", RuleChainID},
		{"duplicate id", "sequences:\n" + prot + "  - ligand:\n      id: A\n      ccd: MG\n", "sequences[1].ligand.id", RuleUniqueID},
		{"duplicate id within copies", "sequences:\n  - protein:\n      id: [A, A]\n      sequence: MK\n", "sequences[0].protein.id[1]", RuleUniqueID},
		{"no sequence", "sequences:\n  - protein:\n      id: A\n", "sequences[0].protein.sequence", RuleSequence},
		{"protein alphabet", "sequences:\n  - protein:\n      id: A\n      sequence: MK1T\n", "sequences[0].protein.sequence", RuleSequence},
		{"lower case", "sequences:\n  - protein:\n      id: A\n      sequence: mktay\n", "sequences[0].protein.sequence", RuleSequence},
		{"gap", "sequences:\n  - protein:\n      id: A\n      sequence: MK-T\n", "sequences[0].protein.sequence", RuleSequence},
		{"dna alphabet", "sequences:\n  - dna:\n      id: A\n      sequence: ACGU\n", "sequences[0].dna.sequence", RuleSequence},
		{"rna alphabet", "sequences:\n  - rna:\n      id: A\n      sequence: ACGT\n", "sequences[0].rna.sequence", RuleSequence},
		{"sequence read as bool", "sequences:\n  - dna:\n      id: A\n      sequence: NO\n", "sequences[0].dna.sequence", RuleYAML},
		{"unknown entity field", "sequences:\n  - protein:\n      id: A\n      sequence: MK\n      modification: []\n", "sequences[0].protein.modification", RuleUnknownField},
		{"msa on dna", "sequences:\n  - dna:\n      id: A\n      sequence: ACGT\n      msa: empty\n", "sequences[0].dna.msa", RuleUnknownField},
		{"ligand without source", "sequences:\n  - ligand:\n      id: A\n", "sequences[0].ligand", RuleLigandSource},
		{"ligand with both", "sequences:\n  - ligand:\n      id: A\n      ccd: ATP\n      smiles: CCO\n", "sequences[0].ligand", RuleLigandSource},
		{"ccd form", "sequences:\n  - ligand:\n      id: A\n      ccd: atp\n", "sequences[0].ligand.ccd", RuleCCD},
		{"multi-residue ccd", "sequences:\n  - ligand:\n      id: A\n      ccd: [NAG, NAG]\n", "sequences[0].ligand.ccd", RuleUnsupported},
		{"cyclic ligand", "sequences:\n  - ligand:\n      id: A\n      ccd: ATP\n      cyclic: true\n", "sequences[0].ligand.cyclic", RuleCyclic},
		{"cyclic not bool", "sequences:\n  - protein:\n      id: A\n      sequence: MK\n      cyclic: \"yes\"\n", "sequences[0].protein.cyclic", RuleYAML},
		{"modification position 0", "sequences:\n  - protein:\n      id: A\n      sequence: MKT\n      modifications:\n        - {position: 0, ccd: SEP}\n", "sequences[0].protein.modifications[0].position", RuleModification},
		{"modification past the end", "sequences:\n  - protein:\n      id: A\n      sequence: MKT\n      modifications:\n        - {position: 4, ccd: SEP}\n", "sequences[0].protein.modifications[0].position", RuleModification},
		{"modification without ccd", "sequences:\n  - protein:\n      id: A\n      sequence: MKT\n      modifications:\n        - {position: 1}\n", "sequences[0].protein.modifications[0].ccd", RuleModification},
		{"modification ccd form", "sequences:\n  - protein:\n      id: A\n      sequence: MKT\n      modifications:\n        - {position: 1, ccd: \"S P\"}\n", "sequences[0].protein.modifications[0].ccd", RuleCCD},
		{"same sequence, other msa", "sequences:\n  - protein:\n      id: A\n      sequence: MK\n      msa: seq1.a3m\n  - protein:\n      id: B\n      sequence: MK\n      msa: seq2.a3m\n", "sequences[1].protein.msa", RuleMSA},
		{"same sequence, other modifications", "sequences:\n  - protein:\n      id: A\n      sequence: MK\n      msa: empty\n  - protein:\n      id: B\n      sequence: MK\n      msa: empty\n      modifications: [{position: 1, ccd: MSE}]\n", "sequences[1].protein", RuleEntityGroup},
		{"custom and auto msa mixed", "sequences:\n  - protein:\n      id: A\n      sequence: MK\n      msa: seq1.a3m\n  - protein:\n      id: B\n      sequence: MKT\n", "sequences[1].protein.msa", RuleMSA},
		{"msa file not sent", "sequences:\n  - protein:\n      id: A\n      sequence: MK\n      msa: ./msa/other.a3m\n", "sequences[0].protein.msa", RuleFile},
		{"two paths, one name", "sequences:\n  - protein:\n      id: A\n      sequence: MK\n      msa: a/seq1.a3m\n  - protein:\n      id: B\n      sequence: MKT\n      msa: b/seq1.a3m\n", "sequences[1].protein.msa", RuleFile},
		{"unknown constraint", "sequences:\n" + prot + "constraints:\n  - distance: {}\n", "constraints[0]", RuleConstraint},
		{"bond without atom2", "sequences:\n" + prot + lig + "constraints:\n  - bond:\n      atom1: [A, 1, SG]\n", "constraints[0].bond", RuleConstraint},
		{"bond to unknown chain", "sequences:\n" + prot + lig + "constraints:\n  - bond:\n      atom1: [A, 1, SG]\n      atom2: [Z, 1, MG]\n", "constraints[0].bond.atom2", RuleConstraint},
		{"bond residue out of range", "sequences:\n" + prot + lig + "constraints:\n  - bond:\n      atom1: [A, 9, SG]\n      atom2: [C, 1, MG]\n", "constraints[0].bond.atom1", RuleConstraint},
		{"bond to ligand residue 2", "sequences:\n" + prot + lig + "constraints:\n  - bond:\n      atom1: [A, 1, SG]\n      atom2: [C, 2, MG]\n", "constraints[0].bond.atom2", RuleConstraint},
		{"bond to smiles ligand", "sequences:\n" + prot + "  - ligand:\n      id: C\n      smiles: CCO\n" + "constraints:\n  - bond:\n      atom1: [A, 1, SG]\n      atom2: [C, 1, C1]\n", "constraints[0].bond.atom2", RuleConstraint},
		{"bond atom too long", "sequences:\n" + prot + lig + "constraints:\n  - bond:\n      atom1: [A, 1, SGAMMA]\n      atom2: [C, 1, MG]\n", "constraints[0].bond.atom1", RuleConstraint},
		{"pocket without contacts", "sequences:\n" + prot + lig + "constraints:\n  - pocket:\n      binder: C\n", "constraints[0].pocket", RuleConstraint},
		{"pocket binder unknown", "sequences:\n" + prot + lig + "constraints:\n  - pocket:\n      binder: Q\n      contacts: [[A, 1]]\n", "constraints[0].pocket.binder", RuleConstraint},
		{"pocket contact out of range", "sequences:\n" + prot + lig + "constraints:\n  - pocket:\n      binder: C\n      contacts: [[A, 1], [A, 829]]\n", "constraints[0].pocket.contacts[1]", RuleConstraint},
		{"pocket contact unknown chain", "sequences:\n" + prot + lig + "constraints:\n  - pocket:\n      binder: C\n      contacts: [[B, 1]]\n", "constraints[0].pocket.contacts[0]", RuleConstraint},
		{"pocket ligand contact by index", "sequences:\n" + prot + lig + "constraints:\n  - pocket:\n      binder: A\n      contacts: [[C, 1]]\n", "constraints[0].pocket.contacts[0]", RuleConstraint},
		{"pocket polymer contact by atom", "sequences:\n" + prot + lig + "constraints:\n  - pocket:\n      binder: C\n      contacts: [[A, CA]]\n", "constraints[0].pocket.contacts[0]", RuleConstraint},
		{"pocket contact of three", "sequences:\n" + prot + lig + "constraints:\n  - pocket:\n      binder: C\n      contacts: [[A, 1, CA]]\n", "constraints[0].pocket.contacts[0]", RuleConstraint},
		{"pocket distance too small", "sequences:\n" + prot + lig + "constraints:\n  - pocket:\n      binder: C\n      contacts: [[A, 1]]\n      max_distance: 2\n", "constraints[0].pocket.max_distance", RuleConstraint},
		{"pocket force not bool", "sequences:\n" + prot + lig + "constraints:\n  - pocket:\n      binder: C\n      contacts: [[A, 1]]\n      force: 1\n", "constraints[0].pocket.force", RuleYAML},
		{"contact without token2", "sequences:\n" + prot + lig + "constraints:\n  - contact:\n      token1: [A, 1]\n", "constraints[0].contact", RuleConstraint},
		{"contact token out of range", "sequences:\n" + prot + lig + "constraints:\n  - contact:\n      token1: [A, 1]\n      token2: [A, 0]\n", "constraints[0].contact.token2", RuleConstraint},
		{"contact distance too large", "sequences:\n" + prot + lig + "constraints:\n  - contact:\n      token1: [A, 1]\n      token2: [C, MG]\n      max_distance: 25\n", "constraints[0].contact.max_distance", RuleConstraint},
		{"template without file", "sequences:\n" + prot + "templates:\n  - chain_id: A\n", "templates[0]", RuleTemplate},
		{"template with both files", "sequences:\n" + prot + "templates:\n  - cif: tmpl.cif\n    pdb: tmpl.pdb\n", "templates[0]", RuleTemplate},
		{"template file not sent", "sequences:\n" + prot + "templates:\n  - cif: /data/other.cif\n", "templates[0].cif", RuleFile},
		{"template ids mismatch", "sequences:\n" + prot + "templates:\n  - cif: tmpl.cif\n    chain_id: [A]\n    template_id: [A, B]\n", "templates[0].template_id", RuleTemplate},
		{"template on a ligand", "sequences:\n" + prot + lig + "templates:\n  - cif: tmpl.cif\n    chain_id: C\n", "templates[0].chain_id[0]", RuleTemplate},
		{"template without protein", "sequences:\n  - dna:\n      id: A\n      sequence: ACGT\ntemplates:\n  - cif: tmpl.cif\n", "templates[0]", RuleTemplate},
		{"template force without threshold", "sequences:\n" + prot + "templates:\n  - cif: tmpl.cif\n    force: true\n", "templates[0].threshold", RuleTemplate},
		{"unknown property", "sequences:\n" + prot + lig + "properties:\n  - solubility:\n      binder: C\n", "properties[0]", RuleProperty},
		{"affinity binder a list", "sequences:\n" + prot + lig + "properties:\n  - affinity:\n      binder: [C]\n", "properties[0].affinity.binder", RuleAffinity},
		{"affinity binder unknown", "sequences:\n" + prot + lig + "properties:\n  - affinity:\n      binder: Q\n", "properties[0].affinity.binder", RuleAffinity},
		{"affinity binder a protein", "sequences:\n" + prot + lig + "properties:\n  - affinity:\n      binder: A\n", "properties[0].affinity.binder", RuleAffinity},
		{"affinity binder with copies", "sequences:\n" + prot + "  - ligand:\n      id: [C, D]\n      ccd: MG\nproperties:\n  - affinity:\n      binder: C\n", "properties[0].affinity.binder", RuleAffinity},
		{"two affinity ligands", "sequences:\n" + prot + lig + "  - ligand:\n      id: D\n      ccd: ZN\nproperties:\n  - affinity:\n      binder: C\n  - affinity:\n      binder: D\n", "properties[1].affinity.binder", RuleAffinity},
		{"affinity ligand too large", "sequences:\n" + prot + "  - ligand:\n      id: C\n      smiles: BIG\nproperties:\n  - affinity:\n      binder: C\n", "properties[0].affinity.binder", RuleAffinity},
		{"pocket binder the file lacks", "sequences:\n" + prot + "constraints:\n  - pocket:\n      binder: B\n      contacts: [[A, 1]]\n", "constraints[0].pocket.binder", RuleConstraint},
		{"duplicate key", "sequences:\n  - protein:\n      id: A\n      id: B\n      sequence: MK\n", "sequences[0].protein.id", RuleYAML},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseYAML([]byte(c.yaml), ParseOptions{Files: testFiles, Counter: fakeCounter{"MG": 1, "ZN": 1, "BIG": 129}})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want a refusal of rule %s", err, c.rule)
			}
			if e.Rule != c.rule || e.Field != c.field {
				t.Errorf("got rule %s field %q (%v), want rule %s field %q", e.Rule, e.Field, err, c.rule, c.field)
			}
		})
	}
}

// TestParseAccepts checks inputs Boltz accepts that look odd.
func TestParseAccepts(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"version 1.0":            "version: 1.0\nsequences:\n  - protein: {id: A, sequence: MK}\n",
		"null msa is the server": "sequences:\n  - protein: {id: A, sequence: MK, msa: null}\n",
		"empty msa string":       "sequences:\n  - protein: {id: A, sequence: MK, msa: \"\"}\n",
		"quoted ON id":           "sequences:\n  - protein: {id: \"ON\", sequence: MK}\n",
		"same sequence twice":    "sequences:\n  - protein: {id: A, sequence: MK, msa: empty}\n  - protein: {id: B, sequence: MK, msa: empty}\n",
		"empty msa with file":    "sequences:\n  - protein: {id: A, sequence: MK, msa: empty}\n  - protein: {id: B, sequence: MKT, msa: seq1.a3m}\n",
		"anchors":                "sequences:\n  - protein: {id: A, sequence: &s MKT}\n  - protein: {id: B, sequence: *s}\n",
		"unknown residues X B Z": "sequences:\n  - protein: {id: A, sequence: MXBZ}\n",
		"ligand contact by atom": "sequences:\n  - protein: {id: A, sequence: MK}\n  - ligand: {id: C, ccd: ATP}\nconstraints:\n  - contact: {token1: [A, 2], token2: [C, PG]}\n",
	}
	for name, y := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := ParseYAML([]byte(y), ParseOptions{Files: testFiles}); err != nil {
				t.Errorf("got %v, want it accepted", err)
			}
		})
	}
}

// TestParseScreenedLigandChain: a file read with the screened ligand's
// chain named may constrain it.
func TestParseScreenedLigandChain(t *testing.T) {
	t.Parallel()
	y := "sequences:\n  - protein: {id: A, sequence: MK}\nconstraints:\n  - pocket: {binder: L, contacts: [[A, 1]], max_distance: 4.5}\n"
	tg, err := ParseYAML([]byte(y), ParseOptions{LigandChain: "L"})
	if err != nil {
		t.Fatal(err)
	}
	if tg.LigandChain != "L" {
		t.Errorf("ligand chain: got %q", tg.LigandChain)
	}
	_, err = ParseYAML([]byte(y), ParseOptions{LigandChain: "A"})
	var e *Error
	if !errors.As(err, &e) || e.Rule != RuleUniqueID || e.Field != "ligand_chain" {
		t.Errorf("screened ligand on a taken chain: got %v", err)
	}
}

func TestParseKeepsPathsWithoutFiles(t *testing.T) {
	t.Parallel()
	y := "sequences:\n  - protein: {id: A, sequence: MK, msa: /work/msa/x.a3m}\ntemplates:\n  - pdb: ../t/x.pdb\n"
	tg, err := ParseYAML([]byte(y), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := tg.Chains[0].MSA.File; got != "/work/msa/x.a3m" {
		t.Errorf("msa: got %q", got)
	}
	if got := tg.Templates[0].PDB; got != "../t/x.pdb" {
		t.Errorf("pdb: got %q", got)
	}
}

// TestParseBoltzExamples parses every example input of Boltz's
// repository, with the A3M files its paths name.
func TestParseBoltzExamples(t *testing.T) {
	t.Parallel()
	for _, path := range boltzExamples(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseYAML(data, ParseOptions{Files: []string{"seq1.a3m", "seq2.a3m"}}); err != nil {
				t.Fatal(err)
			}
			// Without the A3M sent, an example that names one is refused
			// with its path.
			_, err = ParseYAML(data, ParseOptions{Files: []string{}})
			var e *Error
			if strings.Contains(string(data), ".a3m") {
				if !errors.As(err, &e) || e.Rule != RuleFile || !strings.Contains(e.Message, "./examples/msa/") {
					t.Errorf("without its A3M: got %v, want a refusal naming the path", err)
				}
			} else if err != nil {
				t.Errorf("without files: %v", err)
			}
		})
	}
}

func boltzExamples(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("testdata/boltz-examples/*.yaml")
	if err != nil || len(paths) != 8 {
		t.Fatalf("want Boltz's 8 example YAMLs, got %d (%v)", len(paths), err)
	}
	return paths
}
