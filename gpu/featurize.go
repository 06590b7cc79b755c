package gpu

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/omtx-hub/omtx-hub/chem"
)

// DescV1 is the featurization of descriptor-baseline-v1: six ligand
// descriptors, documented in models/descriptor-baseline-v1/README.md.
const DescV1 = "omtx-desc-v1"

// Parameters of omtx-desc-v1. A bundle's manifest states them too, and
// LoadBundle refuses a manifest whose numbers differ from these.
const (
	descV1HASat       = 35.0 // ha_eff = HAsat·(1 − exp(−HA/HAsat))
	descV1RotFree     = 5    // rotatable_excess = max(0, rot − 5)
	descV1AromaticCap = 4    // aromatic_rings_capped = min(rings, 4)
	descV1DrugLikeMin = 20   // ha_outside_druglike window
	descV1DrugLikeMax = 35
)

// featurizer turns ligand descriptors into one model input row.
type featurizer struct {
	version    string
	features   []string
	parameters map[string]float64
	row        func(d chem.Descriptors) []float64
}

var featurizers = map[string]*featurizer{
	DescV1: {
		version: DescV1,
		features: []string{
			"ha_eff", "rotatable_excess", "aromatic_rings_capped",
			"abs_formal_charge", "ha_outside_druglike", "extra_components",
		},
		parameters: map[string]float64{
			"ha_sat":            descV1HASat,
			"rotatable_free":    descV1RotFree,
			"aromatic_ring_cap": descV1AromaticCap,
			"druglike_ha_min":   descV1DrugLikeMin,
			"druglike_ha_max":   descV1DrugLikeMax,
		},
		row: descV1Row,
	},
}

func descV1Row(d chem.Descriptors) []float64 {
	ha := float64(d.HeavyAtoms)
	return []float64{
		descV1HASat * (1 - math.Exp(-ha/descV1HASat)),
		math.Max(0, float64(d.RotatableBonds-descV1RotFree)),
		math.Min(float64(d.AromaticRings), descV1AromaticCap),
		math.Abs(float64(d.FormalCharge)),
		math.Max(0, descV1DrugLikeMin-ha) + math.Max(0, ha-descV1DrugLikeMax),
		math.Max(0, float64(d.Components-1)),
	}
}

// FeaturizationVersions lists the featurizations this build implements.
func FeaturizationVersions() []string {
	vs := make([]string, 0, len(featurizers))
	for v := range featurizers {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	return vs
}

// FeatureNames returns the input columns of a featurization, in order.
func FeatureNames(version string) ([]string, error) {
	f, err := lookupFeaturizer(version)
	if err != nil {
		return nil, err
	}
	return append([]string(nil), f.features...), nil
}

func lookupFeaturizer(version string) (*featurizer, error) {
	f, ok := featurizers[version]
	if !ok {
		return nil, fmt.Errorf("unknown featurization version %q (this build implements %s)",
			version, strings.Join(FeaturizationVersions(), ", "))
	}
	return f, nil
}

// Featurize computes the model input row of one ligand against one protein.
// Input errors name the field they concern, e.g.
// "ligand_smiles: at position 5: unclosed ring bond 1".
//
// omtx-desc-v1 has no protein features: the protein is validated only.
func Featurize(version, protein, smiles string) ([]float32, error) {
	f, err := lookupFeaturizer(version)
	if err != nil {
		return nil, err
	}
	if _, err := chem.ValidateProteinSequence(protein); err != nil {
		return nil, fmt.Errorf("protein_sequence: %w", err)
	}
	row, _, err := f.ligand(smiles)
	if err != nil {
		return nil, fmt.Errorf("ligand_smiles: %w", err)
	}
	return row, nil
}

// errNoHeavyAtoms rejects ligands such as "[H][H]" that the descriptor
// prior cannot describe.
var errNoHeavyAtoms = errors.New("ligand has no heavy atoms")

// ligand parses a SMILES string and returns its feature row and
// descriptors. Errors carry no field name (ParseSMILES's, as
// *chem.SMILESError).
//
// The descriptors are those of the molecule as RDKit perceives it
// (chem.Perceive, chem.PerceivedDescriptors), not of its spelling: Kekulé
// and aromatic aspirin have one aromatic ring each, so one molecule gets
// one feature row, and one score, however it is written.
func (f *featurizer) ligand(smiles string) ([]float32, chem.Descriptors, error) {
	st, err := chem.Perceive(strings.TrimSpace(smiles))
	if err != nil {
		return nil, chem.Descriptors{}, err
	}
	d := chem.PerceivedDescriptors(st)
	if d.HeavyAtoms == 0 {
		return nil, d, errNoHeavyAtoms
	}
	row64 := f.row(d)
	row := make([]float32, len(row64))
	for i, v := range row64 {
		row[i] = float32(v)
	}
	return row, d, nil
}
