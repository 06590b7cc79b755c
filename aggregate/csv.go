package aggregate

import (
	"bytes"
	"encoding/csv"
	"slices"
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
	"structure_available", "results_file", "error",
}

// buildCSV writes batch_results.csv: one row per child, ordered by
// batch_index ascending (children without one last, then by job ID), with
// rank empty for children that are not ranked. Missing numbers are empty
// cells; numbers have 4 decimals.
//
// Spreadsheet applications run a cell that starts with =, +, -, @, tab or
// carriage return as a formula, so text cells that start with one of these
// get a leading single quote, unless the whole cell is a plain decimal
// number (a number is never a formula). This includes smiles: no valid
// SMILES starts with one of these characters, so only the text of invalid
// rows (kept as failed children) can ever be changed. Numeric columns are
// written by this package and never need the guard.
func buildCSV(children, ranked []*omtx.Job) ([]byte, error) {
	rankOf := make(map[*omtx.Job]int, len(ranked))
	for i, c := range ranked {
		rankOf[c] = i + 1
	}

	keySet := map[string]bool{}
	for _, c := range children {
		for k := range c.LigandMetadata {
			keySet[k] = true
		}
	}
	keys := make([]string, 0, len(keySet))
	for k := range keySet {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	rows := slices.Clone(children)
	slices.SortStableFunc(rows, compareIndex)

	var buf bytes.Buffer
	buf.Grow(256 * (len(rows) + 1))
	w := csv.NewWriter(&buf)

	header := make([]string, 0, len(csvHeader)+len(keys))
	header = append(header, csvHeader...)
	for _, k := range keys {
		header = append(header, guard("meta_"+k))
	}
	if err := w.Write(header); err != nil {
		return nil, err
	}

	rec := make([]string, len(header))
	for _, c := range rows {
		clear(rec)
		if r, ok := rankOf[c]; ok {
			rec[0] = strconv.Itoa(r)
		}
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
		for i, k := range keys {
			rec[len(csvHeader)+i] = guard(c.LigandMetadata[k])
		}
		if err := w.Write(rec); err != nil {
			return nil, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
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
