package omtx

import (
	"slices"
	"strings"
)

// Filters is the filters block of a batch request, recorded on the batch
// (BatchConfig.Filters) so that a screen can be rerun as it was. Package
// filters checks and applies it; every part is optional, and a ligand is
// filtered when it falls outside any window or matches any catalog entry
// or user SMARTS.
type Filters struct {
	// Property windows, over chem.ComputeDescriptors of the molecule the
	// model runs.
	HeavyAtoms      *FilterRange `json:"heavy_atoms,omitempty" firestore:"heavy_atoms,omitempty"`
	MolecularWeight *FilterRange `json:"molecular_weight,omitempty" firestore:"molecular_weight,omitempty"` // g/mol
	HBondDonors     *FilterRange `json:"hbd,omitempty" firestore:"hbd,omitempty"`                           // Lipinski: N and O bearing H
	HBondAcceptors  *FilterRange `json:"hba,omitempty" firestore:"hba,omitempty"`                           // Lipinski: N and O atoms
	RotatableBonds  *FilterRange `json:"rotatable_bonds,omitempty" firestore:"rotatable_bonds,omitempty"`
	FormalCharge    *FilterRange `json:"formal_charge,omitempty" firestore:"formal_charge,omitempty"` // sum of formal charges
	// Catalogs lists shipped SMARTS catalogs by name (filters.CatalogNames).
	Catalogs []string `json:"catalogs,omitempty" firestore:"catalogs,omitempty"`
	// SMARTS are the user's own patterns (bounded by package filters).
	SMARTS []string `json:"smarts,omitempty" firestore:"smarts,omitempty"`
}

// FilterRange is a closed window; a nil end is open.
type FilterRange struct {
	Min *float64 `json:"min,omitempty" firestore:"min,omitempty"`
	Max *float64 `json:"max,omitempty" firestore:"max,omitempty"`
}

// FilterHit is how many ligands one rule of a batch's filters held back.
type FilterHit struct {
	Rule    string `json:"rule"`
	Ligands int    `json:"ligands"`
}

// TopFilterHits lists the n rules that held back most ligands, most
// first (ties by rule), from counts by rule.
func TopFilterHits(hits map[string]int, n int) []FilterHit {
	out := make([]FilterHit, 0, len(hits))
	for rule, k := range hits {
		out = append(out, FilterHit{Rule: rule, Ligands: k})
	}
	slices.SortFunc(out, func(a, b FilterHit) int {
		if a.Ligands != b.Ligands {
			return b.Ligands - a.Ligands
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	return out[:min(n, len(out))]
}

// IsZero reports whether the block filters nothing (nil, or no part set).
func (f *Filters) IsZero() bool {
	return f == nil || (f.HeavyAtoms == nil && f.MolecularWeight == nil && f.HBondDonors == nil && f.HBondAcceptors == nil &&
		f.RotatableBonds == nil && f.FormalCharge == nil && len(f.Catalogs) == 0 && len(f.SMARTS) == 0)
}
