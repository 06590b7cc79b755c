// Package msatest runs a local, ColabFold-compatible MMseqs2 API for tests:
// POST /ticket/msa, POST /ticket/pair, GET /ticket/{id} and
// GET /result/download/{id}, as the soedinglab/MMseqs2-App server answers
// them.
//
// It aligns nothing. For every query it returns a small, deterministic,
// well-formed A3M: the query itself, then UnirefHits (and, in env mode,
// EnvHits) synthetic "homologs" made from the query by point mutations,
// one with a deletion ('-') and one with an insertion (lower case). Their
// headers say they are synthetic test hits. The result is a tar.gz with
// uniref.a3m and, in env mode, bfd.mgnify30.metaeuk30.smag30.a3m, each an
// MMseqs2-style file whose per-query entries end with a NUL byte.
//
// A paired job (/ticket/pair, mode "pairgreedy" or "paircomplete", with
// "-env" or not) returns pair.a3m instead: one entry per query, each its
// own query record then PairedHits synthetic hits, row k of every entry
// standing for one pairing, as Boltz's and ColabFold's clients read it
// (jwohlwend/boltz src/boltz/data/msa/mmseqs2.py L257-285). Like the live
// API's greedy pairing, every query has the same number of rows and none
// is all gaps.
//
// A Server is safe for concurrent use.
package msatest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Numbers of synthetic hits per query in each result file.
const (
	UnirefHits = 3
	EnvHits    = 2
	PairedHits = 2
)

// HitPrefix starts the header of every synthetic hit.
const HitPrefix = ">msatest_"

// Options configure a Server.
type Options struct {
	// RequireAuth is the "Name: value" header every request must carry;
	// "" requires none. Requests without it get HTTP 401.
	RequireAuth string
	// RateLimitFirst answers the first N (otherwise valid) submissions
	// with HTTP 429, Retry-After: 1 and {"status":"RATELIMIT"}, like the
	// server's rate limiter.
	RateLimitFirst int
	// PendingPolls is how many status polls of a job report RUNNING
	// before it reaches its final status.
	PendingPolls int
	// FinalStatus is the status a job reaches after PendingPolls polls:
	// "" means COMPLETE; "ERROR" makes every job fail.
	FinalStatus string
	// SubmitStatus, if set (e.g. "ERROR", "MAINTENANCE", "RATELIMIT"),
	// answers every submission with HTTP 200 and {"status": SubmitStatus}
	// and no job.
	SubmitStatus string
}

// Server is a running test MSA server.
type Server struct {
	URL string

	opts Options
	srv  *httptest.Server

	mu          sync.Mutex
	submissions int
	pairs       int
	rateLimited int
	downloads   int
	sequences   []string
	userAgents  []string
	jobs        map[string]*job
}

type job struct {
	queries []query
	env     bool
	paired  bool
	polls   int
}

type query struct {
	id  string
	seq string
}

// New starts a Server; it is closed when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, jobs: map[string]*job{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ticket/msa", s.submit)
	mux.HandleFunc("POST /ticket/pair", s.submit)
	mux.HandleFunc("GET /ticket/{id}", s.status)
	mux.HandleFunc("GET /result/download/{id}", s.download)
	s.srv = httptest.NewServer(s.auth(mux))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Close stops the server early (New's cleanup also closes it).
func (s *Server) Close() { s.srv.Close() }

// Submissions is how many MSA jobs were submitted: submissions answered
// with a ticket (not rate limited, not rejected).
func (s *Server) Submissions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.submissions
}

// PairSubmissions is how many of the Submissions were paired jobs
// (/ticket/pair).
func (s *Server) PairSubmissions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pairs
}

// RateLimited is how many submissions were answered RATELIMIT.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLimited
}

// Downloads is how many results were downloaded.
func (s *Server) Downloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.downloads
}

// Sequences are the query sequences of the submitted jobs, in order.
func (s *Server) Sequences() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sequences...)
}

// UserAgents are the User-Agent headers of all requests that passed the
// auth check, in order.
func (s *Server) UserAgents() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.userAgents...)
}

func (s *Server) auth(next http.Handler) http.Handler {
	name, value, _ := strings.Cut(s.opts.RequireAuth, ":")
	name, value = strings.TrimSpace(name), strings.TrimSpace(value)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if name != "" && r.Header.Get(name) != value {
			http.Error(w, "msatest: missing or wrong "+name+" header", http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		s.userAgents = append(s.userAgents, r.Header.Get("User-Agent"))
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

type ticket struct {
	ID     string `json:"id,omitempty"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func (s *Server) submit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	queries, err := parseQuery(r.FormValue("q"))
	if err != nil {
		http.Error(w, "msatest: "+err.Error(), http.StatusBadRequest)
		return
	}
	mode := r.FormValue("mode")
	if mode == "" {
		http.Error(w, "msatest: no mode", http.StatusBadRequest)
		return
	}
	env := false
	for _, m := range strings.Split(mode, "-") {
		env = env || m == "env"
	}
	paired := r.URL.Path == "/ticket/pair"
	if paired != strings.HasPrefix(mode, "pair") {
		http.Error(w, "msatest: mode "+mode+" does not fit "+r.URL.Path, http.StatusBadRequest)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rateLimited < s.opts.RateLimitFirst {
		s.rateLimited++
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, ticket{Status: "RATELIMIT", Reason: "msatest: rate limited"})
		return
	}
	if s.opts.SubmitStatus != "" {
		if s.opts.SubmitStatus == "RATELIMIT" {
			s.rateLimited++
		}
		writeJSON(w, http.StatusOK, ticket{Status: s.opts.SubmitStatus})
		return
	}
	s.submissions++
	if paired {
		s.pairs++
	}
	h := sha256.Sum256([]byte(r.FormValue("q") + mode))
	id := fmt.Sprintf("msatest-%d-%s", s.submissions, hex.EncodeToString(h[:6]))
	s.jobs[id] = &job{queries: queries, env: env, paired: paired}
	for _, q := range queries {
		s.sequences = append(s.sequences, q.seq)
	}
	writeJSON(w, http.StatusOK, ticket{ID: id, Status: "PENDING"})
}

// jobStatus is a job's status after its polls so far; s.mu is held.
func (s *Server) jobStatus(j *job) string {
	if j.polls <= s.opts.PendingPolls {
		return "RUNNING"
	}
	if s.opts.FinalStatus != "" {
		return s.opts.FinalStatus
	}
	return "COMPLETE"
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	j, ok := s.jobs[id]
	var st string
	if ok {
		j.polls++
		st = s.jobStatus(j)
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "msatest: unknown ticket "+id, http.StatusBadRequest)
		return
	}
	writeJSON(w, http.StatusOK, ticket{ID: id, Status: st})
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	j, ok := s.jobs[id]
	complete := ok && j.polls > 0 && s.jobStatus(j) == "COMPLETE"
	if complete {
		s.downloads++
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "msatest: unknown ticket "+id, http.StatusBadRequest)
		return
	}
	if !complete {
		http.Error(w, "Job is not complete", http.StatusBadRequest)
		return
	}
	tgz, err := result(j.queries, j.env)
	if j.paired {
		tgz, err = pairResult(j.queries)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="mmseqs_results_`+id+`.tar.gz"`)
	_, _ = w.Write(tgz)
}

// parseQuery parses a submission's FASTA: ">ID\nSEQUENCE\n" records,
// upper-case letters only.
func parseQuery(q string) ([]query, error) {
	var out []query
	for _, line := range strings.Split(strings.ReplaceAll(q, "\r", ""), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case strings.HasPrefix(line, ">"):
			out = append(out, query{id: strings.TrimSpace(line[1:])})
		case len(out) == 0:
			return nil, fmt.Errorf("query does not start with a header")
		default:
			for _, c := range []byte(line) {
				if c < 'A' || c > 'Z' {
					return nil, fmt.Errorf("invalid residue %q in query %s", c, out[len(out)-1].id)
				}
			}
			out[len(out)-1].seq += line
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("empty query")
	}
	for _, q := range out {
		if q.id == "" || q.seq == "" {
			return nil, fmt.Errorf("query %q has no id or no sequence", q.id)
		}
	}
	return out, nil
}

// result builds the tar.gz the server returns for queries: uniref.a3m, in
// env mode bfd.mgnify30.metaeuk30.smag30.a3m, and msa.sh.
func result(queries []query, env bool) ([]byte, error) {
	var uniref, environmental strings.Builder
	for _, q := range queries {
		uniref.WriteString(entry(q, "uniref", UnirefHits))
		environmental.WriteString(entry(q, "env", EnvHits))
	}
	files := []struct{ name, data string }{{"uniref.a3m", uniref.String()}}
	if env {
		files = append(files, struct{ name, data string }{"bfd.mgnify30.metaeuk30.smag30.a3m", environmental.String()})
	}
	files = append(files, struct{ name, data string }{"msa.sh", "#!/bin/sh\n# msatest: synthetic result, no search was run\n"})
	return archive(files)
}

// pairResult builds the tar.gz of a paired job: pair.a3m and msa.sh.
func pairResult(queries []query) ([]byte, error) {
	var pair strings.Builder
	for _, q := range queries {
		pair.WriteString(entry(q, "pair", PairedHits))
	}
	return archive([]struct{ name, data string }{
		{"pair.a3m", pair.String()},
		{"msa.sh", "#!/bin/sh\n# msatest: synthetic paired result, no search was run\n"},
	})
}

// archive writes files into a tar.gz.
func archive(files []struct{ name, data string }) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			return nil, err
		}
		if _, err := tw.Write([]byte(f.data)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ResultFor is the tar.gz the server returns for one query numbered 101
// (the way msa.Client submits), for tests that serve results themselves.
func ResultFor(sequence string, env bool) ([]byte, error) {
	return result([]query{{id: "101", seq: sequence}}, env)
}

// PairedAlignment is the A3M text (without the NUL terminator) of query
// number id in a paired job's pair.a3m: the query record followed by
// PairedHits synthetic hits, one per pairing row.
func PairedAlignment(id, sequence string) string {
	return strings.TrimSuffix(entry(query{id: id, seq: sequence}, "pair", PairedHits), "\x00")
}

// Alignment is the A3M text (without the NUL terminator) that the server
// returns for a query in one database ("uniref" or "env"): the query record
// followed by n synthetic hits.
func Alignment(id, sequence, db string, n int) string {
	return strings.TrimSuffix(entry(query{id: id, seq: sequence}, db, n), "\x00")
}

// entry is one query's MMseqs2-style a3m entry for a database, ending with
// the NUL byte that separates entries.
func entry(q query, db string, n int) string {
	var b strings.Builder
	b.WriteString(">" + q.id + "\n" + q.seq + "\n")
	for i := 1; i <= n; i++ {
		hit, what := homolog(q.seq, db, i)
		fmt.Fprintf(&b, "%s%s_%d synthetic test hit, not a real homolog: %s\n%s\n", HitPrefix, db, i, what, hit)
	}
	b.WriteByte(0)
	return b.String()
}

const aminoAcids = "ACDEFGHIKLMNPQRSTVWY"

// homolog derives the i-th synthetic hit of seq in db: a few point
// mutations chosen by hashing, plus, for i = 2, a deletion ('-') and, for
// i = 3, a two-residue insertion (lower case). Every hit keeps the query's
// number of match columns.
func homolog(seq, db string, i int) (string, string) {
	h := sha256.Sum256([]byte(db + "/" + strconv.Itoa(i) + "/" + seq))
	row := []byte(seq)
	muts := 1 + i%3
	if muts > len(row) {
		muts = len(row)
	}
	for k := 0; k < muts; k++ {
		pos := (int(h[2*k])<<8 | int(h[2*k+1])) % len(row)
		aa := aminoAcids[int(h[16+k])%len(aminoAcids)]
		if aa == row[pos] {
			aa = aminoAcids[(int(h[16+k])+1)%len(aminoAcids)]
		}
		row[pos] = aa
	}
	what := fmt.Sprintf("%d point mutation(s) of the query", muts)
	out := string(row)
	switch {
	case i == 2 && len(row) > 1:
		pos := int(h[24]) % len(row)
		out = out[:pos] + "-" + out[pos+1:]
		what += ", one deletion"
	case i == 3:
		pos := int(h[25])%len(row) + 1
		out = out[:pos] + "gs" + out[pos:]
		what += ", one insertion"
	}
	return out, what
}
