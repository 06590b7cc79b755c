package target

import "fmt"

// File kinds a target names.
const (
	FileMSA      = "msa"
	FileTemplate = "template"
)

// FileRef is a file a target needs: an uploaded MSA or template, by the
// name it was sent under.
type FileRef struct {
	Field string // JSON field that names it, e.g. "chains[1].msa.file"
	Kind  string // FileMSA or FileTemplate
	Name  string
}

// Files lists the files t names, in order: MSA files of protein chains,
// then template files. The caller fetches them, bounds their sizes
// (Limits.CheckA3M, Limits.CheckTemplateFile) and digests the MSAs for
// Hash.
func (t *Target) Files() []FileRef {
	var out []FileRef
	for i, c := range t.Chains {
		if c.MSA != nil && c.MSA.Mode == MSAFile {
			out = append(out, FileRef{Field: fmt.Sprintf("chains[%d].msa.file", i), Kind: FileMSA, Name: c.MSA.File})
		}
	}
	for i, tp := range t.Templates {
		if tp.CIF != "" {
			out = append(out, FileRef{Field: fmt.Sprintf("templates[%d].cif", i), Kind: FileTemplate, Name: tp.CIF})
		}
		if tp.PDB != "" {
			out = append(out, FileRef{Field: fmt.Sprintf("templates[%d].pdb", i), Kind: FileTemplate, Name: tp.PDB})
		}
	}
	return out
}

// CheckFiles refuses a JSON target that names a file not among sent (the
// names of the files uploaded with it), naming the field, as ParseYAML
// does for a Boltz YAML's paths.
func CheckFiles(t *Target, sent []string) error {
	have := map[string]bool{}
	for _, s := range sent {
		have[s] = true
	}
	for _, f := range t.Files() {
		if !have[f.Name] {
			return refuse(f.Field, RuleFile, "names %q, which was not sent", f.Name)
		}
	}
	return nil
}
