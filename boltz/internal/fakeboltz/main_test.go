package main

import (
	"os"
	"path/filepath"
	"testing"
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
