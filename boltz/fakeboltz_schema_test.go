package boltz

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runFake runs the stand-in on one input YAML and returns its combined
// output and exit status.
func runFake(t *testing.T, doc string) (string, int) {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "inputs")
	require.NoError(t, os.MkdirAll(in, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(in, "l0000.yaml"), []byte(doc), 0o644))
	cmd := exec.Command(fakeBin, "predict", in, "--out_dir", filepath.Join(dir, "out"))
	cmd.Env = append(os.Environ(), "FAKE_BOLTZ_FIXTURE="+fixtureDir(t))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return string(out), exit.ExitCode()
	}
	require.NoError(t, err)
	return string(out), 0
}

// TestFakeBoltzChecksSchema: the stand-in reads every YAML under Boltz's
// rules (package target) and fails the run loudly, naming the file, the
// field and the rule, on one Boltz would refuse.
func TestFakeBoltzChecksSchema(t *testing.T) {
	t.Parallel()
	msa := filepath.Join(t.TempDir(), "A.a3m")
	require.NoError(t, os.WriteFile(msa, []byte(">q\nMKTAYIAK\n"), 0o644))

	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		out, code := runFake(t, `version: 1
sequences:
  - protein:
      id: A
      sequence: "MKTAYIAK"
      msa: "`+msa+`"
      modifications:
        - position: 9
          ccd: "SEP"
  - ligand:
      id: B
      smiles: "CCO"
properties:
  - affinity:
      binder: B
`)
		assert.Equal(t, 3, code, out)
		assert.Contains(t, out, "l0000.yaml violates Boltz's input schema")
		assert.Contains(t, out, "sequences[0].protein.modifications[0].position")
		assert.Contains(t, out, "[rule modification]")
		assert.NotContains(t, out, "Running structure prediction", "nothing runs after a refusal")
	})

	t.Run("a complex is accepted", func(t *testing.T) {
		t.Parallel()
		out, code := runFake(t, `version: 1
sequences:
  - protein:
      id: [A, B]
      sequence: "MKTAYIAK"
      msa: "`+msa+`"
  - ligand:
      id: M
      ccd: "MG"
  - ligand:
      id: L
      smiles: "CCO"
constraints:
  - pocket:
      binder: L
      contacts: [[A, 2], [M, "MG"]]
      max_distance: 6.0
properties:
  - affinity:
      binder: L
`)
		assert.Equal(t, 0, code, out)
		assert.NotContains(t, out, "Failed to process")
	})

	t.Run("a protein without an MSA fails its record as Boltz does", func(t *testing.T) {
		t.Parallel()
		out, code := runFake(t, "sequences:\n  - protein:\n      id: A\n      sequence: MKT\n")
		assert.Equal(t, 0, code, out)
		assert.Contains(t, out, "Failed to process")
		assert.Contains(t, out, "--use_msa_server flag not set")
	})
}
