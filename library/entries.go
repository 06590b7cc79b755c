package library

import (
	"fmt"

	"github.com/omtx-hub/omtx-hub/omtx"
)

// FromEntries validates library entries taken from an earlier batch (its
// children, for a rerun): each keeps its name, SMILES and metadata
// columns; rows are numbered anew from 1 and indexes from 0, in the
// order given. The names of one batch are unique already, so none is
// renamed. The library reads its rows from es, which must not change
// while it is used.
func FromEntries(es []omtx.LibraryEntry, opt Options) (*Library, error) {
	if len(es) == 0 {
		return nil, errEmpty("no ligands to run")
	}
	if len(es) > MaxLigands {
		return nil, TooMany()
	}
	return finish(len(es), func(i int) rawRow {
		e := es[i]
		r := rawRow{line: i + 1, name: e.Name, smiles: e.SMILES, metadata: e.Metadata}
		if n := len(e.Name) + len(e.SMILES); n > MaxRowBytes {
			r.problem = fmt.Sprintf("is %d bytes, more than %d", n, MaxRowBytes)
		}
		return r
	}, opt)
}
