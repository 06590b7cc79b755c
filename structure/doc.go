// Package structure reads the predicted complexes that Boltz-2 writes as
// mmCIF and converts them to PDB format, the "alternative format" stored
// next to structure.cif as structure.pdb. It is pure Go with no
// dependencies beyond the standard library.
//
// # Reading mmCIF
//
// ParseCIF reads the _atom_site table of the first data block of an mmCIF
// (CIF 1.1 syntax) file into a Structure. Columns may come in any order and
// any of them except Cartn_x, Cartn_y and Cartn_z may be absent. The
// tokenizer understands comments, 'single' and "double" quoted values
// (a quote closes a value only when followed by whitespace, so O5' is one
// value), semicolon text fields (read and ignored outside _atom_site), the
// loop_, data_, save_, global_ and stop_ reserved words, and unquoted '.'
// and '?' as missing values. A one-atom table written as tag/value pairs
// instead of a loop_ is accepted too.
//
// Per atom, the chain is auth_asym_id, falling back to label_asym_id; the
// residue number is auth_seq_id, falling back to label_seq_id, then 0 (a
// ligand's label_seq_id is '.'). The atom and residue names are
// label_atom_id and label_comp_id, falling back to the auth_* columns.
// Occupancy defaults to 1, B_iso_or_equiv (where Boltz stores per-atom
// pLDDT) to 0, and pdbx_PDB_model_num to 1; every model is kept. Structure
// Title is _struct.title when present.
//
// ParseCIF fails, naming the line, on a file without a data block or an
// _atom_site table, a table without a coordinate column, an atom whose
// coordinate is missing or not a number, a non-integer residue or model
// number, a row count that does not match the columns, and on broken syntax
// (an unterminated quote or text field, a value without a tag).
//
// # Writing PDB
//
// WritePDB writes fixed-column PDB v3.3 records: TITLE, REMARK 250 (see
// below), MODEL/ENDMDL when the structure holds more than one model,
// ATOM/HETATM, a TER after the last ATOM record of each chain of each
// model, and END. Every line is padded to 80 columns. Atom serial numbers
// are renumbered from 1 in every model, and a TER record takes the next
// serial number as the format prescribes. Atom names of fewer than four
// characters start in column 14 unless the element has two letters (CA is
// C-alpha, " CA "; calcium is "CA  "). The element is upper-cased; the
// charge columns stay blank.
//
// What PDB cannot hold is either mapped, with the mapping recorded in
// REMARK 250, or refused with an error before anything is written:
//
//   - Chain ids longer than one character are mapped, in order of first
//     appearance, to the first unused character of A-Z, a-z, 0-9; chains
//     that already have one character keep it. More than 62 chains, when
//     any of them needs mapping, is an error.
//   - Residue names longer than three characters are written as their first
//     three characters (Boltz's SMILES ligands LIG1, LIG2, ... become LIG,
//     as in Boltz's own PDB output).
//   - A model needing more than 99,999 serial numbers (atoms plus TER
//     records), a residue number outside -999..9999, a model number outside
//     1..9999 when several models are written, an atom name longer than four
//     characters, an element longer than two, an alternate location or
//     insertion code longer than one, a name containing whitespace or
//     non-ASCII characters, and a coordinate, occupancy or B-factor that
//     does not fit its column are errors.
//
// CIFToPDB combines both steps.
//
// # Summaries
//
// Chains, ResidueCounts and Ligands summarise a structure for result
// pages: chain ids, residues per chain, and the ligand (non-water HETATM)
// residues with their atom counts. ResidueCounts and Ligands look at the
// first model only.
package structure
