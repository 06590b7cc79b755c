package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// targetCache keeps each target's JSON, read once per process: a target
// is immutable once stored (omtx.TargetObject). Its zero value is ready.
type targetCache struct {
	mu   sync.Mutex
	byID map[string][]byte
}

// load returns a fresh copy of the target: callers render it, and
// rendering normalizes it in place.
func (c *targetCache) load(ctx context.Context, blobs BlobStore, id string) (*target.Target, []byte, error) {
	c.mu.Lock()
	raw, ok := c.byID[id]
	c.mu.Unlock()
	if !ok {
		var err error
		if raw, err = blobs.Read(ctx, omtx.TargetObject(id)); err != nil {
			return nil, nil, fmt.Errorf("read target %s: %w", id, err)
		}
	}
	var t target.Target
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, nil, contract.NonRetryable(contract.ErrTypeInvalidInput, fmt.Sprintf("target %s: %v", id, err), err)
	}
	if !ok {
		c.mu.Lock()
		if c.byID == nil {
			c.byID = map[string][]byte{}
		}
		c.byID[id] = raw
		c.mu.Unlock()
	}
	return &t, raw, nil
}

// complex prepares the whole complex of a predictor call in dir: the
// request's target (targetID) or, for an empty targetID, the seed's one
// chain (target.OneChain), so both run one path. It fetches the
// target's uploaded files (A3M, mmCIF, PDB) and, for each protein chain
// whose MSA comes from the server, the cached A3M that EnsureMSA recorded
// in msa.Chains (for the one-chain shape, msa.Object).
func (g *GPU) complex(ctx context.Context, dir, targetID, protein string, msa omtx.MSARef, logs *jobLog) (*omtx.TargetJob, error) {
	job := &omtx.TargetJob{MSA: map[string]string{}, Templates: map[string]string{}, MSADigests: map[string]string{}}
	digests := map[string]string{} // path → SHA-256 of what was written there
	fetch := func(object, path string) (int, error) {
		data, err := g.Blobs.Read(ctx, object)
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", object, err)
		}
		sum := sha256.Sum256(data)
		digests[path] = hex.EncodeToString(sum[:])
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return 0, fmt.Errorf("scratch dir: %w", err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			return 0, fmt.Errorf("write %s: %w", path, err)
		}
		return len(data), nil
	}

	if targetID == "" {
		// The sequence as Boltz gets it, canonical as the runner has
		// always made it; an invalid one is left for the model to refuse.
		if p, err := chem.ValidateProteinSequence(protein); err == nil {
			protein = p
		}
		t := target.OneChain(protein, target.MSAEmpty)
		if msa.Object != "" {
			path := filepath.Join(dir, "msa.a3m")
			n, err := fetch(msa.Object, path)
			if err != nil {
				return nil, fmt.Errorf("msa: %w", err)
			}
			t.Chains[0].MSA = &target.MSA{Mode: target.MSAFile, File: "msa.a3m"}
			job.MSA["A"], job.MSADigests["A"] = path, digests[path]
			logs.Printf("msa: %s (%s, %d bytes)", g.Blobs.URI(msa.Object), msa.Mode, n)
		} else {
			logs.Printf("msa: none (single-sequence mode)")
		}
		raw, err := json.Marshal(t)
		if err != nil {
			return nil, fmt.Errorf("encode one-chain target: %w", err)
		}
		job.JSON = raw
		return job, nil
	}

	t, raw, err := g.targets.load(ctx, g.Blobs, targetID)
	if err != nil {
		return nil, err
	}
	job.JSON = raw
	logs.Printf("target %s: chains %v, screened ligand as chain %s", targetID, t.ChainIDList(), t.LigandChain)
	// Uploaded files keep their names, in a folder of their own.
	for _, f := range t.Files() {
		if f.Name == "" || filepath.Base(f.Name) != f.Name || f.Name == "." || f.Name == ".." {
			return nil, contract.NonRetryable(contract.ErrTypeInvalidInput,
				fmt.Sprintf("target %s: %s: file name %q is not a plain name", targetID, f.Field, f.Name), nil)
		}
		path := filepath.Join(dir, "files", f.Name)
		n, err := fetch(omtx.TargetPrefix(targetID)+"files/"+f.Name, path)
		if err != nil {
			return nil, fmt.Errorf("target file: %w", err)
		}
		if f.Kind == target.FileTemplate {
			job.Templates[f.Name] = path
		}
		logs.Printf("target file %s: %s (%d bytes)", f.Field, f.Name, n)
	}
	for _, c := range t.Chains {
		if c.Type != target.Protein {
			continue
		}
		id := c.IDs[0]
		mode := target.MSAServer
		if c.MSA != nil && c.MSA.Mode != "" {
			mode = c.MSA.Mode
		}
		switch mode {
		case target.MSAEmpty:
			logs.Printf("msa of chain %s: none (single-sequence mode, as the target says)", id)
		case target.MSAFile:
			path := filepath.Join(dir, "files", c.MSA.File)
			job.MSA[id], job.MSADigests[id] = path, digests[path]
			logs.Printf("msa of chain %s: uploaded %s (sha256 %s)", id, c.MSA.File, digests[path])
		default:
			object := msa.Chains[id]
			if object == "" {
				return nil, contract.NonRetryable(contract.ErrTypeInvalidInput, fmt.Sprintf(
					"target %s: chain %s's MSA comes from the MSA server, but none was computed for this job", targetID, id), nil)
			}
			// A heteromer's chains get Boltz's paired CSV (a ".csv" cache
			// object), the others an A3M; Boltz reads the format from the
			// file's suffix, so the local file keeps the object's.
			ext, kind := ".a3m", "server"
			if filepath.Ext(object) == ".csv" {
				ext, kind = ".csv", "server, paired"
			}
			path := filepath.Join(dir, "msa", id+ext)
			n, err := fetch(object, path)
			if err != nil {
				return nil, fmt.Errorf("msa of chain %s: %w", id, err)
			}
			job.MSA[id], job.MSADigests[id] = path, digests[path]
			logs.Printf("msa of chain %s: %s (%s, %d bytes, sha256 %s)", id, g.Blobs.URI(object), kind, n, digests[path])
		}
	}
	return job, nil
}

// targetMSAs is the record of the MSAs a target's job ran with: each
// protein chain that had one, by first id, sorted, with the SHA-256 of
// the file given to the model; server (paired when it is Boltz's CSV of a
// heteromer) or uploaded. Nil for the one-chain shape (targetID "").
func targetMSAs(targetID string, ref omtx.MSARef, job *omtx.TargetJob) []omtx.ChainMSA {
	if targetID == "" || job == nil {
		return nil
	}
	out := []omtx.ChainMSA{}
	for id, digest := range job.MSADigests {
		c := omtx.ChainMSA{ChainID: id, Mode: omtx.MSAUploaded, Digest: digest}
		if obj := ref.Chains[id]; obj != "" {
			c.Mode, c.Paired = omtx.MSAServer, filepath.Ext(obj) == ".csv"
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b omtx.ChainMSA) int { return strings.Compare(a.ChainID, b.ChainID) })
	return out
}
