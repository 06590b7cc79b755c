package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// filterFlags are screen's and estimate's filters: the API's filters
// block, written on the command line.
type filterFlags struct {
	catalogs []string
	windows  []string
	smarts   []string
}

// filtersHelp is the filters' part of screen's and estimate's help.
const filtersHelp = `Filters hold ligands back before any GPU time; a held-back ligand is
recorded with status "filtered" and the rule it matched, and is not a
failure. Each is applied to the molecule the model runs (a salt's parent):

  --filter-catalog pains,reactive   shipped SMARTS catalogs: pains_a, pains_b,
                                    pains_c (Baell & Holloway 2010, as RDKit
                                    ships them), "pains" for all three, and
                                    reactive (Brenk et al. 2008)
  --filter 'mw<=500'                a property window, repeatable: NAME<=V,
                                    NAME>=V, NAME=V or NAME=LO..HI (closed
                                    ends). NAME is one of heavy_atoms (ha),
                                    mw (molecular_weight, g/mol), hbd, hba,
                                    rotb (rotatable_bonds), charge
                                    (formal_charge, the sum)
  --filter-smarts 'C(=O)Cl'         your own SMARTS, repeatable (at most 20,
                                    300 characters each); matched ligands are
                                    held back as "smarts[i]"
`

func (f *filterFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringSliceVar(&f.catalogs, "filter-catalog", nil, "hold back ligands matching these SMARTS catalogs (pains, pains_a, pains_b, pains_c, reactive; comma-separated)")
	fl.StringArrayVar(&f.windows, "filter", nil, "hold back ligands outside a property window, e.g. 'mw<=500' or 'heavy_atoms=10..50' (repeatable)")
	fl.StringArrayVar(&f.smarts, "filter-smarts", nil, "hold back ligands matching this SMARTS (repeatable)")
}

// windowNames maps each property name the flag takes to the API's.
var windowNames = map[string]string{
	"heavy_atoms": "heavy_atoms", "ha": "heavy_atoms",
	"molecular_weight": "molecular_weight", "mw": "molecular_weight",
	"hbd": "hbd", "hba": "hba",
	"rotatable_bonds": "rotatable_bonds", "rotb": "rotatable_bonds",
	"formal_charge": "formal_charge", "charge": "formal_charge",
}

// filters builds the request's filters block; nil when no flag is set.
// The API checks the block (catalog names, SMARTS, bounds); this checks
// only what it parses.
func (f *filterFlags) filters() (*omtx.Filters, error) {
	out := &omtx.Filters{SMARTS: f.smarts}
	for _, c := range f.catalogs {
		c = strings.ToLower(strings.TrimSpace(c))
		switch c {
		case "":
		case "pains":
			out.Catalogs = append(out.Catalogs, "pains_a", "pains_b", "pains_c")
		default:
			out.Catalogs = append(out.Catalogs, c)
		}
	}
	for _, w := range f.windows {
		if err := addWindow(out, w); err != nil {
			return nil, err
		}
	}
	if out.IsZero() {
		return nil, nil
	}
	return out, nil
}

// addWindow parses one --filter window into f.
func addWindow(f *omtx.Filters, w string) error {
	s := strings.ReplaceAll(w, " ", "")
	var name, op, val string
	for _, o := range []string{"<=", ">=", "=", "<", ">"} {
		if i := strings.Index(s, o); i > 0 {
			name, op, val = s[:i], o, s[i+len(o):]
			break
		}
	}
	bad := func(why string) error {
		return usagef("--filter %q: %s (write NAME<=V, NAME>=V, NAME=V or NAME=LO..HI)", w, why)
	}
	if op == "" {
		return bad("no comparison")
	}
	if op == "<" || op == ">" {
		return bad("windows are closed: use <= or >=")
	}
	api, ok := windowNames[strings.ToLower(name)]
	if !ok {
		return bad(fmt.Sprintf("unknown property %q (heavy_atoms, mw, hbd, hba, rotb, charge)", name))
	}
	num := func(v string) (*float64, error) {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, bad(fmt.Sprintf("%q is not a number", v))
		}
		return &x, nil
	}
	r := windowOf(f, api)
	var err error
	switch lo, hi, isRange := strings.Cut(val, ".."); {
	case op == "<=":
		r.Max, err = num(val)
	case op == ">=":
		r.Min, err = num(val)
	case isRange:
		if r.Min, err = num(lo); err == nil {
			r.Max, err = num(hi)
		}
	default:
		if r.Min, err = num(val); err == nil {
			r.Max = r.Min
		}
	}
	return err
}

// windowOf is f's window for the API's property name, made if absent.
func windowOf(f *omtx.Filters, name string) *omtx.FilterRange {
	p := map[string]**omtx.FilterRange{
		"heavy_atoms": &f.HeavyAtoms, "molecular_weight": &f.MolecularWeight, "hbd": &f.HBondDonors,
		"hba": &f.HBondAcceptors, "rotatable_bonds": &f.RotatableBonds, "formal_charge": &f.FormalCharge,
	}[name]
	if *p == nil {
		*p = &omtx.FilterRange{}
	}
	return *p
}

// printFilterHits says how many ligands the filters held back (or would),
// and by which rules.
func printFilterHits(w io.Writer, verb string, n int, hits []omtx.FilterHit) {
	if n == 0 {
		return
	}
	fmt.Fprintf(w, "Filters %s %s before the GPU:\n", verb, count(n, "ligand", "ligands"))
	for _, h := range hits {
		fmt.Fprintf(w, "  %6d  %s\n", h.Ligands, h.Rule)
	}
}
