package chem

//go:generate sh -c "OMTX_RDKIT=1 OMTX_RDKIT_UPDATE=1 go test -count=1 -run 'TestSMILESWriteTable_IsCurrent|TestStandardizeTable_IsCurrent' ."

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// This file standardizes an affinity ligand the way Boltz-2 does before it
// models it, so that limits apply to the molecule Boltz will model and the
// modelled SMILES can be recorded. Boltz's standardize()
// (jwohlwend/boltz src/boltz/data/parse/schema.py, lines 1837-1862, called
// for the affinity ligand at line 1240) does, in order:
//
//  1. exclude_flag(mol) from the ChEMBL structure pipeline
//     (chembl_structure_pipeline/exclude_flag.py): a molecule with any atom
//     of its METAL_LIST, or with more than 7 boron atoms, is refused
//     ("Molecule is excluded").
//  2. RDKit's rdMolStandardize.LargestFragmentChooser() with its defaults
//     (Code/GraphMol/MolStandardize/Fragment.cpp, LargestFragmentChooser::
//     choose): the fragment with the most atoms, each heavy atom counting
//     one plus its hydrogens; on a tie the larger exact (monoisotopic)
//     mass; on a further tie the canonical SMILES first in byte order. It
//     does not prefer organic fragments (preferOrganic is false).
//  3. ChEMBL's standardize_mol (chembl_structure_pipeline/standardizer.py):
//     its normalizations, then uncharge_mol, which is RDKit's
//     rdMolStandardize.Uncharger(canonicalOrder=True)
//     (Code/GraphMol/MolStandardize/Charge.cpp, Uncharger::unchargeInPlace).
//
// Boltz then adds hydrogens, embeds a conformer, removes the hydrogens
// again with RDKit's RemoveHs, and applies its limits (more than 128 atoms
// refused, more than 56 warned; schema.py lines 1263-1272) to what is
// left: heavy atoms and isotopic hydrogens, which RemoveHs keeps by default.
// So a [2H]-labelled ligand counts its deuteriums.
//
// Where this port differs from RDKit: ties between fragments of the same
// size and mass are broken on this package's SMILES, not RDKit's canonical
// SMILES (they differ only for isomeric fragments of one formula); where a
// molecule keeps some of its negative charges (it has a positive charge no
// hydrogen can neutralize), they are neutralized in atom order, not RDKit's
// canonical atom order; and of the ChEMBL normalizations only nitro,
// sulfoxide and the two amide tautomers are ported, not the rarer ones
// (diazonium, trivalent O and S, halogen with no neighbours, odd pyridine
// oxide, odd azide, the split of an alkali alkoxide).
// testdata/standardize.tsv compares the results with RDKit.

// chemblMetals is the ChEMBL structure pipeline's METAL_LIST
// (chembl_structure_pipeline/exclude_flag.py): a ligand with any of these
// is excluded. Zn is deliberately absent from it ("we have some Zn
// containing compounds in ChEMBL, most of them are simple salts"), and so
// are the alkali and alkaline-earth metals, Al and Ag: Boltz does not
// refuse those.
var chemblMetals = map[string]bool{
	"Sc": true, "Ti": true, "V": true, "Cr": true, "Mn": true, "Fe": true, "Co": true,
	"Ni": true, "Cu": true, "Ga": true, "Y": true, "Zr": true, "Nb": true, "Mo": true,
	"Tc": true, "Ru": true, "Rh": true, "Pd": true, "Cd": true, "In": true, "Sn": true,
	"La": true, "Hf": true, "Ta": true, "W": true, "Re": true, "Os": true, "Ir": true,
	"Pt": true, "Au": true, "Hg": true, "Tl": true, "Pb": true, "Bi": true, "Po": true,
	"Ac": true, "Ce": true, "Pr": true, "Nd": true, "Pm": true, "Sm": true, "Eu": true,
	"Gd": true, "Tb": true, "Dy": true, "Ho": true, "Er": true, "Tm": true, "Yb": true,
	"Lu": true, "Th": true, "Pa": true, "U": true, "Np": true, "Pu": true, "Am": true,
	"Cm": true, "Bk": true, "Cf": true, "Es": true, "Fm": true, "Md": true, "No": true,
	"Lr": true, "Ge": true, "Sb": true,
}

// isMetal reports the metals of ChEMBL's list and the common ones it leaves
// out: the alkali and alkaline-earth metals, Al, Zn and Ag.
func isMetal(el string) bool {
	switch el {
	case "Li", "Be", "Na", "Mg", "Al", "K", "Ca", "Rb", "Sr", "Cs", "Ba", "Fr", "Ra", "Zn", "Ag":
		return true
	}
	return chemblMetals[el]
}

// maxBoron is the most boron atoms exclude_flag lets through.
const maxBoron = 7

// ExcludedError reports a ligand that Boltz's standardizer refuses before
// any modelling (ChEMBL's exclude_flag): it holds a metal of ChEMBL's list,
// or more than 7 boron atoms.
type ExcludedError struct {
	Metals []string // the listed metals found, in order of first appearance
	Boron  int      // boron atoms, set when more than 7
}

func (e *ExcludedError) Error() string {
	if len(e.Metals) > 0 {
		return fmt.Sprintf("contains %s; Boltz's standardizer (the ChEMBL structure pipeline's exclude_flag) refuses ligands with metals, so its affinity cannot be predicted",
			strings.Join(e.Metals, ", "))
	}
	return fmt.Sprintf("contains %d boron atoms; Boltz's standardizer (the ChEMBL structure pipeline's exclude_flag) refuses ligands with more than %d",
		e.Boron, maxBoron)
}

// NoOrganicError reports a ligand whose fragment Boltz would model (the
// largest) has no carbon: a salt or ion with no organic part, or a
// molecule whose inorganic counter-ion outweighs it. Boltz would model it
// anyway; this package refuses it, as it cannot be what was meant.
type NoOrganicError struct {
	Fragment string // the fragment Boltz would model, as SMILES
}

func (e *NoOrganicError) Error() string {
	return fmt.Sprintf("has no organic part for Boltz to model: its largest fragment is %s, which has no carbon", e.Fragment)
}

// Standardized is a ligand as Boltz-2 models it for affinity.
type Standardized struct {
	// SMILES is the molecule Boltz models: the largest fragment, with
	// ChEMBL's normalizations and charges neutralized where RDKit's
	// uncharger neutralizes them.
	SMILES string
	// Fragment is the largest fragment as submitted, before ChEMBL's
	// normalizations and the uncharger.
	Fragment string
	// Dropped lists the other fragments, as SMILES, in input order.
	Dropped []string
	// Neutralized reports that the uncharger changed a charge.
	Neutralized bool
	// Normalized names the ChEMBL normalizations applied ("nitro",
	// "sulfoxide", "amide tautomer").
	Normalized []string
	// HeavyAtoms counts the parent's non-hydrogen atoms.
	HeavyAtoms int
	// IsotopicHydrogens counts the parent's hydrogens written with a mass
	// number ([2H], [3H]), which Boltz keeps as atoms.
	IsotopicHydrogens int
	// Warnings say what changed, for the submitter.
	Warnings []string
}

// BoltzAtoms is the number Boltz-2's affinity limits apply to: the atoms
// left after RDKit's RemoveHs, that is heavy atoms and isotopic hydrogens.
func (s Standardized) BoltzAtoms() int { return s.HeavyAtoms + s.IsotopicHydrogens }

// Standardize parses smiles and standardizes it as Boltz-2 does an affinity
// ligand. Its errors are a *SMILESError, an *ExcludedError or a
// *NoOrganicError.
func Standardize(smiles string) (Standardized, error) {
	m, err := ParseSMILES(smiles)
	if err != nil {
		return Standardized{}, err
	}
	return StandardizeMolecule(m)
}

// StandardizeMolecule standardizes a parsed molecule; m is not changed.
func StandardizeMolecule(m *Molecule) (Standardized, error) {
	if err := excluded(m); err != nil {
		return Standardized{}, err
	}
	frags := m.Fragments()
	parent := largestFragment(m, frags)
	var res Standardized
	for i, f := range frags {
		if i != parent {
			res.Dropped = append(res.Dropped, m.SubsetSMILES(f))
		}
	}
	atoms := frags[parent]
	hasCarbon := slices.ContainsFunc(atoms, func(i int) bool { return m.Atoms[i].Element == "C" })
	if !hasCarbon {
		return Standardized{}, &NoOrganicError{Fragment: m.SubsetSMILES(atoms)}
	}

	res.Fragment = m.SubsetSMILES(atoms)
	w := newWorkMol(m, atoms)
	res.Normalized = w.normalize()
	res.Neutralized = w.uncharge()
	res.SMILES = w.smiles()
	for _, i := range atoms {
		a := m.Atoms[i]
		switch {
		case a.Element != "H":
			res.HeavyAtoms++
		case a.Isotope > 0:
			res.IsotopicHydrogens++
		}
	}

	var metals []string
	for _, i := range atoms {
		if el := m.Atoms[i].Element; isMetal(el) && !slices.Contains(metals, el) {
			metals = append(metals, el)
		}
	}
	if len(metals) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf(
			"the modelled molecule contains %s, which Boltz's standardizer lets through (only ChEMBL's list of metals is refused); RDKit may fail to embed it",
			strings.Join(metals, ", ")))
	}
	if len(res.Dropped) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf(
			"Boltz models the largest fragment, %s; dropped: %s", res.SMILES, strings.Join(res.Dropped, ", ")))
	}
	if len(res.Normalized) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf(
			"Boltz's standardizer rewrites the %s group(s): it models %s", strings.Join(res.Normalized, " and "), res.SMILES))
	}
	if res.Neutralized {
		res.Warnings = append(res.Warnings, fmt.Sprintf(
			"Boltz's standardizer neutralizes charges: it models %s", res.SMILES))
	}
	return res, nil
}

// excluded applies ChEMBL's exclude_flag to the whole input, as Boltz does
// before it picks a fragment (schema.py line 1846).
func excluded(m *Molecule) *ExcludedError {
	var metals []string
	boron := 0
	for _, a := range m.Atoms {
		if chemblMetals[a.Element] && !slices.Contains(metals, a.Element) {
			metals = append(metals, a.Element)
		}
		if a.Element == "B" {
			boron++
		}
	}
	switch {
	case len(metals) > 0:
		return &ExcludedError{Metals: metals}
	case boron > maxBoron:
		return &ExcludedError{Boron: boron}
	}
	return nil
}

// largestFragment returns the index in frags of the fragment RDKit's
// LargestFragmentChooser picks (see the top of this file).
func largestFragment(m *Molecule, frags [][]int) int {
	best := -1
	var bestAtoms int
	var bestMass float64
	var bestSMILES string
	for i, f := range frags {
		n := 0
		mass := 0.0
		for _, ai := range f {
			a := m.Atoms[ai]
			n += 1 + a.HCount
			mass += monoisotopicMass(a) + float64(a.HCount)*monoisotopic["H"]
		}
		smi := m.SubsetSMILES(f)
		switch {
		case best < 0, n > bestAtoms:
		case n < bestAtoms:
			continue
		case mass < bestMass-1e-9:
			continue
		case mass <= bestMass+1e-9 && smi > bestSMILES:
			continue
		}
		best, bestAtoms, bestMass, bestSMILES = i, n, mass, smi
	}
	return best
}

// monoisotopic holds the masses of the most abundant isotopes of the
// elements of drug-like molecules and their counter-ions (IUPAC), which
// RDKit's calcExactMW uses; other elements fall back to the standard atomic
// weight, and a labelled atom to its mass number.
var monoisotopic = map[string]float64{
	"H": 1.007825, "Li": 7.016003, "B": 11.009305, "C": 12, "N": 14.003074,
	"O": 15.994915, "F": 18.998403, "Na": 22.989770, "Mg": 23.985042,
	"Al": 26.981538, "Si": 27.976927, "P": 30.973762, "S": 31.972071,
	"Cl": 34.968853, "K": 38.963707, "Ca": 39.962591, "Zn": 63.929147,
	"As": 74.921596, "Se": 79.916522, "Br": 78.918338, "Ag": 106.905093,
	"I": 126.904468, "Cs": 132.905429, "Ba": 137.905241,
}

func monoisotopicMass(a Atom) float64 {
	if a.Isotope > 0 {
		return float64(a.Isotope)
	}
	if w, ok := monoisotopic[a.Element]; ok {
		return w
	}
	return atomicWeight(a.Element)
}

// workMol is the parent fragment being standardized: a copy of the atoms
// and bond orders that the normalizations and the uncharger may change.
type workMol struct {
	m       *Molecule // a copy of the input with its own Atoms and Bonds
	atoms   []int     // the parent's atoms
	in      []bool    // per atom: in the parent and not dropped
	adj     [][]edge
	changed []bool // per atom: charge or hydrogens changed
}

func newWorkMol(src *Molecule, atoms []int) *workMol {
	m := &Molecule{
		Atoms:   slices.Clone(src.Atoms),
		Bonds:   slices.Clone(src.Bonds),
		written: src.written,
		dative:  src.dative,
		dirs:    src.dirs,
	}
	w := &workMol{m: m, atoms: atoms, in: make([]bool, len(m.Atoms)), changed: make([]bool, len(m.Atoms))}
	for _, i := range atoms {
		w.in[i] = true
	}
	w.adj = adjacency(len(m.Atoms), m.Bonds)
	return w
}

// hydrogens is atom i's total hydrogen count: its own plus hydrogen atoms
// written as neighbours ([H]); RDKit folds the latter in (RemoveHs).
func (w *workMol) hydrogens(i int) int {
	n := w.m.Atoms[i].HCount
	for _, e := range w.adj[i] {
		if w.in[e.to] && w.m.Atoms[e.to].Element == "H" && w.m.Atoms[e.to].Isotope == 0 {
			n++
		}
	}
	return n
}

// addH changes atom i's hydrogens by delta (+1 or -1); a hydrogen to remove
// comes from the count, or else from a [H] neighbour, which is dropped.
func (w *workMol) addH(i, delta int) {
	a := &w.m.Atoms[i]
	w.changed[i] = true
	a.Bracket = true
	if delta > 0 || a.HCount > 0 {
		a.HCount += delta
		return
	}
	for _, e := range w.adj[i] {
		if w.in[e.to] && w.m.Atoms[e.to].Element == "H" && w.m.Atoms[e.to].Isotope == 0 {
			w.in[e.to] = false
			return
		}
	}
}

func (w *workMol) setCharge(i, q int) {
	w.m.Atoms[i].Charge = q
	w.m.Atoms[i].Bracket = true
	w.changed[i] = true
}

// degree counts atom i's bonds within the parent (SMARTS D).
func (w *workMol) degree(i int) int {
	n := 0
	for _, e := range w.adj[i] {
		if w.in[e.to] {
			n++
		}
	}
	return n
}

// normalize applies the ChEMBL normalizations (standardizer.py,
// _normalization_transforms) that can match a SMILES this package accepts,
// each once per site, and returns the names of those applied.
func (w *workMol) normalize() []string {
	var done []string
	note := func(name string) {
		if !slices.Contains(done, name) {
			done = append(done, name)
		}
	}
	for _, i := range w.atoms {
		if !w.in[i] {
			continue
		}
		a := w.m.Atoms[i]
		switch {
		// "Nitro to N+(O-)=O": [N;X3](=O)=O becomes [N+](=O)[O-].
		case a.Element == "N" && !a.Aromatic && a.Charge == 0 && w.degree(i)+w.hydrogens(i) == 3:
			if d := w.doubleBondsTo(i, "O"); len(d) == 2 {
				w.setCharge(i, 1)
				w.setCharge(w.m.Bonds[d[0]].other(i), -1)
				w.m.Bonds[d[0]].Order = 1
				note("nitro")
			}
		// "Sulfoxide to -S+(O-)": [!O][S+0;D3](=O)[!O] becomes [S+][O-].
		case a.Element == "S" && !a.Aromatic && a.Charge == 0 && w.degree(i) == 3:
			d := w.doubleBondsTo(i, "O")
			if len(d) != 1 {
				continue
			}
			ok := true
			for _, e := range w.adj[i] {
				if w.in[e.to] && e.bond != d[0] && (w.m.Atoms[e.to].Element == "O" || w.m.Bonds[e.bond].Order > 1 && w.m.Bonds[e.bond].Order != 1.5) {
					ok = false
				}
			}
			if ok {
				w.setCharge(i, 1)
				w.setCharge(w.m.Bonds[d[0]].other(i), -1)
				w.m.Bonds[d[0]].Order = 1
				note("sulfoxide")
			}
		// "Bad amide tautomer1/2": [C]([OH1;D1])=;!@[NH1 or NH0] becomes
		// C(=O)-N with the hydrogen moved from O to N.
		case a.Element == "C" && !a.Aromatic:
			for _, e := range w.adj[i] {
				b := w.m.Bonds[e.bond]
				n := w.m.Atoms[e.to]
				if !w.in[e.to] || b.Order != 2 || b.Ring || n.Element != "N" || n.Aromatic || w.hydrogens(e.to) > 1 {
					continue
				}
				o := w.iminolOxygen(i)
				if o < 0 {
					continue
				}
				w.m.Bonds[e.bond].Order = 1
				w.bondBetween(i, o).Order = 2
				w.addH(o, -1)
				w.addH(e.to, +1)
				note("amide tautomer")
				break
			}
		}
	}
	return done
}

// doubleBondsTo lists atom i's double bonds to atoms of element el.
func (w *workMol) doubleBondsTo(i int, el string) []int {
	var out []int
	for _, e := range w.adj[i] {
		if w.in[e.to] && w.m.Bonds[e.bond].Order == 2 && w.m.Atoms[e.to].Element == el && !w.m.Atoms[e.to].Aromatic {
			out = append(out, e.bond)
		}
	}
	return out
}

// iminolOxygen returns the [OH1;D1] neighbour of carbon c bonded by a single
// bond, or -1.
func (w *workMol) iminolOxygen(c int) int {
	for _, e := range w.adj[c] {
		o := w.m.Atoms[e.to]
		if w.in[e.to] && o.Element == "O" && o.Charge == 0 && w.m.Bonds[e.bond].Order == 1 && w.degree(e.to) == 1 && w.hydrogens(e.to) == 1 {
			return e.to
		}
	}
	return -1
}

func (w *workMol) bondBetween(a, b int) *Bond {
	for _, e := range w.adj[a] {
		if e.to == b {
			return &w.m.Bonds[e.bond]
		}
	}
	return nil
}

func (b Bond) other(i int) int {
	if b.A == i {
		return b.B
	}
	return b.A
}

// isEarlyAtom is RDKit's isEarlyAtom (Code/GraphMol/Atom.cpp): elements left
// of carbon in their period, with Ge, Sn, Pb, Sb and Bi counted as early.
func isEarlyAtom(el string) bool {
	switch el {
	case "Li", "Be", "B", "Na", "Mg", "Al", "K", "Ca", "Sc", "Ti", "Rb", "Sr", "Y", "Zr",
		"Cs", "Ba", "Hf", "Fr", "Ra", "Ga", "In", "Tl", "Ge", "Sn", "Pb", "Sb", "Bi":
		return true
	}
	z := atomicNumber(el)
	return (z >= 57 && z <= 71) || (z >= 89 && z <= 103)
}

// chargedNeighbours counts atom i's neighbours of charge -1 (SMARTS [-])
// and of charge +1 to +4 ([+,+2,+3,+4]), as the Uncharger's patterns do.
func (w *workMol) chargedNeighbours(i int) (neg, pos int) {
	for _, e := range w.adj[i] {
		if !w.in[e.to] {
			continue
		}
		switch q := w.m.Atoms[e.to].Charge; {
		case q == -1:
			neg++
		case q >= 1 && q <= 4:
			pos++
		}
	}
	return neg, pos
}

// isAcidAnion reports RDKit's Uncharger neg_acid pattern: the anion of a
// carboxylic, carbonic, sulfinic or sulfonic acid (and thio analogues), of
// a charge-separated phosphate or nitrate, of a hali(a)te, or a tetrazolide.
func (w *workMol) isAcidAnion(i int) bool {
	a := w.m.Atoms[i]
	if a.Charge != -1 {
		return false
	}
	isOS := func(x Atom) bool { return (x.Element == "O" || x.Element == "S") && !x.Aromatic }
	for _, e := range w.adj[i] {
		if !w.in[e.to] || w.m.Bonds[e.bond].Order != 1 {
			continue
		}
		c := w.m.Atoms[e.to]
		doubleOS, otherAnion := false, false
		for _, f := range w.adj[e.to] {
			if !w.in[f.to] || f.to == i {
				continue
			}
			x := w.m.Atoms[f.to]
			if w.m.Bonds[f.bond].Order == 2 && isOS(x) {
				doubleOS = true
			}
			if w.m.Bonds[f.bond].Order == 1 && isOS(x) && x.Charge == -1 {
				otherAnion = true
			}
		}
		switch {
		// [O,S;-][C,S;+0]=[O,S]
		case isOS(a) && (c.Element == "C" || c.Element == "S") && !c.Aromatic && c.Charge == 0 && doubleOS:
			return true
		// [O,S;-][N,P;+](=[O,S])[O,S;-]
		case isOS(a) && (c.Element == "N" || c.Element == "P") && c.Charge == 1 && doubleOS && otherAnion:
			return true
		// [O-][Cl,Br,I;+,+2,+3][O-]
		case a.Element == "O" && (c.Element == "Cl" || c.Element == "Br" || c.Element == "I") && c.Charge >= 1 && c.Charge <= 3 && otherAnion:
			return true
		}
	}
	// [n-]1nnnc1 and [n-]1ncnn1: an anionic aromatic N in a five-membered
	// ring of four N and one C.
	if a.Element == "N" && a.Aromatic {
		return w.inTetrazole(i)
	}
	return false
}

// inTetrazole reports whether aromatic atom i lies in a five-membered
// aromatic ring of four nitrogens and a carbon.
func (w *workMol) inTetrazole(i int) bool {
	var ring []int
	var walk func(path []int) bool
	walk = func(path []int) bool {
		cur := path[len(path)-1]
		for _, e := range w.adj[cur] {
			if !w.in[e.to] || !w.m.Atoms[e.to].Aromatic {
				continue
			}
			if len(path) == 5 {
				if e.to == i {
					ring = slices.Clone(path)
					return true
				}
				continue
			}
			if slices.Contains(path, e.to) {
				continue
			}
			if walk(append(path, e.to)) {
				return true
			}
		}
		return false
	}
	if !walk([]int{i}) {
		return false
	}
	nN, nC := 0, 0
	for _, r := range ring {
		switch w.m.Atoms[r].Element {
		case "N":
			nN++
		case "C":
			nC++
		}
	}
	return nN == 4 && nC == 1
}

// uncharge ports RDKit's Uncharger::unchargeInPlace (Charge.cpp) with
// canonicalOrder, as ChEMBL's uncharge_mol calls it, and reports whether a
// charge changed:
//   - positive charges no hydrogen can be taken from (quaternary N, metal
//     cations: SMARTS pos_noh, not bonded to an anion) must stay balanced,
//     so that many negative charges are kept;
//   - the other negative charges are neutralized by adding a hydrogen
//     (taking one from an early element such as B), anions not next to a
//     cation first, then acid anions ("alcohols are protonated before
//     acids"), skipping the anion that balances a charge-separated group
//     such as a nitrate;
//   - then, while the molecule is still positive, protonated cations
//     (pos_h: a positive atom with hydrogens, not bonded to an anion) lose
//     a hydrogen.
//
// So [NH3+]CC(=O)[O-] (a zwitterion with a protonated amine) becomes
// NCC(=O)O, while C[N+](C)(C)CC(=O)[O-] (a quaternary ammonium) is kept.
func (w *workMol) uncharge() bool {
	var pH, negAtoms, acids []int
	qMatched := 0
	for _, i := range w.atoms {
		if !w.in[i] {
			continue
		}
		a := w.m.Atoms[i]
		neg, pos := w.chargedNeighbours(i)
		switch {
		case a.Charge >= 1 && a.Charge <= 4 && w.hydrogens(i) > 0 && (neg == 0 || neg >= 2):
			pH = append(pH, i)
		case a.Charge >= 1 && a.Charge <= 4 && w.hydrogens(i) == 0 && neg == 0:
			qMatched += a.Charge
		}
		if w.isAcidAnion(i) {
			acids = append(acids, i)
		} else if a.Charge == -1 && pos == 0 {
			negAtoms = append(negAtoms, i)
		}
	}
	// An acid anion next to a cation is kept where it balances that
	// cation within its group (at most the cation's charge of them).
	balanced := map[int]int{}
	for _, i := range acids {
		if !w.balancesCation(i, balanced) {
			negAtoms = append(negAtoms, i)
		}
	}

	changed := false
	// RDKit tests "if (neg_surplus)": a negative surplus (more fixed
	// positive charge than anions) also enters the loop, and then
	// neutralizes every anion it can, as here.
	if surplus := len(negAtoms) - qMatched; surplus != 0 {
		for _, i := range negAtoms {
			if w.removeNeg(i) {
				changed = true
				if surplus--; surplus == 0 {
					break
				}
			}
		}
	}
	net := 0
	for _, i := range w.atoms {
		if w.in[i] {
			net += w.m.Atoms[i].Charge
		}
	}
	for _, i := range pH {
		if net <= 0 {
			break
		}
		for w.m.Atoms[i].Charge > 0 && net > 0 && w.removePos(i) {
			changed = true
			net--
		}
	}
	return changed
}

// balancesCation reports whether acid anion i is the one that balances its
// first cationic neighbour, counting in balanced how many of that cation's
// charges are balanced already.
func (w *workMol) balancesCation(i int, balanced map[int]int) bool {
	for _, e := range w.adj[i] {
		if !w.in[e.to] {
			continue
		}
		if q := w.m.Atoms[e.to].Charge; q > 0 {
			if balanced[e.to] < q {
				balanced[e.to]++
				return true
			}
			return false
		}
	}
	return false
}

// removeNeg neutralizes one negative charge on atom i: an early element
// gives up a hydrogen, any other takes one (RDKit's hDeltaRemovingNeg).
func (w *workMol) removeNeg(i int) bool {
	a := w.m.Atoms[i]
	if isEarlyAtom(a.Element) {
		if w.hydrogens(i) == 0 {
			return false
		}
		w.addH(i, -1)
	} else {
		w.addH(i, +1)
	}
	w.setCharge(i, a.Charge+1)
	return true
}

// removePos neutralizes one positive charge on atom i: carbon or an early
// element takes a hydrogen, any other gives one up (hDeltaRemovingPos).
func (w *workMol) removePos(i int) bool {
	a := w.m.Atoms[i]
	switch {
	case a.Element == "C" || isEarlyAtom(a.Element):
		w.addH(i, +1)
	case w.hydrogens(i) > 0:
		w.addH(i, -1)
	default:
		return false
	}
	w.setCharge(i, a.Charge-1)
	return true
}

// smiles writes the standardized parent. An atom whose charge or hydrogens
// changed is written without brackets where the plain symbol means the
// same hydrogens ("O", not "[OH]"), which is checked by reading it back.
func (w *workMol) smiles() string {
	var keep []int
	for _, i := range w.atoms {
		if w.in[i] {
			keep = append(keep, i)
		}
	}
	out := w.m.SubsetSMILES(keep)
	want := atomComposition(w.m, keep)
	for _, i := range keep {
		a := &w.m.Atoms[i]
		if !w.changed[i] || a.Charge != 0 || a.Isotope != 0 || a.Chiral != "" || !organicSubset[a.Element] {
			continue
		}
		a.Bracket = false
		try := w.m.SubsetSMILES(keep)
		if back, err := ParseSMILES(try); err == nil && maps.Equal(atomComposition(back, nil), want) {
			out = try
			continue
		}
		a.Bracket = true
	}
	return out
}

// organicSubset lists the elements SMILES writes without brackets.
var organicSubset = map[string]bool{"B": true, "C": true, "N": true, "O": true, "P": true, "S": true, "F": true, "Cl": true, "Br": true, "I": true}

// atomComposition counts the atoms listed (all when atoms is nil) by element,
// isotope and charge, and their hydrogens.
func atomComposition(m *Molecule, atoms []int) map[string]int {
	c := map[string]int{}
	add := func(a Atom) {
		c[fmt.Sprintf("%d%s%+d", a.Isotope, a.Element, a.Charge)]++
		c["H"] += a.HCount
	}
	if atoms == nil {
		for _, a := range m.Atoms {
			add(a)
		}
	}
	for _, i := range atoms {
		add(m.Atoms[i])
	}
	return c
}
