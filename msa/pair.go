package msa

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Paired MSAs for heteromers, as Boltz computes them.
//
// Boltz's compute_msa (jwohlwend/boltz src/boltz/main.py, commit
// 832486dafed7b80e1246a3fed895e9bb03976558) asks the server for paired
// alignments only when a target has more than one protein entity whose
// MSA is missing (L469-482): one submission of every entity's sequence to
// /ticket/pair (run_mmseqs2 in src/boltz/data/msa/mmseqs2.py, L33) in mode
// "pairgreedy", with "-env" when use_env (L169-177; compute_msa passes
// use_env=True), whose archive holds pair.a3m (L257-258): one
// NUL-separated entry per query, numbered from 101 in submission order
// (L65-69, L270-285), the entries' rows paired by position. Beside it,
// the unpaired alignment of each entity (L484-494). It then writes one
// CSV per entity (L496-522) with columns key,sequence: the paired rows
// first, keyed by their row number, so that rows with one key across
// chains come from one organism's interacting proteins, then the
// unpaired rows keyed -1 (docs/prediction.md L76: "Sequences with the
// same key are mutually aligned"). PairedCSV ports that step.

// Limits of Boltz's CSV step (src/boltz/data/const.py L425-426).
const (
	MaxMSASeqs    = 16384
	MaxPairedSeqs = 8192
)

// PairFile is the result file of a paired submission.
const PairFile = "pair.a3m"

// PairMode is the submission mode of a paired MSA: "pairgreedy" (Boltz's
// default --msa_pairing_strategy, main.py L936-944), with "-env" in env
// mode (mmseqs2.py L169-177).
func (c *Client) PairMode() string {
	if c.UseEnv {
		return "pairgreedy-env"
	}
	return "pairgreedy"
}

// ComputePaired submits the sequences together to /ticket/pair and
// returns each one's paired A3M, in order: its query record (headed
// ">101", ">102", ... by position) then its paired rows, where row k of
// every sequence's A3M belongs to one pairing. The sequences must be
// distinct (Boltz's run_mmseqs2 submits each distinct sequence once,
// mmseqs2.py L188-192); at least two. Errors are those of Compute.
func (c *Client) ComputePaired(ctx context.Context, sequences []string) ([][]byte, error) {
	if len(sequences) < 2 {
		return nil, &InvalidError{Msg: "a paired MSA needs at least two sequences"}
	}
	seqs := make([]string, len(sequences))
	seen := map[string]bool{}
	var q strings.Builder
	for i, s := range sequences {
		seq, err := checkSequence(s)
		if err != nil {
			return nil, err
		}
		if seen[seq] {
			return nil, &InvalidError{Msg: fmt.Sprintf("sequence %d is submitted twice; a paired MSA takes distinct sequences", i+1)}
		}
		seen[seq], seqs[i] = true, seq
		fmt.Fprintf(&q, ">%d\n%s\n", queryNumber+i, seq)
	}
	base, err := c.checkServer()
	if err != nil {
		return nil, err
	}
	return guarded(ctx, c.Guard, func() ([][]byte, error) { return c.computePaired(ctx, base, seqs, q.String()) })
}

// computePaired is ComputePaired past the checks and the guard.
func (c *Client) computePaired(ctx context.Context, base string, seqs []string, q string) ([][]byte, error) {
	log := c.logger().With("key", PairKey(seqs), "chains", len(seqs), "mode", c.PairMode())
	tgz, id, err := c.run(ctx, log, base, endpointPair, q, c.PairMode())
	if err != nil {
		return nil, err
	}
	files, err := unpackResult(tgz, []string{PairFile}, MaxResultBytes)
	if err != nil {
		return nil, &ServerError{Op: opDownload, Msg: "malformed result", Err: err}
	}
	byQuery, err := queryLines(files[PairFile])
	if err != nil {
		return nil, &ServerError{Op: opDownload, Msg: "malformed paired alignment", Err: err}
	}
	out := make([][]byte, len(seqs))
	for i, seq := range seqs {
		recs, err := records(byQuery[queryNumber+i])
		if err != nil {
			return nil, &ServerError{Op: opDownload, Msg: fmt.Sprintf("malformed paired alignment of query %d", queryNumber+i), Err: err}
		}
		if len(recs) == 0 {
			return nil, &InvalidError{Msg: fmt.Sprintf("the msa server's paired result has no alignment for query %d", queryNumber+i)}
		}
		var b bytes.Buffer
		for _, r := range recs {
			b.WriteString(r.header + "\n" + r.seq + "\n")
		}
		if _, err := ValidateA3M(b.Bytes(), seq); err != nil {
			return nil, &InvalidError{Msg: fmt.Sprintf("the msa server's paired alignment of query %d is unusable", queryNumber+i), Err: err}
		}
		out[i] = b.Bytes()
	}
	log.InfoContext(ctx, "paired msa job complete", "ticket", id)
	return out, nil
}

// PairKey names a set of sequences submitted together (in logs): the hex
// SHA-256 of the upper-cased sequences joined by ':'.
func PairKey(sequences []string) string {
	sum := sha256.Sum256([]byte(strings.ToUpper(strings.Join(sequences, ":"))))
	return hex.EncodeToString(sum[:])
}

// PairedKey is the cache key of the Boltz CSV of the index-th of
// sequences, paired with the others as s says: like Key, with every
// sequence in submission order and the chain's place among them, since
// its paired rows depend on all of them.
func (s KeySpec) PairedKey(sequences []string, index int) string {
	return s.key(sequences, index, true)
}

// PairedCacheObject is the GCS object of the index-th sequence's Boltz CSV
// (PairedCSV): "msa/v2/" + s.PairedKey(sequences, index) + ".csv". The
// extension matters: Boltz reads an MSA as CSV or A3M by its file's
// suffix (main.py L615-625).
func (s KeySpec) PairedCacheObject(sequences []string, index int) string {
	return "msa/v2/" + s.PairedKey(sequences, index) + ".csv"
}

// IsPairedObject reports whether a cache object is a paired Boltz CSV.
func IsPairedObject(object string) bool { return strings.HasSuffix(object, ".csv") }

// PairedCSV builds one chain's MSA the way Boltz's compute_msa writes it
// (main.py L496-522), from the chain's paired A3M (ComputePaired) and its
// unpaired A3M (Compute):
//   - the paired rows' sequences, at most MaxPairedSeqs of them (L498-500);
//   - each keyed by its row number, and rows that are all gaps dropped,
//     their numbers with them (L502-504): a chain with no partner in a
//     pairing has a gap row there;
//   - then the unpaired sequences, at most MaxMSASeqs minus the paired
//     rows kept, without the first (the query, already the first paired
//     row) when any paired row is kept (L507-510), keyed -1 (L513-514);
//   - written as "key,sequence" lines joined by "\n", with no final
//     newline (L517-522).
//
// Sequences keep their lower-case insertions and gaps, as Boltz keeps the
// A3M lines. One difference in the input, not in the step: Compute drops
// the environmental file's copy of the query (package doc), which Boltz
// keeps as an unpaired row; Boltz's CSV parser skips a sequence it has
// already read (src/boltz/data/parse/csv.py L56-61), so the model reads
// the same MSA.
func PairedCSV(paired, unpaired []byte) ([]byte, error) {
	p, err := a3mSequences(paired)
	if err != nil {
		return nil, fmt.Errorf("paired a3m: %w", err)
	}
	u, err := a3mSequences(unpaired)
	if err != nil {
		return nil, fmt.Errorf("unpaired a3m: %w", err)
	}
	if len(p) > MaxPairedSeqs {
		p = p[:MaxPairedSeqs]
	}
	var keys []int
	var rows []string
	for k, s := range p {
		if strings.Trim(s, "-") == "" {
			continue
		}
		keys, rows = append(keys, k), append(rows, s)
	}
	if n := MaxMSASeqs - len(rows); len(u) > n {
		u = u[:max(n, 0)]
	}
	if len(rows) > 0 && len(u) > 0 {
		u = u[1:]
	}
	var b bytes.Buffer
	b.WriteString("key,sequence")
	for i, s := range rows {
		fmt.Fprintf(&b, "\n%d,%s", keys[i], s)
	}
	for _, s := range u {
		b.WriteString("\n-1," + s)
	}
	return b.Bytes(), nil
}

// a3mSequences is the sequences of an A3M's records, in order (Boltz
// takes every second line, main.py L499 and L507, which in a one line per
// sequence A3M is the same).
func a3mSequences(a3m []byte) ([]string, error) {
	var lines []string
	for _, l := range strings.Split(string(a3m), "\n") {
		if l = strings.TrimRight(l, "\r"); strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	recs, err := records(lines)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.seq
	}
	return out, nil
}
