package chem

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ubiquitin = "MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG"

func TestValidateProteinSequence_Valid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "MKTAYIAKQR", "MKTAYIAKQR"},
		{"lower case and whitespace", " mkta yiak\nqr\t\r\n", "MKTAYIAKQR"},
		{"all twenty standard", "ACDEFGHIKLMNPQRSTVWY", "ACDEFGHIKLMNPQRSTVWY"},
		{"unknown selenocysteine pyrrolysine", "MKXUOAKQRL", "MKXUOAKQRL"},
		{"minimum length", strings.Repeat("G", MinProteinLength), strings.Repeat("G", MinProteinLength)},
		{"maximum length", strings.Repeat("L", MaxProteinLength), strings.Repeat("L", MaxProteinLength)},
		{"nucleotide letters below DNA threshold", "ACGTACGTACGTACGTACG", "ACGTACGTACGTACGTACG"},
		{"ubiquitin", ubiquitin, ubiquitin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ValidateProteinSequence(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestValidateProteinSequence_Invalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		message string // substring of the error message
		pos     int
	}{
		{"empty", "", "protein sequence is empty", 0},
		{"only whitespace", " \n\t", "protein sequence is empty", 0},
		{"bad letter", "MKTAYIAKQRLJ", "invalid residue 'J' at position 12: not an amino-acid letter", 12},
		{"bad letter after whitespace", "MKTAY IAKQR\nLJ", "invalid residue 'J' at position 12: not an amino-acid letter", 12},
		{"lower-case bad letter", "mktajyiakqr", "invalid residue 'J' at position 5", 5},
		{"ambiguous B", "MKTBAYIAKQR", "invalid residue 'B' at position 4: ambiguous amino-acid code", 4},
		{"ambiguous Z", "ZMKTAYIAKQR", "invalid residue 'Z' at position 1: ambiguous", 1},
		{"stop codon", "MKTAYIAKQR*", "invalid residue '*' at position 11: stop codon", 11},
		{"gap", "MKT-AYIAKQR", "invalid residue '-' at position 4: alignment gaps", 4},
		{"digit", "MKT1AYIAKQR", "invalid residue '1' at position 4: not an amino-acid letter", 4},
		{"FASTA header", ">sp|P0CG48\nMKTAYIAKQR", "invalid residue '>' at position 1: FASTA header", 1},
		{"non-ASCII", "MKTÄAYIAKQR", "invalid residue 'Ä' at position 4", 4},
		{"too short", "MKTAY", "too short: 5 residues (min 10)", 0},
		{"too long", strings.Repeat("L", MaxProteinLength+1), "too long: 2501 residues (max 2500)", 0},
		{"DNA", "ACGTACGTACGTACGTACGT", "looks like DNA/RNA", 0},
		{"RNA with N", "ACGUNACGUNACGUNACGUNACGU", "looks like DNA/RNA", 0},
		{"long DNA", strings.Repeat("GATTACA", 500), "looks like DNA/RNA", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ValidateProteinSequence(tt.in)
			require.Error(t, err)
			assert.Empty(t, got)
			assert.Contains(t, err.Error(), tt.message)

			var se *SequenceError
			require.True(t, errors.As(err, &se), "error must be *SequenceError, got %T", err)
			assert.Equal(t, tt.pos, se.Pos)
		})
	}

	t.Run("exact message", func(t *testing.T) {
		t.Parallel()
		_, err := ValidateProteinSequence("MKTAYIAKQRLJ")
		require.Error(t, err)
		assert.Equal(t, "invalid residue 'J' at position 12: not an amino-acid letter", err.Error())
	})
}

func TestComputeProteinDescriptors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		seq         string
		length      int
		mw          float64
		hydrophobic float64
		charge      float64
	}{
		{"empty", "", 0, 0, 0, 0},
		{"deca-glycine", "GGGGGGGGGG", 10, 588.53, 0, 0},
		{"all twenty", "ACDEFGHIKLMNPQRSTVWY", 20, 2395.74, 0.4, 0.1},
		{"ubiquitin", ubiquitin, 76, 8564.84, 25.0 / 76.0, 0.1},
		{"basic", "KKKKKRRRRR", 10, 10*128.1741 - 5*128.1741 + 5*156.1875 + 18.01528, 0, 10},
		{"acidic with histidine", "DDEEHHAAAA", 10, 2*115.0886 + 2*129.1155 + 2*137.1411 + 4*71.0788 + 18.01528, 0.4, -3.8},
		{"lower case accepted", "gggggggggg", 10, 588.53, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := ComputeProteinDescriptors(tt.seq)
			assert.Equal(t, tt.length, got.Length)
			assert.InDelta(t, tt.mw, got.MolecularWeight, 0.01)
			assert.InDelta(t, tt.hydrophobic, got.FractionHydrophobic, 1e-9)
			assert.InDelta(t, tt.charge, got.NetChargeAtPH7, 1e-9)
		})
	}
}
