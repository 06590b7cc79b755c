// Package resultcache is the content-addressed result cache's domain: the
// key that says two predictions are the same, the scope that says whose
// results a job may reuse, and the record of which model versions and
// checkpoints the GPU fleet has run. The documents themselves
// (omtx.CacheEntry, omtx.ModelRuns) are stored by package store; the
// activities look entries up before any GPU work and write them when a
// result is stored.
package resultcache

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// keyVersion names the key's canonical form below; change it with the
// form (every entry written before then misses).
const keyVersion = "omtx-result-cache/v1"

// Key is everything that makes two predictions the same prediction.
type Key struct {
	// Scope is whose results these are (Scope).
	Scope string `json:"scope"`
	// Target is the target's content hash (target.Hash), each protein
	// chain's MSA digest included: TargetHash or OneChainTarget.
	Target string `json:"target"`
	// Ligand is the modelled ligand's identity (Ligand).
	Ligand string `json:"ligand"`
	// Settings are the run settings as the job asked for them, every
	// field, the seed included.
	Settings omtx.Parameters `json:"settings"`
	// Model, ModelVersion and Checkpoint name the model that ran, its
	// version and its weights' digest (omtx.ModelInfo).
	Model        string `json:"model"`
	ModelVersion string `json:"model_version"`
	Checkpoint   string `json:"checkpoint"`
	// Defaults digests the deployment's default settings the model ran
	// with (omtx.ModelInfo.Defaults), for the settings a job left unset.
	Defaults string `json:"defaults,omitempty"`
}

// Hash is the key's document id: the hex SHA-256 of the versioned JSON of
// k (encoding/json writes struct fields in declaration order, and Key
// holds no maps, so equal keys give equal bytes).
func (k Key) Hash() string {
	raw, err := json.Marshal(k)
	if err != nil {
		// Key holds strings, numbers, booleans and pointers to them only.
		panic(fmt.Sprintf("resultcache: encode key: %v", err))
	}
	sum := sha256.Sum256(append([]byte(keyVersion+"\n"), raw...))
	return hex.EncodeToString(sum[:])
}

// Ligand is the key's ligand part: chem.Identity of the modelled SMILES
// (the molecule the model runs, InputData.ModelledSMILES), so that a
// Kekulé and an aromatic spelling, or any atom order, of one molecule are
// one ligand, and stereoisomers are not.
func Ligand(modelledSMILES string) (string, error) {
	id, err := chem.Identity(modelledSMILES)
	if err != nil {
		return "", fmt.Errorf("ligand identity: %w", err)
	}
	return id, nil
}

// Scope is the key's scope part for a job of userID: the user alone, or
// "shared" when the deployment shares the cache among the users named in
// shared (config OMTX_RESULT_CACHE_SHARED_USERS) and userID is one of them.
func Scope(userID string, shared []string) string {
	if userID != "" && slices.Contains(shared, userID) {
		return "shared"
	}
	return "user:" + userID
}

// TargetHash is the key's target part for a stored target (its
// target.json bytes) with each protein chain's MSA digest by the chain's
// first id (target.Hash).
func TargetHash(raw []byte, msaDigests map[string]string) (string, error) {
	var t target.Target
	if err := json.Unmarshal(raw, &t); err != nil {
		return "", fmt.Errorf("target hash: %w", err)
	}
	return target.Hash(&t, msaDigests)
}

// OneChainTarget is the key's target part for a job of a protein sequence
// alone (no target): the one-chain target the GPU worker builds for it,
// with the MSA the model read (msaDigest, the A3M's hex SHA-256; "" for
// single-sequence mode). A sequence that does not validate is hashed as it
// was written, as the worker passes it to the model.
func OneChainTarget(protein, msaDigest string) (string, error) {
	if p, err := chem.ValidateProteinSequence(protein); err == nil {
		protein = p
	}
	if msaDigest == "" {
		return target.Hash(target.OneChain(protein, target.MSAEmpty), nil)
	}
	t := target.OneChain(protein, target.MSAFile)
	t.Chains[0].MSA.File = "msa.a3m"
	return target.Hash(t, map[string]string{"A": msaDigest})
}

// MaxRuns bounds the model runs a lookup tries, newest first: a rolling
// deploy runs two checkpoints at once, rarely more.
const MaxRuns = 4

// RunID is the id of a model version and checkpoint in a ModelRuns
// document: a short hex digest, safe as a Firestore map key.
func RunID(version, checkpoint, defaults string) string {
	sum := sha256.Sum256([]byte(version + "\x00" + checkpoint + "\x00" + defaults))
	return hex.EncodeToString(sum[:8])
}

// Recent returns the model runs of doc to try at lookup, newest first, at
// most MaxRuns; none for a nil document (no GPU worker has recorded the
// model: every lookup misses).
func Recent(doc *omtx.ModelRuns) []omtx.ModelRun {
	if doc == nil {
		return nil
	}
	runs := make([]omtx.ModelRun, 0, len(doc.Runs))
	for _, r := range doc.Runs {
		runs = append(runs, r)
	}
	slices.SortFunc(runs, func(a, b omtx.ModelRun) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(a.Version+a.Checkpoint+a.Defaults, b.Version+b.Checkpoint+b.Defaults)
	})
	return runs[:min(len(runs), MaxRuns)]
}
