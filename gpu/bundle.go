package gpu

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// ManifestFile is the name of a bundle's manifest.
const ManifestFile = "manifest.json"

// Output names of the model contract (Boltz-2's output names).
const (
	OutAffinity    = "affinity_pred_value"
	OutProbability = "affinity_probability_binary"
	OutConfidence  = "confidence_score"
)

// UnitsScore are the units of confidence_score.
const UnitsScore = "score [0,1]"

// requiredOutputs maps each output the predictor needs to its units.
var requiredOutputs = []struct{ name, units string }{
	{OutAffinity, omtx.UnitsLog10IC50uM},
	{OutProbability, omtx.UnitsProbability},
	{OutConfidence, UnitsScore},
}

// Bundle is a validated model bundle: a folder holding model.onnx and
// manifest.json (see BUNDLE.md).
type Bundle struct {
	Dir       string
	ModelPath string
	Manifest  Manifest
	feat      *featurizer

	digestOnce sync.Once
	digest     string
}

// Checkpoint names the bundle's weights and their digest, as Boltz-2's
// provenance names its checkpoints: "model.onnx sha256:<hex> (<n> bytes)",
// read once; "" when the file cannot be read. The result cache keys
// results by it, so new weights under an unchanged version miss.
func (b *Bundle) Checkpoint() string {
	b.digestOnce.Do(func() {
		f, err := os.Open(b.ModelPath)
		if err != nil {
			return
		}
		defer f.Close()
		h := sha256.New()
		n, err := io.Copy(h, f)
		if err != nil {
			return
		}
		b.digest = fmt.Sprintf("%s sha256:%s (%d bytes)", filepath.Base(b.ModelPath), hex.EncodeToString(h.Sum(nil)), n)
	})
	return b.digest
}

// Manifest is the contract part of manifest.json. Other sections (prior,
// heads, ...) document the model for people and are not read.
type Manifest struct {
	Name          string                `json:"name"`
	Version       string                `json:"version"`
	Kind          string                `json:"kind"`
	Description   string                `json:"description"`
	IsBoltz2      *bool                 `json:"is_boltz2"`
	ModelFile     string                `json:"model_file"`
	Featurization ManifestFeaturization `json:"featurization"`
	Inputs        []TensorSpec          `json:"inputs"`
	Outputs       []TensorSpec          `json:"outputs"`
	Structure     ManifestStructure     `json:"structure"`
	Limits        ManifestLimits        `json:"limits"`
	Provenance    json.RawMessage       `json:"provenance"`
	References    json.RawMessage       `json:"references"`
}

// ManifestFeaturization names the Go featurization that builds the input.
type ManifestFeaturization struct {
	Version  string `json:"version"`
	Features []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Units       string `json:"units"`
	} `json:"features"`
	Parameters []struct {
		Name  string  `json:"name"`
		Value float64 `json:"value"`
	} `json:"parameters"`
}

// TensorSpec describes one model input or output.
type TensorSpec struct {
	Name        string `json:"name"`
	DType       string `json:"dtype"`
	Shape       []Dim  `json:"shape"`
	Units       string `json:"units,omitempty"`
	Description string `json:"description,omitempty"`
}

// Dim is a manifest shape entry: a symbolic name such as "batch", or a size.
type Dim struct {
	Param string
	Value int64
}

// UnmarshalJSON accepts a string (symbolic) or a non-negative integer.
func (d *Dim) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &d.Param)
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || v < 0 {
		return fmt.Errorf("shape entry %s is neither a name nor a non-negative integer", b)
	}
	d.Value = v
	return nil
}

// MarshalJSON writes the name or the size.
func (d Dim) MarshalJSON() ([]byte, error) {
	if d.Param != "" {
		return json.Marshal(d.Param)
	}
	return json.Marshal(d.Value)
}

func (d Dim) String() string {
	if d.Param != "" {
		return d.Param
	}
	return strconv.FormatInt(d.Value, 10)
}

// ManifestStructure says whether the model produces 3D coordinates.
type ManifestStructure struct {
	Available bool   `json:"available"`
	Reason    string `json:"reason"`
}

// ManifestLimits bounds what the model is run with.
type ManifestLimits struct {
	MaxBatch int `json:"max_batch"`
}

// NumFeatures is the width of the model input.
func (b *Bundle) NumFeatures() int { return len(b.feat.features) }

// Info describes the bundle's model.
func (b *Bundle) Info() omtx.ModelInfo {
	m := &b.Manifest
	return omtx.ModelInfo{
		Name:              m.Name,
		Version:           m.Version,
		Checkpoint:        b.Checkpoint(),
		Kind:              m.Kind,
		Description:       m.Description,
		Structures:        false,
		NoStructureReason: m.Structure.Reason,
	}
}

// LoadBundle reads and validates the bundle in dir: manifest.json must
// state every contract field, name a featurization this build implements
// with the same features and parameters, and describe an input of that
// width and the three contract outputs. Every problem found is reported.
// LoadBundle does not open the ONNX model; NewONNXPredictor checks the
// manifest against the graph.
func LoadBundle(dir string) (*Bundle, error) {
	raw, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("load bundle %s: %w", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("load bundle %s: %s: %w", dir, ManifestFile, err)
	}
	if m.ModelFile == "" {
		m.ModelFile = "model.onnx"
	}
	b := &Bundle{Dir: dir, Manifest: m, ModelPath: filepath.Join(dir, m.ModelFile)}
	if problems := b.validate(); len(problems) > 0 {
		return nil, fmt.Errorf("load bundle %s: invalid %s: %s", dir, ManifestFile, strings.Join(problems, "; "))
	}
	return b, nil
}

func (b *Bundle) validate() []string {
	m := &b.Manifest
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	for _, f := range []struct{ name, v string }{
		{"name", m.Name}, {"version", m.Version}, {"description", m.Description},
	} {
		if strings.TrimSpace(f.v) == "" {
			bad("%s is required", f.name)
		}
	}
	if m.Kind != "onnx" {
		bad(`kind is %q, want "onnx"`, m.Kind)
	}
	if m.IsBoltz2 == nil {
		bad("is_boltz2 is required (true only for an export of the Boltz-2 network)")
	} else if !*m.IsBoltz2 && strings.EqualFold(m.Name, omtx.ModelBoltz2) {
		bad("a bundle with is_boltz2 false must not be named %q", omtx.ModelBoltz2)
	}
	if len(bytes.TrimSpace(m.Provenance)) == 0 || string(bytes.TrimSpace(m.Provenance)) == "null" {
		bad("provenance is required")
	}
	if m.Limits.MaxBatch <= 0 {
		bad("limits.max_batch must be a positive integer")
	}
	if m.Structure.Available {
		bad("structure.available is true, but the ONNX predictor produces no structures")
	} else if strings.TrimSpace(m.Structure.Reason) == "" {
		bad("structure.reason is required when structure.available is false")
	}

	// Model file: a plain name inside the bundle folder.
	if m.ModelFile != filepath.Base(m.ModelFile) || m.ModelFile == "." || m.ModelFile == ".." {
		bad("model_file %q must be a file name inside the bundle folder", m.ModelFile)
	} else if st, err := os.Stat(b.ModelPath); err != nil {
		bad("model_file: %v", err)
	} else if !st.Mode().IsRegular() {
		bad("model_file %s is not a regular file", m.ModelFile)
	}

	// Featurization: one this build implements, with identical columns.
	feat, err := lookupFeaturizer(m.Featurization.Version)
	if err != nil {
		bad("featurization.version: %v", err)
	} else {
		b.feat = feat
		var names []string
		for _, f := range m.Featurization.Features {
			names = append(names, f.Name)
		}
		if !slices.Equal(names, feat.features) {
			bad("featurization.features are [%s], but %s computes [%s]",
				strings.Join(names, ", "), feat.version, strings.Join(feat.features, ", "))
		}
		if len(m.Featurization.Parameters) > 0 {
			seen := map[string]bool{}
			for _, p := range m.Featurization.Parameters {
				want, ok := feat.parameters[p.Name]
				switch {
				case !ok:
					bad("featurization.parameters: %s does not use a parameter %q", feat.version, p.Name)
				case p.Value != want:
					bad("featurization.parameters: %s is %g, but %s implements %g", p.Name, p.Value, feat.version, want)
				}
				seen[p.Name] = true
			}
			for name := range feat.parameters {
				if !seen[name] {
					bad("featurization.parameters: %s is missing", name)
				}
			}
		}
	}

	// Input: one float32 [batch, F] tensor.
	if len(m.Inputs) != 1 {
		bad("inputs: want exactly one input, got %d", len(m.Inputs))
	} else {
		in := m.Inputs[0]
		if in.Name == "" {
			bad("inputs[0].name is required")
		}
		if in.DType != "float32" {
			bad("input %q: dtype %q, want float32", in.Name, in.DType)
		}
		if len(in.Shape) != 2 || in.Shape[0].Param == "" {
			bad("input %q: shape %v, want [\"batch\", <features>]", in.Name, in.Shape)
		} else if b.feat != nil && in.Shape[1].Value != int64(len(b.feat.features)) {
			bad("input %q: width %s, but featurization %s has %d features", in.Name, in.Shape[1], b.feat.version, len(b.feat.features))
		}
	}

	// Outputs: the three contract outputs, each float32 [batch, 1].
	seen := map[string]bool{}
	for _, o := range m.Outputs {
		if o.Name == "" {
			bad("outputs: an output has no name")
			continue
		}
		if seen[o.Name] {
			bad("outputs: %q listed twice", o.Name)
		}
		seen[o.Name] = true
		if o.DType != "float32" {
			bad("output %q: dtype %q, want float32", o.Name, o.DType)
		}
		if len(o.Shape) != 2 || o.Shape[0].Param == "" || o.Shape[1].Param != "" || o.Shape[1].Value != 1 {
			bad("output %q: shape %v, want [\"batch\", 1]", o.Name, o.Shape)
		}
	}
	for _, r := range requiredOutputs {
		i := slices.IndexFunc(m.Outputs, func(o TensorSpec) bool { return o.Name == r.name })
		if i < 0 {
			bad("outputs: %q is required", r.name)
		} else if m.Outputs[i].Units != r.units {
			bad("output %q: units %q, want %q", r.name, m.Outputs[i].Units, r.units)
		}
	}
	return problems
}
