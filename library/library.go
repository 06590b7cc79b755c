// Package library reads and validates the ligand library of a batch virtual
// screen: one protein against hundreds to tens of thousands of small
// molecules. A library arrives as JSON objects ({name, smiles}, see
// FromLigands) or as an uploaded file in a format chemists export (see
// Parse): delimited text with a header row (.csv, .tsv, .txt; comma,
// semicolon, tab or pipe, detected), a .smi file with one "SMILES name" per
// line, an SD file (.sdf, V2000 or V3000 molfiles with data items, each
// record written as SMILES), or an Excel workbook (.xlsx).
//
// Every row is checked with the same functions that check a single
// prediction (validate.LigandFor and validate.LigandName), so a ligand that
// would be refused on its own is refused in a library too; each valid
// SMILES is parsed once more, with RDKit's perception, for its identity
// (see Names and duplicates; about 0.1 ms for a drug-sized ligand).
//
// # Filters
//
// With Options.Filters each valid row's modelled molecule (a salt's
// parent, as the model runs it) goes through the batch's filters
// (package filters) by Filter, the function the estimate uses too. A row
// that breaks a rule is kept, with Entry.FilterRule naming the rule: its
// child is filtered, never sent to a GPU. The substructure search is
// bounded per molecule (chem.DefaultMatchBudget steps); a molecule whose
// search runs out is not filtered, and its row gets a warning saying so.
//
// # Limits
//
// A library holds at most MaxLigands rows and an uploaded file at most
// MaxFileBytes bytes; beyond either the library is refused with code
// omtx.ETooLarge (field "ligands" or "file"). An empty library is refused
// with omtx.EInvalid, field "ligands". Metadata columns are bounded in
// number, name length and cell size, and names Firestore reserves
// (__name__) are refused; a row over MaxRowBytes is an invalid row.
//
// # Invalid rows
//
// By default a library with any invalid row is refused as a whole with an
// *InvalidError that lists every problem (row number, field, reason), not
// just the first. With Options.SkipInvalid the invalid rows are kept as
// entries whose Error says why, so that they become failed children of the
// batch; the rest run. A library in which every row is invalid is refused
// even then, since the batch would have nothing to run.
//
// Row numbers are those a user sees in the file: for CSV and TSV the header
// is row 1, so the first data row is row 2; for .xlsx they are Excel's row
// numbers; for .smi files they are line numbers (comments and blank lines
// count); for SD files they are record numbers (a refused record's reason
// also names the file's line); for JSON input they are the 1-based
// position in the list.
//
// # Names and duplicates
//
// A row without a name is called "Ligand_N", where N is its 1-based
// position among the data rows (Entry.Index+1); Library.GeneratedNames
// counts them, so that the API can warn. Duplicate names are made
// unique rather than refused (see Dedupe): names are compared exactly
// (case-sensitive, after trimming and defaulting); the first row with a
// name keeps it, and each later row with the same name gets " (2)",
// " (3)", ... appended, taking the smallest number whose result is not
// already a name in the library. So a library "X", "X (2)", "X" becomes
// "X", "X (2)", "X (3)".
//
// Library.Duplicates reports the valid rows that give the same molecule,
// with their rows; they all still run. Rows are compared by the canonical
// identity of the SMILES as submitted (chem.Identity), not by the parent
// that Boltz would model after standardization: Kekulé and aromatic
// spellings, or two atom orders, of one molecule are one structure, while
// a salt and its free acid, or two stereoisomers, are two.
package library

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/filters"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/validate"
)

// Limits on a library. Each is checked while the file is read, before any
// work starts, and a library beyond one is refused with the field (and the
// row) that broke it.
const (
	MaxLigands   = 100_000  // rows per batch
	MaxFileBytes = 32 << 20 // bytes of an uploaded library file
	// MaxMetadataColumns bounds the extra (metadata) columns of a CSV or
	// TSV library, MaxColumnNameBytes the length of each column name, and
	// MaxCellBytes the length of each metadata cell: together they bound
	// what a row adds to its child document and to batch_results.csv.
	MaxMetadataColumns = 32
	MaxColumnNameBytes = 64
	MaxCellBytes       = 512
	// MaxRowBytes bounds a whole data row (SMILES, name and metadata).
	MaxRowBytes = 8 << 10

	// MaxProblems is how many problems an InvalidError lists; the rest are
	// counted in InvalidError.More.
	MaxProblems = 1000
)

// Entry is one library row after validation.
type Entry struct {
	// Index is the 0-based position in the library, counting data rows
	// only (no header, comments or blank lines).
	Index int
	// Row is the 1-based row or line number in the source file, for error
	// messages; for JSON input it is Index+1.
	Row int
	// Name is unique within the library (see Dedupe).
	Name string
	// SMILES is trimmed and validated (for invalid rows: trimmed, as given).
	SMILES string
	// ModelledSMILES is the molecule the model runs
	// (validate.Ligand.ModelledSMILES) where it is written otherwise than
	// SMILES: for Boltz-2 a salt's parent. Empty when the model runs SMILES
	// as written, and for invalid rows.
	ModelledSMILES string
	// Metadata holds the other CSV columns by header name; nil for .smi
	// files, JSON input, and CSV files without extra columns.
	Metadata map[string]string
	// Error is set when the row is invalid and skipping was requested,
	// e.g. "smiles: invalid SMILES: at position 3: unclosed ring bond 1".
	// Name and SMILES then keep what was given, as far as it can be stored
	// and shown: the SMILES made valid UTF-8 and cut to MaxRowBytes, the
	// name only if validate.LigandName accepts it (else "Ligand_N").
	Error string
	// Renamed is true when Dedupe changed Name to make it unique.
	Renamed bool
	// HeavyAtoms counts the ligand's heavy atoms (0 for invalid rows), and
	// Warnings are what validate.LigandFor said about it.
	HeavyAtoms int
	Warnings   []string
	// FilterRule names the rule of Options.Filters the row matched;
	// empty when it passed (and for invalid rows).
	FilterRule string
}

// Problem is one problem of an invalid row. Field is "smiles" or "name",
// or "row" when the row itself is malformed (a CSV row with the wrong
// number of fields).
type Problem struct {
	Row    int    `json:"row"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// InvalidError lists every problem of an invalid library: up to
// MaxProblems of them, then a count of the rest in More.
//
// It unwraps to an *omtx.Error with code omtx.EInvalid and field
// "ligands", so omtx.ErrorCode and errors.As see an input error.
type InvalidError struct {
	Problems []Problem
	More     int
}

// Total is the number of problems, listed or not.
func (e *InvalidError) Total() int { return len(e.Problems) + e.More }

// Error summarises the problems, naming the first few.
func (e *InvalidError) Error() string {
	return "ligands: " + e.message()
}

// Unwrap returns the equivalent domain error.
func (e *InvalidError) Unwrap() error {
	return &omtx.Error{Code: omtx.EInvalid, Field: "ligands", Message: e.message()}
}

func (e *InvalidError) message() string {
	const shown = 3
	var b strings.Builder
	n := e.Total()
	if n == 1 {
		b.WriteString("1 invalid entry: ")
	} else {
		fmt.Fprintf(&b, "%d invalid entries: ", n)
	}
	for i, p := range e.Problems {
		if i == shown {
			break
		}
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "row %d: %s: %s", p.Row, p.Field, p.Reason)
	}
	if n > shown {
		fmt.Fprintf(&b, "; and %d more", n-shown)
	}
	return b.String()
}

// Options control how a library is checked.
type Options struct {
	// SkipInvalid keeps invalid rows as entries with Error set instead of
	// refusing the library.
	SkipInvalid bool
	// Model is the model that will run the ligands: its own limits apply
	// (validate.LigandFor).
	Model string
	// Sheet names the sheet of an .xlsx workbook to read (compared
	// ignoring case); empty reads the first sheet.
	Sheet string
	// Filters, when set, are applied to every valid row (see Filter).
	Filters *filters.Compiled
}

// Library is a validated library. It keeps the rows as read and what
// validation found (each row's final name, heavy-atom count, and the error
// or warnings of the few rows that have them), and makes each Entry only
// when asked (Each, WriteJSON): 100,000 entries are never held at once.
type Library struct {
	n     int
	rowAt func(int) rawRow
	names []string // final, unique names
	// renamed marks the rows Dedupe renamed; heavy is each row's heavy
	// atom count (0 for invalid rows).
	renamed []bool
	heavy   []int32
	errs    map[int]string
	warns   map[int][]string
	// modelled holds the modelled SMILES of the rows whose modelled
	// molecule is written otherwise than submitted (salts, charged
	// forms); the others model their SMILES as written.
	modelled map[int]string
	// filtered holds the rule each filtered row matched; hits counts the
	// rows by rule.
	filtered map[int]string
	hits     map[string]int

	invalid, renamedN, maxHeavy, warnings int
	// generated counts the rows named "Ligand_N" because they had no
	// name; dups lists the valid rows (by index) that repeat an earlier
	// row's molecule, grouped under the first such row's index, and dupID
	// is that molecule's identity.
	generated int
	dupFirst  []int
	dups      map[int][]int
	dupID     map[int]string
}

// Len is the number of entries, invalid ones kept (Options.SkipInvalid)
// included.
func (l *Library) Len() int { return l.n }

// Invalid is the number of entries kept with an Error.
func (l *Library) Invalid() int { return l.invalid }

// Filtered is the number of entries the filters held back.
func (l *Library) Filtered() int { return len(l.filtered) }

// FilterHits counts the filtered entries by the rule they matched.
func (l *Library) FilterHits() map[string]int { return l.hits }

// Renamed is the number of entries Dedupe renamed.
func (l *Library) Renamed() int { return l.renamedN }

// GeneratedNames is the number of entries that had no name and were
// called "Ligand_N": the API's 202 can warn about it, since such names
// cannot be traced back to the user's compounds.
func (l *Library) GeneratedNames() int { return l.generated }

// Duplicate is one structure that several valid entries give, by
// canonical identity (chem.Identity of the submitted SMILES: "OCC" and
// "CCO", or Kekulé and aromatic aspirin, are one structure). SMILES is the
// first entry's SMILES as written (trimmed), Identity the canonical SMILES
// they share; Rows are the entries' Entry.Row values, in library order,
// and Indexes their Entry.Index values.
type Duplicate struct {
	SMILES   string `json:"smiles"`
	Identity string `json:"identity"`
	Rows     []int  `json:"rows"`
	Indexes  []int  `json:"-"`
}

// Duplicates lists the structures given by more than one valid entry, in
// the order of their first entry. Every entry still runs; this is a
// report.
func (l *Library) Duplicates() []Duplicate {
	out := make([]Duplicate, 0, len(l.dupFirst))
	for _, first := range l.dupFirst {
		idx := append([]int{first}, l.dups[first]...)
		d := Duplicate{SMILES: strings.TrimSpace(l.rowAt(first).smiles), Identity: l.dupID[first], Indexes: idx}
		for _, i := range idx {
			d.Rows = append(d.Rows, l.rowAt(i).line)
		}
		out = append(out, d)
	}
	return out
}

// MaxHeavyAtoms is the heavy-atom count of the largest valid ligand.
func (l *Library) MaxHeavyAtoms() int { return l.maxHeavy }

// Warnings returns up to max of the entries' warnings, in library order,
// and how many there are in all.
func (l *Library) Warnings(max int) (first []string, total int) {
	for i := 0; i < l.n && len(first) < max; i++ {
		for _, w := range l.warns[i] {
			if len(first) < max {
				first = append(first, w)
			}
		}
	}
	return first, l.warnings
}

// Entry makes entry i.
func (l *Library) Entry(i int) Entry {
	r := l.rowAt(i)
	e := Entry{
		Index: i, Row: r.line, Name: l.names[i], Metadata: r.metadata,
		Renamed: l.renamed[i], HeavyAtoms: int(l.heavy[i]), Warnings: l.warns[i],
	}
	if msg, bad := l.errs[i]; bad {
		e.Error = msg
		e.SMILES = clip(strings.ToValidUTF8(strings.TrimSpace(r.smiles), "\uFFFD"), MaxRowBytes)
	} else {
		e.SMILES = strings.TrimSpace(r.smiles) // as validate.LigandFor accepted it
		e.ModelledSMILES = l.modelled[i]
		e.FilterRule = l.filtered[i]
	}
	return e
}

// Each calls fn with every entry in library order, stopping at fn's first
// error.
func (l *Library) Each(fn func(Entry) error) error {
	for i := range l.n {
		if err := fn(l.Entry(i)); err != nil {
			return err
		}
	}
	return nil
}

// Entries makes every entry at once: for small libraries and tests.
func (l *Library) Entries() []Entry {
	out := make([]Entry, 0, l.n)
	_ = l.Each(func(e Entry) error { out = append(out, e); return nil })
	return out
}

// WriteJSON writes the library as batches/{id}/ligands.json holds it: a
// JSON array of omtx.LibraryEntry, one entry at a time, byte for byte what
// json.Marshal makes of the whole slice.
func (l *Library) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	if err := bw.WriteByte('['); err != nil {
		return err
	}
	err := l.Each(func(e Entry) error {
		if e.Index > 0 {
			if err := bw.WriteByte(','); err != nil {
				return err
			}
		}
		b, err := json.Marshal(omtx.LibraryEntry{Index: e.Index, Row: e.Row, Name: e.Name, SMILES: e.SMILES, ModelledSMILES: e.ModelledSMILES, Metadata: e.Metadata, Error: e.Error, Warnings: e.Warnings, FilterRule: e.FilterRule})
		if err != nil {
			return err
		}
		_, err = bw.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	if err := bw.WriteByte(']'); err != nil {
		return err
	}
	return bw.Flush()
}

// FromLigands validates ligands given as JSON objects {name, smiles}. The
// library reads its rows from ls, which must not change while it is used.
func FromLigands(ls []omtx.Ligand, opt Options) (*Library, error) {
	if len(ls) == 0 {
		return nil, errEmpty("the request lists no ligands")
	}
	if len(ls) > MaxLigands {
		return nil, TooMany()
	}
	// Rows are made one at a time from the ligands, never all at once
	// beside them.
	return finish(len(ls), func(i int) rawRow {
		l := ls[i]
		r := rawRow{line: i + 1, name: l.Name, smiles: l.SMILES}
		if n := len(l.Name) + len(l.SMILES); n > MaxRowBytes {
			r.problem = fmt.Sprintf("is %d bytes, more than %d", n, MaxRowBytes)
		}
		return r
	}, opt)
}

// Dedupe makes names unique in place, by the rule in the package
// documentation: the first with a name keeps it, later ones get " (2)",
// " (3)", ... appended, choosing the smallest number whose result is no
// other name. It returns which names it changed, and how many.
func Dedupe(names []string) (renamed []bool, n int) {
	// One map of every name: taken by some row, or also kept (by the row
	// that holds it now).
	const taken, kept = 1, 2
	state := make(map[string]uint8, len(names))
	for _, name := range names {
		state[name] = taken
	}
	renamed = make([]bool, len(names))
	next := make(map[string]int)
	for i, name := range names {
		if state[name] != kept {
			state[name] = kept
			continue
		}
		k := next[name]
		if k < 2 {
			k = 2
		}
		var cand string
		for {
			cand = suffixed(name, k)
			k++
			if state[cand] == 0 {
				break
			}
		}
		next[name] = k
		state[cand] = kept
		names[i] = cand
		renamed[i] = true
		n++
	}
	return renamed, n
}

// suffixed appends " (n)" to name, shortening a name that fits the name
// limit so that the result fits too.
func suffixed(name string, n int) string {
	suffix := fmt.Sprintf(" (%d)", n)
	if len(name) <= validate.MaxLigandNameLength && len(name)+len(suffix) > validate.MaxLigandNameLength {
		cut := validate.MaxLigandNameLength - len(suffix)
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = strings.TrimRight(name[:cut], " ")
	}
	return name + suffix
}

// rawRow is one data row as read, before validation.
type rawRow struct {
	line     int // Entry.Row
	name     string
	smiles   string
	metadata map[string]string
	problem  string // set for a malformed row (Problem field "row")
}

// finish validates n rows, names and dedupes them, and applies the
// invalid-row policy. n is positive and within MaxLigands; rowAt(i) is
// row i, and must return the same row each time.
func finish(n int, rowAt func(int) rawRow, opt Options) (*Library, error) {
	l := &Library{
		n: n, rowAt: rowAt, names: make([]string, n), heavy: make([]int32, n),
		errs: map[int]string{}, warns: map[int][]string{}, modelled: map[int]string{},
		filtered: map[int]string{}, hits: map[string]int{},
	}
	var problems []Problem
	more := 0
	firstOf := make(map[string]int32)
	l.dups = map[int][]int{}
	l.dupID = map[int]string{}
	addProblem := func(p Problem) {
		if len(problems) < MaxProblems {
			problems = append(problems, p)
		} else {
			more++
		}
	}
	for i := range n {
		r := rowAt(i)
		def := "Ligand_" + strconv.Itoa(i+1)
		var errs []string
		if r.problem != "" {
			// A malformed row's columns cannot be trusted; report only that.
			addProblem(Problem{Row: r.line, Field: "row", Reason: r.problem})
			errs = append(errs, "row: "+r.problem)
		} else {
			lig, err := validate.LigandFor(opt.Model, "smiles", r.smiles)
			if err != nil {
				addProblem(problemOf(r.line, "smiles", err))
				errs = append(errs, err.Error())
			}
			if _, err := validate.LigandName("name", r.name, def); err != nil {
				addProblem(problemOf(r.line, "name", err))
				errs = append(errs, err.Error())
			}
			if len(errs) == 0 {
				l.heavy[i] = int32(lig.HeavyAtoms)
				if lig.ModelledSMILES != lig.SMILES {
					l.modelled[i] = lig.ModelledSMILES
				}
				l.maxHeavy = max(l.maxHeavy, lig.HeavyAtoms)
				for _, w := range lig.Warnings {
					l.warns[i] = append(l.warns[i], strings.Replace(w, "smiles", fmt.Sprintf("row %d smiles", r.line), 1))
				}
				l.warnings += len(lig.Warnings)
				if rule, warn := Filter(opt.Filters, lig.ModelledSMILES); rule != "" {
					l.filtered[i] = rule
					l.hits[rule]++
				} else if warn != "" {
					l.warns[i] = append(l.warns[i], fmt.Sprintf("row %d %s", r.line, warn))
					l.warnings++
				}
				id := identity(strings.TrimSpace(r.smiles))
				if f, seen := firstOf[id]; seen {
					if len(l.dups[int(f)]) == 0 {
						l.dupFirst = append(l.dupFirst, int(f))
						l.dupID[int(f)] = id
					}
					l.dups[int(f)] = append(l.dups[int(f)], i)
				} else {
					firstOf[id] = int32(i)
				}
			}
		}
		// An invalid row keeps its name when the name is valid.
		name, err := validate.LigandName("name", r.name, def)
		if err != nil {
			name = def
		}
		if name == def && strings.TrimSpace(r.name) == "" {
			l.generated++
		}
		l.names[i] = name
		if len(errs) > 0 {
			l.invalid++
			l.errs[i] = strings.Join(errs, "; ")
		}
	}
	if l.invalid > 0 && (!opt.SkipInvalid || l.invalid == n) {
		return nil, &InvalidError{Problems: problems, More: more}
	}
	l.renamed, l.renamedN = Dedupe(l.names)
	return l, nil
}

// Filter applies a batch's filters to one valid ligand, given as the
// molecule the model runs (validate.Ligand.ModelledSMILES): rule names
// the rule it broke, or is empty when it passed. A search that ran out of
// its step budget filters nothing and says so in warn. The API's batch
// (through Options.Filters) and its estimate both filter with it.
func Filter(c *filters.Compiled, modelled string) (rule, warn string) {
	if c == nil {
		return "", ""
	}
	matched, rule, err := c.Evaluate(modelled)
	switch {
	case err != nil && filters.IsBudgetExceeded(err):
		return "", fmt.Sprintf("filters: %v; the ligand was not filtered", err)
	case err != nil:
		// Validation parsed this SMILES already; should the filters'
		// parser ever refuse it, the ligand runs, and the row says why.
		return "", fmt.Sprintf("filters: not applied: %v", err)
	case matched:
		return rule, ""
	}
	return "", ""
}

// identity is the canonical identity of a SMILES string that validation
// accepted; chem.Identity refuses only what ParseSMILES refuses, so the
// string itself stands in should that ever differ.
func identity(smiles string) string {
	id, err := chem.Identity(smiles)
	if err != nil {
		return smiles
	}
	return id
}

// clip cuts s to at most n bytes, at a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// problemOf turns a validate error into a Problem.
func problemOf(row int, field string, err error) Problem {
	reason := err.Error()
	var de *omtx.Error
	if errors.As(err, &de) {
		reason = de.Message
	}
	return Problem{Row: row, Field: field, Reason: reason}
}

func errEmpty(why string) error {
	return omtx.Errorf(omtx.EInvalid, "ligands", "is empty: %s", why)
}

// TooMany is the error for a library of more than MaxLigands rows.
func TooMany() error {
	return omtx.Errorf(omtx.ETooLarge, "ligands", "has more than %d ligands, the limit per batch; split the library into several batches", MaxLigands)
}
