package target_test

import (
	"fmt"

	"github.com/omtx-hub/omtx-hub/target"
)

// A kinase with Mg²⁺ and a pocket for the screened ligand, read from a
// Boltz YAML with its A3M, and rendered for one job of a screen.
func Example() {
	yaml := `version: 1
sequences:
  - protein:
      id: A
      sequence: MGSSHHHHHHSSGLVPRGSHMSKLTQLGRGTFGSVYKA
      msa: ./msa/kinase.a3m
  - ligand:
      id: M
      ccd: MG
constraints:
  - pocket:
      binder: L
      contacts: [[A, 22], [A, 31], [M, MG]]
      max_distance: 5
`
	t, err := target.ParseYAML([]byte(yaml), target.ParseOptions{
		Files:       []string{"kinase.a3m"},
		LigandChain: "L",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	field, needsBoltz := target.RequiresBoltz(t)
	fmt.Println("baseline refuses:", field, needsBoltz)
	job, err := target.RenderJob(t, "CC(=O)Nc1ccc(O)cc1", target.JobFiles{
		MSA: map[string]string{"A": "/work/msa/kinase.a3m"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(job))
	// Output:
	// baseline refuses: ligands[0] true
	// version: 1
	// sequences:
	//   - protein:
	//       id: A
	//       sequence: "MGSSHHHHHHSSGLVPRGSHMSKLTQLGRGTFGSVYKA"
	//       msa: "/work/msa/kinase.a3m"
	//   - ligand:
	//       id: M
	//       ccd: "MG"
	//   - ligand:
	//       id: L
	//       smiles: "CC(=O)Nc1ccc(O)cc1"
	// constraints:
	//   - pocket:
	//       binder: L
	//       contacts: [[A, 22], [A, 31], [M, "MG"]]
	//       max_distance: 5.0
	// properties:
	//   - affinity:
	//       binder: L
}
