package boltz

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// A structure checkpoint is what Boltz's own resume reads from an out_dir
// (src/boltz/main.py of jwohlwend/boltz at 832486d):
//   - process_inputs (L724-741) skips an input whose record is in
//     processed/records, so the record's preprocessed files come back:
//     records/<id>.json, structures/<id>.npz, msa/<id>_<k>.npz,
//     constraints/<id>.npz, templates/<id>_<name>.npz and mols/<id>.pkl
//     (process_input, L563-642);
//   - filter_inputs_structure (L319-362) skips a record with a folder in
//     predictions/, and the affinity pass reads that folder's
//     pre_affinity_<id>.npz (data/module/inferencev2.py L62-65).
//
// Restored into a new call's results folder with its input, a checkpoint
// therefore runs only the affinity pass, unless --override is given,
// which is why a call that resumes never passes it.

// processedDirs are the folders under processed/ that hold a record's
// files.
var processedDirs = []string{"records", "structures", "msa", "constraints", "templates", "mols"}

// maxCheckpointBytes bounds one checkpoint: a larger one is not taken
// (the ligand then runs both passes again if its call is killed).
const maxCheckpointBytes = 256 << 20

// recordRE is what a caller's record name may be (PredictRequest.Records).
var recordRE = regexp.MustCompile(`^[a-z0-9]{1,40}$`)

// recordNames returns each ligand's record name: req.Records, checked, or
// the index names.
func recordNames(req omtx.PredictRequest) ([]string, error) {
	names := make([]string, len(req.Ligands))
	if len(req.Records) == 0 {
		for i := range names {
			names[i] = recordName(i)
		}
		return names, nil
	}
	if len(req.Records) != len(req.Ligands) {
		return nil, fmt.Errorf("boltz: %d record names for %d ligands", len(req.Records), len(req.Ligands))
	}
	seen := map[string]bool{}
	for i, n := range req.Records {
		if !recordRE.MatchString(n) || seen[n] {
			return nil, fmt.Errorf("boltz: record name %q of ligand %d: want 1-40 of [a-z0-9], unique", n, i)
		}
		seen[n] = true
		names[i] = n
	}
	return names, nil
}

// ownsProcessed reports whether base, a file name under one of
// processedDirs, is record id's.
func ownsProcessed(id, base string) bool {
	stemOf := strings.TrimSuffix(base, path.Ext(base))
	return stemOf == id || strings.HasPrefix(base, id+"_")
}

// checkpointPath reports whether rel (slash-separated, under the results
// folder) may belong to record id's checkpoint.
func checkpointPath(id, rel string) bool {
	if rel != path.Clean(rel) || path.IsAbs(rel) || strings.Contains(rel, "\\") {
		return false
	}
	parts := strings.Split(rel, "/")
	if len(parts) != 3 {
		return false
	}
	switch parts[0] {
	case "predictions":
		return parts[1] == id && parts[2] != "" && parts[2] != "." && parts[2] != ".."
	case "processed":
		return slices.Contains(processedDirs, parts[1]) && ownsProcessed(id, parts[2])
	}
	return false
}

// collectCheckpoint reads record id's checkpoint from results (a
// boltz_results_<stem> folder).
func collectCheckpoint(results, id string) (omtx.Checkpoint, error) {
	cp := omtx.Checkpoint{Record: id, Files: map[string][]byte{}}
	total := 0
	add := func(rel string) error {
		b, err := os.ReadFile(filepath.Join(results, filepath.FromSlash(rel)))
		if err != nil {
			return err
		}
		if total += len(b); total > maxCheckpointBytes {
			return fmt.Errorf("checkpoint of %s is over %d MiB", id, maxCheckpointBytes>>20)
		}
		cp.Files[rel] = b
		return nil
	}
	dirs := [][2]string{{"predictions", id}}
	for _, d := range processedDirs {
		dirs = append(dirs, [2]string{"processed", d})
	}
	for _, d := range dirs {
		entries, err := os.ReadDir(filepath.Join(results, d[0], d[1]))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return omtx.Checkpoint{}, err
		}
		for _, e := range entries {
			rel := d[0] + "/" + d[1] + "/" + e.Name()
			if !e.Type().IsRegular() || !checkpointPath(id, rel) {
				continue
			}
			if err := add(rel); err != nil {
				return omtx.Checkpoint{}, err
			}
		}
	}
	if _, ok := cp.Files["processed/records/"+id+".json"]; !ok {
		return omtx.Checkpoint{}, fmt.Errorf("no processed record for %s", id)
	}
	return cp, nil
}

// restore writes a checkpoint into results before the call, refusing a
// path that is not the record's.
func restore(results string, cp omtx.Checkpoint) error {
	if _, ok := cp.Files["processed/records/"+cp.Record+".json"]; !ok {
		return fmt.Errorf("checkpoint of %s has no processed record", cp.Record)
	}
	pred := false
	for rel := range cp.Files {
		if !checkpointPath(cp.Record, rel) {
			return fmt.Errorf("checkpoint of %s: %q is not one of its files", cp.Record, rel)
		}
		pred = pred || strings.HasPrefix(rel, "predictions/")
	}
	if !pred {
		return fmt.Errorf("checkpoint of %s has no predictions", cp.Record)
	}
	for rel, b := range cp.Files {
		p := filepath.Join(results, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// structureWritten reports whether BoltzWriter has written all of record
// id's structure-pass files into dir (predictions/<id>), each whole:
// writer.py L49-260 writes, for each of samples models, the structure
// (<id>_model_<k>.cif), the confidence summary (JSON) and the pLDDTs
// (npz), pae and pde npz files when asked, the top model's
// pre_affinity_<id>.npz, and the embeddings when asked. An npz is a zip,
// whole once its end-of-central-directory record closes it; a JSON file
// is whole once it parses.
func structureWritten(dir, id string, samples int, args []string) bool {
	want := []string{"pre_affinity_" + id + ".npz"}
	for k := range max(samples, 1) {
		m := fmt.Sprintf("%s_model_%d", id, k)
		want = append(want, m+".cif", "confidence_"+m+".json", "plddt_"+m+".npz")
		if slices.Contains(args, "--write_full_pae") {
			want = append(want, "pae_"+m+".npz")
		}
		if slices.Contains(args, "--write_full_pde") {
			want = append(want, "pde_"+m+".npz")
		}
	}
	if slices.Contains(args, "--write_embeddings") {
		want = append(want, "embeddings_"+id+".npz")
	}
	for _, f := range want {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) == 0 {
			return false
		}
		switch path.Ext(f) {
		case ".npz":
			if !wholeZip(b) {
				return false
			}
		case ".json":
			if !json.Valid(b) {
				return false
			}
		}
	}
	return true
}

// wholeZip reports whether b ends with a zip end-of-central-directory
// record whose comment runs to the end (numpy writes none).
func wholeZip(b []byte) bool {
	const eocd = 22
	for i := len(b) - eocd; i >= 0 && i >= len(b)-eocd-0xffff; i-- {
		if bytes.Equal(b[i:i+4], []byte{'P', 'K', 5, 6}) {
			return i+eocd+int(binary.LittleEndian.Uint16(b[i+20:i+22])) == len(b)
		}
	}
	return false
}
