package library

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/chem"
	"github.com/omtx-hub/omtx-hub/internal/rdkittest"
)

// The SD reader is checked against real RDKit, as chem's SMILES rules are
// (chem/rdkit_test.go). testdata/rdkit_sdf.tsv is RDKit's reading of every
// record of the SDF fixtures below, made by scripts/rdkit/check_sdf.mjs;
// testdata/rdkit_sdf_written.tsv is RDKit's canonical SMILES of the SMILES
// that ParseSDF writes for each record. TestSDF_AgreesWithRDKit holds our
// reader to both without RDKit; TestRDKitSDFTable_IsCurrent re-runs RDKit
// where it is installed (and must, under OMTX_RDKIT=1).

var sdfFixtures = []string{
	"library/testdata/vendor_v2000.sdf",
	"library/testdata/chembl_v3000.sdf",
	"library/testdata/edge_cases.sdf",
}

const (
	sdfTablePath   = "testdata/rdkit_sdf.tsv"
	sdfWrittenPath = "testdata/rdkit_sdf_written.tsv"
)

type sdfRow struct {
	file, title                  string
	record, heavy, charge        int
	valid                        bool
	formula, canonical, noStereo string
}

// readTSV returns the data rows of a generated table: '#' lines and the
// column header skipped, each row split at tabs into want columns.
func readTSV(t *testing.T, path string, header string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var rows [][]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == header {
			continue
		}
		f := strings.Split(line, "\t")
		require.Len(t, f, strings.Count(header, "\t")+1, "%s:%d", path, n)
		rows = append(rows, f)
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, rows, path)
	return rows
}

func readSDFTable(t *testing.T) []sdfRow {
	t.Helper()
	var out []sdfRow
	for _, f := range readTSV(t, sdfTablePath, "file\trecord\ttitle\trdkit_valid\theavy_atoms\tformula\tcharge\tcanonical_smiles\tcanonical_nostereo\trdkit_error") {
		r := sdfRow{file: f[0], title: f[2], valid: f[3] == "1", formula: f[5], canonical: f[7], noStereo: f[8]}
		var err error
		r.record, err = strconv.Atoi(f[1])
		require.NoError(t, err)
		if r.valid {
			r.heavy, err = strconv.Atoi(f[4])
			require.NoError(t, err)
			r.charge, err = strconv.Atoi(f[6])
			require.NoError(t, err)
		}
		out = append(out, r)
	}
	return out
}

// sdfMolfiles splits an SD file into its records' molfiles, as ParseSDF
// does.
func sdfMolfiles(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", path))
	require.NoError(t, err)
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	var out []string
	for len(text) > 0 {
		var rec string
		rec, text = cutRecord(text)
		if strings.TrimSpace(rec) == "" {
			continue
		}
		if i := strings.Index(rec, "M  END"); i >= 0 {
			rec = rec[:i+len("M  END")]
		}
		out = append(out, rec)
	}
	return out
}

// formula writes a molecule's formula in Hill order, hydrogens drawn as
// atoms and carried as counts together, isotopes counted as their element.
func formula(m *chem.Molecule) (string, int) {
	count := map[string]int{}
	charge := 0
	for _, a := range m.Atoms {
		count[a.Element]++
		count["H"] += a.HCount
		charge += a.Charge
	}
	if count["H"] == 0 {
		delete(count, "H")
	}
	var keys []string
	for k := range count {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if count["C"] > 0 {
		keys = slices.DeleteFunc(keys, func(k string) bool { return k == "C" || k == "H" })
		front := []string{"C"}
		if count["H"] > 0 {
			front = append(front, "H")
		}
		keys = append(front, keys...)
	}
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		if count[k] > 1 {
			b.WriteString(strconv.Itoa(count[k]))
		}
	}
	return b.String(), charge
}

// writtenSMILES is what ParseSDF writes for every valid record, keyed
// "file#record".
func writtenSMILES(t *testing.T) (keys []string, smiles map[string]string) {
	t.Helper()
	smiles = map[string]string{}
	for _, f := range sdfFixtures {
		for i, mb := range sdfMolfiles(t, f) {
			mf, err := chem.ParseMolfile(mb)
			if err != nil {
				continue
			}
			k := fmt.Sprintf("%s#%d", f, i+1)
			keys = append(keys, k)
			smiles[k] = mf.Molecule.SMILES()
		}
	}
	return keys, smiles
}

// TestSDF_AgreesWithRDKit: every record of the fixtures is accepted exactly
// when RDKit accepts it, with RDKit's heavy atoms, formula and charge; and
// the SMILES we write for it is the one RDKit's canonical form was taken of,
// and RDKit reads it as the record's own canonical SMILES (stereo aside).
func TestSDF_AgreesWithRDKit(t *testing.T) {
	t.Parallel()
	rows := readSDFTable(t)
	written := map[string][2]string{}
	for _, f := range readTSV(t, sdfWrittenPath, "key\tsmiles\trdkit_canonical") {
		written[f[0]] = [2]string{f[1], f[2]}
	}
	var files []string
	byFile := map[string][]string{}
	for _, f := range sdfFixtures {
		byFile[f] = sdfMolfiles(t, f)
	}
	checked := 0
	for _, r := range rows {
		if !slices.Contains(files, r.file) {
			files = append(files, r.file)
		}
		mbs, ok := byFile[r.file]
		require.True(t, ok, "%s is in %s but not in sdfFixtures", r.file, sdfTablePath)
		require.LessOrEqual(t, r.record, len(mbs), "%s record %d", r.file, r.record)
		name := fmt.Sprintf("%s record %d (%s)", r.file, r.record, r.title)
		mf, err := chem.ParseMolfile(mbs[r.record-1])
		switch {
		case r.valid && err != nil:
			t.Errorf("%s: RDKit reads it, ParseMolfile refuses: %v", name, err)
			continue
		case !r.valid && err == nil:
			t.Errorf("%s: RDKit refuses it, ParseMolfile reads it", name)
			continue
		case !r.valid:
			checked++
			continue
		}
		checked++
		got, charge := formula(mf.Molecule)
		assert.Equal(t, r.formula, got, "%s: formula", name)
		assert.Equal(t, r.charge, charge, "%s: charge", name)
		assert.Equal(t, r.heavy, mf.Molecule.HeavyAtomCount(), "%s: heavy atoms", name)
		key := fmt.Sprintf("%s#%d", r.file, r.record)
		w, ok := written[key]
		if !assert.True(t, ok, "%s: not in %s", name, sdfWrittenPath) {
			continue
		}
		assert.Equal(t, w[0], mf.Molecule.SMILES(), "%s: the written SMILES changed; regenerate %s", name, sdfWrittenPath)
		assert.Equal(t, r.noStereo, w[1], "%s: RDKit reads our SMILES %s as another molecule", name, w[0])
	}
	assert.Equal(t, sdfFixtures, files, "%s covers other files than sdfFixtures", sdfTablePath)
	total := 0
	for _, mbs := range byFile {
		total += len(mbs)
	}
	assert.Equal(t, total, checked, "every record of the fixtures has a row")
}

// TestRDKitSDFTable_IsCurrent re-runs RDKit on the fixtures and on the
// SMILES we write, and fails if either answer differs from the committed
// tables (OMTX_RDKIT_UPDATE=1 rewrites them instead). It needs node and
// @rdkit/rdkit under .tools/rdkit (or $RDKIT_DIR); it skips without them,
// unless OMTX_RDKIT=1 says they must be there (CI).
func TestRDKitSDFTable_IsCurrent(t *testing.T) {
	t.Parallel()
	keys, smiles := writtenSMILES(t)
	var in strings.Builder
	for _, k := range keys {
		in.WriteString(k + "\t" + smiles[k] + "\n")
	}
	hint := "if the fixtures, the writer or RDKit changed on purpose, rerun with OMTX_RDKIT_UPDATE=1 and review the diff"
	rdkittest.Compare(t, sdfTablePath, rdkittest.Run(t, "check_sdf.mjs", nil, sdfFixtures...), hint)
	rdkittest.Compare(t, sdfWrittenPath, rdkittest.Run(t, "check_sdf.mjs", strings.NewReader(in.String()), "--smiles"), hint)
}
