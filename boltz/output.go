package boltz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// confidenceScalars are the scalar keys of confidence_<name>_model_0.json,
// in the order docs/prediction.md lists them (and
// src/boltz/data/write/writer.py writes them). Each goes into
// Prediction.Metrics under its own name. confidence_score is
// 0.8·complex_plddt + 0.2·iptm; the plddt and tm scores are in [0,1],
// higher is better; complex_pde and complex_ipde are in ångström, lower is
// better.
var confidenceScalars = []string{
	"confidence_score",
	"ptm",
	"iptm",
	"ligand_iptm",
	"protein_iptm",
	"complex_plddt",
	"complex_iplddt",
	"complex_pde",
	"complex_ipde",
}

// Keys of affinity_<name>.json (docs/prediction.md, "Output").
// affinity_pred_value is log10(IC50) with IC50 in µM (lower binds more
// strongly; 0 is 1 µM, −3 is 1 nM); affinity_probability_binary is the
// probability in [0,1] that the ligand binds at all. The unsuffixed keys
// are the ensemble's; the keys suffixed 1 and 2 are its two members, which
// Boltz writes only when the affinity model is an ensemble.
const (
	keyAffinityValue = "affinity_pred_value"
	keyAffinityProb  = "affinity_probability_binary"
)

var affinityMembers = []string{
	"affinity_pred_value1",
	"affinity_probability_binary1",
	"affinity_pred_value2",
	"affinity_probability_binary2",
}

// outputPaths names one record's files in Boltz's output layout:
// <out_dir>/boltz_results_<input stem>/predictions/<name>/.
type outputPaths struct {
	dir, structure, confidence, affinity string
}

func recordOutputs(predictionsDir, name string) outputPaths {
	dir := filepath.Join(predictionsDir, name)
	return outputPaths{
		dir:        dir,
		structure:  filepath.Join(dir, name+"_model_0.cif"),
		confidence: filepath.Join(dir, "confidence_"+name+"_model_0.json"),
		affinity:   filepath.Join(dir, "affinity_"+name+".json"),
	}
}

// missing returns the base names of the record's files that do not exist.
func (p outputPaths) missing() ([]string, error) {
	var out []string
	for _, f := range []string{p.structure, p.confidence, p.affinity} {
		_, err := os.Stat(f)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, filepath.Base(f))
		case err != nil:
			return nil, fmt.Errorf("boltz: %w", err)
		}
	}
	return out, nil
}

// recordResult is one record's parsed outputs.
type recordResult struct {
	structure string
	metrics   map[string]float64
	// confidence, affinityValue and affinityProb are NaN when Boltz wrote
	// NaN or ±Infinity for them.
	confidence, affinityValue, affinityProb float64
	// nonFinite names the keys Boltz wrote as NaN or ±Infinity; they are
	// left out of metrics.
	nonFinite []string
}

// readRecord reads a record's structure, confidence and affinity files.
// chains is the number of chains of the input, the screened ligand last.
// A file that is not what docs/prediction.md describes is an error that
// names it.
func readRecord(p outputPaths, chains int) (*recordResult, error) {
	cif, err := os.ReadFile(p.structure)
	if err != nil {
		return nil, fmt.Errorf("boltz: %w", err)
	}
	if len(bytes.TrimSpace(cif)) == 0 {
		return nil, fmt.Errorf("boltz: %s is empty", p.structure)
	}
	res := &recordResult{structure: string(cif), metrics: map[string]float64{}}
	if err := res.readConfidence(p.confidence, chains); err != nil {
		return nil, err
	}
	if err := res.readAffinity(p.affinity); err != nil {
		return nil, err
	}
	sort.Strings(res.nonFinite)
	return res, nil
}

func (r *recordResult) put(key string, v *float64) {
	if v == nil {
		r.nonFinite = append(r.nonFinite, key)
		return
	}
	r.metrics[key] = *v
}

// keyBinderPTM is the metric that holds the screened ligand's own chain
// pTM (chains_ptm of the last chain). Boltz's ligand_iptm pools every
// ligand chain, a target's cofactors with the screened ligand, so it is
// not the screened ligand's alone.
const keyBinderPTM = "binder_chain_ptm"

func (r *recordResult) readConfidence(path string, chains int) error {
	obj, err := readJSONObject(path)
	if err != nil {
		return err
	}
	for _, key := range confidenceScalars {
		v, err := number(path, obj, key)
		if err != nil {
			return err
		}
		r.put(key, v)
		if key == "confidence_score" {
			r.confidence = orNaN(v)
		}
	}

	// chains_ptm: {"<chain index>": ptm}; chain indices are the asym ids
	// of the input's chains, from 0 in input order, each copy its own
	// chain (writer.py L202-205 at the commit package target cites), so
	// the screened ligand, written last, is chains-1.
	raw, ok := obj["chains_ptm"]
	if !ok {
		return fmt.Errorf("boltz: %s: no %q key", path, "chains_ptm")
	}
	var chainsPTM map[string]*float64
	if err := json.Unmarshal(raw, &chainsPTM); err != nil {
		return fmt.Errorf("boltz: %s: chains_ptm: %w", path, err)
	}
	if err := checkChainKeys(path, "chains_ptm", chainsPTM, chains); err != nil {
		return err
	}
	for c, v := range chainsPTM {
		r.put("chains_ptm."+c, v)
	}
	r.put(keyBinderPTM, chainsPTM[strconv.Itoa(chains-1)])

	// pair_chains_iptm: {"<chain i>": {"<chain j>": iptm}}.
	raw, ok = obj["pair_chains_iptm"]
	if !ok {
		return fmt.Errorf("boltz: %s: no %q key", path, "pair_chains_iptm")
	}
	var pairs map[string]map[string]*float64
	if err := json.Unmarshal(raw, &pairs); err != nil {
		return fmt.Errorf("boltz: %s: pair_chains_iptm: %w", path, err)
	}
	if err := checkChainKeys(path, "pair_chains_iptm", pairs, chains); err != nil {
		return err
	}
	for i, row := range pairs {
		if err := checkChainKeys(path, "pair_chains_iptm."+i, row, chains); err != nil {
			return err
		}
		for j, v := range row {
			r.put("pair_chains_iptm."+i+"."+j, v)
		}
	}
	return nil
}

// checkChainKeys requires m's keys to be the chain indices "0" to
// chains-1: an output for another complex than the input is an error.
func checkChainKeys[V any](path, key string, m map[string]V, chains int) error {
	ok := len(m) == chains
	for i := 0; ok && i < chains; i++ {
		_, ok = m[strconv.Itoa(i)]
	}
	if !ok {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return fmt.Errorf("boltz: %s: %s has chains %v, want the input's %d chains 0 to %d", path, key, keys, chains, chains-1)
	}
	return nil
}

func (r *recordResult) readAffinity(path string) error {
	obj, err := readJSONObject(path)
	if err != nil {
		return err
	}
	v, err := number(path, obj, keyAffinityValue)
	if err != nil {
		return err
	}
	r.affinityValue = orNaN(v)
	if v == nil {
		r.nonFinite = append(r.nonFinite, keyAffinityValue)
	}
	p, err := number(path, obj, keyAffinityProb)
	if err != nil {
		return err
	}
	r.affinityProb = orNaN(p)
	if p == nil {
		r.nonFinite = append(r.nonFinite, keyAffinityProb)
	}
	for _, key := range affinityMembers {
		if _, ok := obj[key]; !ok {
			continue // written only by an ensemble affinity model
		}
		v, err := number(path, obj, key)
		if err != nil {
			return err
		}
		r.put(key, v)
	}
	return nil
}

// readJSONObject reads a JSON object written by Python's json.dumps, which
// writes NaN and ±Infinity as the bare words NaN, Infinity and -Infinity
// (not JSON); they are read as null.
func readJSONObject(path string) (map[string]json.RawMessage, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("boltz: %w", err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(pythonNonFiniteToNull(data), &obj); err != nil {
		return nil, fmt.Errorf("boltz: malformed JSON in %s: %w", path, err)
	}
	if obj == nil {
		return nil, fmt.Errorf("boltz: malformed JSON in %s: not an object", path)
	}
	return obj, nil
}

// number reads a required numeric key; nil means Boltz wrote a non-finite
// value.
func number(path string, obj map[string]json.RawMessage, key string) (*float64, error) {
	raw, ok := obj[key]
	if !ok {
		return nil, fmt.Errorf("boltz: %s: no %q key", path, key)
	}
	var v *float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("boltz: %s: %q is not a number: %s", path, key, raw)
	}
	return v, nil
}

func orNaN(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

// pythonNonFiniteToNull replaces the tokens NaN, Infinity and -Infinity
// outside strings with null.
func pythonNonFiniteToNull(data []byte) []byte {
	if !bytes.Contains(data, []byte("NaN")) && !bytes.Contains(data, []byte("Infinity")) {
		return data
	}
	out := make([]byte, 0, len(data))
	inString, escaped := false, false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			out = append(out, c)
			continue
		}
		replaced := false
		for _, tok := range []string{"-Infinity", "Infinity", "NaN"} {
			if bytes.HasPrefix(data[i:], []byte(tok)) {
				out = append(out, "null"...)
				i += len(tok) - 1
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, c)
		}
	}
	return out
}
