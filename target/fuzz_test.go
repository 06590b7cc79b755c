package target

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParseYAML: ParseYAML never panics, and whatever it accepts renders
// with a screened ligand to a Boltz file that reads back to the same
// target and ligand.
func FuzzParseYAML(f *testing.F) {
	for _, glob := range []string{"testdata/boltz-examples/*.yaml", "testdata/golden/*.yaml"} {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("sequences: [{protein: {id: [A, B], sequence: MK, modifications: [{position: 1, ccd: SEP}]}}]"))
	files := []string{"seq1.a3m", "seq2.a3m"}
	f.Fuzz(func(t *testing.T, data []byte) {
		tg, err := ParseYAML(data, ParseOptions{Files: files})
		if err != nil {
			return
		}
		out, err := RenderBoltz(tg, "CCO")
		if err != nil {
			t.Fatalf("accepted but not rendered: %v\n%s", err, data)
		}
		back, smiles, err := ParseJobYAML(out, ParseOptions{Files: files})
		if err != nil {
			t.Fatalf("rendered but refused: %v\n%s", err, out)
		}
		// The screened ligand takes the affinity (RenderBoltz).
		tg.Affinity = nil
		if smiles != "CCO" || !reflect.DeepEqual(back, tg) {
			t.Fatalf("round trip changed the target:\n%s\n%s", data, out)
		}
	})
}
