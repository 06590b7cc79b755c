package boltz

import (
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// harvestEvery is how often Predict looks for finished ligands while
// boltz runs, when the request asks to hear of them (Finished).
const harvestEvery = 100 * time.Millisecond

// harvest hands each ligand's prediction to the request's Finished as soon
// as Boltz has written all of its files, while the process still runs.
//
// Boltz writes each input's files as that input finishes, not at the end
// of the call: its writers are Lightning callbacks whose
// write_on_batch_end runs after every batch (one input) of
// trainer.predict (src/boltz/data/write/writer.py of jwohlwend/boltz at
// 832486d: BoltzWriter L49-220 writes the structure and confidence files,
// BoltzAffinityWriter L292-334 the affinity file). src/boltz/main.py runs
// two passes (L1329-1333 with BoltzWriter, then L1354-1410 with
// BoltzAffinityWriter), so an input's affinity file, written in the
// second pass, is its last: a ligand is finished when that file holds a
// whole JSON object. The files are written with open("w") and one write,
// not atomically, so a file that does not parse yet is read again at the
// next look rather than taken as an error; after the process ends,
// Predict reads the rest and judges them as before.
//
// With Boltz's two passes a ligand is finished only in the affinity pass,
// so a group killed in its structure pass would lose the structures it
// made. The harvest therefore also hands over each ligand's structure
// checkpoint (Structured) as soon as its structure-pass files are written:
// when they are all whole (structureWritten), when a later record's folder
// has appeared (BoltzWriter writes one record at a time, so the earlier
// one is done), or once Boltz has printed the affinity pass's header
// (every structure is then written).
type harvest struct {
	r          *Runner
	dir        string // predictions/
	results    string // boltz_results_<stem>/
	sent       []int
	names      []string
	chains     int
	preds      []omtx.Prediction
	settings   omtx.RunSettings
	args       []string
	notify     func(int, omtx.Prediction)
	structured func(int, omtx.Checkpoint)
	sink       *outputSink

	// Written by the watcher only, read after it stopped.
	done    map[int]bool
	last    time.Time // when the previous ligand was harvested, or the call started
	seconds float64   // model seconds given to harvested ligands
	ran     *omtx.RunSettings

	// checkpointed marks the ligands whose checkpoint was handed over (or
	// restored before the call); seen is the look at which each record's
	// folder was first seen, lastNew the last look that saw a new one.
	checkpointed   map[int]bool
	seen           map[string]int
	looks, lastNew int
}

// watch looks every interval until the returned stop is called, which
// waits for the watcher to end. Without notify and structured it does
// nothing.
func (h *harvest) watch(every time.Duration) (stop func()) {
	h.done = map[int]bool{}
	h.seen = map[string]int{}
	if h.checkpointed == nil {
		h.checkpointed = map[int]bool{}
	}
	if h.notify == nil && h.structured == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				h.look()
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

// look harvests every ligand whose files are all there and readable. A
// ligand's ModelSeconds is the wall time since the previous one was
// harvested (the first carries the model's load), so that a group's
// ligands add up to its wall time.
func (h *harvest) look() {
	h.looks++
	if h.notify != nil {
		h.finishedLigands()
	}
	if h.structured != nil {
		h.checkpoints()
	}
}

// checkpoints hands over the checkpoint of each ligand whose structure
// pass is written and that is not finished yet.
func (h *harvest) checkpoints() {
	// Read before listing: once the header is out, every folder listed
	// after it is whole.
	allWritten := h.sink.AffinityPass()
	entries, err := os.ReadDir(h.dir)
	if err != nil {
		return // not created yet
	}
	for _, e := range entries {
		if _, ok := h.seen[e.Name()]; !ok && e.IsDir() {
			h.seen[e.Name()] = h.looks
			h.lastNew = h.looks
		}
	}
	samples := h.settings.DiffusionSamples
	for _, i := range h.sent {
		name := h.names[i]
		at, ok := h.seen[name]
		if !ok || h.done[i] || h.checkpointed[i] {
			continue
		}
		if !allWritten && at >= h.lastNew && !structureWritten(filepath.Join(h.dir, name), name, samples, h.args) {
			continue
		}
		h.checkpointed[i] = true
		cp, err := collectCheckpoint(h.results, name)
		if err != nil {
			h.r.log.Warn("boltz: no structure checkpoint for a ligand", "record", name, "err", err)
			continue
		}
		h.structured(i, cp)
	}
}

// finishedLigands hands over each ligand whose files are all there and
// readable.
func (h *harvest) finishedLigands() {
	for _, i := range h.sent {
		if h.done[i] {
			continue
		}
		p := recordOutputs(h.dir, h.names[i])
		if files, err := p.missing(); err != nil || len(files) > 0 {
			continue
		}
		res, err := readRecord(p, h.chains)
		if err != nil {
			continue // still being written; read again next time
		}
		if h.ran == nil {
			s := h.r.ranSettings(h.settings, h.args)
			h.ran = &s
		}
		now := time.Now()
		pred := &h.preds[i]
		fill(pred, res)
		pred.ModelSeconds = now.Sub(h.last).Seconds()
		s := *h.ran
		pred.Settings = &s
		h.seconds += pred.ModelSeconds
		h.last = now
		h.done[i] = true
		h.notify(i, *pred)
	}
}
