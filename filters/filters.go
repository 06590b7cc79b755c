// Package filters decides, before any GPU time is spent, which ligands of a
// screen are not worth predicting: property windows over chem's
// descriptors, the substructure catalogs shipped in catalogs/ (PAINS A, B
// and C, and Brenk's unwanted and reactive groups; see
// catalogs/PROVENANCE.md), and the user's own SMARTS. A request carries
// them as a Filters block; Compile checks it, field by field, and Evaluate
// names the first rule a ligand breaks.
//
// Substructures are matched by chem's SMARTS matcher on the molecule as
// RDKit perceives it (aromaticity included), with [#1] query atoms merged
// into hydrogen counts as RDKit's FilterCatalog does;
// testdata/rdkit_matches.tsv holds RDKit's own verdicts, and the tests
// hold the matcher to every one.
package filters

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Limits on the user's own SMARTS.
const (
	MaxUserSMARTS       = 20
	MaxUserSMARTSLength = 300
)

// Catalog names a request may list.
const (
	PAINSA   = "pains_a"
	PAINSB   = "pains_b"
	PAINSC   = "pains_c"
	Reactive = "reactive"
)

// CatalogNames lists the shipped catalogs in the order they are evaluated.
var CatalogNames = []string{PAINSA, PAINSB, PAINSC, Reactive}

//go:embed catalogs/*.tsv
var catalogFiles embed.FS

// Entry is one pattern of a catalog.
type Entry struct {
	Catalog string
	Name    string
	SMARTS  string
	query   *chem.Query
}

// Rule is the name Evaluate gives the entry: "catalog:name".
func (e Entry) Rule() string { return e.Catalog + ":" + e.Name }

var (
	catalogOnce sync.Once
	catalogs    map[string][]Entry
	catalogErr  error
)

// Catalog returns the entries of a shipped catalog, parsed once.
func Catalog(name string) ([]Entry, error) {
	catalogOnce.Do(func() { catalogs, catalogErr = loadCatalogs() })
	if catalogErr != nil {
		return nil, catalogErr
	}
	es, ok := catalogs[name]
	if !ok {
		return nil, fmt.Errorf("unknown catalog %q (known: %s)", name, strings.Join(CatalogNames, ", "))
	}
	return es, nil
}

func loadCatalogs() (map[string][]Entry, error) {
	out := map[string][]Entry{}
	for _, name := range CatalogNames {
		es, err := readPatterns("catalogs/"+name+".tsv", name)
		if err != nil {
			return nil, err
		}
		out[name] = es
	}
	return out, nil
}

// readPatterns reads a name/smarts table from the embedded catalogs.
func readPatterns(path, catalog string) ([]Entry, error) {
	f, err := catalogFiles.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parsePatterns(bufio.NewScanner(f), path, catalog)
}

func parsePatterns(sc *bufio.Scanner, path, catalog string) ([]Entry, error) {
	var es []Entry
	header := false
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, smarts, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want name<TAB>smarts", path, n)
		}
		if !header {
			header = true
			if name != "name" || smarts != "smarts" {
				return nil, fmt.Errorf("%s:%d: want the header name<TAB>smarts", path, n)
			}
			continue
		}
		q, err := chem.ParseSMARTS(smarts)
		if err != nil {
			return nil, fmt.Errorf("%s:%d (%s): %w", path, n, name, err)
		}
		es = append(es, Entry{Catalog: catalog, Name: name, SMARTS: smarts, query: q})
	}
	return es, sc.Err()
}

// Range is a closed window; a nil end is open.
type Range = omtx.FilterRange

func contains(r *Range, v float64) bool {
	return r == nil || ((r.Min == nil || v >= *r.Min) && (r.Max == nil || v <= *r.Max))
}

// Filters is the filters block of a batch request (omtx.Filters, which the
// batch records). Every part is optional; a ligand is filtered when it
// falls outside any window or matches any catalog entry or user SMARTS.
// The user's own SMARTS are at most MaxUserSMARTS of at most
// MaxUserSMARTSLength bytes each.
type Filters = omtx.Filters

// window is one property window with its descriptor.
type window struct {
	name  string
	r     *Range
	value func(chem.Descriptors) float64
}

func windowsOf(f *Filters) []window {
	return []window{
		{"heavy_atoms", f.HeavyAtoms, func(d chem.Descriptors) float64 { return float64(d.HeavyAtoms) }},
		{"molecular_weight", f.MolecularWeight, func(d chem.Descriptors) float64 { return d.MolecularWeight }},
		{"hbd", f.HBondDonors, func(d chem.Descriptors) float64 { return float64(d.HBondDonors) }},
		{"hba", f.HBondAcceptors, func(d chem.Descriptors) float64 { return float64(d.HBondAcceptors) }},
		{"rotatable_bonds", f.RotatableBonds, func(d chem.Descriptors) float64 { return float64(d.RotatableBonds) }},
		{"formal_charge", f.FormalCharge, func(d chem.Descriptors) float64 { return float64(d.FormalCharge) }},
	}
}

// Compiled is a checked Filters block, ready to evaluate ligands. It is
// safe for concurrent use.
type Compiled struct {
	windows []window
	entries []Entry // catalog entries, then the user's SMARTS
	budget  int
}

// Compile checks the block and parses its patterns. field is the block's
// name in the request ("filters"); errors are *omtx.Error values of code
// EInvalid naming the field, e.g. "filters.smarts[2]". A nil block
// compiles to one that filters nothing.
func Compile(field string, f *Filters) (*Compiled, error) {
	c := &Compiled{budget: chem.DefaultMatchBudget}
	if f == nil {
		return c, nil
	}
	for _, w := range windowsOf(f) {
		if w.r == nil {
			continue
		}
		name := field + "." + w.name
		for _, end := range []*float64{w.r.Min, w.r.Max} {
			if end != nil && (math.IsNaN(*end) || math.IsInf(*end, 0)) {
				return nil, omtx.Errorf(omtx.EInvalid, name, "window ends must be finite numbers")
			}
		}
		if w.r.Min != nil && w.r.Max != nil && *w.r.Min > *w.r.Max {
			return nil, omtx.Errorf(omtx.EInvalid, name, "min %g is above max %g", *w.r.Min, *w.r.Max)
		}
		if w.name != "formal_charge" && w.r.Max != nil && *w.r.Max < 0 {
			return nil, omtx.Errorf(omtx.EInvalid, name, "max %g is negative; %s is never negative", *w.r.Max, w.name)
		}
		c.windows = append(c.windows, w)
	}
	seen := map[string]bool{}
	for i, name := range f.Catalogs {
		fld := fmt.Sprintf("%s.catalogs[%d]", field, i)
		if seen[name] {
			return nil, omtx.Errorf(omtx.EInvalid, fld, "catalog %q is listed twice", name)
		}
		seen[name] = true
		es, err := Catalog(name)
		if err != nil {
			return nil, omtx.Errorf(omtx.EInvalid, fld, "%v", err)
		}
		c.entries = append(c.entries, es...)
	}
	if len(f.SMARTS) > MaxUserSMARTS {
		return nil, omtx.Errorf(omtx.EInvalid, field+".smarts", "%d patterns; at most %d are allowed", len(f.SMARTS), MaxUserSMARTS)
	}
	for i, s := range f.SMARTS {
		fld := fmt.Sprintf("%s.smarts[%d]", field, i)
		if len(s) > MaxUserSMARTSLength {
			return nil, omtx.Errorf(omtx.EInvalid, fld, "%d characters; at most %d are allowed", len(s), MaxUserSMARTSLength)
		}
		q, err := chem.ParseSMARTS(s)
		if err != nil {
			return nil, omtx.Errorf(omtx.EInvalid, fld, "%v", err)
		}
		c.entries = append(c.entries, Entry{Catalog: "smarts", Name: fmt.Sprint(i), SMARTS: s, query: q})
	}
	return c, nil
}

// Empty reports whether the block filters nothing.
func (c *Compiled) Empty() bool { return len(c.windows) == 0 && len(c.entries) == 0 }

// Evaluate checks one ligand. matched is true when a rule filters it out;
// rule then names the rule: a window ("heavy_atoms: 62 is outside [10,
// 50]"), a catalog entry ("pains_a:azo_A(324)"), or a user pattern
// ("smarts[0]"). Windows are checked first, then catalogs in the order
// listed, then the user's SMARTS. err is the SMILES's parse error, or a
// *chem.MatchBudgetError when the substructure search ran out of steps
// (errors.Is(err, chem.ErrMatchBudget)): the caller decides what an
// unsearchable ligand means; Evaluate reports it unmatched. An empty block
// returns at once, without parsing the SMILES.
func (c *Compiled) Evaluate(smiles string) (matched bool, rule string, err error) {
	if c.Empty() {
		return false, "", nil
	}
	st, err := chem.Perceive(smiles)
	if err != nil {
		return false, "", err
	}
	return c.EvaluateStructure(st)
}

// EvaluateStructure is Evaluate for a molecule already perceived.
func (c *Compiled) EvaluateStructure(st *chem.Structure) (matched bool, rule string, err error) {
	if len(c.windows) > 0 {
		d := chem.ComputeDescriptors(st.Molecule)
		for _, w := range c.windows {
			if v := w.value(d); !contains(w.r, v) {
				return true, fmt.Sprintf("%s: %s is outside %s", w.name, formatValue(v), formatRange(w.r)), nil
			}
		}
	}
	if len(c.entries) == 0 {
		return false, "", nil
	}
	m := chem.NewMatcher(st, c.budget)
	for _, e := range c.entries {
		ok, err := m.Matches(e.query)
		if err != nil {
			return false, "", err
		}
		if ok {
			if e.Catalog == "smarts" {
				return true, "smarts[" + e.Name + "]", nil
			}
			return true, e.Rule(), nil
		}
	}
	return false, "", nil
}

// IsBudgetExceeded reports an Evaluate error from a search that ran out of
// steps.
func IsBudgetExceeded(err error) bool { return errors.Is(err, chem.ErrMatchBudget) }

func formatValue(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprint(int64(v))
	}
	return fmt.Sprintf("%.2f", v)
}

func formatRange(r *Range) string {
	lo, hi := "-inf", "inf"
	if r.Min != nil {
		lo = formatValue(*r.Min)
	}
	if r.Max != nil {
		hi = formatValue(*r.Max)
	}
	return "[" + lo + ", " + hi + "]"
}

// Validate checks the block as Compile does, for callers that only need
// the verdict.
func Validate(field string, f *Filters) error {
	_, err := Compile(field, f)
	return err
}
