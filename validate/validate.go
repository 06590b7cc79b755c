// Package validate checks prediction requests field by field, so that bad
// input is refused with the field's name and the reason before any job
// record or workflow exists. The API runs these checks at submission, and
// the first activity of every job (AcceptJob) runs them again under the
// worker's rules; no workflow code calls them, so changing a rule changes
// no workflow history.
package validate

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// Limits on request fields.
const (
	MaxLigandNameLength = 200
	MinNumSamples       = 1
	MaxNumSamples       = 25
	DefaultNumSamples   = 1
	// MaxSeed is the largest seed: PyTorch Lightning's seed_everything,
	// which Boltz-2 calls, silently replaces a seed outside [0, 2³²−1]
	// with 0, so the recorded seed would not be the one used.
	MaxSeed = 1<<32 - 1
)

// Boltz-2's own limits on an affinity ligand (boltz/main.py and
// data/parse/schema.py of Boltz 2.x): the affinity head refuses a ligand of
// more than 128 heavy atoms, and warns above 56 ("the affinity model was
// trained on ligands of at most 56 heavy atoms"). Boltz counts the atoms
// its RemoveHs keeps (schema.py lines 1263-1272), so isotopic hydrogens
// count too (chem.Standardized.BoltzAtoms).
const (
	Boltz2MaxAffinityHeavyAtoms  = 128
	Boltz2WarnAffinityHeavyAtoms = 56
)

// ProteinSequence normalises and checks a protein sequence.
func ProteinSequence(field, seq string) (string, error) {
	if strings.TrimSpace(seq) == "" {
		return "", omtx.Errorf(omtx.EInvalid, field, "is required")
	}
	norm, err := chem.ValidateProteinSequence(seq)
	if err != nil {
		return "", omtx.Errorf(omtx.EInvalid, field, "%v", err)
	}
	return norm, nil
}

// Ligand is a checked ligand SMILES.
type Ligand struct {
	SMILES string // trimmed, as submitted
	// ModelledSMILES is the molecule the model runs. For Boltz-2 it is
	// the one Boltz's standardizer keeps (chem.Standardize): the largest
	// fragment, normalized and neutralized as ChEMBL's pipeline does. For
	// other models it is SMILES.
	ModelledSMILES string
	// HeavyAtoms counts the atoms of the modelled molecule that the
	// model's limits and token counts apply to: for Boltz-2 its heavy
	// atoms and isotopic hydrogens ([2H]), which Boltz keeps as atoms; for
	// other models the heavy atoms of SMILES.
	HeavyAtoms int
	// Dropped lists the fragments Boltz-2 does not model (counter-ions,
	// solvents), as SMILES.
	Dropped []string
	// Neutralized reports that Boltz-2's standardizer changed charges.
	Neutralized bool
	// Warnings are said about a ligand the model runs but may not
	// predict well, or runs other than as written.
	Warnings []string
}

// LigandFor parses and checks a ligand SMILES (once) for model: any model
// needs a valid SMILES. For Boltz-2 the limits apply to the molecule Boltz
// models, as its affinity ligand is standardized first (chem.Standardize,
// after Boltz's schema.py): a ligand with a metal of ChEMBL's list (or more
// than 7 borons) is refused, as Boltz refuses it; so is one whose largest
// fragment has no carbon; dropped fragments and changed charges are
// warned about; and Boltz-2's affinity head refuses more atoms than it
// takes and warns about ligands larger than it was trained on. field names
// the ligand in errors and warnings (e.g. "ligand_smiles", or
// "ligands[3].smiles"); every error is an *omtx.Error with code EInvalid
// (HTTP 422) and that field.
func LigandFor(model, field, smiles string) (Ligand, error) {
	s := strings.TrimSpace(smiles)
	if s == "" {
		return Ligand{}, omtx.Errorf(omtx.EInvalid, field, "is required")
	}
	m, err := chem.ParseSMILES(s)
	if err != nil {
		return Ligand{}, omtx.Errorf(omtx.EInvalid, field, "invalid SMILES: %v", err)
	}
	if model != omtx.ModelBoltz2 {
		return Ligand{SMILES: s, ModelledSMILES: s, HeavyAtoms: m.HeavyAtomCount()}, nil
	}
	std, err := chem.StandardizeMolecule(m)
	if err != nil {
		return Ligand{}, omtx.Errorf(omtx.EInvalid, field, "%v", err)
	}
	l := Ligand{
		SMILES: s, ModelledSMILES: std.SMILES, HeavyAtoms: std.BoltzAtoms(),
		Dropped: std.Dropped, Neutralized: std.Neutralized,
	}
	for _, w := range std.Warnings {
		l.Warnings = append(l.Warnings, field+": "+w)
	}
	what := "heavy atoms"
	if std.IsotopicHydrogens > 0 {
		what = fmt.Sprintf("atoms (%d heavy atoms and %d isotopic hydrogens, which Boltz keeps as atoms)",
			std.HeavyAtoms, std.IsotopicHydrogens)
	}
	switch n := l.HeavyAtoms; {
	case n > Boltz2MaxAffinityHeavyAtoms:
		return Ligand{}, omtx.Errorf(omtx.EInvalid, field,
			"has %d %s in the molecule Boltz-2 models; its affinity prediction takes at most %d", n, what, Boltz2MaxAffinityHeavyAtoms)
	case n > Boltz2WarnAffinityHeavyAtoms:
		l.Warnings = append(l.Warnings, fmt.Sprintf(
			"%s has %d %s, more than the %d of the largest ligands Boltz-2's affinity model was trained on; its affinity is less reliable",
			field, n, what, Boltz2WarnAffinityHeavyAtoms))
	}
	return l, nil
}

// LigandName checks a ligand's (or a batch's) display name and returns it
// trimmed and in Unicode NFC, so that one name typed on two systems
// (precomposed é, or e and a combining accent) is one name; empty names
// get def. Control, format (bidirectional overrides, zero-width),
// private-use characters and the line and paragraph separators U+2028 and
// U+2029 (which end a line in JavaScript and in some CSV readers) are
// refused: a name must read as what it is, on one line.
func LigandName(field, name, def string) (string, error) {
	if !utf8.ValidString(name) {
		return "", omtx.Errorf(omtx.EInvalid, field, "is not valid UTF-8")
	}
	n := norm.NFC.String(strings.TrimSpace(name))
	if n == "" {
		return def, nil
	}
	if len(n) > MaxLigandNameLength {
		return "", omtx.Errorf(omtx.EInvalid, field, "is longer than %d bytes", MaxLigandNameLength)
	}
	for _, r := range n {
		switch {
		case r == '\u2028' || r == '\u2029':
			return "", omtx.Errorf(omtx.EInvalid, field, "contains a line or paragraph separator (U+%04X)", r)
		case unicode.IsControl(r):
			return "", omtx.Errorf(omtx.EInvalid, field, "contains a control character (U+%04X)", r)
		case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Co, r), r == utf8.RuneError:
			return "", omtx.Errorf(omtx.EInvalid, field, "contains an invisible or direction-changing character (U+%04X)", r)
		}
	}
	return n, nil
}

// Bounds are the deployment's limits on a request's run settings
// (omtx.Parameters): the largest value of each that one request may ask
// for. Zero fields take DefaultBounds' values. Boltz's own defaults
// (src/boltz/main.py of jwohlwend/boltz: recycling_steps 3 at lines
// 853-857, sampling_steps 200 at 859-863, diffusion_samples 1 at 865-869,
// sampling_steps_affinity 200 at 998-1002, diffusion_samples_affinity 5 at
// 1004-1008) are always within the defaults.
type Bounds struct {
	MaxRecyclingSteps           int  // OMTX_MAX_RECYCLING_STEPS, default 10
	MaxSamplingSteps            int  // OMTX_MAX_SAMPLING_STEPS, default 500
	MaxDiffusionSamples         int  // OMTX_MAX_DIFFUSION_SAMPLES, default and at most MaxNumSamples (25)
	MaxSamplingStepsAffinity    int  // OMTX_MAX_SAMPLING_STEPS_AFFINITY, default 500
	MaxDiffusionSamplesAffinity int  // OMTX_MAX_DIFFUSION_SAMPLES_AFFINITY, default 10
	NoPotentials                bool // OMTX_NO_POTENTIALS: refuse use_potentials=true
}

// DefaultBounds are the bounds of a deployment that sets none.
func DefaultBounds() Bounds {
	return Bounds{
		MaxRecyclingSteps: 10, MaxSamplingSteps: 500, MaxDiffusionSamples: MaxNumSamples,
		MaxSamplingStepsAffinity: 500, MaxDiffusionSamplesAffinity: 10,
	}
}

// withDefaults fills b's zero maxima from DefaultBounds.
func (b Bounds) withDefaults() Bounds {
	d := DefaultBounds()
	for _, f := range []struct{ v, def *int }{
		{&b.MaxRecyclingSteps, &d.MaxRecyclingSteps}, {&b.MaxSamplingSteps, &d.MaxSamplingSteps},
		{&b.MaxDiffusionSamples, &d.MaxDiffusionSamples}, {&b.MaxSamplingStepsAffinity, &d.MaxSamplingStepsAffinity},
		{&b.MaxDiffusionSamplesAffinity, &d.MaxDiffusionSamplesAffinity},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return b
}

// Parameters checks model parameters against DefaultBounds and fills
// defaults; see ParametersWithin.
func Parameters(field string, p *omtx.Parameters) error {
	return ParametersWithin(field, p, DefaultBounds())
}

// ParametersWithin checks model parameters against the deployment's
// bounds and fills defaults. num_samples and diffusion_samples are one
// setting (Boltz's --diffusion_samples) under two names: the seed's and
// Boltz's; a request that gives both must give the same value, and both
// are then set. Every error is an *omtx.Error with code EInvalid naming
// the field, e.g. "parameters.recycling_steps".
func ParametersWithin(field string, p *omtx.Parameters, b Bounds) error {
	b = b.withDefaults()
	switch {
	case p.DiffusionSamples != 0 && p.NumSamples != 0 && p.DiffusionSamples != p.NumSamples:
		return omtx.Errorf(omtx.EInvalid, field+".diffusion_samples",
			"is %d but num_samples is %d; they are one setting (Boltz's --diffusion_samples): give one, or the same value", p.DiffusionSamples, p.NumSamples)
	case p.DiffusionSamples != 0:
		p.NumSamples = p.DiffusionSamples
	case p.NumSamples == 0:
		p.NumSamples = DefaultNumSamples
	}
	maxSamples := min(MaxNumSamples, b.MaxDiffusionSamples)
	if p.NumSamples < MinNumSamples || p.NumSamples > maxSamples {
		name := ".num_samples"
		if p.DiffusionSamples != 0 {
			name = ".diffusion_samples"
		}
		return omtx.Errorf(omtx.EInvalid, field+name, "must be between %d and %d", MinNumSamples, maxSamples)
	}
	if p.DiffusionSamples != 0 {
		p.DiffusionSamples = p.NumSamples
	}
	if p.Seed != nil && (*p.Seed < 0 || *p.Seed > MaxSeed) {
		return omtx.Errorf(omtx.EInvalid, field+".seed", "must be between 0 and %d", int64(MaxSeed))
	}
	for _, s := range []struct {
		name   string
		v, max int
		min    int
	}{
		{"recycling_steps", p.RecyclingSteps, b.MaxRecyclingSteps, 1},
		{"sampling_steps", p.SamplingSteps, b.MaxSamplingSteps, 1},
		{"sampling_steps_affinity", p.SamplingStepsAffinity, b.MaxSamplingStepsAffinity, 1},
		{"diffusion_samples_affinity", p.DiffusionSamplesAffinity, b.MaxDiffusionSamplesAffinity, 1},
	} {
		// Zero is "not set" (the deployment's default).
		if s.v < 0 || s.v > s.max {
			return omtx.Errorf(omtx.EInvalid, field+"."+s.name,
				"must be between %d and %d on this deployment (0 or absent: the default), got %d", s.min, s.max, s.v)
		}
	}
	if b.NoPotentials && p.UsePotentials != nil && *p.UsePotentials {
		return omtx.Errorf(omtx.EInvalid, field+".use_potentials", "is not allowed on this deployment")
	}
	switch p.MSAMode {
	case "", omtx.MSAModeServer, omtx.MSAModeEmpty:
	default:
		return omtx.Errorf(omtx.EInvalid, field+".msa_mode", "must be %q or %q, got %q", omtx.MSAModeServer, omtx.MSAModeEmpty, p.MSAMode)
	}
	return nil
}

// Warnings MSAMode gives for a single-sequence run.
const (
	NoMSAServerWarning = "no MSA server is configured on this deployment, so Boltz-2 runs in single-sequence mode (msa_mode \"empty\"), which Boltz's documentation calls not recommended because it reduces accuracy; send an msa, or set parameters.msa_mode to \"empty\" to say that you mean it"
	EmptyMSAWarning    = "Boltz-2 runs in single-sequence mode (msa_mode \"empty\") as asked, which Boltz's documentation calls not recommended because it reduces accuracy"
)

// MSAMode settles how Boltz-2 gets its MSA, once, at submission, and
// records it in p (MSAMode and UseMSA agree afterwards). useMSAGiven says
// whether the request said use_msa (absent and false differ); uploaded
// whether it sent an A3M; serverConfigured whether the deployment has an
// MSA server. The rules:
//   - msa_mode "server", or use_msa true, or an uploaded A3M: server mode
//     (the upload is used instead of the server);
//   - msa_mode "empty", or use_msa false given explicitly: single-sequence,
//     with a warning;
//   - nothing said: server mode where a server is configured, as Boltz's
//     authors recommend (docs/prediction.md: single-sequence mode "is not
//     recommended, as it reduces accuracy"), else single-sequence with a
//     warning saying why. Never a silent single-sequence run.
//
// A model that reads no MSA (the baseline) gets no mode and no warning.
// Contradictions (msa_mode "empty" with use_msa true, or with an upload)
// are a 422 naming the field.
func MSAMode(model, field string, p *omtx.Parameters, useMSAGiven, uploaded, serverConfigured bool) (warning string, err error) {
	if !omtx.ModelUsesMSA(model) {
		// Kept as asked; nothing reads it, and the results say so.
		return "", nil
	}
	switch {
	case p.MSAMode == omtx.MSAModeEmpty && useMSAGiven && p.UseMSA:
		return "", omtx.Errorf(omtx.EInvalid, field+".msa_mode", "is %q but use_msa is true", p.MSAMode)
	case p.MSAMode == omtx.MSAModeServer && useMSAGiven && !p.UseMSA:
		return "", omtx.Errorf(omtx.EInvalid, field+".msa_mode", "is %q but use_msa is false", p.MSAMode)
	case p.MSAMode == omtx.MSAModeEmpty && uploaded:
		return "", omtx.Errorf(omtx.EInvalid, "msa", "an MSA was sent but %s.msa_mode is %q", field, p.MSAMode)
	case p.MSAMode == "" && useMSAGiven:
		p.MSAMode = omtx.MSAModeEmpty
		if p.UseMSA {
			p.MSAMode = omtx.MSAModeServer
		}
	case p.MSAMode == "" && (uploaded || serverConfigured):
		p.MSAMode = omtx.MSAModeServer
	case p.MSAMode == "":
		p.MSAMode, p.UseMSA = omtx.MSAModeEmpty, false
		return NoMSAServerWarning, nil
	}
	p.UseMSA = p.MSAMode == omtx.MSAModeServer
	if !p.UseMSA {
		return EmptyMSAWarning, nil
	}
	return "", nil
}

// Input checks and normalises a whole individual input in place for model,
// under DefaultBounds; see InputWithin.
func Input(model string, in *omtx.InputData) (Ligand, error) {
	return InputWithin(model, in, DefaultBounds())
}

// InputWithin checks and normalises a whole individual input in place for
// model, with the deployment's bounds on run settings, records the
// molecule the model runs (in.ModelledSMILES), and returns the checked
// ligand.
func InputWithin(model string, in *omtx.InputData, b Bounds) (Ligand, error) {
	var err error
	if in.ProteinSequence, err = ProteinSequence("protein_sequence", in.ProteinSequence); err != nil {
		return Ligand{}, err
	}
	lig, err := LigandFor(model, "ligand_smiles", in.LigandSMILES)
	if err != nil {
		return Ligand{}, err
	}
	in.LigandSMILES, in.ModelledSMILES = lig.SMILES, lig.ModelledSMILES
	if in.LigandName, err = LigandName("ligand_name", in.LigandName, "Ligand_1"); err != nil {
		return Ligand{}, err
	}
	return lig, ParametersWithin("parameters", &in.Parameters, b)
}
