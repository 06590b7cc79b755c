package target

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// hashVersion names the canonical form below; change it with the form.
const hashVersion = "omtx-target-v1"

// Hash is a target's content hash, "sha256:<hex>": SHA-256 of the
// canonical JSON of the normalized target (Normalize; encoding/json
// writes struct fields in declaration order, and the Target holds no
// maps) together with each protein chain's MSA digest, by the chain's
// first id in msaDigests. Where a chain has a digest, the MSA file's name
// is left out: the alignment, not what its file was called, is the
// content. So a target hashes the same however its YAML or JSON was
// written: key order, quoting, flow or block style, "id: A" or "id: [A]",
// a default max_distance given or omitted. t is not changed.
func Hash(t *Target, msaDigests map[string]string) (string, error) {
	raw, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("hash target: %w", err)
	}
	var c Target
	if err := json.Unmarshal(raw, &c); err != nil {
		return "", fmt.Errorf("hash target: %w", err)
	}
	c.Normalize()
	type chainMSA struct {
		Chain  string `json:"chain"`
		Digest string `json:"digest"`
	}
	doc := struct {
		Version string     `json:"version"`
		Target  *Target    `json:"target"`
		MSA     []chainMSA `json:"msa"`
	}{Version: hashVersion, Target: &c, MSA: []chainMSA{}}
	seen := map[string]bool{}
	for i := range c.Chains {
		ch := &c.Chains[i]
		if ch.Type != Protein {
			continue
		}
		d, ok := msaDigests[ch.IDs[0]]
		if !ok {
			continue
		}
		seen[ch.IDs[0]] = true
		if ch.MSA != nil {
			ch.MSA.File = ""
		}
		doc.MSA = append(doc.MSA, chainMSA{Chain: ch.IDs[0], Digest: d})
	}
	for id := range msaDigests {
		if !seen[id] {
			return "", fmt.Errorf("hash target: an MSA digest for %q, which is not the first id of a protein chain", id)
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("hash target: %w", err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
