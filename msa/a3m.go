package msa

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// QueryHeader is the header of the query record, the first record of the
// A3M Compute returns: the query's number in the submission (ColabFold
// and Boltz number the queries of a submission from 101).
const QueryHeader = ">101"

const (
	queryNumber = 101
	// UnirefFile and EnvFile are the result files Compute merges.
	UnirefFile = "uniref.a3m"
	EnvFile    = "bfd.mgnify30.metaeuk30.smag30.a3m"
)

// record is one A3M record: a header line (with its '>') and a sequence.
type record struct {
	header string
	seq    string
}

// unpackResult reads the wanted files out of a result tar.gz, by base name.
// Files it does not want are skipped; their total size is not limited, the
// wanted files' is (max bytes).
func unpackResult(tgz []byte, want []string, max int64) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, fmt.Errorf("result is not a gzip archive: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	out := make(map[string][]byte, len(want))
	left := max
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("result archive: %w", err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Base(h.Name)
		wanted := false
		for _, w := range want {
			wanted = wanted || w == name
		}
		if !wanted {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(tr, left+1))
		if err != nil {
			return nil, fmt.Errorf("result archive: %s: %w", name, err)
		}
		if int64(len(data)) > left {
			return nil, fmt.Errorf("result archive: alignments larger than %d bytes", max)
		}
		left -= int64(len(data))
		out[name] = data
	}
	for _, w := range want {
		if _, ok := out[w]; !ok {
			return nil, fmt.Errorf("result archive has no %s", w)
		}
	}
	return out, nil
}

// queryLines splits an MMseqs2 a3m result file into each query's lines,
// the way run_mmseqs2 gathers them: a NUL byte ends a query's entry, and
// the first header after it (or at the start of the file) carries the
// query's number; every line up to the next NUL belongs to that query.
// Lines keep neither their newline nor a trailing '\r'; empty lines are
// dropped.
func queryLines(data []byte) (map[int][]string, error) {
	out := map[int][]string{}
	update, m, have := true, 0, false
	for i, line := range strings.Split(string(data), "\n") {
		if strings.IndexByte(line, 0) >= 0 {
			line = strings.ReplaceAll(line, "\x00", "")
			update = true
		}
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if update && strings.HasPrefix(line, ">") {
			n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
			if err != nil {
				return nil, fmt.Errorf("line %d: entry header %q is not a query number", i+1, line)
			}
			m, have, update = n, true, false
		}
		if !have {
			return nil, fmt.Errorf("line %d: text before the first header", i+1)
		}
		out[m] = append(out[m], line)
	}
	return out, nil
}

// records groups lines into header+sequence records; a wrapped sequence's
// lines are joined.
func records(lines []string) ([]record, error) {
	var out []record
	for _, l := range lines {
		if strings.HasPrefix(l, ">") {
			if n := len(out); n > 0 && out[n-1].seq == "" {
				return nil, fmt.Errorf("record %q has no sequence", out[n-1].header)
			}
			out = append(out, record{header: l})
			continue
		}
		if len(out) == 0 {
			return nil, errors.New("sequence before the first header")
		}
		out[len(out)-1].seq += strings.TrimSpace(l)
	}
	if n := len(out); n > 0 && out[n-1].seq == "" {
		return nil, fmt.Errorf("record %q has no sequence", out[n-1].header)
	}
	return out, nil
}

// mergeQuery builds the query's A3M from its entries in the result files,
// in order: every record of the first file, then the others' records
// except copies of the query record (header ">101"). It returns nil when
// the first file has no entry for the query.
func mergeQuery(files [][]byte) ([]byte, error) {
	var b bytes.Buffer
	for i, data := range files {
		byQuery, err := queryLines(data)
		if err != nil {
			return nil, err
		}
		lines := byQuery[queryNumber]
		if i == 0 && len(lines) == 0 {
			return nil, nil
		}
		recs, err := records(lines)
		if err != nil {
			return nil, err
		}
		for j, r := range recs {
			if strings.TrimSpace(r.header) == QueryHeader && (i > 0 || j > 0) {
				continue
			}
			b.WriteString(r.header)
			b.WriteByte('\n')
			b.WriteString(r.seq)
			b.WriteByte('\n')
		}
	}
	return b.Bytes(), nil
}

// A3MError describes why an A3M is unusable.
type A3MError struct {
	Line int // 1-based line of the problem, 0 when it concerns the whole file
	Msg  string
}

func (e *A3MError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("a3m line %d: %s", e.Line, e.Msg)
	}
	return "a3m: " + e.Msg
}

// ValidateA3M checks an uploaded or computed A3M against its query and
// returns the number of sequences (records) in it. It requires what
// Boltz's A3M parser relies on:
//
//   - the file is not empty;
//   - every record is one header line ('>') followed by exactly one
//     sequence line (Boltz reads each line as a sequence, so wrapped
//     sequences are rejected);
//   - sequences hold only A3M characters: upper-case letters (match
//     columns), '-' (deletions) and lower-case letters (insertions);
//   - every sequence has as many match columns (upper-case letters and
//     '-') as the query has residues;
//   - the first record's sequence, without gaps and insertions, is the
//     query (compared upper-cased, whitespace ignored).
//
// Blank lines, a trailing '\r' and lines starting with '#' (comments,
// which Boltz skips) are allowed anywhere.
func ValidateA3M(a3m []byte, query string) (int, error) {
	q := normalize(query)
	if q == "" {
		return 0, &A3MError{Msg: "the query sequence is empty"}
	}
	if len(bytes.TrimSpace(a3m)) == 0 {
		return 0, &A3MError{Msg: "empty file"}
	}
	// Structure first, so a wrapped file is reported as wrapped.
	type seqLine struct {
		line int
		text string
	}
	var seqs []seqLine
	n := 0           // records seen
	needSeq := false // the last header still wants its sequence
	headerLine := 0  // line of the last header
	for i, raw := range bytes.Split(a3m, []byte("\n")) {
		ln := i + 1
		line := string(bytes.TrimRight(raw, "\r"))
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, ">") {
			if needSeq {
				return 0, &A3MError{Line: headerLine, Msg: "header has no sequence"}
			}
			n++
			needSeq, headerLine = true, ln
			continue
		}
		if n == 0 {
			return 0, &A3MError{Line: ln, Msg: "the file does not start with a '>' header"}
		}
		if !needSeq {
			return 0, &A3MError{Line: ln, Msg: fmt.Sprintf("record %d has a second sequence line (wrapped sequences are not supported: one line per sequence)", n)}
		}
		needSeq = false
		seqs = append(seqs, seqLine{ln, line})
	}
	if n == 0 {
		return 0, &A3MError{Msg: "no records"}
	}
	if needSeq {
		return 0, &A3MError{Line: headerLine, Msg: "header has no sequence"}
	}

	for i, s := range seqs {
		match := 0
		var res strings.Builder
		for col, c := range []byte(s.text) {
			switch {
			case c >= 'A' && c <= 'Z':
				match++
				res.WriteByte(c)
			case c == '-':
				match++
			case c >= 'a' && c <= 'z':
			default:
				return 0, &A3MError{Line: s.line, Msg: fmt.Sprintf("invalid character %q at column %d (A3M allows letters and '-')", rune(c), col+1)}
			}
		}
		if i == 0 {
			if got := res.String(); got != q {
				return 0, &A3MError{Line: s.line, Msg: fmt.Sprintf("the first record is not the query: %d residues %s, query has %d residues %s", len(got), abbrev(got), len(q), abbrev(q))}
			}
		}
		if match != len(q) {
			return 0, &A3MError{Line: s.line, Msg: fmt.Sprintf("record %d has %d match columns, the query has %d residues", i+1, match, len(q))}
		}
	}
	return n, nil
}

// normalize upper-cases a sequence and drops its whitespace.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			return -1
		}
		return r
	}, strings.ToUpper(s))
}

// abbrev shortens a sequence for a message.
func abbrev(s string) string {
	if len(s) > 24 {
		return s[:10] + "..." + s[len(s)-10:]
	}
	return s
}
