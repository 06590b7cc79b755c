package boltz

import (
	"bytes"
	"io"
	"path/filepath"
	"strings"
	"sync"
)

// oomMessage is what Boltz-2 prints when CUDA runs out of memory on an
// input: src/boltz/model/models/boltz2.py, predict_step, catches the
// RuntimeError and prints "| WARNING: ran out of memory, skipping batch",
// then writes no output for that input and carries on (exit status 0).
const oomMessage = "ran out of memory, skipping batch"

// failedMarker starts the line src/boltz/main.py (process_input) prints
// when an input cannot be preprocessed, e.g. RDKit rejects its SMILES:
// "Failed to process {path}. Skipping. Error: {e}." The input is then left
// out of the run and the exit status stays 0.
const failedMarker = "Failed to process "

// affinityHeader is what src/boltz/main.py prints (L1338) after the
// structure pass's trainer.predict returned and before the affinity pass
// loads its model: "\nPredicting property: affinity\n".
const affinityHeader = "Predicting property: affinity"

const (
	tailLimit = 64 << 10 // bytes of output kept for error messages
	lineLimit = 8 << 10  // bytes of one output line kept for parsing
)

// outputSink receives the boltz process's stdout and stderr (one pipe, so
// their order is kept). It copies everything to the request's log, keeps
// the last tailLimit bytes, and watches for the two messages that tell a
// skipped input's cause. exec.Cmd writes from one goroutine; the mutex
// lets tests and the caller read while it does.
type outputSink struct {
	mu     sync.Mutex
	log    io.Writer
	logErr error
	tail   []byte

	oom   bool
	carry []byte // end of the previous write, for a message split across writes

	line     []byte
	failures map[string]string // input stem → Boltz's reason
	affinity bool              // the affinity pass's header was printed
}

func newOutputSink(log io.Writer) *outputSink {
	return &outputSink{log: log, failures: map[string]string{}}
}

// Write never fails: a broken log must not kill the model run (a failed
// write would end exec's copy and with it the process's output pipe).
func (s *outputSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.log != nil && s.logErr == nil {
		if _, err := s.log.Write(p); err != nil {
			s.logErr = err
		}
	}

	s.tail = append(s.tail, p...)
	if len(s.tail) > 2*tailLimit {
		s.tail = append(s.tail[:0], s.tail[len(s.tail)-tailLimit:]...)
	}

	if !s.oom {
		buf := append(s.carry, p...)
		if bytes.Contains(buf, []byte(oomMessage)) {
			s.oom = true
		}
		keep := min(len(buf), len(oomMessage)-1)
		s.carry = append(s.carry[:0], buf[len(buf)-keep:]...)
	}

	for _, c := range p {
		// tqdm redraws its progress bars with '\r', so a carriage return
		// ends a line too.
		if c == '\n' || c == '\r' {
			s.endLine()
			continue
		}
		if len(s.line) < lineLimit {
			s.line = append(s.line, c)
		}
	}
	return len(p), nil
}

func (s *outputSink) endLine() {
	line := string(s.line)
	s.line = s.line[:0]
	if strings.Contains(line, affinityHeader) {
		s.affinity = true
	}
	i := strings.Index(line, failedMarker)
	if i < 0 {
		return
	}
	rest := line[i+len(failedMarker):]
	j := strings.Index(rest, ". Skipping.")
	if j < 0 {
		return
	}
	path := rest[:j]
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	reason := strings.TrimSpace(rest[j+len(". Skipping."):])
	reason = strings.TrimPrefix(reason, "Error:")
	reason = strings.TrimSuffix(strings.TrimSpace(reason), ".")
	s.failures[stem] = reason
}

// flush handles a last line that ended without a newline.
func (s *outputSink) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endLine()
}

// Tail returns the last tailLimit bytes of output as text.
func (s *outputSink) Tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tail
	if len(t) > tailLimit {
		t = t[len(t)-tailLimit:]
	}
	return strings.ToValidUTF8(string(t), "\uFFFD")
}

// AffinityPass reports whether Boltz has begun its affinity pass, which
// it announces after its structure pass returned.
func (s *outputSink) AffinityPass() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.affinity
}

// OOM reports whether Boltz printed its out-of-memory message.
func (s *outputSink) OOM() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.oom
}

// Failure returns Boltz's reason for not processing the input with this
// stem, if it printed one.
func (s *outputSink) Failure(stem string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.failures[stem]
	return r, ok
}

// LogError returns the first error the request's log returned, if any.
func (s *outputSink) LogError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logErr
}
