package aggregate

import (
	"strconv"
	"strings"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// csvHeader is the fixed part of batch_results.csv's header; one meta_<key>
// column per ligand metadata key follows it.
var csvHeader = []string{
	"rank", "batch_index", "job_id", "ligand_name", "smiles", "status",
	"affinity_pred_value_log10_ic50_um", "pic50", "delta_g_kcal_mol",
	"affinity_probability_binary", "confidence", "model", "model_version",
	"structure_available", "results_file", "error", "warnings",
	// Appended, so the seed's columns keep their places: the molecule
	// the model ran (a salt's parent) and each chain's MSA.
	"modelled_smiles", "msa_mode", "msa_digest",
}

// csvRow fills rec (cleared, rank already set) with c's row.
func csvRow(rec []string, c *omtx.Job, keys []string) {
	if c.BatchIndex != nil {
		rec[1] = strconv.Itoa(*c.BatchIndex)
	}
	rec[2] = guard(c.JobID)
	rec[3] = guard(c.InputData.LigandName)
	rec[4] = guard(c.InputData.LigandSMILES)
	rec[5] = guard(string(c.Status))
	if r := c.Results; r != nil {
		rec[6] = num(r.AffinityPredValue)
		rec[7] = num(r.PIC50)
		rec[8] = num(r.DeltaGKcalMol)
		rec[9] = num(r.AffinityProbabilityBinary)
		rec[10] = num(r.Confidence)
		rec[12] = guard(r.ModelVersion)
		rec[13] = strconv.FormatBool(r.StructureAvailable)
		rec[14] = guard(r.ResultsFile)
	}
	rec[11] = guard(modelName(c))
	rec[15] = guard(c.Error)
	rec[16] = guard(strings.Join(c.Warnings, "; "))
	rec[17] = guard(c.InputData.ModelledSMILES)
	if r := c.Results; r != nil {
		if r.ModelledSMILES != "" {
			rec[17] = guard(r.ModelledSMILES)
		}
		rec[18], rec[19] = msaCells(r)
	}
	for i, k := range keys {
		rec[len(csvHeader)+i] = guard(c.LigandMetadata[k])
	}
}

// msaCells are the msa_mode and msa_digest cells of a result: the one
// chain's mode and digest, or "A=server; B=empty" and "A=<sha256>; B="
// for several chains. A result without chains (before they were recorded,
// or a model that reads no MSA) gives its msa_mode and no digest.
func msaCells(r *omtx.Results) (mode, digest string) {
	switch len(r.MSAs) {
	case 0:
		return guard(r.MSAMode), ""
	case 1:
		return guard(r.MSAs[0].Mode), guard(r.MSAs[0].Digest)
	}
	modes := make([]string, len(r.MSAs))
	digests := make([]string, len(r.MSAs))
	for i, m := range r.MSAs {
		modes[i], digests[i] = m.ChainID+"="+m.Mode, m.ChainID+"="+m.Digest
	}
	return guard(strings.Join(modes, "; ")), guard(strings.Join(digests, "; "))
}

// num formats a number with 4 decimals; non-finite values are empty.
func num(v float64) string {
	if isNaNOrInf(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// guard protects a text cell against formula injection (see buildCSV).
func guard(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if isDecimal(s) {
			return s
		}
		return "'" + s
	case '\'':
		// A cell that starts with the guard's own quote gets one too, so
		// that a reader undoing the guard (omtx results) strips exactly
		// the quote this package added: a name 'abc stays 'abc.
		return "'" + s
	}
	return s
}

// isDecimal reports whether s is a plain decimal number: an optional sign,
// digits with at most one decimal point, and an optional exponent.
func isDecimal(s string) bool {
	mant, exp, hasExp := s, "", false
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant, exp, hasExp = s[:i], s[i+1:], true
	}
	digits, points := 0, 0
	for _, b := range []byte(trimSign(mant)) {
		switch {
		case b >= '0' && b <= '9':
			digits++
		case b == '.':
			points++
		default:
			return false
		}
	}
	if digits == 0 || points > 1 {
		return false
	}
	if !hasExp {
		return true
	}
	exp = trimSign(exp)
	if exp == "" {
		return false
	}
	for _, b := range []byte(exp) {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}

func trimSign(s string) string {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		return s[1:]
	}
	return s
}
