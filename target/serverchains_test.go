package target

import "testing"

// TestServerChains: a protein chain gets its MSA from the server unless
// its mode says file or empty; no mode is the server's.
func TestServerChains(t *testing.T) {
	tg := &Target{Chains: []Chain{
		{Type: Protein, IDs: ChainIDs{"A"}},
		{Type: Protein, IDs: ChainIDs{"B"}, MSA: &MSA{}},
		{Type: Protein, IDs: ChainIDs{"C"}, MSA: &MSA{Mode: MSAServer}},
		{Type: Protein, IDs: ChainIDs{"D"}, MSA: &MSA{Mode: MSAFile, File: "d.a3m"}},
		{Type: Protein, IDs: ChainIDs{"E"}, MSA: &MSA{Mode: MSAEmpty}},
	}}
	var got []string
	for _, c := range tg.ServerChains() {
		got = append(got, c.IDs[0])
	}
	if want := []string{"A", "B", "C"}; len(got) != len(want) || got[0] != "A" || got[1] != "B" || got[2] != "C" {
		t.Errorf("server chains %v, want %v", got, want)
	}
}
