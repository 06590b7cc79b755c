package resultcache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// Reader reads the result cache's documents (store.ResultCache).
type Reader interface {
	// GetEntries reads entries by key hash, in order; a missing one is nil.
	GetEntries(ctx context.Context, keys []string) ([]*omtx.CacheEntry, error)
	// ModelRuns reads a model's runs; nil when none is recorded.
	ModelRuns(ctx context.Context, model string) (*omtx.ModelRuns, error)
}

// Blobs reads stored objects: targets, uploaded and cached MSAs.
type Blobs interface {
	Exists(ctx context.Context, name string) (bool, error)
	Read(ctx context.Context, name string) ([]byte, error)
}

// Finder looks predictions up: the orchestration worker before any GPU
// work, and the API's estimate to say how many would hit. SharedUsers
// are the users who share one cache (OMTX_RESULT_CACHE_SHARED_USERS);
// MSASpec is how the MSA activity caches server MSAs.
type Finder struct {
	Store       Reader
	Blobs       Blobs
	SharedUsers []string
	MSASpec     msa.KeySpec
}

// Subject is what a job's lookups share: whose, which model, the target
// (one protein chain, with an uploaded MSA's object if any, or a stored
// target), the run settings, and whether the model reads MSAs.
type Subject struct {
	UserID, Model   string
	ProteinSequence string
	TargetID        string
	MSAObject       string
	Parameters      omtx.Parameters
	ReadsMSA        bool
}

// Probe is one job's (or batch's) lookup: every key part but the ligand,
// one key per model run the fleet has recorded.
type Probe struct {
	scope, target string
	params        omtx.Parameters
	model         string
	runs          []omtx.ModelRun
}

// Probe prepares the lookups of s's ligands. It returns nil (every ligand
// misses) when no GPU worker has recorded a run of the model, or an MSA
// the key needs is not cached yet.
func (f *Finder) Probe(ctx context.Context, s Subject) (*Probe, error) {
	doc, err := f.Store.ModelRuns(ctx, s.Model)
	if err != nil {
		return nil, fmt.Errorf("result cache: %w", err)
	}
	runs := Recent(doc)
	if len(runs) == 0 {
		return nil, nil
	}
	tgt, err := f.targetPart(ctx, s)
	if err != nil || tgt == "" {
		return nil, err
	}
	return &Probe{scope: Scope(s.UserID, f.SharedUsers), target: tgt, params: s.Parameters, model: s.Model, runs: runs}, nil
}

// targetPart is the key's target part of s as the GPU worker will build
// it, with the digest of each MSA it will read: an uploaded A3M, or a
// server MSA's cache object (msa.KeySpec.ServerObjects). "" when a server
// MSA is not cached yet: the job must compute it, so it misses.
func (f *Finder) targetPart(ctx context.Context, s Subject) (string, error) {
	if s.TargetID == "" {
		if !s.ReadsMSA || !s.Parameters.UseMSA {
			return OneChainTarget(s.ProteinSequence, "")
		}
		obj := s.MSAObject
		if obj == "" {
			obj = f.MSASpec.CacheObject(s.ProteinSequence)
		}
		d, err := f.digestOf(ctx, obj)
		if err != nil || d == "" {
			return "", err
		}
		return OneChainTarget(s.ProteinSequence, d)
	}
	// A target not stored yet (an estimate's inline target) has run no
	// job: nothing can match.
	if ok, err := f.Blobs.Exists(ctx, omtx.TargetObject(s.TargetID)); err != nil || !ok {
		return "", err
	}
	raw, err := f.Blobs.Read(ctx, omtx.TargetObject(s.TargetID))
	if err != nil {
		return "", fmt.Errorf("result cache: read target %s: %w", s.TargetID, err)
	}
	var t target.Target
	if err := json.Unmarshal(raw, &t); err != nil {
		return "", nil // AcceptJob or the GPU worker says what is wrong with it
	}
	objects := map[string]string{} // chain's first id → the MSA it reads
	for _, ch := range t.Chains {
		if ch.Type == target.Protein && ch.MSA != nil && ch.MSA.Mode == target.MSAFile {
			objects[ch.IDs[0]] = omtx.TargetPrefix(s.TargetID) + "files/" + ch.MSA.File
		}
	}
	server := t.ServerChains()
	if len(server) > 0 && !s.ReadsMSA {
		return "", nil
	}
	if len(server) > 0 {
		maps.Copy(objects, f.MSASpec.ServerObjects(server))
	}
	digests := map[string]string{}
	for id, obj := range objects {
		d, err := f.digestOf(ctx, obj)
		if err != nil || d == "" {
			return "", err
		}
		digests[id] = d
	}
	return TargetHash(raw, digests)
}

// digestOf is the hex SHA-256 of an object, "" when it does not exist.
func (f *Finder) digestOf(ctx context.Context, name string) (string, error) {
	ok, err := f.Blobs.Exists(ctx, name)
	if err != nil || !ok {
		return "", err
	}
	data, err := f.Blobs.Read(ctx, name)
	if err != nil {
		return "", fmt.Errorf("result cache: read %s: %w", name, err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// lookupGroup bounds the keys of one store read.
const lookupGroup = 400

// Lookup returns each modelled ligand's entry, nil where it misses (and
// for every ligand with a nil probe): the first of the probe's model runs
// (newest first) whose key is stored.
func (f *Finder) Lookup(ctx context.Context, p *Probe, modelled []string) ([]*omtx.CacheEntry, error) {
	out := make([]*omtx.CacheEntry, len(modelled))
	if p == nil {
		return out, nil
	}
	var keys []string
	var owner []int
	for i, smi := range modelled {
		if smi == "" {
			continue
		}
		lig, err := Ligand(smi)
		if err != nil {
			continue
		}
		for _, r := range p.runs {
			k := Key{Scope: p.scope, Target: p.target, Ligand: lig, Settings: p.params,
				Model: p.model, ModelVersion: r.Version, Checkpoint: r.Checkpoint, Defaults: r.Defaults}
			keys = append(keys, k.Hash())
			owner = append(owner, i)
		}
	}
	for lo := 0; lo < len(keys); lo += lookupGroup {
		hi := min(lo+lookupGroup, len(keys))
		entries, err := f.Store.GetEntries(ctx, keys[lo:hi])
		if err != nil {
			return nil, fmt.Errorf("result cache: %w", err)
		}
		for j, e := range entries {
			// An entry of another scope cannot share a key hash; the check
			// keeps one user's results from another even if a store
			// returned a wrong document.
			if i := owner[lo+j]; e != nil && out[i] == nil && e.Scope == p.scope {
				out[i] = e
			}
		}
	}
	return out, nil
}
