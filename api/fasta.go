package api

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxProteinNameBytes bounds the name a FASTA header gives a protein.
const maxProteinNameBytes = 200

// splitFASTA reads protein_sequence as a FASTA record when it starts with
// '>': the header line is the protein's name (control characters dropped,
// cut to maxProteinNameBytes) and the lines after it, without their
// whitespace, the sequence. Anything else is the sequence as sent, with no
// name. A second header stays in the sequence, which validation then
// refuses.
func splitFASTA(s string) (name, seq string) {
	t := strings.TrimSpace(s)
	header, ok := strings.CutPrefix(t, ">")
	if !ok {
		return "", s
	}
	rest := ""
	if i := strings.IndexByte(header, '\n'); i >= 0 {
		header, rest = header[:i], header[i+1:]
	}
	name = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(header, "")))
	if len(name) > maxProteinNameBytes {
		cut := maxProteinNameBytes
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut]
	}
	return name, strings.Join(strings.Fields(rest), "")
}
