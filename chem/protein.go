package chem

import (
	"fmt"
	"strings"
	"unicode"
)

// Protein sequence length limits, in residues.
const (
	MinProteinLength = 10
	MaxProteinLength = 2500
)

// minNucleicLength is the length from which a sequence made only of
// nucleotide letters is rejected as DNA/RNA.
const minNucleicLength = 20

// SequenceError reports why a protein sequence is invalid. Pos is the 1-based
// residue position (counted after whitespace is removed) of the offending
// character, or 0 when the problem is not positional.
type SequenceError struct {
	Pos     int
	Message string
}

// Error implements error.
func (e *SequenceError) Error() string { return e.Message }

// residueMass holds average residue masses (amino acid minus water) in
// g/mol. X uses a typical average residue mass.
var residueMass = map[byte]float64{
	'A': 71.0788, 'R': 156.1875, 'N': 114.1038, 'D': 115.0886, 'C': 103.1388,
	'E': 129.1155, 'Q': 128.1307, 'G': 57.0519, 'H': 137.1411, 'I': 113.1594,
	'L': 113.1594, 'K': 128.1741, 'M': 131.1926, 'F': 147.1766, 'P': 97.1167,
	'S': 87.0782, 'T': 101.1051, 'W': 186.2132, 'Y': 163.1760, 'V': 99.1326,
	'U': 150.0388, // selenocysteine
	'O': 237.2982, // pyrrolysine
	'X': 110.0,    // unknown residue
}

// waterMass is added once per chain for the terminal H and OH.
const waterMass = 18.01528

// ValidateProteinSequence removes all whitespace, upper-cases the sequence
// and checks that every character is one of the 20 standard amino acids or
// X (unknown), U (selenocysteine) or O (pyrrolysine). It also rejects empty,
// too short, too long and nucleotide-looking sequences. On success it
// returns the normalised sequence; errors are *SequenceError.
func ValidateProteinSequence(seq string) (string, error) {
	var b strings.Builder
	b.Grow(len(seq))
	pos := 0
	for _, r := range seq {
		if unicode.IsSpace(r) {
			continue
		}
		pos++
		r = unicode.ToUpper(r)
		if r < 128 {
			if _, ok := residueMass[byte(r)]; ok {
				b.WriteByte(byte(r))
				continue
			}
		}
		return "", &SequenceError{Pos: pos, Message: fmt.Sprintf(
			"invalid residue %q at position %d: %s", r, pos, residueProblem(r))}
	}
	out := b.String()
	n := len(out)
	switch {
	case n == 0:
		return "", &SequenceError{Message: "protein sequence is empty"}
	case n >= minNucleicLength && strings.Trim(out, "ACGTUN") == "":
		return "", &SequenceError{Message: "sequence looks like DNA/RNA (only A, C, G, T, U and N); " +
			"expected a protein amino-acid sequence"}
	case n < MinProteinLength:
		return "", &SequenceError{Message: fmt.Sprintf(
			"protein sequence too short: %d residues (min %d)", n, MinProteinLength)}
	case n > MaxProteinLength:
		return "", &SequenceError{Message: fmt.Sprintf(
			"protein sequence too long: %d residues (max %d)", n, MaxProteinLength)}
	}
	return out, nil
}

// residueProblem explains why r is not accepted as a residue.
func residueProblem(r rune) string {
	switch r {
	case 'B', 'Z':
		return "ambiguous amino-acid code; use X for an unknown residue"
	case '*':
		return "stop codon is not allowed in a protein sequence"
	case '-', '.':
		return "alignment gaps are not allowed in a protein sequence"
	case '>':
		return "FASTA header lines are not accepted; send the bare sequence"
	}
	return "not an amino-acid letter"
}

// ProteinDescriptors are simple sequence descriptors for the model
// featurizer.
type ProteinDescriptors struct {
	Length          int
	MolecularWeight float64 // average mass in g/mol, residues plus one water
	// FractionHydrophobic is the fraction of A, I, L, M, F, V, W and C.
	FractionHydrophobic float64
	// NetChargeAtPH7 is a crude side-chain estimate: K and R +1, D and E -1,
	// H +0.1; termini are ignored.
	NetChargeAtPH7 float64
}

// ComputeProteinDescriptors computes descriptors for a sequence returned by
// ValidateProteinSequence. Lower-case letters are treated as upper case;
// characters that are not residues count towards Length only.
func ComputeProteinDescriptors(seq string) ProteinDescriptors {
	d := ProteinDescriptors{Length: len(seq)}
	if d.Length == 0 {
		return d
	}
	hydrophobic := 0
	for i := 0; i < len(seq); i++ {
		c := seq[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		d.MolecularWeight += residueMass[c]
		switch c {
		case 'A', 'I', 'L', 'M', 'F', 'V', 'W', 'C':
			hydrophobic++
		case 'K', 'R':
			d.NetChargeAtPH7++
		case 'D', 'E':
			d.NetChargeAtPH7--
		case 'H':
			d.NetChargeAtPH7 += 0.1
		}
	}
	d.MolecularWeight += waterMass
	d.FractionHydrophobic = float64(hydrophobic) / float64(d.Length)
	return d
}
