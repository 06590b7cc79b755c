package sdf

import (
	"fmt"
	"io"
	"strings"

	"github.com/omtx-hub/omtx-hub/chem"
)

// Field is one data item of an SD record.
type Field struct {
	Name, Value string
}

// Record is one SD record: a molfile (chem.Structure.Molfile's, ending
// in "M  END\n") and its data fields.
type Record struct {
	Molfile string
	Fields  []Field
}

// Write writes r: the molfile, each field as "> <name>", its value and a
// blank line, then "$$$$". A name loses the characters that would end it
// (<, >) and line breaks; a value's line breaks become spaces, since a
// blank line ends a value.
func Write(w io.Writer, r Record) error {
	var b strings.Builder
	b.WriteString(r.Molfile)
	for _, f := range r.Fields {
		name := strings.Map(func(c rune) rune {
			switch c {
			case '<', '>', '\n', '\r':
				return '_'
			}
			return c
		}, f.Name)
		value := strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(f.Value)
		fmt.Fprintf(&b, "> <%s>\n%s\n\n", name, value)
	}
	b.WriteString("$$$$\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// Fields pairs names with values.
func Fields(names, values []string) []Field {
	out := make([]Field, 0, len(names))
	for i, n := range names {
		v := ""
		if i < len(values) {
			v = values[i]
		}
		out = append(out, Field{Name: n, Value: v})
	}
	return out
}

// Ligand is the record of a ligand without a pose: the modelled molecule
// (smiles, perceived as RDKit would hold it) at 0,0,0, marked 2D, under
// title.
func Ligand(title, smiles string, fields []Field) (Record, error) {
	st, err := chem.Perceive(smiles)
	if err != nil {
		return Record{}, fmt.Errorf("modelled SMILES: %w", err)
	}
	mol, err := st.Molfile(chem.MolfileOptions{Title: title})
	if err != nil {
		return Record{}, err
	}
	return Record{Molfile: mol, Fields: fields}, nil
}

// PoseRecord is the record of a ligand's predicted pose: Pose's molecule
// and coordinates, marked 3D, under title. Its error wraps ErrNoPose when
// the structure holds no pose of the molecule.
func PoseRecord(title string, cif []byte, smiles string, o PoseOptions, fields []Field) (Record, error) {
	st, coords, err := Pose(cif, smiles, o)
	if err != nil {
		return Record{}, err
	}
	mol, err := st.Molfile(chem.MolfileOptions{Title: title, Coords: coords})
	if err != nil {
		return Record{}, err
	}
	return Record{Molfile: mol, Fields: fields}, nil
}
