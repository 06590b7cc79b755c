package ranking

import (
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// csvHeader is the fixed part of batch_results.csv's header; the user's
// metadata columns follow it (metaColumns). Each affinity column is named
// by its quantity.
var csvHeader = []string{
	"rank", "batch_index", "job_id", "ligand_name", "smiles", "status",
	"affinity_probability_binary", "predicted_binder",
	"affinity_pred_value_log10_ic50_um", "pic50", "delta_g_kcal_mol",
	"confidence", "ligand_iptm", "iptm", "below_confidence_floor",
	"model", "model_version", "model_note",
	"structure_available", "results_url", "structure_url",
	"failure_reason", "warnings",
	// The molecule the model ran (a salt's parent) and each chain's MSA.
	"modelled_smiles", "msa_mode", "msa_digest",
	// The rule of the batch's filters a filtered ligand matched.
	"filter_rule",
}

// Column positions in csvHeader.
const (
	colRank = iota
	colBatchIndex
	colJobID
	colName
	colSMILES
	colStatus
	colProb
	colBinder
	colPred
	colPIC50
	colDeltaG
	colConfidence
	colLigandIPTM
	colIPTM
	colBelowFloor
	colModel
	colModelVersion
	colModelNote
	colStructure
	colResultsURL
	colStructureURL
	colFailure
	colWarnings
	colModelledSMILES
	colMSAMode
	colMSADigest
	colFilterRule
	nCols
)

// JobFileURL is the API path that serves a job's file (results.json,
// structure.cif, ...) to its owner: a link a chemist can open, where the
// gs:// address in the job document is not.
func JobFileURL(jobID, name string) string {
	return "/api/v1/jobs/" + url.PathEscape(jobID) + "/files/" + name
}

// metaColumns names the metadata columns: each key under its own name,
// prefixed "meta_" (more than once if need be) where the name is a fixed
// column's or another column's, compared without case.
func metaColumns(keys []string) []string {
	taken := map[string]bool{}
	for _, h := range csvHeader {
		taken[strings.ToLower(h)] = true
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		name := k
		for taken[strings.ToLower(name)] {
			name = "meta_" + name
		}
		taken[strings.ToLower(name)] = true
		out[i] = guard(name)
	}
	return out
}

// csvRow fills rec (cleared, rank already set) with c's row.
func (a *Aggregator) csvRow(rec []string, c *omtx.Job, keys []string) {
	if c.BatchIndex != nil {
		rec[colBatchIndex] = strconv.Itoa(*c.BatchIndex)
	}
	rec[colJobID] = guard(c.JobID)
	rec[colName] = guard(c.InputData.LigandName)
	rec[colSMILES] = guard(c.InputData.LigandSMILES)
	rec[colStatus] = guard(string(c.Status))
	if r := c.Results; r != nil {
		rec[colProb] = num(r.AffinityProbabilityBinary)
		rec[colPred] = num(r.AffinityPredValue)
		rec[colPIC50] = num(r.PIC50)
		rec[colDeltaG] = num(r.DeltaGKcalMol)
		rec[colConfidence] = num(r.Confidence)
		if v, ok := r.Metrics[omtx.MetricLigandIPTM]; ok {
			rec[colLigandIPTM] = num(v)
		}
		if v, ok := r.Metrics[omtx.MetricIPTM]; ok {
			rec[colIPTM] = num(v)
		}
		rec[colModelVersion] = guard(r.ModelVersion)
		rec[colStructure] = strconv.FormatBool(r.StructureAvailable)
		if rankable(c) {
			rec[colBinder] = strconv.FormatBool(a.rk.isBinder(r))
			rec[colBelowFloor] = strings.Join(a.rk.belowFloors(r), ";")
		}
		if r.ResultsFile != "" && c.JobID != "" {
			rec[colResultsURL] = guard(JobFileURL(c.JobID, omtx.FileResults))
		}
		if r.StructureAvailable && c.JobID != "" {
			rec[colStructureURL] = guard(JobFileURL(c.JobID, omtx.FileStructureCIF))
		}
	}
	model := modelName(c)
	rec[colModel] = guard(model)
	rec[colModelNote] = omtx.ModelNote(model)
	if c.Status != omtx.StatusCompleted || !rankable(c) {
		rec[colFailure] = guard(c.Error)
		if c.Status == omtx.StatusCompleted && c.Error == "" {
			rec[colFailure] = "completed without usable results"
		}
	}
	rec[colWarnings] = guard(strings.Join(c.Warnings, "; "))
	rec[colFilterRule] = guard(c.FilterRule)
	rec[colModelledSMILES] = guard(c.InputData.ModelledSMILES)
	if r := c.Results; r != nil {
		if r.ModelledSMILES != "" {
			rec[colModelledSMILES] = guard(r.ModelledSMILES)
		}
		rec[colMSAMode], rec[colMSADigest] = msaCells(r)
	}
	for i, k := range keys {
		rec[nCols+i] = guard(c.LigandMetadata[k])
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

// FormatNumber formats a number with 4 decimals, as batch_results.csv
// does; non-finite values are empty.
func FormatNumber(v float64) string { return num(v) }

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
		// that a reader undoing the guard (the Python client) strips
		// exactly the quote this package added: a name 'abc stays 'abc.
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

// CSVColumns is batch_results.csv's fixed columns, in order; the user's
// metadata columns follow them. The results page keeps its own copy to
// tell the user's columns apart (api/ui_test.go checks the two agree).
func CSVColumns() []string { return slices.Clone(csvHeader) }
