package omtx

import (
	"fmt"
	"strconv"
	"strings"
)

// GPUClassSpec describes one GPU class of the fleet: its task queue is
// GPUTaskQueue(Name).
type GPUClassSpec struct {
	Name string `json:"name"`
	// MaxTokens is the largest input (residues + ligand heavy atoms) the
	// class runs; larger inputs go straight to a larger class.
	MaxTokens int `json:"max_tokens"`
	// PricePerHour is the price of one GPU of this class, in USD per hour.
	PricePerHour float64 `json:"price_per_hour"`
}

// Fleet lists the GPU classes from smallest to largest.
type Fleet []GPUClassSpec

// DefaultFleetSpec is the fleet when OMTX_GPU_CLASSES is unset. The L4
// price is the seed plan's ($0.65/h); the A100 80 GB price and both token
// budgets are planning figures to be set per deployment.
const DefaultFleetSpec = "l4:1200:0.65,a100-80g:4000:3.67"

// ParseFleet reads "name:max_tokens:usd_per_hour,..." (smallest first).
func ParseFleet(spec string) (Fleet, error) {
	var f Fleet
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		fs := strings.Split(part, ":")
		if len(fs) != 3 {
			return nil, fmt.Errorf("gpu class %q is not name:max_tokens:usd_per_hour", part)
		}
		tok, err1 := strconv.Atoi(fs[1])
		price, err2 := strconv.ParseFloat(fs[2], 64)
		if fs[0] == "" || err1 != nil || err2 != nil || tok <= 0 || price < 0 {
			return nil, fmt.Errorf("gpu class %q is not name:max_tokens:usd_per_hour", part)
		}
		if _, dup := f.Class(fs[0]); dup {
			return nil, fmt.Errorf("gpu class %q is listed twice", fs[0])
		}
		if len(f) > 0 && tok < f[len(f)-1].MaxTokens {
			return nil, fmt.Errorf("gpu classes must be listed smallest first (%s after %s)", fs[0], f[len(f)-1].Name)
		}
		f = append(f, GPUClassSpec{Name: fs[0], MaxTokens: tok, PricePerHour: price})
	}
	if len(f) == 0 {
		return nil, fmt.Errorf("no gpu classes")
	}
	return f, nil
}

// Class returns the named class.
func (f Fleet) Class(name string) (GPUClassSpec, bool) {
	for _, c := range f {
		if c.Name == name {
			return c, true
		}
	}
	return GPUClassSpec{}, false
}

// Route picks the class for an input of tokens, starting at the model's
// class: the first class from there whose budget holds it. The reason says
// why, for the job document.
func (f Fleet) Route(start string, tokens int) (GPUClassSpec, string, error) {
	i := 0
	for ; i < len(f) && f[i].Name != start; i++ {
	}
	if i == len(f) {
		return GPUClassSpec{}, "", Errorf(EInvalid, "model", "gpu class %q is not in this deployment's fleet", start)
	}
	for j := i; j < len(f); j++ {
		if tokens <= f[j].MaxTokens {
			if j == i {
				return f[j], fmt.Sprintf("%d tokens fit the %s budget of %d", tokens, f[j].Name, f[j].MaxTokens), nil
			}
			return f[j], fmt.Sprintf("%d tokens exceed the %s budget of %d; routed to %s", tokens, start, f[i].MaxTokens, f[j].Name), nil
		}
	}
	last := f[len(f)-1]
	return GPUClassSpec{}, "", Errorf(EInvalid, "protein_sequence", "the input has %d tokens (residues + ligand heavy atoms), more than the largest GPU class (%s) holds: %d", tokens, last.Name, last.MaxTokens)
}

// Next returns the class after name, for an out-of-memory retry.
func (f Fleet) Next(name string) (GPUClassSpec, bool) {
	for i, c := range f {
		if c.Name == name && i+1 < len(f) {
			return f[i+1], true
		}
	}
	return GPUClassSpec{}, false
}

// CostUSD prices GPU seconds on a class.
func (c GPUClassSpec) CostUSD(gpuSeconds float64) float64 { return gpuSeconds / 3600 * c.PricePerHour }

// RoutingStep records one GPU-class decision of a job.
type RoutingStep struct {
	GPUClass string `json:"gpu_class" firestore:"gpu_class"`
	Reason   string `json:"reason" firestore:"reason"`
	At       string `json:"at" firestore:"at"` // RFC 3339
}
