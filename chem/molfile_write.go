package chem

// This file writes a Structure as an MDL V2000 molfile (BIOVIA's "CTfile
// Formats", 2020): the form an SD file's records take. ParseMolfile reads
// what it writes back to the same molecule; molfile_write_test.go checks
// that, and that RDKit reads it to the same canonical SMILES.

import (
	"fmt"
	"strings"
	"time"
)

// MolfileOptions are what a written molfile carries besides its molecule.
type MolfileOptions struct {
	// Title is the first line, the compound's name in an SD file. Control
	// characters become spaces and it is cut to 80 bytes, as the format
	// allows.
	Title string
	// Coords, when not nil, holds one position (Å) per atom of the
	// Structure, in its atom order, and the molfile is marked 3D. When nil
	// every atom sits at 0,0,0 and the molfile is marked 2D: the
	// convention for a connection table without a depiction (RDKit reads
	// such a file as having no usable coordinates, so no stereo is
	// perceived from them).
	Coords [][3]float64
	// Time is the date stamped on the program line; the zero time writes
	// 01/01/00 00:00, so output is reproducible.
	Time time.Time
}

// molfileProgram is the program name on line 2 (8 characters at most).
const molfileProgram = "OMTXHub"

// Molfile writes st as a V2000 molfile ending in "M  END" and a newline.
// Every atom of st is written, in order, with its element, formal charge
// (M  CHG), isotope (M  ISO) and radical (M  RAD); bonds take their Kekulé
// orders (1, 2, 3; 4 only for an aromatic bond between two chain atoms,
// which RDKit keeps aromatic). Hydrogens are implicit: where a reader's
// valence model would not give an atom the hydrogens st holds (a bracket
// atom such as [CH2] or [NH4+] may not), the atom's valence field is set so
// that it does. Stereo (chirality, double-bond geometry) is not written.
// It fails when st has more atoms or bonds than V2000's three-digit counts
// allow, or when Coords has the wrong length.
func (st *Structure) Molfile(o MolfileOptions) (string, error) {
	if len(st.Atoms) > MaxMolfileAtoms || len(st.Bonds) > MaxMolfileBonds {
		return "", fmt.Errorf("molfile: %d atoms and %d bonds, more than V2000's %d", len(st.Atoms), len(st.Bonds), MaxMolfileAtoms)
	}
	if o.Coords != nil && len(o.Coords) != len(st.Atoms) {
		return "", fmt.Errorf("molfile: %d positions for %d atoms", len(o.Coords), len(st.Atoms))
	}
	valence := make([]int, len(st.Atoms)) // 0: leave it to the reader's model
	text := st.writeMolfile(o, valence)
	// Read it back as any reader would, and give a valence field to each
	// atom that comes back with other hydrogens than st holds.
	back, err := ParseMolfile(text)
	if err != nil {
		return "", fmt.Errorf("molfile: written molfile does not read back: %w", err)
	}
	fixed := false
	bondValence := make([]int, len(st.Atoms))
	for _, b := range st.Bonds {
		bondValence[b.A] += b.Order
		bondValence[b.B] += b.Order
	}
	for i, a := range back.Molecule.Atoms {
		if i < len(st.Atoms) && a.HCount != st.Atoms[i].Hs {
			valence[i] = bondValence[i] + st.Atoms[i].Hs
			if valence[i] == 0 {
				valence[i] = 15 // the code for zero
			}
			fixed = true
		}
	}
	if fixed {
		text = st.writeMolfile(o, valence)
	}
	return text, nil
}

func (st *Structure) writeMolfile(o MolfileOptions, valence []int) string {
	var b strings.Builder
	b.WriteString(molfileTitle(o.Title))
	b.WriteByte('\n')
	dim, stamp := "2D", "0101000000"
	if o.Coords != nil {
		dim = "3D"
	}
	if !o.Time.IsZero() {
		stamp = o.Time.UTC().Format("0102061504")
	}
	// IIPPPPPPPPMMDDYYHHmmdd: user initials (blank), program, date, and
	// the dimensional code.
	fmt.Fprintf(&b, "  %-8s%s%s\n", molfileProgram, stamp, dim)
	b.WriteByte('\n')
	fmt.Fprintf(&b, "%3d%3d  0  0  0  0  0  0  0  0999 V2000\n", len(st.Atoms), len(st.Bonds))
	var chg, iso, rad [][2]int
	for i, a := range st.Atoms {
		var p [3]float64
		if o.Coords != nil {
			p = o.Coords[i]
		}
		fmt.Fprintf(&b, "%10.4f%10.4f%10.4f %-3s 0  0  0  0  0%3d  0  0  0  0  0  0\n", p[0], p[1], p[2], a.Element, valence[i])
		if a.Charge != 0 {
			chg = append(chg, [2]int{i + 1, a.Charge})
		}
		if a.Isotope != 0 {
			iso = append(iso, [2]int{i + 1, a.Isotope})
		}
		if a.Radicals > 0 {
			// 2 is a doublet (one unpaired electron), 3 a triplet.
			rad = append(rad, [2]int{i + 1, min(a.Radicals, 2) + 1})
		}
	}
	for _, bd := range st.Bonds {
		t := bd.Order
		if bd.ChainAromatic {
			t = 4
		}
		fmt.Fprintf(&b, "%3d%3d%3d  0\n", bd.A+1, bd.B+1, t)
	}
	for _, p := range []struct {
		tag  string
		vals [][2]int
	}{{"CHG", chg}, {"RAD", rad}, {"ISO", iso}} {
		// At most 8 entries a line, as the specification says.
		for lo := 0; lo < len(p.vals); lo += 8 {
			part := p.vals[lo:min(lo+8, len(p.vals))]
			fmt.Fprintf(&b, "M  %s%3d", p.tag, len(part))
			for _, v := range part {
				fmt.Fprintf(&b, " %3d %3d", v[0], v[1])
			}
			b.WriteByte('\n')
		}
	}
	b.WriteString("M  END\n")
	return b.String()
}

// molfileTitle makes s one line of at most 80 bytes, cut at a rune
// boundary.
func molfileTitle(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return clipText(s, 80)
}
