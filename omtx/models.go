package omtx

import (
	"fmt"
	"sort"
	"strings"
)

// Model names. Boltz2 is the real Boltz-2 (served by the Boltz runner when a
// deployment installs it); BaselineModel is the descriptor baseline that
// ships in models/, which is NOT Boltz-2.
const (
	ModelBoltz2   = "boltz2"
	BaselineModel = "descriptor-baseline-v1"
)

// ModelCatalog lists the models a deployment serves, and the explicit
// substitutions it makes for models it does not have.
type ModelCatalog struct {
	// Available maps a model name to the GPU class that serves it.
	Available map[string]string
	// Substitutes maps a requested model this deployment lacks to the model
	// that serves it instead. Every result then records both names.
	Substitutes map[string]string
}

// Resolution is the outcome of resolving a requested model name.
type Resolution struct {
	Model    string // the model that will run
	GPUClass string
	// Requested and Note are set when a substitution happened.
	Requested string
	Note      string
}

// Resolve maps a requested model name to the model that will run.
func (c ModelCatalog) Resolve(requested string) (Resolution, error) {
	name := strings.TrimSpace(requested)
	if name == "" {
		return Resolution{}, Errorf(EInvalid, "model", "is required (available: %s)", c.names())
	}
	if class, ok := c.Available[name]; ok {
		return Resolution{Model: name, GPUClass: class}, nil
	}
	if sub, ok := c.Substitutes[name]; ok {
		if class, ok := c.Available[sub]; ok {
			return Resolution{
				Model: sub, GPUClass: class, Requested: name,
				Note: fmt.Sprintf("model %q is not installed on this deployment; this job is served by %q, which is not %s", name, sub, name),
			}, nil
		}
	}
	return Resolution{}, Errorf(EModel, "model", "unknown model %q (available: %s)", name, c.names())
}

func (c ModelCatalog) names() string {
	var ns []string
	for n := range c.Available {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return strings.Join(ns, ", ")
}
