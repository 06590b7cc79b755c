package target

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// JobFiles are where the runner put a job's files on its disk.
type JobFiles struct {
	// MSA maps a protein chain's first id to its alignment's path, for
	// every protein chain whose mode is MSAServer (the server's result)
	// or MSAFile (the upload).
	MSA map[string]string
	// Templates maps a template's file name (Template.CIF or .PDB) to
	// its path.
	Templates map[string]string
}

// RenderJob renders the Boltz YAML that Boltz-2 runs for one job: t's
// complex, then the screened ligand (by SMILES) as chain t.LigandChain
// and the affinity binder, with every MSA and template by the path the
// runner resolved. t.Affinity is not rendered: Boltz takes one affinity
// ligand (schema.py L1074-1077), and in a job it is the screened one.
//
// The order of fields is fixed (docs/prediction.md's schema order), so
// equal inputs render equal bytes. For OneChain with MSAEmpty or a path,
// the bytes are those package boltz has always written, less its comment
// line. t is normalized in place (Normalize). The result is read back
// under the same rules before it is returned: the renderer never hands
// Boltz a file it refuses. ParseJobYAML reads it back to t and the SMILES.
func RenderJob(t *Target, ligandSMILES string, files JobFiles) ([]byte, error) {
	if ligandSMILES == "" {
		return nil, fmt.Errorf("render: the screened ligand's SMILES is empty")
	}
	msa := func(c Chain) (string, error) {
		if c.MSA.Mode == MSAEmpty {
			return MSAEmpty, nil
		}
		if p := files.MSA[c.IDs[0]]; p != "" {
			return p, nil
		}
		return "", fmt.Errorf("render: no MSA path for protein chain %s (mode %s)", c.IDs[0], c.MSA.Mode)
	}
	template := func(name string) (string, error) {
		if p := files.Templates[name]; p != "" {
			return p, nil
		}
		return "", fmt.Errorf("render: no path for template file %q", name)
	}
	return render(t, ligandSMILES, msa, template)
}

// RenderBoltz renders t as a Boltz input file, to download and run with
// `boltz predict`: MSA and template files by the names they were sent
// under (to sit next to the YAML), and a server MSA as no `msa` (Boltz's
// --use_msa_server). With ligandSMILES, the screened ligand is added as
// in RenderJob (ParseJobYAML reads the file back to t); without, t's own
// Affinity is written, and a target whose constraints name the screened
// ligand's chain cannot be rendered (Boltz would refuse the file). t is
// normalized in place.
func RenderBoltz(t *Target, ligandSMILES string) ([]byte, error) {
	msa := func(c Chain) (string, error) {
		switch c.MSA.Mode {
		case MSAEmpty:
			return MSAEmpty, nil
		case MSAFile:
			return c.MSA.File, nil
		}
		return "", nil
	}
	return render(t, ligandSMILES, msa, func(name string) (string, error) { return name, nil })
}

func render(t *Target, ligandSMILES string, msaOf func(Chain) (string, error), templatePath func(string) (string, error)) ([]byte, error) {
	if err := Validate(t, nil); err != nil {
		return nil, err
	}
	w := &writer{}
	w.line("version: 1")
	w.line("sequences:")
	for _, c := range t.Chains {
		msa := ""
		if c.Type == Protein {
			m, err := msaOf(c)
			if err != nil {
				return nil, err
			}
			msa = m
			if m != "" && m != MSAEmpty {
				msa = w.quote(m)
			}
		}
		w.chain(c, msa)
	}
	for _, l := range t.Ligands {
		w.ligand(l.IDs, l.SMILES, l.CCD)
	}
	if ligandSMILES != "" {
		w.ligand(ChainIDs{t.LigandChain}, ligandSMILES, "")
	}
	w.constraints(t.Constraints)
	if err := w.templates(t.Templates, templatePath); err != nil {
		return nil, err
	}
	switch {
	case ligandSMILES != "":
		w.affinity(t.LigandChain)
	case t.Affinity != nil:
		w.affinity(t.Affinity.Binder)
	}
	if w.err != nil {
		return nil, w.err
	}
	out := []byte(w.b.String())
	// Read back as Boltz reads it: the file names only its own chains.
	parse := func() error { _, err := ParseYAML(out, ParseOptions{}); return err }
	if ligandSMILES != "" {
		parse = func() error { _, _, err := ParseJobYAML(out, ParseOptions{}); return err }
	}
	if err := parse(); err != nil {
		return nil, fmt.Errorf("render: the rendered YAML is refused: %w", err)
	}
	return out, nil
}

type writer struct {
	b   strings.Builder
	err error
}

func (w *writer) line(s string) { w.b.WriteString(s + "\n") }

func (w *writer) quote(s string) string {
	q, err := yamlQuote(s)
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("render: %w", err)
	}
	return q
}

// plainName matches names written as plain scalars when PyYAML also reads
// them as strings (pyKind); every other name is double-quoted.
var plainName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

func (w *writer) name(s string) string {
	if plainName.MatchString(s) && pyKind(&yaml.Node{Kind: yaml.ScalarNode, Value: s}) == pyStr {
		return s
	}
	return w.quote(s)
}

func (w *writer) ids(ids ChainIDs) string {
	if len(ids) == 1 {
		return w.name(ids[0])
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = w.name(id)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (w *writer) chain(c Chain, msa string) {
	w.line("  - " + c.Type + ":")
	w.line("      id: " + w.ids(c.IDs))
	w.line("      sequence: " + w.quote(c.Sequence))
	if msa != "" {
		w.line("      msa: " + msa)
	}
	if len(c.Modifications) > 0 {
		w.line("      modifications:")
		for _, m := range c.Modifications {
			w.line("        - position: " + strconv.Itoa(m.Position))
			w.line("          ccd: " + w.quote(m.CCD))
		}
	}
	if c.Cyclic {
		w.line("      cyclic: true")
	}
}

func (w *writer) ligand(ids ChainIDs, smiles, ccd string) {
	w.line("  - ligand:")
	w.line("      id: " + w.ids(ids))
	if ccd != "" {
		w.line("      ccd: " + w.quote(ccd))
	} else {
		w.line("      smiles: " + w.quote(smiles))
	}
}

func (w *writer) token(r TokenRef) string {
	if r.Atom != "" {
		return "[" + w.name(r.Chain) + ", " + w.quote(r.Atom) + "]"
	}
	return "[" + w.name(r.Chain) + ", " + strconv.Itoa(r.Residue) + "]"
}

func (w *writer) atom(a AtomRef) string {
	return "[" + w.name(a.Chain) + ", " + strconv.Itoa(a.Residue) + ", " + w.quote(a.Atom) + "]"
}

// number writes a float as PyYAML reads a float: with a decimal point.
func number(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func (w *writer) constraints(cs []Constraint) {
	if len(cs) == 0 {
		return
	}
	w.line("constraints:")
	for _, c := range cs {
		switch {
		case c.Pocket != nil:
			w.line("  - pocket:")
			w.line("      binder: " + w.name(c.Pocket.Binder))
			parts := make([]string, len(c.Pocket.Contacts))
			for i, r := range c.Pocket.Contacts {
				parts[i] = w.token(r)
			}
			w.line("      contacts: [" + strings.Join(parts, ", ") + "]")
			w.line("      max_distance: " + number(c.Pocket.MaxDistance))
			if c.Pocket.Force {
				w.line("      force: true")
			}
		case c.Contact != nil:
			w.line("  - contact:")
			w.line("      token1: " + w.token(c.Contact.Token1))
			w.line("      token2: " + w.token(c.Contact.Token2))
			w.line("      max_distance: " + number(c.Contact.MaxDistance))
			if c.Contact.Force {
				w.line("      force: true")
			}
		case c.Bond != nil:
			w.line("  - bond:")
			w.line("      atom1: " + w.atom(c.Bond.Atom1))
			w.line("      atom2: " + w.atom(c.Bond.Atom2))
		}
	}
}

func (w *writer) templates(ts []Template, path func(string) (string, error)) error {
	if len(ts) == 0 {
		return nil
	}
	w.line("templates:")
	for _, tp := range ts {
		key, name := "cif", tp.CIF
		if tp.PDB != "" {
			key, name = "pdb", tp.PDB
		}
		p, err := path(name)
		if err != nil {
			return err
		}
		w.line("  - " + key + ": " + w.quote(p))
		if len(tp.ChainIDs) > 0 {
			w.line("    chain_id: " + w.ids(tp.ChainIDs))
		}
		if len(tp.TemplateIDs) > 0 {
			w.line("    template_id: " + w.ids(tp.TemplateIDs))
		}
		if tp.Force {
			w.line("    force: true")
		}
		if tp.Threshold != nil {
			w.line("    threshold: " + number(*tp.Threshold))
		}
	}
	return nil
}

func (w *writer) affinity(binder string) {
	w.line("properties:")
	w.line("  - affinity:")
	w.line("      binder: " + w.name(binder))
}

// yamlQuote writes s as a YAML double-quoted scalar, with the escapes
// package boltz uses (boltz/input.go): '\\' and '"' escaped, \t \n \r by
// name, and characters YAML does not allow raw (C0 and C1 controls, DEL,
// U+2028/9, the BOM, U+FFFE/F) as \uXXXX. They mean the same in YAML 1.1
// (PyYAML) and 1.2.
func yamlQuote(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%q is not valid UTF-8", s)
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20, r >= 0x7f && r <= 0x9f, r == 0x2028, r == 0x2029, r == 0xfeff,
			r == 0xfffe, r == 0xffff:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}
