package target

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParseOptions say what a Boltz YAML is read with.
type ParseOptions struct {
	// Files are the names of the files sent with the YAML. A `msa:` or
	// template `cif:`/`pdb:` path is matched by its base name
	// ("./examples/msa/seq1.a3m" is the file "seq1.a3m"), and the Target
	// keeps that name. A path to a file not sent is refused, naming the
	// path. Nil: paths are not matched and are kept as written (for
	// checking a YAML the runner wrote, whose paths are on its disk).
	Files []string
	// LigandChain is the screened ligand's chain id, which the file's
	// constraints may then name. Empty: the first letter A-Z the file
	// does not use, and the file may name only its own chains, as Boltz
	// requires.
	LigandChain string
	// Counter counts the affinity binder's atoms; nil: not counted.
	Counter AtomCounter
	// Limits, when set, bound the input before and after parsing.
	Limits *Limits
}

// ParseYAML reads a Boltz input YAML (docs/prediction.md, "Input format")
// into a normalized Target, refusing, with the field path as the YAML
// spells it, every input that Boltz's parse_boltz_schema (schema.py
// L941-1834) refuses, and the few that it silently misreads.
func ParseYAML(data []byte, opts ParseOptions) (*Target, error) {
	p, err := parseDocument(data, opts)
	if err != nil {
		return nil, err
	}
	return p.finish()
}

// ParseJobYAML reads a job's Boltz YAML, as RenderJob writes it, back into
// the target and the screened ligand's SMILES: the affinity binder, which
// must be a single-copy ligand given by SMILES, is the screened ligand,
// and its chain is the target's LigandChain. opts.LigandChain is unused.
func ParseJobYAML(data []byte, opts ParseOptions) (*Target, string, error) {
	opts.LigandChain = ""
	p, err := parseDocument(data, opts)
	if err != nil {
		return nil, "", err
	}
	if p.t.Affinity == nil {
		return nil, "", refuse("properties", RuleAffinity, "a job's YAML names the screened ligand as the affinity binder")
	}
	binder, field := p.t.Affinity.Binder, p.names.affinity+".binder"
	for i, l := range p.t.Ligands {
		if len(l.IDs) != 1 || l.IDs[0] != binder {
			continue
		}
		if l.SMILES == "" {
			return nil, "", refuse(field, RuleAffinity, "the screened ligand %q must be given by SMILES", binder)
		}
		p.t.Ligands = append(p.t.Ligands[:i:i], p.t.Ligands[i+1:]...)
		p.names.ligand = append(p.names.ligand[:i:i], p.names.ligand[i+1:]...)
		p.t.LigandChain, p.t.Affinity = binder, nil
		p.names.screenedHidden = false
		t, err := p.finish()
		return t, l.SMILES, err
	}
	// Not found as a single-copy ligand: let the rules say why.
	if _, err := p.finish(); err != nil {
		return nil, "", err
	}
	return nil, "", refuse(field, RuleAffinity, "the screened ligand %q is not a single-copy ligand", binder)
}

func parseDocument(data []byte, opts ParseOptions) (*parser, error) {
	if opts.Limits != nil && opts.Limits.MaxYAMLBytes > 0 && len(data) > opts.Limits.MaxYAMLBytes {
		return nil, refuse("yaml", RuleBounds, "is %d bytes; at most %d are accepted", len(data), opts.Limits.MaxYAMLBytes)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, refuse("", RuleYAML, "the file is empty")
		}
		return nil, refuse("", RuleYAML, "not valid YAML: %v", err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		// yaml.safe_load reads exactly one document.
		return nil, refuse("", RuleYAML, "more than one YAML document")
	}
	p := &parser{opts: opts, t: &Target{LigandChain: opts.LigandChain},
		names: fieldNames{entities: "sequences", ligandChain: "ligand_chain", screenedHidden: opts.LigandChain == ""}}
	if opts.Files != nil {
		p.files = map[string]bool{}
		for _, f := range opts.Files {
			p.files[f] = true
		}
		p.paths = map[string]string{}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if err := p.document(root); err != nil {
		return nil, err
	}
	return p, nil
}

// finish normalizes the target and checks it under the rules and bounds.
func (p *parser) finish() (*Target, error) {
	p.t.Normalize()
	if err := check(p.t, p.names, p.opts.Counter); err != nil {
		return nil, err
	}
	if l := p.opts.Limits; l != nil {
		if err := l.checkShape(p.t, p.names); err != nil {
			return nil, err
		}
		if err := l.checkTokens(p.t, "sequences", p.opts.Counter); err != nil {
			return nil, err
		}
	}
	return p.t, nil
}

type parser struct {
	opts  ParseOptions
	t     *Target
	names fieldNames
	files map[string]bool   // nil: paths are kept as written
	paths map[string]string // base name -> the path that first named it
	// Where the MSAs are custom (a file) or auto (the server), for
	// schema.py L1310-1313.
	customMSA, autoMSA string
}

func (p *parser) document(root *yaml.Node) error {
	m, err := yamlMapping("", root)
	if err != nil {
		return refuse("", RuleYAML, "a Boltz input is a mapping with sequences")
	}
	if v := m.get("version"); v != nil {
		// schema.py L1005-1009: version defaults to 1 and must be 1.
		f, err := yamlNumber("version", v)
		if err != nil {
			return err
		}
		if f != 1 {
			return refuse("version", RuleVersion, "invalid version %g; Boltz reads version 1", f)
		}
	}
	seqs := m.get("sequences")
	if seqs == nil {
		// schema.py L1018: schema["sequences"].
		return refuse("sequences", RuleSequences, "is required")
	}
	items, err := yamlList("sequences", seqs)
	if err != nil {
		return err
	}
	if len(items) == 0 {
		// schema.py L1315-1318: "No chains parsed!".
		return refuse("sequences", RuleSequences, "the list is empty")
	}
	for k, it := range items {
		if err := p.entity(fmt.Sprintf("sequences[%d]", k), it); err != nil {
			return err
		}
	}
	if p.customMSA != "" && p.autoMSA != "" {
		// schema.py L1310-1313.
		return refuse(p.autoMSA, RuleMSA,
			"cannot mix custom and auto-generated MSAs in the same input (%s names a file)", p.customMSA)
	}
	if v := m.get("constraints"); v != nil && pyKind(v) != pyNul {
		items, err := yamlList("constraints", v)
		if err != nil {
			return err
		}
		for k, it := range items {
			f := fmt.Sprintf("constraints[%d]", k)
			c, err := constraint(f, it)
			if err != nil {
				return err
			}
			p.t.Constraints = append(p.t.Constraints, c)
			p.names.constraint = append(p.names.constraint, f)
		}
	}
	if v := m.get("templates"); v != nil && pyKind(v) != pyNul {
		items, err := yamlList("templates", v)
		if err != nil {
			return err
		}
		for k, it := range items {
			f := fmt.Sprintf("templates[%d]", k)
			tp, err := p.template(f, it)
			if err != nil {
				return err
			}
			p.t.Templates = append(p.t.Templates, tp)
			p.names.template = append(p.names.template, f)
		}
	}
	if v := m.get("properties"); v != nil && pyKind(v) != pyNul {
		if err := p.properties(v); err != nil {
			return err
		}
	}
	return m.rest()
}

func (p *parser) entity(f string, n *yaml.Node) error {
	typ, body, err := single(f, n)
	if err != nil {
		return err
	}
	switch typ {
	case Protein, DNA, RNA, Ligand:
	default:
		// schema.py L1020-1023 (the type is lower-cased there, but then
		// looked up as written, so only lower case works).
		return refuse(f, RuleEntityType, "invalid entity type %q; Boltz reads protein, dna, rna or ligand", typ)
	}
	f += "." + typ
	m, err := yamlMapping(f, body)
	if err != nil {
		return err
	}
	idNode := m.get("id")
	if idNode == nil {
		return refuse(f+".id", RuleChainID, "is required")
	}
	ids, err := yamlIDs(f+".id", idNode)
	if err != nil {
		return err
	}
	cyclic := false
	if v := m.get("cyclic"); v != nil {
		if cyclic, err = yamlBool(f+".cyclic", v); err != nil {
			return err
		}
	}
	if typ == Ligand {
		if cyclic {
			// schema.py L1232-1234, L1293-1295.
			return refuse(f+".cyclic", RuleCyclic, "cyclic is not supported for ligands")
		}
		l := FixedLigand{IDs: ids}
		if v := m.get("smiles"); v != nil {
			if l.SMILES, err = yamlString(f+".smiles", v); err != nil {
				return err
			}
		}
		if v := m.get("ccd"); v != nil {
			if pyKind(v) == "list" {
				// schema.py L1186-1189 read a list as a multi-residue
				// ligand; OMTX does not model those yet.
				return refuse(f+".ccd", RuleUnsupported, "multi-residue CCD ligands are not supported; give one code")
			}
			if l.CCD, err = yamlString(f+".ccd", v); err != nil {
				return err
			}
		}
		if err := m.rest(); err != nil {
			return err
		}
		p.t.Ligands = append(p.t.Ligands, l)
		p.names.ligand = append(p.names.ligand, f)
		return nil
	}
	c := Chain{Type: typ, IDs: ids, Cyclic: cyclic}
	v := m.get("sequence")
	if v == nil {
		// schema.py L1027: item[entity_type]["sequence"].
		return refuse(f+".sequence", RuleSequence, "is required")
	}
	if c.Sequence, err = yamlString(f+".sequence", v); err != nil {
		return err
	}
	if v := m.get("modifications"); v != nil && pyKind(v) != pyNul {
		mods, err := yamlList(f+".modifications", v)
		if err != nil {
			return err
		}
		for j, mn := range mods {
			mf := fmt.Sprintf("%s.modifications[%d]", f, j)
			mm, err := yamlMapping(mf, mn)
			if err != nil {
				return err
			}
			var mod Modification
			pos, code := mm.get("position"), mm.get("ccd")
			if pos == nil {
				return refuse(mf+".position", RuleModification, "is required")
			}
			if code == nil {
				return refuse(mf+".ccd", RuleModification, "is required")
			}
			if mod.Position, err = yamlInt(mf+".position", pos); err != nil {
				return err
			}
			if mod.CCD, err = yamlString(mf+".ccd", code); err != nil {
				return err
			}
			if err := mm.rest(); err != nil {
				return err
			}
			c.Modifications = append(c.Modifications, mod)
		}
	}
	if typ == Protein {
		c.MSA = &MSA{Mode: MSAServer}
		// schema.py L1111-1114: a missing, null or empty msa is
		// auto-generated; L1127 "empty" is single-sequence mode.
		if v := m.get("msa"); v != nil && pyKind(v) != pyNul {
			s, err := yamlString(f+".msa", v)
			if err != nil {
				return err
			}
			switch s {
			case "":
			case MSAEmpty:
				c.MSA.Mode = MSAEmpty
			default:
				name, err := p.file(f+".msa", s)
				if err != nil {
					return err
				}
				c.MSA = &MSA{Mode: MSAFile, File: name}
			}
		}
		switch c.MSA.Mode {
		case MSAFile:
			if p.customMSA == "" {
				p.customMSA = f + ".msa"
			}
		case MSAServer:
			if p.autoMSA == "" {
				p.autoMSA = f + ".msa"
			}
		}
	}
	if err := m.rest(); err != nil {
		return err
	}
	p.t.Chains = append(p.t.Chains, c)
	p.names.chain = append(p.names.chain, f)
	return nil
}

// file matches a path against the files sent, by base name.
func (p *parser) file(field, raw string) (string, error) {
	if p.files == nil {
		return raw, nil
	}
	name := path.Base(strings.ReplaceAll(raw, `\`, "/"))
	if name == "." || name == "/" || name == ".." {
		return "", refuse(field, RuleFile, "%q names no file", raw)
	}
	if !p.files[name] {
		return "", refuse(field, RuleFile, "names %q, which was not sent; send a file named %q with the YAML", raw, name)
	}
	if prev, ok := p.paths[name]; ok && prev != raw {
		return "", refuse(field, RuleFile, "%q and %q have the same file name %q; files are matched by name", prev, raw, name)
	}
	p.paths[name] = raw
	return name, nil
}

func tokenRef(f string, n *yaml.Node) (TokenRef, error) {
	items, err := yamlList(f, n)
	if err != nil {
		return TokenRef{}, err
	}
	if len(items) != 2 {
		// schema.py L1548-1550 and L1576 unpack exactly two values.
		return TokenRef{}, refuse(f, RuleConstraint, "a token is [chain, residue index or atom name]")
	}
	var r TokenRef
	if r.Chain, err = yamlString(f+"[0]", items[0]); err != nil {
		return TokenRef{}, err
	}
	if pyKind(items[1]) == pyInteg {
		r.Residue, err = yamlInt(f+"[1]", items[1])
		return r, err
	}
	if r.Atom, err = yamlString(f+"[1]", items[1]); err != nil {
		return TokenRef{}, err
	}
	if r.Atom == "" {
		return TokenRef{}, refuse(f+"[1]", RuleConstraint, "the atom name is empty")
	}
	return r, nil
}

func atomRef(f string, n *yaml.Node) (AtomRef, error) {
	items, err := yamlList(f, n)
	if err != nil {
		return AtomRef{}, err
	}
	if len(items) != 3 {
		// schema.py L1522-1523 unpack three values.
		return AtomRef{}, refuse(f, RuleConstraint, "an atom is [chain, residue index, atom name]")
	}
	var a AtomRef
	if a.Chain, err = yamlString(f+"[0]", items[0]); err != nil {
		return AtomRef{}, err
	}
	if a.Residue, err = yamlInt(f+"[1]", items[1]); err != nil {
		return AtomRef{}, err
	}
	if a.Atom, err = yamlString(f+"[2]", items[2]); err != nil {
		return AtomRef{}, err
	}
	return a, nil
}

// distanceAndForce reads the optional max_distance and force.
func distanceAndForce(f string, m *mapping) (float64, bool, error) {
	d, force := DefaultMaxDistance, false
	var err error
	if v := m.get("max_distance"); v != nil {
		if d, err = yamlNumber(f+".max_distance", v); err != nil {
			return 0, false, err
		}
	}
	if v := m.get("force"); v != nil {
		if force, err = yamlBool(f+".force", v); err != nil {
			return 0, false, err
		}
	}
	return d, force, nil
}

func constraint(f string, n *yaml.Node) (Constraint, error) {
	typ, body, err := single(f, n)
	if err != nil {
		return Constraint{}, err
	}
	q := f + "." + typ
	switch typ {
	case "bond", "pocket", "contact":
	default:
		// schema.py L1595-1597.
		return Constraint{}, refuse(f, RuleConstraint, "invalid constraint %q; Boltz reads bond, pocket or contact", typ)
	}
	m, err := yamlMapping(q, body)
	if err != nil {
		return Constraint{}, err
	}
	var c Constraint
	switch typ {
	case "bond":
		a1, a2 := m.get("atom1"), m.get("atom2")
		if a1 == nil || a2 == nil {
			// schema.py L1518-1520.
			return Constraint{}, refuse(q, RuleConstraint, "bond constraint was not properly specified: atom1 and atom2 are required")
		}
		b := &Bond{}
		if b.Atom1, err = atomRef(q+".atom1", a1); err != nil {
			return Constraint{}, err
		}
		if b.Atom2, err = atomRef(q+".atom2", a2); err != nil {
			return Constraint{}, err
		}
		c.Bond = b
	case "pocket":
		bn, cn := m.get("binder"), m.get("contacts")
		if bn == nil || cn == nil {
			// schema.py L1528-1533.
			return Constraint{}, refuse(q, RuleConstraint, "pocket constraint was not properly specified: binder and contacts are required")
		}
		pk := &Pocket{}
		if pk.Binder, err = yamlString(q+".binder", bn); err != nil {
			return Constraint{}, err
		}
		items, err := yamlList(q+".contacts", cn)
		if err != nil {
			return Constraint{}, err
		}
		for j, it := range items {
			r, err := tokenRef(fmt.Sprintf("%s.contacts[%d]", q, j), it)
			if err != nil {
				return Constraint{}, err
			}
			pk.Contacts = append(pk.Contacts, r)
		}
		if pk.MaxDistance, pk.Force, err = distanceAndForce(q, m); err != nil {
			return Constraint{}, err
		}
		c.Pocket = pk
	case "contact":
		t1, t2 := m.get("token1"), m.get("token2")
		if t1 == nil || t2 == nil {
			// schema.py L1563-1568.
			return Constraint{}, refuse(q, RuleConstraint, "contact constraint was not properly specified: token1 and token2 are required")
		}
		ct := &Contact{}
		if ct.Token1, err = tokenRef(q+".token1", t1); err != nil {
			return Constraint{}, err
		}
		if ct.Token2, err = tokenRef(q+".token2", t2); err != nil {
			return Constraint{}, err
		}
		if ct.MaxDistance, ct.Force, err = distanceAndForce(q, m); err != nil {
			return Constraint{}, err
		}
		c.Contact = ct
	}
	return c, m.rest()
}

func (p *parser) template(f string, n *yaml.Node) (Template, error) {
	m, err := yamlMapping(f, n)
	if err != nil {
		return Template{}, err
	}
	var tp Template
	if v := m.get("cif"); v != nil {
		s, err := yamlString(f+".cif", v)
		if err != nil {
			return Template{}, err
		}
		if tp.CIF, err = p.file(f+".cif", s); err != nil {
			return Template{}, err
		}
	}
	if v := m.get("pdb"); v != nil {
		s, err := yamlString(f+".pdb", v)
		if err != nil {
			return Template{}, err
		}
		if tp.PDB, err = p.file(f+".pdb", s); err != nil {
			return Template{}, err
		}
	}
	// schema.py L1628-1631 read chain_id and template_id as one id or a
	// list.
	if v := m.get("chain_id"); v != nil && pyKind(v) != pyNul {
		if tp.ChainIDs, err = yamlIDs(f+".chain_id", v); err != nil {
			return Template{}, err
		}
	}
	if v := m.get("template_id"); v != nil && pyKind(v) != pyNul {
		if tp.TemplateIDs, err = yamlIDs(f+".template_id", v); err != nil {
			return Template{}, err
		}
	}
	if v := m.get("force"); v != nil {
		if tp.Force, err = yamlBool(f+".force", v); err != nil {
			return Template{}, err
		}
	}
	if v := m.get("threshold"); v != nil {
		th, err := yamlNumber(f+".threshold", v)
		if err != nil {
			return Template{}, err
		}
		tp.Threshold = &th
	}
	return tp, m.rest()
}

func (p *parser) properties(n *yaml.Node) error {
	items, err := yamlList("properties", n)
	if err != nil {
		return err
	}
	for k, it := range items {
		f := fmt.Sprintf("properties[%d]", k)
		typ, body, err := single(f, it)
		if err != nil {
			return err
		}
		if typ != "affinity" {
			// schema.py L1052-1054 read only affinity and ignore the rest.
			return refuse(f, RuleProperty, "unknown property %q; Boltz reads affinity", typ)
		}
		f += ".affinity"
		m, err := yamlMapping(f, body)
		if err != nil {
			return err
		}
		bn := m.get("binder")
		if bn == nil {
			return refuse(f+".binder", RuleAffinity, "is required")
		}
		if pyKind(bn) != pyStr {
			// schema.py L1056-1059.
			return refuse(f+".binder", RuleAffinity, "binder must be a single chain")
		}
		binder := deref(bn).Value
		if err := m.rest(); err != nil {
			return err
		}
		if p.t.Affinity != nil && p.t.Affinity.Binder != binder {
			// schema.py L1074-1077.
			return refuse(f+".binder", RuleAffinity, "only one affinity ligand is supported (%s names %q)", p.names.affinity, p.t.Affinity.Binder)
		}
		if p.t.Affinity == nil {
			p.t.Affinity = &Affinity{Binder: binder}
			p.names.affinity = f
		}
	}
	return nil
}
