package msa_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/omtx-hub/omtx-hub/msa"
)

// FuzzValidateA3M feeds arbitrary files and queries to ValidateA3M and
// checks what it promises: a refusal is an *A3MError naming a line of the
// file (or none); an accepted file counts one record per header, its first
// sequence is the query, every sequence has the query's match columns, and
// the verdict does not depend on CRLF line ends or on the query's case.
func FuzzValidateA3M(f *testing.F) {
	const q = "MKTAYIAKQR"
	for _, s := range []struct{ a3m, query string }{
		{">101\nMKTAYIAKQR\n", q},
		{">101\nMKTAYIAKQR", q},
		{">101\nMKTAYIAKQR\n>hit1 desc\tscore\nMKSAY-AKQR\n>hit2\nmkMKTAYIAgsKQR\n>hit3\n----YIAKQR\n", q},
		{"#A3M#\r\n>101\r\nMKTAYIAKQR\r\n\r\n>h\r\nMKTAYIAKQX\r\n", q},
		{">101\nMKTAYIAKQR\n", " mktay\niakqr "},
		{">101\nMKTAY\nIAKQR\n", q},
		{">101\n>102\nMKTAYIAKQR\n", q},
		{"MKTAYIAKQR\n", q},
		{">101\nMKTAYIAKQR\n>h\nMKTAY*AKQR\n", q},
		{">101\nMKTAYIAKQR\n>h\nMKTAY\n", q},
		{"", q},
		{">101\n\n", ""},
	} {
		f.Add([]byte(s.a3m), s.query)
	}
	f.Fuzz(func(t *testing.T, a3m []byte, query string) {
		n, err := msa.ValidateA3M(a3m, query)
		lines := bytes.Count(a3m, []byte("\n")) + 1
		if err != nil {
			var ae *msa.A3MError
			if !errors.As(err, &ae) {
				t.Fatalf("error %T is not *msa.A3MError", err)
			}
			if ae.Msg == "" || ae.Line < 0 || ae.Line > lines {
				t.Fatalf("error %+v for a file of %d lines", ae, lines)
			}
			if n != 0 {
				t.Fatalf("count %d with an error", n)
			}
		} else {
			checkA3M(t, a3m, query, n)
		}

		// CRLF line ends and the query's case do not change the verdict
		// (for an ASCII query: Unicode case mappings are not round trips,
		// the Kelvin sign lower-cases to k).
		crlf := bytes.ReplaceAll(a3m, []byte("\n"), []byte("\r\n"))
		lower := query
		if isASCII(query) {
			lower = strings.ToLower(query)
		}
		n2, err2 := msa.ValidateA3M(crlf, lower)
		if (err == nil) != (err2 == nil) || n != n2 {
			t.Fatalf("LF: %d, %v; CRLF and lower-case query: %d, %v", n, err, n2, err2)
		}
	})
}

// checkA3M restates the A3M rules for an accepted file.
func checkA3M(t *testing.T, a3m []byte, query string, n int) {
	t.Helper()
	q := strings.ToUpper(strings.Join(strings.Fields(query), ""))
	if q == "" {
		t.Fatalf("accepted with an empty query")
	}
	var content []string
	for _, raw := range strings.Split(string(a3m), "\n") {
		l := strings.TrimRight(raw, "\r")
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "#") {
			content = append(content, l)
		}
	}
	if len(content) != 2*n {
		t.Fatalf("%d records counted in %d content lines", n, len(content))
	}
	for i := 0; i < len(content); i += 2 {
		if !strings.HasPrefix(content[i], ">") || strings.HasPrefix(content[i+1], ">") {
			t.Fatalf("record %d is not a header and one sequence line: %q, %q", i/2+1, content[i], content[i+1])
		}
		match := 0
		var residues strings.Builder
		for _, c := range content[i+1] {
			switch {
			case c >= 'A' && c <= 'Z':
				match++
				residues.WriteRune(c)
			case c == '-':
				match++
			case c >= 'a' && c <= 'z':
			default:
				t.Fatalf("record %d has character %q", i/2+1, c)
			}
		}
		if match != len(q) {
			t.Fatalf("record %d has %d match columns, the query %d residues", i/2+1, match, len(q))
		}
		if i == 0 && residues.String() != q {
			t.Fatalf("first record %q is not the query %q", residues.String(), q)
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
