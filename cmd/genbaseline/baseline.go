package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/omtx-hub/omtx-hub/onnxmodel"
)

// Identity of the bundle.
const (
	modelName    = "descriptor-baseline-v1"
	modelVersion = "1.0.0"
	featVersion  = "omtx-desc-v1"
	maxBatch     = 256
	noStructure  = "descriptor baseline predicts affinity from 2D ligand descriptors only; it produces no 3D coordinates"
	generatorCmd = "go run ./cmd/genbaseline -out models/descriptor-baseline-v1"
)

// Featurisation parameters of omtx-desc-v1. gpu/featurize.go implements the
// same numbers and gpu.LoadBundle refuses a manifest whose parameters
// differ from the implementation.
const (
	haSat          = 35.0 // heavy-atom count at which ligand efficiency has saturated
	rotFree        = 5    // rotatable bonds tolerated before the entropy penalty
	aromaticCap    = 4    // aromatic rings counted at most
	drugLikeHAMin  = 20   // applicability window of the confidence head
	drugLikeHAMax  = 35
	kcalPerPIC50   = 1.364 // RT·ln(10) at 298 K, kcal/mol per log10 unit
	binderPIC50    = 6.0   // binder threshold: IC50 = 1 µM
	binderScale    = 0.75  // logistic softness, pIC50 units
	confIntercept  = -0.4  // confidence logit of an ideal in-domain ligand
	confPerHA      = -0.1  // confidence logit per heavy atom outside the window
	confPerCharge  = -0.5  // confidence logit per unit of |net formal charge|
	confPerExtraFr = -0.5  // confidence logit per extra disconnected fragment
)

// feature is one input column of omtx-desc-v1, with its ΔG coefficient
// (kcal/mol per unit, 0 when the feature only enters the confidence head)
// and its confidence-logit weight.
type feature struct {
	Name        string
	Description string
	Units       string
	DeltaG      float64
	DeltaGWhy   string
	Conf        float64
	ConfWhy     string
}

var features = []feature{
	{
		Name:        "ha_eff",
		Description: fmt.Sprintf("effective heavy-atom count HAsat·(1 − exp(−HA/HAsat)) with HA = heavy (non-hydrogen) atoms and HAsat = %g: grows like HA for small ligands and saturates at HAsat for large ones", haSat),
		Units:       "heavy atoms",
		DeltaG:      -0.30,
		DeltaGWhy:   "ligand-efficiency rule of thumb of about −0.3 kcal/mol per heavy atom (Hopkins et al. 2004); applied to the saturating count because affinity per heavy atom falls as ligands grow (Kuntz et al. 1999; Reynolds et al. 2007), so ΔG from size alone is bounded by −0.30 × 35 = −10.5 kcal/mol",
		ConfWhy:     "not used",
	},
	{
		Name:        "rotatable_excess",
		Description: fmt.Sprintf("max(0, RotatableBonds − %d): rotatable bonds beyond the first %d", rotFree, rotFree),
		Units:       "bonds",
		DeltaG:      0.25,
		DeltaGWhy:   "hand-set conformational-entropy penalty for flexible ligands, of the same order as the per-rotor penalty of empirical scoring functions (e.g. Böhm 1994); not fitted",
		ConfWhy:     "not used",
	},
	{
		Name:        "aromatic_rings_capped",
		Description: fmt.Sprintf("min(AromaticRings, %d): aromatic rings, counted at most %d times", aromaticCap, aromaticCap),
		Units:       "rings",
		DeltaG:      -0.15,
		DeltaGWhy:   "hand-set small bonus for aromatic stacking/hydrophobic contact, capped so that ring count cannot dominate; not fitted",
		ConfWhy:     "not used",
	},
	{
		Name:        "abs_formal_charge",
		Description: "absolute value of the ligand's net formal charge as written in the SMILES (no protonation model)",
		Units:       "elementary charges",
		DeltaG:      0.20,
		DeltaGWhy:   "hand-set desolvation penalty per unit of net charge; not fitted",
		Conf:        confPerCharge,
		ConfWhy:     "charged ligands are less well described by a size-based prior",
	},
	{
		Name:        "ha_outside_druglike",
		Description: fmt.Sprintf("max(0, %d − HA) + max(0, HA − %d): heavy atoms below or above the drug-like window %d–%d", drugLikeHAMin, drugLikeHAMax, drugLikeHAMin, drugLikeHAMax),
		Units:       "heavy atoms",
		Conf:        confPerHA,
		ConfWhy:     "fragments and very large ligands lie outside the size range where the ligand-efficiency prior is meant to apply",
		DeltaGWhy:   "not used",
	},
	{
		Name:        "extra_components",
		Description: "Components − 1: disconnected fragments beyond the first (salts, mixtures); all fragments are featurised together",
		Units:       "fragments",
		Conf:        confPerExtraFr,
		ConfWhy:     "a multi-component SMILES (salt, mixture) is featurised as a whole, which overstates size",
		DeltaGWhy:   "not used",
	},
}

// head is one output of the model: output = activation(bias + Σ w·f).
type head struct {
	Output     string
	Prefix     string // names of the head's initializers and nodes
	Activation string // "identity" or "sigmoid"
	Bias       float64
	Weights    []float64
	Formula    string
	Units      string
	Desc       string
}

func heads() []head {
	n := len(features)
	aff := make([]float64, n)
	bin := make([]float64, n)
	conf := make([]float64, n)
	for i, f := range features {
		if f.DeltaG != 0 { // leave unused weights at +0, not −0
			aff[i] = f.DeltaG / kcalPerPIC50
			bin[i] = -f.DeltaG / (kcalPerPIC50 * binderScale)
		}
		conf[i] = f.Conf
	}
	return []head{
		{
			Output: "affinity_pred_value", Prefix: "affinity", Activation: "identity",
			Bias: 6, Weights: aff,
			Formula: fmt.Sprintf("6 + ΔG/%g, i.e. log10(IC50/µM) = 6 − pIC50 with pIC50 = −ΔG/%g", kcalPerPIC50, kcalPerPIC50),
			Units:   "log10(IC50 / µM)",
			Desc:    "predicted log10 of IC50 in µM (Boltz-2's affinity_pred_value convention); lower is stronger binding",
		},
		{
			Output: "affinity_probability_binary", Prefix: "binder", Activation: "sigmoid",
			Bias: -binderPIC50 / binderScale, Weights: bin,
			Formula: fmt.Sprintf("sigmoid((pIC50 − %g)/%g) = sigmoid(−affinity_pred_value/%g) = sigmoid(−%g − ΔG/(%g·%g))", binderPIC50, binderScale, binderScale, binderPIC50/binderScale, kcalPerPIC50, binderScale),
			Units:   "probability [0,1]",
			Desc:    fmt.Sprintf("probability that the ligand is a binder (IC50 ≤ 1 µM), a logistic function of the predicted pIC50 centred at %g with scale %g log units", binderPIC50, binderScale),
		},
		{
			Output: "confidence_score", Prefix: "confidence", Activation: "sigmoid",
			Bias: confIntercept, Weights: conf,
			Formula: fmt.Sprintf("sigmoid(%g %+g·ha_outside_druglike %+g·abs_formal_charge %+g·extra_components)", confIntercept, confPerHA, confPerCharge, confPerExtraFr),
			Units:   "score [0,1]",
			Desc:    fmt.Sprintf("heuristic applicability-domain score, not a structural confidence: at most sigmoid(%g) ≈ %.3f for a neutral single-component ligand of %d–%d heavy atoms, lower outside that domain", confIntercept, sigmoid(confIntercept), drugLikeHAMin, drugLikeHAMax),
		},
	}
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// buildModel returns the ONNX graph: one MatMul + Add per head over the
// feature row, followed by a Sigmoid on the two probability-like heads.
func buildModel() *onnxmodel.Model {
	n := int64(len(features))
	batch := onnxmodel.Symbolic("batch")
	g := onnxmodel.Graph{
		Name:      strings.ReplaceAll(modelName, "-", "_"),
		DocString: "descriptor-baseline-v1: a ligand-efficiency prior over 2D ligand descriptors (featurisation " + featVersion + "). Weights are hand-set and documented in manifest.json; this is not Boltz-2 and was not trained.",
		Inputs: []onnxmodel.ValueInfo{{
			Name: "features", ElemType: onnxmodel.Float, Shape: []onnxmodel.Dim{batch, onnxmodel.Fixed(n)},
			DocString: "one row per ligand, columns in the order of manifest.json featurization.features",
		}},
	}
	for _, h := range heads() {
		prefix := h.Prefix
		w := make([]float32, len(h.Weights))
		for i, v := range h.Weights {
			w[i] = float32(v)
		}
		wt := onnxmodel.FloatTensor(prefix+"_weight", []int64{n, 1}, w)
		wt.DocString = "head weights, one per feature: " + h.Formula
		bt := onnxmodel.FloatTensor(prefix+"_bias", []int64{1}, []float32{float32(h.Bias)})
		g.Initializers = append(g.Initializers, wt, bt)

		linear := h.Output
		if h.Activation == "sigmoid" {
			linear = prefix + "_logit"
		}
		g.Nodes = append(g.Nodes,
			onnxmodel.NewNode(prefix+"_matmul", "MatMul", []string{"features", wt.Name}, []string{prefix + "_xw"}),
			onnxmodel.NewNode(prefix+"_add", "Add", []string{prefix + "_xw", bt.Name}, []string{linear}),
		)
		if h.Activation == "sigmoid" {
			g.Nodes = append(g.Nodes, onnxmodel.NewNode(prefix+"_sigmoid", "Sigmoid", []string{linear}, []string{h.Output}))
		}
		g.Outputs = append(g.Outputs, onnxmodel.ValueInfo{
			Name: h.Output, ElemType: onnxmodel.Float, Shape: []onnxmodel.Dim{batch, onnxmodel.Fixed(1)},
			DocString: h.Units + ": " + h.Desc,
		})
	}
	m := onnxmodel.NewModel("omtx-hub/cmd/genbaseline", g)
	m.ProducerVersion = modelVersion
	m.Domain = "org.omtx-hub"
	m.ModelVersion = 1
	m.DocString = "OMTX-Hub descriptor baseline (not Boltz-2). See manifest.json."
	m.Metadata = []onnxmodel.MetadataEntry{
		{Key: "name", Value: modelName},
		{Key: "version", Value: modelVersion},
		{Key: "featurization", Value: featVersion},
		{Key: "is_boltz2", Value: "false"},
	}
	return m
}

// Manifest layout. gpu.LoadBundle reads the contract fields; the prior and
// heads sections document the numbers for people.
type manifest struct {
	Name          string         `json:"name"`
	Version       string         `json:"version"`
	Kind          string         `json:"kind"`
	Description   string         `json:"description"`
	IsBoltz2      bool           `json:"is_boltz2"`
	ModelFile     string         `json:"model_file"`
	Featurization featurization  `json:"featurization"`
	Inputs        []tensorSpec   `json:"inputs"`
	Outputs       []tensorSpec   `json:"outputs"`
	Prior         prior          `json:"prior"`
	Heads         []headDoc      `json:"heads"`
	Structure     structure      `json:"structure"`
	Limits        map[string]int `json:"limits"`
	Provenance    provenance     `json:"provenance"`
	References    []reference    `json:"references"`
}

type featurization struct {
	Version    string        `json:"version"`
	Source     string        `json:"source"`
	Protein    string        `json:"protein"`
	Parameters []namedNumber `json:"parameters"`
	Features   []featureDoc  `json:"features"`
}

type featureDoc struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Units       string `json:"units"`
}

type namedNumber struct {
	Name    string  `json:"name"`
	Value   float64 `json:"value"`
	Units   string  `json:"units,omitempty"`
	Meaning string  `json:"meaning"`
}

type tensorSpec struct {
	Name        string `json:"name"`
	DType       string `json:"dtype"`
	Shape       []any  `json:"shape"`
	Units       string `json:"units,omitempty"`
	Description string `json:"description,omitempty"`
}

type prior struct {
	Summary   string        `json:"summary"`
	DeltaG    string        `json:"delta_g_kcal_mol"`
	Terms     []priorTerm   `json:"terms"`
	Constants []namedNumber `json:"constants"`
}

type priorTerm struct {
	Feature     string  `json:"feature"`
	KcalPerUnit float64 `json:"kcal_per_mol_per_unit"`
	Rationale   string  `json:"rationale"`
}

type headDoc struct {
	Output     string          `json:"output"`
	Activation string          `json:"activation"`
	Formula    string          `json:"formula"`
	Bias       float64         `json:"bias"`
	Weights    []featureWeight `json:"weights"`
	Note       string          `json:"note,omitempty"`
}

type featureWeight struct {
	Feature string  `json:"feature"`
	Weight  float64 `json:"weight"`
}

type structure struct {
	Available bool   `json:"available"`
	Reason    string `json:"reason"`
}

type provenance struct {
	Generator    string `json:"generator"`
	Trained      bool   `json:"trained"`
	TrainingData string `json:"training_data"`
	Weights      string `json:"weights"`
	ONNX         string `json:"onnx"`
	Precision    string `json:"precision"`
}

type reference struct {
	Citation string `json:"citation"`
	UsedFor  string `json:"used_for"`
}

func buildManifest() manifest {
	m := manifest{
		Name:    modelName,
		Version: modelVersion,
		Kind:    "onnx",
		Description: "Descriptor baseline for protein–ligand affinity. It is NOT Boltz-2 and was not trained: its weights encode a documented " +
			"ligand-efficiency prior over 2D ligand descriptors. Its outputs follow Boltz-2's output contract (affinity_pred_value in " +
			"log10(IC50/µM), affinity_probability_binary, confidence_score) so that it can stand in until real weights are installed. " +
			"It ignores the protein sequence: every target gets the same prediction for the same ligand.",
		IsBoltz2:  false,
		ModelFile: "model.onnx",
		Featurization: featurization{
			Version: featVersion,
			Source:  "computed in Go by gpu.Featurize from chem.PerceivedDescriptors of the ligand as RDKit perceives it (heavy atoms, rotatable bonds, perceived aromatic rings, net formal charge, connected components)",
			Protein: "validated only; omtx-desc-v1 has no protein features",
			Parameters: []namedNumber{
				{Name: "ha_sat", Value: haSat, Units: "heavy atoms", Meaning: "HAsat of ha_eff: scale at which the size contribution saturates"},
				{Name: "rotatable_free", Value: rotFree, Units: "bonds", Meaning: "rotatable bonds tolerated before rotatable_excess counts"},
				{Name: "aromatic_ring_cap", Value: aromaticCap, Units: "rings", Meaning: "aromatic rings counted at most"},
				{Name: "druglike_ha_min", Value: drugLikeHAMin, Units: "heavy atoms", Meaning: "lower end of the confidence head's size window"},
				{Name: "druglike_ha_max", Value: drugLikeHAMax, Units: "heavy atoms", Meaning: "upper end of the confidence head's size window"},
			},
		},
		Inputs: []tensorSpec{{Name: "features", DType: "float32", Shape: []any{"batch", len(features)},
			Description: "one row per ligand; columns in the order of featurization.features"}},
		Prior: prior{
			Summary: "ΔG is a ligand-efficiency prior: about −0.3 kcal/mol per heavy atom, saturating for large ligands, with small hand-set " +
				"corrections for flexibility, aromatic rings and net charge. Only the −0.3 kcal/mol per heavy atom rule of thumb comes from " +
				"the literature; the other coefficients are hand-set, round, and not fitted to any data.",
			DeltaG: "ΔG = −0.30·ha_eff + 0.25·rotatable_excess − 0.15·aromatic_rings_capped + 0.20·abs_formal_charge",
			Constants: []namedNumber{
				{Name: "kcal_per_pic50", Value: kcalPerPIC50, Units: "kcal/mol", Meaning: "RT·ln(10) at 298 K: ΔG = −1.364·pIC50, IC50 taken as Kd"},
				{Name: "binder_pic50", Value: binderPIC50, Units: "pIC50", Meaning: "binder threshold of affinity_probability_binary (IC50 = 1 µM)"},
				{Name: "binder_scale", Value: binderScale, Units: "pIC50", Meaning: "logistic scale of affinity_probability_binary (hand-set)"},
				{Name: "confidence_intercept", Value: confIntercept, Units: "logit", Meaning: "confidence logit of a neutral, single-component ligand inside the size window (hand-set)"},
			},
		},
		Structure: structure{Available: false, Reason: noStructure},
		Limits:    map[string]int{"max_batch": maxBatch},
		Provenance: provenance{
			Generator:    generatorCmd,
			Trained:      false,
			TrainingData: "none",
			Weights:      "derived in closed form from the prior section by cmd/genbaseline; see heads for the exact numbers",
			ONNX:         fmt.Sprintf("IR version %d, default-domain opset %d, written by the pure-Go onnxmodel package", onnxmodel.DefaultIRVersion, onnxmodel.DefaultOpset),
			Precision:    "model.onnx stores the weights as float32; the head weights in this manifest are the float64 values before rounding",
		},
		References: []reference{
			{Citation: "Hopkins AL, Groom CR, Alex A. Ligand efficiency: a useful metric for lead selection. Drug Discovery Today 9 (2004) 430–431.",
				UsedFor: "the ~−0.3 kcal/mol per heavy atom ligand-efficiency rule of thumb (coefficient of ha_eff)"},
			{Citation: "Kuntz ID, Chen K, Sharp KA, Kollman PA. The maximal affinity of ligands. PNAS 96 (1999) 9997–10002.",
				UsedFor: "maximal affinity per heavy atom (about −1.5 kcal/mol for the smallest ligands) levels off as ligands grow (shape of ha_eff; the saturation scale 35 is hand-set)"},
			{Citation: "Reynolds CH, Bembenek SD, Tounge BA. The role of molecular size in ligand efficiency. Bioorganic & Medicinal Chemistry Letters 17 (2007) 4258–4261.",
				UsedFor: "ligand efficiency falls with heavy-atom count (shape of ha_eff)"},
			{Citation: "Böhm HJ. The development of a simple empirical scoring function to estimate the binding constant for a protein–ligand complex of known three-dimensional structure. J Comput-Aided Mol Des 8 (1994) 243–256.",
				UsedFor: "order of magnitude of a per-rotatable-bond entropy penalty (the 0.25 kcal/mol value itself is hand-set)"},
			{Citation: "Passaro S, Corso G, Wohlwend J, et al. Boltz-2: Towards accurate and efficient binding affinity prediction. bioRxiv (2025).",
				UsedFor: "output contract only (names and units of affinity_pred_value, affinity_probability_binary); no Boltz-2 weights or code are used"},
		},
	}
	for _, f := range features {
		m.Featurization.Features = append(m.Featurization.Features, featureDoc{Name: f.Name, Description: f.Description, Units: f.Units})
		if f.DeltaG != 0 {
			m.Prior.Terms = append(m.Prior.Terms, priorTerm{Feature: f.Name, KcalPerUnit: f.DeltaG, Rationale: f.DeltaGWhy})
		}
	}
	for _, h := range heads() {
		m.Outputs = append(m.Outputs, tensorSpec{Name: h.Output, DType: "float32", Shape: []any{"batch", 1}, Units: h.Units, Description: h.Desc})
		hd := headDoc{Output: h.Output, Activation: h.Activation, Formula: h.Formula, Bias: h.Bias}
		for i, w := range h.Weights {
			hd.Weights = append(hd.Weights, featureWeight{Feature: features[i].Name, Weight: w})
		}
		switch h.Output {
		case "affinity_pred_value":
			hd.Note = fmt.Sprintf("weights = ΔG coefficients / %g; bias 6", kcalPerPIC50)
		case "affinity_probability_binary":
			hd.Note = fmt.Sprintf("logit = −affinity_pred_value/%g: weights = −ΔG coefficients / (%g·%g), bias = −%g/%g", binderScale, kcalPerPIC50, binderScale, binderPIC50, binderScale)
		case "confidence_score":
			hd.Note = "hand-set applicability-domain heuristic, deliberately low: it is not a structural or calibrated confidence"
		}
		m.Heads = append(m.Heads, hd)
	}
	return m
}

func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
