// Package boltz runs the real Boltz-2 (github.com/jwohlwend/boltz) through
// its command line, boltz predict, behind the activities.Predictor
// interface. It does not contain or emulate the model: a deployment
// installs Boltz and its weights and points Config.Binary
// (OMTX_BOLTZ_BIN) at the boltz executable.
//
// One Predict call is one boltz predict run over a directory of inputs,
// one YAML per ligand, so the model loads once per chunk of ligands of one
// complex. Under PredictRequest.WorkDir it writes
//
//	inputs/l0000.yaml, inputs/l0001.yaml, ...   (the record names)
//	out/boltz_results_inputs/predictions/<record>/...   (written by Boltz)
//
// Each input is rendered by target.RenderJob: the request's target
// (PredictRequest.Target: chains, cofactors, constraints, templates, each
// protein chain with the caller's MSA file or "msa: empty"; never
// --use_msa_server), then the ligand by SMILES as the target's ligand
// chain and the affinity binder. Without a target it is the seed's shape:
// the protein as chain A, the ligand as chain B. Boltz numbers the chains
// in that order, so in confidence_*.json the screened ligand is the last
// chain index (its chains_ptm is also recorded as binder_chain_ptm).
// From each record's folder Predict reads <record>_model_0.cif (the best
// ranked sample), confidence_<record>_model_0.json and
// affinity_<record>.json, key for key as the docs define them.
// affinity_pred_value is log10(IC50) with IC50 in µM; see
// omtx.PIC50FromPredValue for conversions. When the request asks
// (PredictRequest.Finished), Predict reads each record as soon as Boltz has
// written all of its files, while boltz still runs, and hands it over at
// once (harvest.go), so that a killed call loses only the ligands in
// flight.
//
// Failures: Boltz prints "| WARNING: ran out of memory, skipping batch"
// and skips an input that does not fit the GPU; if any ligand of a chunk
// was skipped so, Predict returns an error wrapping omtx.ErrOutOfMemory
// and the workflow reroutes the whole chunk to a larger GPU class. See
// Runner.Predict for the other outcomes.
//
// Sources: the input schema, flags, output layout and JSON keys follow
// docs/prediction.md of jwohlwend/boltz at commit
// 832486dafed7b80e1246a3fed895e9bb03976558 (2025-09-01; the file last
// changed in fd69c81bf104eb5ed0841a0c1d164a17c56878bf), checked against
// src/boltz/main.py (flag names, the boltz_results_<input stem> folder,
// "Failed to process ..."), src/boltz/data/write/writer.py (file names and
// keys) and src/boltz/model/models/boltz2.py (the out-of-memory message)
// at the same commit.
//
// Tests drive a stand-in executable, internal/fakeboltz, that writes
// hand-made fixture files (testdata/fixture, see PROVENANCE.md there) in
// that layout. The stand-in is not Boltz and is never used outside tests.
package boltz
