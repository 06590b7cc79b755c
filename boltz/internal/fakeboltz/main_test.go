package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omtx-hub/omtx-hub/target"
)

// TestCheckMSAFile: the stand-in takes the MSA files Boltz takes (an A3M,
// or a key,sequence CSV as compute_msa writes it) and refuses the others.
func TestCheckMSAFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		name, content string
		ok            bool
	}{
		{"a.a3m", ">101\nMKT\n", true},
		{"b.csv", "key,sequence\n0,MKT\n1,MR-\n-1,MKTgs", true},
		{"c.csv", "sequence,key\nMKT,0\n", true},
		{"d.csv", "seq,key\nMKT,0\n", false},
		{"e.csv", "key,sequence\nx,MKT\n", false},
		{"f.txt", ">101\nMKT\n", false},
	} {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := checkMSAFile(p); (err == nil) != c.ok {
			t.Errorf("%s: got %v, want ok %v", c.name, err, c.ok)
		}
	}
}

// TestLigandTime: a ligand's model time is Boltz-2's 20-60 s, the same
// for the same ligand whatever its record is called, and spread over the
// range across ligands.
func TestLigandTime(t *testing.T) {
	t.Parallel()
	in := func(smiles string) *target.Target {
		return &target.Target{Ligands: []target.FixedLigand{{IDs: target.ChainIDs{"B"}, SMILES: smiles}}}
	}
	lo, hi := ligandMax, ligandMin
	for i := range 200 {
		smiles := strings.Repeat("C", i%7+1) + "c1ccccc1" + strings.Repeat("O", i/7)
		got := ligandTime(in(smiles), "a")
		if got < ligandMin || got > ligandMax {
			t.Fatalf("%s: %s is outside [%s, %s]", smiles, got, ligandMin, ligandMax)
		}
		if again := ligandTime(in(smiles), "another_record"); again != got {
			t.Errorf("%s: %s, then %s", smiles, got, again)
		}
		lo, hi = min(lo, got), max(hi, got)
	}
	if hi-lo < (ligandMax-ligandMin)/2 {
		t.Errorf("200 ligands span only %s to %s", lo, hi)
	}
	if a, b := ligandTime(&target.Target{}, "x"), ligandTime(&target.Target{}, "y"); a == b {
		t.Errorf("with no ligand the record name picks the time: both %s", a)
	}
}

// TestScaled: FAKE_BOLTZ_TIME_SCALE divides Boltz-2's timings.
func TestScaled(t *testing.T) {
	t.Setenv("FAKE_BOLTZ_TIME_SCALE", "200")
	s, err := timeScale()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := scaled(modelLoad, s), 200*time.Millisecond; got != want {
		t.Errorf("model load: got %s, want %s", got, want)
	}
	for _, bad := range []string{"0", "-1", "fast"} {
		t.Setenv("FAKE_BOLTZ_TIME_SCALE", bad)
		if _, err := timeScale(); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
