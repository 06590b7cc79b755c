package aggregate

import (
	"archive/zip"
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/omtx-hub/omtx-hub/aggregate/ranking"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// zipTime is the modification time of every archive entry, so the archive's
// bytes depend only on its contents.
var zipTime = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

const maxNameInFile = 40 // bytes of the sanitised ligand name in a file name

type structureEntry struct {
	rank   int
	child  *omtx.Job
	file   string // empty when there is no structure
	reason string // why there is none
	cif    []byte
}

// structuresZIP builds analysis/top_10_structures.zip from the top-ranked
// children, or returns nil when none of them has a structure.
func structuresZIP(batchID, batchName, rule string, top []*omtx.Job, load func(*omtx.Job) ([]byte, error)) ([]byte, error) {
	if load == nil {
		return nil, nil
	}
	entries := make([]structureEntry, 0, len(top))
	found := 0
	for i, c := range top {
		e := structureEntry{rank: i + 1, child: c}
		switch {
		case !c.Results.StructureAvailable:
			e.reason = c.Results.StructureUnavailableReason
			if e.reason == "" {
				e.reason = "the model produced no coordinates"
			}
		default:
			cif, err := load(c)
			if err != nil {
				return nil, fmt.Errorf("aggregate: load structure of job %s (rank %d): %w", c.JobID, e.rank, err)
			}
			if len(cif) == 0 {
				e.reason = "the structure file is empty or missing"
				break
			}
			e.cif = cif
			e.file = fmt.Sprintf("rank%02d_%s_%s.cif", e.rank, sanitize(c.InputData.LigandName, "ligand"), sanitize(c.JobID, "job"))
			found++
		}
		entries = append(entries, e)
	}
	if found == 0 {
		return nil, nil
	}

	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) error {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipTime})
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		return err
	}
	if err := add("README.txt", structuresReadme(batchID, batchName, rule, entries)); err != nil {
		return nil, fmt.Errorf("aggregate: top_10_structures.zip: %w", err)
	}
	for _, e := range entries {
		if e.file == "" {
			continue
		}
		if err := add(e.file, e.cif); err != nil {
			return nil, fmt.Errorf("aggregate: top_10_structures.zip: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("aggregate: top_10_structures.zip: %w", err)
	}
	return buf.Bytes(), nil
}

func structuresReadme(batchID, batchName, rule string, entries []structureEntry) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "Top-10 predicted structures of batch %q (%s)\n\n", oneLine(batchName), oneLine(batchID))
	fmt.Fprintf(&b, "Ranking rule: %s\n\n", rule)
	fmt.Fprintf(&b, "Units: affinity_pred_value is %s (lower = stronger); pIC50 is -log10(IC50 / M); "+
		"delta_g is in %s; affinity_probability_binary is a %s that the ligand binds; confidence is a score in [0,1].\n",
		omtx.UnitsLog10IC50uM, omtx.UnitsKcalPerMol, omtx.UnitsProbability)
	b.WriteString("Structures are predictions (mmCIF), not experimental structures.\n")
	for _, e := range entries {
		c, r := e.child, e.child.Results
		fmt.Fprintf(&b, "\nRank %d: %s\n", e.rank, oneLine(c.InputData.LigandName))
		if e.file != "" {
			fmt.Fprintf(&b, "  file: %s\n", e.file)
		} else {
			fmt.Fprintf(&b, "  file: none (%s)\n", oneLine(e.reason))
		}
		fmt.Fprintf(&b, "  job_id: %s\n", oneLine(c.JobID))
		if c.BatchIndex != nil {
			fmt.Fprintf(&b, "  batch_index: %d\n", *c.BatchIndex)
		}
		fmt.Fprintf(&b, "  smiles: %s\n", oneLine(c.InputData.LigandSMILES))
		fmt.Fprintf(&b, "  affinity_pred_value: %s %s\n", ranking.FormatNumber(r.AffinityPredValue), omtx.UnitsLog10IC50uM)
		fmt.Fprintf(&b, "  pic50: %s\n", ranking.FormatNumber(r.PIC50))
		fmt.Fprintf(&b, "  delta_g: %s %s\n", ranking.FormatNumber(r.DeltaGKcalMol), omtx.UnitsKcalPerMol)
		fmt.Fprintf(&b, "  affinity_probability_binary: %s\n", ranking.FormatNumber(r.AffinityProbabilityBinary))
		fmt.Fprintf(&b, "  confidence: %s\n", ranking.FormatNumber(r.Confidence))
		model := ranking.ModelName(c)
		if r.ModelVersion != "" {
			model += " " + r.ModelVersion
		}
		fmt.Fprintf(&b, "  model: %s\n", oneLine(model))
	}
	return []byte(b.String())
}

// sanitize keeps ASCII letters, digits, '.', '-' and '_' of s, replaces runs
// of anything else with one '_', trims '_' and '.' at both ends, and cuts the
// result to maxNameInFile bytes; it returns fallback when nothing is left.
func sanitize(s, fallback string) string {
	var b strings.Builder
	under := false
	for _, r := range s {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_') {
			b.WriteRune(r)
			under = r == '_'
			continue
		}
		if !under {
			b.WriteByte('_')
			under = true
		}
	}
	out := b.String()
	if len(out) > maxNameInFile {
		out = out[:maxNameInFile]
	}
	out = strings.Trim(out, "_.")
	if out == "" {
		return fallback
	}
	return out
}

// oneLine replaces control characters (newlines included) with spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
