package msa

import (
	"slices"

	"github.com/omtx-hub/omtx-hub/target"
)

// ServerSequences is the distinct sequences of chains, in the order of
// their first chain: Boltz asks the server once per protein entity, and
// chains with one sequence are one entity.
func ServerSequences(chains []target.Chain) []string {
	var out []string
	for _, c := range chains {
		if !slices.Contains(out, c.Sequence) {
			out = append(out, c.Sequence)
		}
	}
	return out
}

// ServerObjects is where each of the server chains (a target's protein
// chains whose MSA comes from the server) finds its MSA in the cache, by
// the chain's first id: a monomer's or homomer's unpaired A3M
// (CacheObject of its sequence), or each chain of a heteromer's paired CSV
// (PairedCacheObject), as Boltz pairs a heteromer's chains. The MSA
// activity fills these objects; the result cache reads their digests, so
// both agree on which file a chain's model run reads.
func (s KeySpec) ServerObjects(server []target.Chain) map[string]string {
	seqs := ServerSequences(server)
	out := make(map[string]string, len(server))
	for _, c := range server {
		if len(seqs) == 1 {
			out[c.IDs[0]] = s.CacheObject(c.Sequence)
			continue
		}
		out[c.IDs[0]] = s.PairedCacheObject(seqs, slices.Index(seqs, c.Sequence))
	}
	return out
}
