package boltz

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Chain ids of the two entities of every input. Boltz writes chains in
// input order, so in confidence_*.json the protein is chain "0" and the
// ligand chain "1".
const (
	proteinChain = "A"
	ligandChain  = "B"
)

// msaEmpty is the msa value docs/prediction.md defines for single-sequence
// mode ("To force single-sequence mode ..., set `msa: empty`").
const msaEmpty = "empty"

// recordName is the safe file stem of the i-th ligand's input. Boltz uses
// the stem as the record id and names every output after it, so it must
// not depend on user-supplied ligand names.
func recordName(i int) string { return fmt.Sprintf("l%04d", i) }

// inputYAML renders one Boltz input (docs/prediction.md, "Input format"):
// the protein as chain A with its MSA (an absolute path, or "empty" for
// single-sequence mode), the ligand as chain B given by SMILES, and an
// affinity property with chain B as the binder.
//
// Every user-supplied string is written as a YAML double-quoted scalar, so
// SMILES characters that YAML treats specially in plain scalars (#, [, ],
// @, \, :, {, }, &, *, !, |, >, ', ", %) arrive unchanged.
func inputYAML(protein, smiles, msaPath string) (string, error) {
	seq, err := yamlQuote(protein)
	if err != nil {
		return "", fmt.Errorf("protein sequence: %w", err)
	}
	smi, err := yamlQuote(smiles)
	if err != nil {
		return "", fmt.Errorf("smiles: %w", err)
	}
	msa := msaEmpty
	if msaPath != "" {
		if msa, err = yamlQuote(msaPath); err != nil {
			return "", fmt.Errorf("msa path: %w", err)
		}
	}
	var b strings.Builder
	b.WriteString("# Written by OMTX-Hub (package boltz) for `boltz predict`.\n")
	b.WriteString("version: 1\n")
	b.WriteString("sequences:\n")
	b.WriteString("  - protein:\n")
	b.WriteString("      id: " + proteinChain + "\n")
	b.WriteString("      sequence: " + seq + "\n")
	b.WriteString("      msa: " + msa + "\n")
	b.WriteString("  - ligand:\n")
	b.WriteString("      id: " + ligandChain + "\n")
	b.WriteString("      smiles: " + smi + "\n")
	b.WriteString("properties:\n")
	b.WriteString("  - affinity:\n")
	b.WriteString("      binder: " + ligandChain + "\n")
	return b.String(), nil
}

// yamlQuote writes s as a YAML double-quoted scalar. Inside double quotes
// only '\' and '"' are special; every other printable character stands for
// itself. Characters that are not printable in YAML's sense (C0 and C1
// controls, DEL, the line and paragraph separators, the byte order mark
// and the non-characters U+FFFE/U+FFFF) are written as escapes. The
// escapes used (\\, \", \t, \n, \r and \uXXXX) mean the same in YAML 1.1
// (PyYAML, which Boltz uses) and YAML 1.2.
func yamlQuote(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%q is not valid UTF-8", s)
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20, r >= 0x7f && r <= 0x9f, r == 0x2028, r == 0x2029, r == 0xfeff,
			r == 0xfffe, r == 0xffff:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// writeInputs writes one YAML per ligand index in sent into dir, which is
// emptied first so a stale input of an earlier attempt is never predicted.
func writeInputs(dir, protein, msaPath string, smiles []string, sent []int) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear inputs dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create inputs dir: %w", err)
	}
	for _, i := range sent {
		doc, err := inputYAML(protein, smiles[i], msaPath)
		if err != nil {
			return fmt.Errorf("ligand %d: %w", i, err)
		}
		path := filepath.Join(dir, recordName(i)+".yaml")
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			return fmt.Errorf("write input: %w", err)
		}
	}
	return nil
}
