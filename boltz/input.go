package boltz

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/omtx-hub/omtx-hub/target"
)

// inputHeader is the first line of every input the runner writes; the
// rest is target.RenderJob's.
const inputHeader = "# Written by OMTX-Hub (package boltz) for `boltz predict`.\n"

// recordName is the safe file stem of the i-th ligand's input. Boltz uses
// the stem as the record id and names every output after it, so it must
// not depend on user-supplied ligand names.
func recordName(i int) string { return fmt.Sprintf("l%04d", i) }

// job is the complex of one Predict call, ready to render per ligand.
type job struct {
	t     *target.Target
	files target.JobFiles
}

// oneChainJob is the seed's shape: the protein as chain A with its MSA
// (a path, or single-sequence mode when msaPath is ""), the ligand as
// chain B.
func oneChainJob(protein, msaPath string) job {
	if msaPath == "" {
		return job{t: target.OneChain(protein, target.MSAEmpty)}
	}
	t := target.OneChain(protein, target.MSAFile)
	t.Chains[0].MSA.File = filepath.Base(msaPath)
	return job{t: t, files: target.JobFiles{MSA: map[string]string{"A": msaPath}}}
}

// targetJob reads a request's target and makes its file paths absolute
// (Boltz resolves a relative path against its own working folder, not
// the runner's), checking that each file is there.
func targetJob(raw []byte, msa, templates map[string]string) (job, error) {
	var t target.Target
	if err := json.Unmarshal(raw, &t); err != nil {
		return job{}, fmt.Errorf("target: %w", err)
	}
	if err := target.Validate(&t, nil); err != nil {
		return job{}, err
	}
	abs := func(m map[string]string) (map[string]string, error) {
		out := make(map[string]string, len(m))
		for k, p := range m {
			a, err := filepath.Abs(p)
			if err != nil {
				return nil, err
			}
			if _, err := os.Stat(a); err != nil {
				return nil, err
			}
			out[k] = a
		}
		return out, nil
	}
	var err error
	j := job{t: &t}
	if j.files.MSA, err = abs(msa); err != nil {
		return job{}, fmt.Errorf("msa: %w", err)
	}
	if j.files.Templates, err = abs(templates); err != nil {
		return job{}, fmt.Errorf("template: %w", err)
	}
	return j, nil
}

// ligandChainIndex is the screened ligand's chain index in Boltz's
// outputs: Boltz numbers chains in input order, copies one by one, and
// RenderJob writes the screened ligand after every chain of the target.
func (j job) ligandChainIndex() int { return len(j.t.ChainIDList()) }

// render writes one ligand's input (docs/prediction.md, "Input format"):
// the target's complex with the ligand, by SMILES, as the affinity binder.
func (j job) render(smiles string) ([]byte, error) {
	doc, err := target.RenderJob(j.t, smiles, j.files)
	if err != nil {
		return nil, err
	}
	return append([]byte(inputHeader), doc...), nil
}

// writeInputs writes one YAML per ligand index in sent into dir, which is
// emptied first so a stale input of an earlier attempt is never predicted.
// A ligand whose input cannot be rendered is reported in refused, by
// index, and not written.
func writeInputs(dir string, j job, smiles []string, sent []int, names []string) (written []int, refused map[int]error, err error) {
	if err := os.RemoveAll(dir); err != nil {
		return nil, nil, fmt.Errorf("clear inputs dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("create inputs dir: %w", err)
	}
	refused = map[int]error{}
	for _, i := range sent {
		doc, err := j.render(smiles[i])
		if err != nil {
			refused[i] = err
			continue
		}
		path := filepath.Join(dir, names[i]+".yaml")
		if err := os.WriteFile(path, doc, 0o644); err != nil {
			return nil, nil, fmt.Errorf("write input: %w", err)
		}
		written = append(written, i)
	}
	return written, refused, nil
}
