// Command fakeboltz is a TEST STAND-IN for the boltz CLI. It is not Boltz
// and runs no model: it accepts `boltz predict <dir> [flags]`, rejects
// flags boltz does not have, and for every input YAML copies hand-written
// fixture files into the output layout docs/prediction.md of
// jwohlwend/boltz documents:
//
//	<out_dir>/boltz_results_<input stem>/predictions/<name>/<name>_model_<k>.cif
//	<out_dir>/boltz_results_<input stem>/predictions/<name>/confidence_<name>_model_<k>.json
//	<out_dir>/boltz_results_<input stem>/predictions/<name>/affinity_<name>.json
//
// Every input YAML is first read under Boltz's input rules as package
// target ports them (src/boltz/data/parse/schema.py): an input Boltz
// would refuse fails the whole run loudly, exit status 3, with the file,
// the field and the rule named, so that a test sees the bug in the YAML
// the runner wrote rather than a skipped record.
//
// The package boltz tests build it; nothing else may use it.
//
// Environment:
//
//	FAKE_BOLTZ_FIXTURE  folder with model_0.cif, confidence_model_0.json and
//	                    affinity.json; "@RECORD@" in the CIF becomes the record name
//	FAKE_BOLTZ_CIF      another model_0.cif to write (a complex of other
//	                    chains), with the fixture's other files
//	FAKE_BOLTZ_RECORD   file to append one JSON line per run to: argv and the
//	                    input files' names and contents
//	FAKE_BOLTZ_OOM      "1": print Boltz's out-of-memory message and write
//	                    nothing; or comma-separated record names to do that for
//	FAKE_BOLTZ_SKIP     record names to write nothing for, silently
//	FAKE_BOLTZ_FAIL     record names to print Boltz's "Failed to process" for
//	FAKE_BOLTZ_CORRUPT  record names whose confidence JSON is cut short
//	FAKE_BOLTZ_EXIT     exit with this status after printing a traceback,
//	                    writing nothing
//	FAKE_BOLTZ_SLEEP    sleep this long (a Go duration) before writing, with a
//	                    child process in the same process group sleeping too
//	FAKE_BOLTZ_PIDFILE  where to write "<own pid> <child pid>" when sleeping
//	FAKE_BOLTZ_LIGAND_SLEEP   sleep this long (a Go duration) before writing
//	                    each record's structure and confidence files, as
//	                    Boltz's structure pass takes per input
//	FAKE_BOLTZ_FINISHED file to append one JSON line to as each record's last
//	                    file is written: the record name and its input
//	FAKE_BOLTZ_HANG     record names before whose files the run sleeps an hour
//	                    (a ligand still in flight when the test kills the run)
//	FAKE_BOLTZ_AFFINITY_SLEEP when set, write the affinity files in a second
//	                    pass after every structure, sleeping this long before
//	                    each, as Boltz's affinity pass does (main.py runs
//	                    trainer.predict twice: BoltzWriter, then
//	                    BoltzAffinityWriter); unset, each record's affinity
//	                    file follows its structure at once
//	FAKE_BOLTZ_TWO_PASS "1": the two passes without setting the sleep (with
//	                    FAKE_BOLTZ_TIME_SCALE, which then times them)
//	FAKE_BOLTZ_TIME_SCALE a number s > 0: Boltz-2's timings on an L4,
//	                    divided by s, become the defaults of the knobs
//	                    above: the model load of each call 40 s/s
//	                    (FAKE_BOLTZ_SLEEP; with two passes 30 s/s before the
//	                    structure pass and 10 s/s before the affinity pass),
//	                    and 20-60 s/s per ligand, a ligand's own time from a
//	                    hash of its SMILES (see ligandTime), so that two runs
//	                    of one library take the same model time
//	                    (FAKE_BOLTZ_LIGAND_SLEEP; with two passes 3/4 of it
//	                    in the structure pass, the rest in the affinity
//	                    pass); a knob set explicitly wins
//	FAKE_BOLTZ_TIMING   file to append one JSON line to per model phase
//	                    that completes: the worker ($OMTX_WORKER_ID), the
//	                    phase ("load", "ligand", "affinity-load" or
//	                    "affinity"), the record and its ligands' SMILES,
//	                    the seconds slept and when it ended (Unix seconds);
//	                    a phase cut short by a kill writes nothing
//	FAKE_BOLTZ_DOWNLOAD "1": as Boltz does on its first run (main.py's
//	                    download_boltz2), write the checkpoint files
//	                    boltz2_conf.ckpt and boltz2_aff.ckpt into --cache
//	                    (else $BOLTZ_CACHE) when they are not there yet
//
// It runs a call as src/boltz/main.py does, so that a resumed out_dir
// behaves as it would under Boltz: inputs whose record is already in
// processed/records are not processed again; the structure pass skips
// records with a folder in predictions/ and loads its model only when any
// is left; the affinity pass skips records whose affinity file exists;
// --override runs everything again.
//
// Every run prints the flags it was given, one line starting
// "fakeboltz: flags:", so that a test reading the job's log sees what
// reached the stand-in.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/omtx-hub/omtx-hub/target"
)

// Boltz's out-of-memory line, src/boltz/model/models/boltz2.py.
const oomLine = "| WARNING: ran out of memory, skipping batch"

// schemaExit is the exit status for an input Boltz's schema refuses.
const schemaExit = 3

// placeholder in the fixture CIF that becomes the record name.
const placeholder = "@RECORD@"

// valueFlags are boltz predict's options that take a value, with a
// validator; boolFlags are its switches (src/boltz/main.py).
var valueFlags = map[string]func(string) error{
	"--out_dir":                    anyValue,
	"--cache":                      anyValue,
	"--checkpoint":                 anyValue,
	"--devices":                    positiveInt,
	"--accelerator":                oneOf("gpu", "cpu", "tpu"),
	"--recycling_steps":            nonNegativeInt,
	"--sampling_steps":             positiveInt,
	"--diffusion_samples":          positiveInt,
	"--max_parallel_samples":       positiveInt,
	"--step_scale":                 float,
	"--output_format":              oneOf("pdb", "mmcif"),
	"--num_workers":                nonNegativeInt,
	"--seed":                       integer,
	"--msa_server_url":             anyValue,
	"--msa_pairing_strategy":       oneOf("greedy", "complete"),
	"--msa_server_username":        anyValue,
	"--msa_server_password":        anyValue,
	"--api_key_header":             anyValue,
	"--api_key_value":              anyValue,
	"--model":                      oneOf("boltz1", "boltz2"),
	"--method":                     anyValue,
	"--preprocessing-threads":      positiveInt,
	"--sampling_steps_affinity":    positiveInt,
	"--diffusion_samples_affinity": positiveInt,
	"--affinity_checkpoint":        anyValue,
	"--max_msa_seqs":               positiveInt,
	"--num_subsampled_msa":         positiveInt,
}

var boolFlags = map[string]bool{
	"--write_full_pae": true, "--write_full_pde": true, "--override": true,
	"--use_msa_server": true, "--use_potentials": true,
	"--affinity_mw_correction": true, "--subsample_msa": true,
	"--no_kernels": true, "--write_embeddings": true,
}

func main() {
	if len(os.Args) >= 3 && os.Args[1] == "sleep" {
		d, _ := time.ParseDuration(os.Args[2])
		time.Sleep(d)
		return
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(2)
	}
}

func run(argv []string) error {
	if len(argv) == 0 || argv[0] != "predict" {
		return fmt.Errorf("fakeboltz supports only `predict`, got %q", argv)
	}
	data, opts, err := parse(argv[1:])
	if err != nil {
		return err
	}
	inputs, err := listInputs(data)
	if err != nil {
		return err
	}
	if err := record(argv, inputs); err != nil {
		return err
	}
	parsed := make([]*target.Target, len(inputs))
	for i, in := range inputs {
		t, err := target.ParseYAML([]byte(in.content), target.ParseOptions{})
		if err != nil {
			fmt.Fprintf(os.Stderr, "fakeboltz: %s violates Boltz's input schema: %v\n", in.path, err)
			os.Exit(schemaExit)
		}
		parsed[i] = t
	}

	fmt.Println("fakeboltz: TEST STAND-IN for boltz predict; writes fixture files, runs no model")
	fmt.Println("fakeboltz: flags:", strings.Join(argv[2:], " "))
	if os.Getenv("FAKE_BOLTZ_DOWNLOAD") == "1" {
		if err := download(opts["--cache"]); err != nil {
			return err
		}
	}
	fmt.Fprintln(os.Stderr, "fakeboltz: stderr line from the stand-in")
	fmt.Println("Checking input data.")

	scale, err := timeScale()
	if err != nil {
		return err
	}
	twoPass := os.Getenv("FAKE_BOLTZ_AFFINITY_SLEEP") != "" || os.Getenv("FAKE_BOLTZ_TWO_PASS") == "1"
	fixture := os.Getenv("FAKE_BOLTZ_FIXTURE")
	if fixture == "" {
		return fmt.Errorf("FAKE_BOLTZ_FIXTURE is not set")
	}
	outDir := opts["--out_dir"]
	if outDir == "" {
		outDir = "./"
	}
	override := opts["--override"] != ""
	samples := 1
	if s := opts["--diffusion_samples"]; s != "" {
		samples, _ = strconv.Atoi(s)
	}
	results := filepath.Join(outDir, "boltz_results_"+stem(data))
	predictions := filepath.Join(results, "predictions")

	// Preprocessing (main.py process_inputs): an input whose record is
	// already in processed/records is not processed again.
	byName := map[string]int{}
	for i, in := range inputs {
		byName[stem(in.path)] = i
	}
	processed, err := processedRecords(results)
	if err != nil {
		return err
	}
	var toProcess []int
	for i, in := range inputs {
		if !processed[stem(in.path)] {
			toProcess = append(toProcess, i)
		}
	}
	if len(toProcess) < len(inputs) {
		if len(toProcess) > 0 {
			fmt.Printf("Found %d existing processed inputs, skipping them.\n", len(inputs)-len(toProcess))
		} else {
			fmt.Println("All inputs are already processed.")
		}
	}
	fmt.Printf("Processing %d inputs with 1 threads.\n", len(toProcess))
	for _, i := range toProcess {
		name := stem(inputs[i].path)
		if listed("FAKE_BOLTZ_FAIL", name) {
			fmt.Printf("Failed to process %s. Skipping. Error: fakeboltz: simulated invalid SMILES.\n", inputs[i].path)
			continue
		}
		if err := checkFiles(parsed[i], opts); err != nil {
			fmt.Printf("Failed to process %s. Skipping. Error: %v.\n", inputs[i].path, err)
			continue
		}
		if err := writeProcessed(results, name, parsed[i]); err != nil {
			return err
		}
	}
	// The manifest is every record in processed/records, in the order
	// found there (sorted here; Boltz globs).
	manifest, err := processedRecords(results)
	if err != nil {
		return err
	}
	var records []string
	for name := range manifest {
		if _, ok := byName[name]; ok {
			records = append(records, name)
		}
	}
	slices.Sort(records)

	// filter_inputs_structure: a record with a folder in predictions/ is
	// skipped unless --override.
	structure := records
	if !override {
		structure = nil
		for _, name := range records {
			if _, err := os.Stat(filepath.Join(predictions, name)); err != nil {
				structure = append(structure, name)
			}
		}
		if len(structure) < len(records) {
			fmt.Printf("Found some existing predictions (%d), skipping and running only the missing ones, if any.\n", len(records)-len(structure))
		}
	}

	// The structure model is loaded only when there is structure work
	// (main.py L1263-1327): FAKE_BOLTZ_SLEEP, or its scaled default.
	load := os.Getenv("FAKE_BOLTZ_SLEEP")
	if load == "" && scale > 0 {
		load = scaled(structureLoad(twoPass), scale).String()
	}
	if load != "" && len(structure) > 0 {
		t0 := time.Now()
		if err := sleepWithChild(load); err != nil {
			return err
		}
		if err := timing("load", "", nil, time.Since(t0)); err != nil {
			return err
		}
	}
	if code := os.Getenv("FAKE_BOLTZ_EXIT"); code != "" {
		n, err := strconv.Atoi(code)
		if err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "Traceback (most recent call last):")
		fmt.Fprintln(os.Stderr, "RuntimeError: fakeboltz: simulated failure")
		os.Exit(n)
	}

	perLigand, err := envDuration("FAKE_BOLTZ_LIGAND_SLEEP")
	if err != nil {
		return err
	}
	affinitySleep, err := envDuration("FAKE_BOLTZ_AFFINITY_SLEEP")
	if err != nil {
		return err
	}
	if len(structure) > 0 {
		fmt.Printf("Running structure prediction for %d inputs.\n", len(structure))
	}
	for _, name := range structure {
		i := byName[name]
		switch {
		case os.Getenv("FAKE_BOLTZ_OOM") == "1" || listed("FAKE_BOLTZ_OOM", name):
			fmt.Println(oomLine)
			continue
		case listed("FAKE_BOLTZ_SKIP", name):
			continue
		}
		d := perLigand
		if os.Getenv("FAKE_BOLTZ_LIGAND_SLEEP") == "" && scale > 0 {
			d = scaled(structureTime(ligandTime(parsed[i], name), twoPass), scale)
		}
		t0 := time.Now()
		time.Sleep(d)
		if err := timing("ligand", name, parsed[i], time.Since(t0)); err != nil {
			return err
		}
		if listed("FAKE_BOLTZ_HANG", name) {
			time.Sleep(time.Hour)
		}
		if err := writeRecord(fixture, predictions, name, samples, len(parsed[i].ChainIDList()), !twoPass); err != nil {
			return err
		}
		if !twoPass {
			if err := finished(name, inputs[i].content); err != nil {
				return err
			}
		}
	}
	if twoPass {
		// filter_inputs_affinity: a record whose affinity file exists is
		// skipped unless --override; one without a structure (skipped
		// above) has nothing to run on.
		var affinity []string
		for _, name := range records {
			dir := filepath.Join(predictions, name)
			if _, err := os.Stat(filepath.Join(dir, "pre_affinity_"+name+".npz")); err != nil {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, "affinity_"+name+".json")); err == nil && !override {
				continue
			}
			affinity = append(affinity, name)
		}
		fmt.Printf("\nPredicting property: affinity\n\n")
		if len(affinity) == 0 {
			fmt.Println("Found existing affinity predictions for all inputs, skipping.")
			return nil
		}
		fmt.Printf("Running affinity prediction for %d inputs.\n", len(affinity))
		if scale > 0 {
			t0 := time.Now()
			time.Sleep(scaled(affinityLoad, scale))
			if err := timing("affinity-load", "", nil, time.Since(t0)); err != nil {
				return err
			}
		}
		for _, name := range affinity {
			i := byName[name]
			d := affinitySleep
			if os.Getenv("FAKE_BOLTZ_AFFINITY_SLEEP") == "" && scale > 0 {
				d = scaled(ligandTime(parsed[i], name)-structureTime(ligandTime(parsed[i], name), true), scale)
			}
			t0 := time.Now()
			time.Sleep(d)
			if scale > 0 {
				if err := timing("affinity", name, parsed[i], time.Since(t0)); err != nil {
					return err
				}
			}
			if err := writeAffinity(fixture, predictions, name); err != nil {
				return err
			}
			if err := finished(name, inputs[i].content); err != nil {
				return err
			}
		}
	}
	fmt.Println("Number of failed examples: 0")
	return nil
}

// processedRecords names the records in <results>/processed/records.
func processedRecords(results string) (map[string]bool, error) {
	entries, err := os.ReadDir(filepath.Join(results, "processed", "records"))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			out[name] = true
		}
	}
	return out, nil
}

// writeProcessed writes one record's preprocessed files where main.py's
// process_input writes them: processed/records/<id>.json,
// processed/structures/<id>.npz, processed/mols/<id>.pkl and one
// processed/msa/<id>_<k>.npz per MSA file. Their contents are stand-ins;
// the record JSON names its MSAs as Boltz's Record does (chains' msa_id).
func writeProcessed(results, name string, t *target.Target) error {
	dir := filepath.Join(results, "processed")
	type chain struct {
		Name  string `json:"chain_name"`
		MSAID any    `json:"msa_id"`
	}
	rec := struct {
		ID     string  `json:"id"`
		Chains []chain `json:"chains"`
	}{ID: name}
	files := map[string]string{
		filepath.Join("structures", name+".npz"): "fakeboltz processed structure " + name + "\n",
		filepath.Join("mols", name+".pkl"):       "fakeboltz processed ligands " + name + "\n",
	}
	k := 0
	for _, c := range t.Chains {
		id := any(-1)
		if c.MSA != nil && c.MSA.Mode == target.MSAFile {
			id = fmt.Sprintf("%s_%d", name, k)
			b, err := os.ReadFile(c.MSA.File)
			if err != nil {
				return err
			}
			files[filepath.Join("msa", id.(string)+".npz")] = "fakeboltz processed msa\n" + string(b)
			k++
		}
		for _, cid := range c.IDs {
			rec.Chains = append(rec.Chains, chain{cid, id})
		}
	}
	for _, l := range t.Ligands {
		for _, cid := range l.IDs {
			rec.Chains = append(rec.Chains, chain{cid, -1})
		}
	}
	js, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	// The record last: its presence is what marks the input processed.
	for rel, content := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	p := filepath.Join(dir, "records", name+".json")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, js, 0o644)
}

// fakeCheckpoints are the contents download writes, by file name: the
// tests compute the digests results must record from them.
var fakeCheckpoints = map[string]string{
	"boltz2_conf.ckpt": "fakeboltz boltz2_conf weights\n",
	"boltz2_aff.ckpt":  "fakeboltz boltz2_aff weights\n",
}

// download writes the checkpoint files missing from cache, as Boltz
// downloads them on first use.
func download(cache string) error {
	if cache == "" {
		// Boltz's get_cache_path: $BOLTZ_CACHE, else ~/.boltz.
		cache = os.Getenv("BOLTZ_CACHE")
	}
	if cache == "" {
		return fmt.Errorf("FAKE_BOLTZ_DOWNLOAD needs --cache or BOLTZ_CACHE")
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return err
	}
	for name, content := range fakeCheckpoints {
		path := filepath.Join(cache, name)
		if _, err := os.Stat(path); err == nil {
			continue
		}
		fmt.Printf("Downloading the Boltz-2 weights to %s\n", path)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// parse reads click-style options: "--flag value", "--flag=value" and
// switches. Unlike click it also rejects a repeated option, so a caller's
// duplicate shows up in tests.
func parse(args []string) (string, map[string]string, error) {
	opts := map[string]string{}
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "--") {
			positional = append(positional, a)
			continue
		}
		name, value, hasValue := strings.Cut(a, "=")
		if _, dup := opts[name]; dup {
			return "", nil, fmt.Errorf("option %s given twice", name)
		}
		if boolFlags[name] {
			if hasValue {
				return "", nil, fmt.Errorf("option %s does not take a value", name)
			}
			opts[name] = "true"
			continue
		}
		check, ok := valueFlags[name]
		if !ok {
			return "", nil, fmt.Errorf("no such option: %s", name)
		}
		if !hasValue {
			if i+1 >= len(args) {
				return "", nil, fmt.Errorf("option %s requires an argument", name)
			}
			i++
			value = args[i]
		}
		if err := check(value); err != nil {
			return "", nil, fmt.Errorf("invalid value for %s: %v", name, err)
		}
		opts[name] = value
	}
	if len(positional) != 1 {
		return "", nil, fmt.Errorf("want exactly one input path, got %q", positional)
	}
	return positional[0], opts, nil
}

type input struct {
	path    string
	content string
}

// listInputs lists the .yaml/.yml/.fasta files of a directory (or the one
// file given), as boltz predict does.
func listInputs(data string) ([]input, error) {
	st, err := os.Stat(data)
	if err != nil {
		return nil, fmt.Errorf("invalid value for DATA: %v", err)
	}
	paths := []string{data}
	if st.IsDir() {
		entries, err := os.ReadDir(data)
		if err != nil {
			return nil, err
		}
		paths = nil
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".yaml", ".yml", ".fa", ".fas", ".fasta":
				paths = append(paths, filepath.Join(data, e.Name()))
			default:
				return nil, fmt.Errorf("unable to parse filetype %s", e.Name())
			}
		}
	}
	slices.Sort(paths)
	var out []input
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, input{path: p, content: string(b)})
	}
	return out, nil
}

// record appends this run's argv and inputs to $FAKE_BOLTZ_RECORD.
func record(argv []string, inputs []input) error {
	path := os.Getenv("FAKE_BOLTZ_RECORD")
	if path == "" {
		return nil
	}
	rec := struct {
		Argv   []string          `json:"argv"`
		Inputs map[string]string `json:"inputs"`
		MSAs   map[string]string `json:"msas,omitempty"`
	}{Argv: argv, Inputs: map[string]string{}}
	for _, in := range inputs {
		rec.Inputs[filepath.Base(in.path)] = in.content
		// The MSA files an input names, by base name, for tests that
		// check what Boltz was given.
		if t, err := target.ParseYAML([]byte(in.content), target.ParseOptions{}); err == nil {
			for _, c := range t.Chains {
				if c.MSA != nil && c.MSA.Mode == target.MSAFile {
					if b, err := os.ReadFile(c.MSA.File); err == nil {
						if rec.MSAs == nil {
							rec.MSAs = map[string]string{}
						}
						rec.MSAs[filepath.Base(c.MSA.File)] = string(b)
					}
				}
			}
		}
	}
	line, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// checkFiles fails, as Boltz would, when a protein's MSA file or a
// template file does not exist, or a protein has no MSA and
// --use_msa_server is not set (src/boltz/main.py L582: "Missing MSA's in
// input and --use_msa_server flag not set."). Paths must be absolute:
// the runner writes them so.
func checkFiles(t *target.Target, opts map[string]string) error {
	exists := func(p string) error {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("path %s is not absolute", p)
		}
		_, err := os.Stat(p)
		return err
	}
	for _, c := range t.Chains {
		if c.MSA == nil {
			continue
		}
		switch c.MSA.Mode {
		case target.MSAServer:
			if opts["--use_msa_server"] == "" {
				return fmt.Errorf("missing MSA's in input and --use_msa_server flag not set")
			}
		case target.MSAFile:
			if err := exists(c.MSA.File); err != nil {
				return fmt.Errorf("msa: %v", err)
			}
			if err := checkMSAFile(c.MSA.File); err != nil {
				return fmt.Errorf("msa: %v", err)
			}
		}
	}
	for _, tp := range t.Templates {
		if err := exists(tp.CIF + tp.PDB); err != nil {
			return fmt.Errorf("template: %v", err)
		}
	}
	return nil
}

// checkMSAFile refuses an MSA file that Boltz would: a suffix other than
// .a3m or .csv (src/boltz/main.py L615-625 at commit 832486d: "MSA file
// ... not supported, only a3m or csv."), or a CSV whose columns are not
// key and sequence (src/boltz/data/parse/csv.py L33-36). A CSV's keys
// must be integers, as Boltz's compute_msa writes them (main.py L513-518).
func checkMSAFile(path string) error {
	switch filepath.Ext(path) {
	case ".a3m":
		return nil
	case ".csv":
	default:
		return fmt.Errorf("MSA file %s not supported, only a3m or csv", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if lines[0] != "key,sequence" && lines[0] != "sequence,key" {
		return fmt.Errorf("%s: invalid CSV format, expected columns: ['sequence', 'key']", path)
	}
	keyFirst := lines[0] == "key,sequence"
	for i, l := range lines[1:] {
		k, seq, ok := strings.Cut(l, ",")
		if !keyFirst {
			seq, k = k, seq
		}
		if _, err := strconv.Atoi(k); !ok || err != nil || seq == "" {
			return fmt.Errorf("%s: row %d is not an integer key and a sequence: %q", path, i+2, l)
		}
	}
	return nil
}

// finished appends a record's line to $FAKE_BOLTZ_FINISHED, once its last
// file is written.
func finished(name, input string) error {
	path := os.Getenv("FAKE_BOLTZ_FINISHED")
	if path == "" {
		return nil
	}
	return appendLine(path, struct {
		Record string `json:"record"`
		Input  string `json:"input"`
	}{name, input})
}

// appendLine appends v as one JSON line to the file at path.
func appendLine(path string, v any) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Boltz-2's timings on an L4 that FAKE_BOLTZ_TIME_SCALE scales down: the
// model load of one `boltz predict` call, and the range of one ligand's
// structure and affinity (issue 18 states them).
const (
	modelLoad = 40 * time.Second
	ligandMin = 20 * time.Second
	ligandMax = 60 * time.Second
)

// With Boltz's two passes (main.py loads boltz2_conf.ckpt for the
// structure pass, then boltz2_aff.ckpt for the affinity pass) the call's
// load is split between the two checkpoints, and a ligand's time between
// its structure and its affinity. The splits are the stand-in's
// assumption: the issue gives only the totals.
const (
	affinityLoad      = 10 * time.Second // of modelLoad
	structureFraction = 0.75             // of a ligand's time
)

// structureLoad is the structure model's load: all of modelLoad in one
// pass, less the affinity model's in two.
func structureLoad(twoPass bool) time.Duration {
	if twoPass {
		return modelLoad - affinityLoad
	}
	return modelLoad
}

// structureTime is the structure pass's share of a ligand's time d.
func structureTime(d time.Duration, twoPass bool) time.Duration {
	if twoPass {
		return time.Duration(float64(d) * structureFraction)
	}
	return d
}

// ligandTime is the model time of the input t (record name, when it has
// no ligand): in [ligandMin, ligandMax], from an FNV-1a hash of its
// ligands' SMILES and CCD codes, so a ligand takes the same time in every
// run, on every worker and in every group.
func ligandTime(t *target.Target, name string) time.Duration {
	h := fnv.New64a()
	for _, l := range t.Ligands {
		fmt.Fprintf(h, "%s|%s;", l.SMILES, l.CCD)
	}
	if len(t.Ligands) == 0 {
		h.Write([]byte(name))
	}
	span := uint64(ligandMax - ligandMin + 1)
	return ligandMin + time.Duration(h.Sum64()%span)
}

// timeScale reads FAKE_BOLTZ_TIME_SCALE; unset is 0, no scaled defaults.
func timeScale() (float64, error) {
	v := os.Getenv("FAKE_BOLTZ_TIME_SCALE")
	if v == "" {
		return 0, nil
	}
	s, err := strconv.ParseFloat(v, 64)
	if err != nil || s <= 0 {
		return 0, fmt.Errorf("FAKE_BOLTZ_TIME_SCALE: %q is not a positive number", v)
	}
	return s, nil
}

// scaled is d divided by scale.
func scaled(d time.Duration, scale float64) time.Duration {
	return time.Duration(float64(d) / scale)
}

// timing appends one model phase's line to $FAKE_BOLTZ_TIMING; a ligand's
// line names its input's ligands' SMILES (record names are only indexes
// in the call).
func timing(phase, record string, t *target.Target, took time.Duration) error {
	path := os.Getenv("FAKE_BOLTZ_TIMING")
	if path == "" {
		return nil
	}
	var smiles []string
	if t != nil {
		for _, l := range t.Ligands {
			smiles = append(smiles, l.SMILES)
		}
	}
	return appendLine(path, struct {
		Worker  string   `json:"worker"`
		Phase   string   `json:"phase"`
		Record  string   `json:"record,omitempty"`
		SMILES  []string `json:"smiles,omitempty"`
		Seconds float64  `json:"seconds"`
		At      float64  `json:"at"`
	}{os.Getenv("OMTX_WORKER_ID"), phase, record, smiles, took.Seconds(), float64(time.Now().UnixNano()) / 1e9})
}

// envDuration reads a Go duration from env; unset is 0.
func envDuration(env string) (time.Duration, error) {
	v := os.Getenv(env)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %v", env, err)
	}
	return d, nil
}

// writeAffinity writes one record's affinity file, last of its files, as
// BoltzAffinityWriter does (writer.py L292-334: open("w") and one write,
// not atomic).
func writeAffinity(fixture, predictions, name string) error {
	aff, err := os.ReadFile(filepath.Join(fixture, "affinity.json"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(predictions, name, "affinity_"+name+".json"), aff, 0o644)
}

// writeRecord writes one record's files in Boltz's layout, for an input
// of the given number of chains; the affinity file too when affinity.
func writeRecord(fixture, predictions, name string, samples, chains int, affinity bool) error {
	cifPath := filepath.Join(fixture, "model_0.cif")
	if p := os.Getenv("FAKE_BOLTZ_CIF"); p != "" {
		cifPath = p
	}
	cif, err := os.ReadFile(cifPath)
	if err != nil {
		return err
	}
	conf, err := os.ReadFile(filepath.Join(fixture, "confidence_model_0.json"))
	if err != nil {
		return err
	}
	if chains != 2 {
		if conf, err = withChains(conf, chains); err != nil {
			return err
		}
	}
	if listed("FAKE_BOLTZ_CORRUPT", name) {
		conf = conf[:len(conf)/2]
	}
	dir := filepath.Join(predictions, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	structure := strings.ReplaceAll(string(cif), placeholder, name)
	for k := range samples {
		model := fmt.Sprintf("%s_model_%d", name, k)
		if err := os.WriteFile(filepath.Join(dir, model+".cif"), []byte(structure), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "confidence_"+model+".json"), conf, 0o644); err != nil {
			return err
		}
	}
	// What BoltzWriter writes besides: the top model's structure for the
	// affinity pass (writer.py L178-181, when the record has an affinity
	// ligand) and the pLDDTs (L223-229). Stand-in contents.
	if err := writeNPZ(filepath.Join(dir, "pre_affinity_"+name+".npz"), "fakeboltz pre-affinity structure "+name+"\n"); err != nil {
		return err
	}
	for k := range samples {
		if err := writeNPZ(filepath.Join(dir, fmt.Sprintf("plddt_%s_model_%d.npz", name, k)), "fakeboltz plddt\n"); err != nil {
			return err
		}
	}
	if !affinity {
		return nil
	}
	return writeAffinity(fixture, predictions, name)
}

// writeNPZ writes a zip archive (what numpy's savez_compressed writes)
// holding one stand-in array file.
func writeNPZ(path, content string) error {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, err := z.Create("arr.npy")
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(content)); err != nil {
		return err
	}
	if err := z.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// withChains rewrites the fixture's two-chain chains_ptm and
// pair_chains_iptm for an input of n chains, as writer.py L202-214 writes
// them: keyed by chain index from "0" in input order (each copy its own
// chain), chains_ptm[i] = pair_chains_iptm[i][i]. The values are made up:
// 0.9 on the diagonal less 0.01 per chain index, 0.5 plus 0.01·(i+j)
// off it.
func withChains(conf []byte, n int) ([]byte, error) {
	var obj map[string]any
	if err := json.Unmarshal(conf, &obj); err != nil {
		return nil, err
	}
	ptm := map[string]float64{}
	pairs := map[string]map[string]float64{}
	for i := range n {
		row := map[string]float64{}
		for j := range n {
			v := 0.5 + 0.01*float64(i+j)
			if i == j {
				v = 0.9 - 0.01*float64(i)
			}
			row[strconv.Itoa(j)] = v
		}
		pairs[strconv.Itoa(i)] = row
		ptm[strconv.Itoa(i)] = row[strconv.Itoa(i)]
	}
	obj["chains_ptm"], obj["pair_chains_iptm"] = ptm, pairs
	return json.MarshalIndent(obj, "", "    ")
}

// sleepWithChild starts a child in this process group that sleeps too
// (standing in for Boltz's worker processes), records both pids, and
// sleeps.
func sleepWithChild(d string) error {
	dur, err := time.ParseDuration(d)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	child := exec.Command(self, "sleep", d)
	child.Stdout, child.Stderr = os.Stdout, os.Stderr
	if err := child.Start(); err != nil {
		return err
	}
	if p := os.Getenv("FAKE_BOLTZ_PIDFILE"); p != "" {
		pids := fmt.Sprintf("%d %d\n", os.Getpid(), child.Process.Pid)
		if err := os.WriteFile(p+".tmp", []byte(pids), 0o644); err != nil {
			return err
		}
		if err := os.Rename(p+".tmp", p); err != nil {
			return err
		}
	}
	fmt.Println("fakeboltz: sleeping", d)
	time.Sleep(dur)
	return nil
}

// stem is Python's Path(p).stem.
func stem(p string) string {
	base := filepath.Base(filepath.Clean(p))
	if i := strings.LastIndex(base, "."); i > 0 {
		return base[:i]
	}
	return base
}

func listed(env, name string) bool {
	return slices.Contains(strings.Split(os.Getenv(env), ","), name)
}

func anyValue(string) error { return nil }

func integer(v string) error {
	_, err := strconv.ParseInt(v, 10, 64)
	return err
}

func positiveInt(v string) error {
	n, err := strconv.Atoi(v)
	if err == nil && n < 1 {
		err = fmt.Errorf("%d is not positive", n)
	}
	return err
}

func nonNegativeInt(v string) error {
	n, err := strconv.Atoi(v)
	if err == nil && n < 0 {
		err = fmt.Errorf("%d is negative", n)
	}
	return err
}

func float(v string) error {
	_, err := strconv.ParseFloat(v, 64)
	return err
}

func oneOf(choices ...string) func(string) error {
	return func(v string) error {
		if !slices.Contains(choices, v) {
			return fmt.Errorf("%q is not one of %q", v, choices)
		}
		return nil
	}
}
