package integration

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/client"
	"github.com/omtx-hub/omtx-hub/target"
)

// TestTargetFromABoltzExample imports one of Boltz's own example inputs
// (examples/ligand.yaml: a homodimer with its A3M, SAH and a tyrosine)
// through the API, reads it back as Boltz YAML, dry-runs a screen on it,
// and has a metal complex in a screen on it refused before any record
// exists. Every response is validated against the OpenAPI spec.
func TestTargetFromABoltzExample(t *testing.T) {
	chk := newSpecChecker(t)
	base := boltzAPI(t)
	cl := chk.client(t, base, testKey)
	other := chk.client(t, base, otherKey)
	ctx := ctxT(t)
	examples := filepath.Join(env.root, "target", "testdata", "boltz-examples")
	yml, err := os.ReadFile(filepath.Join(examples, "ligand.yaml"))
	require.NoError(t, err)
	a3m, err := os.ReadFile(filepath.Join(examples, "msa", "seq1.a3m"))
	require.NoError(t, err)

	// Firestore's emulator may still be warming up when this test runs
	// first: wait until the target store answers.
	require.Eventually(t, func() bool {
		_, err := cl.Targets(ctx, client.ListOptions{PageSize: 1})
		return err == nil
	}, time.Minute, time.Second)

	// The YAML names ./examples/msa/seq1.a3m: without it, the path is named.
	_, err = cl.ImportTarget(ctx, client.TargetImport{YAML: yml})
	var apiErr *client.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 422, apiErr.Status)
	assert.Equal(t, "sequences[0].protein.msa", apiErr.Field)

	imp := client.TargetImport{YAML: yml, Files: map[string][]byte{"seq1.a3m": a3m}, Name: "boltz examples/ligand.yaml"}
	// Another test (the New screen view's) may have imported the same
	// example for this user first, so the first import here may already
	// be a duplicate; the second always is.
	tr, err := cl.ImportTarget(ctx, imp)
	require.NoError(t, err)
	again, err := cl.ImportTarget(ctx, imp)
	require.NoError(t, err)
	assert.True(t, again.Duplicate)
	assert.Equal(t, tr.TargetID, again.TargetID)
	assert.Equal(t, 404, status(func() error { _, err := other.Target(ctx, tr.TargetID); return err }()))

	got, err := cl.Target(ctx, tr.TargetID)
	require.NoError(t, err)
	assert.Equal(t, "file", got.Chains[0].MSAMode)
	list, err := cl.Targets(ctx, client.ListOptions{PageSize: 100})
	require.NoError(t, err)
	assert.Contains(t, func() []string {
		var ids []string
		for _, r := range list.Targets {
			ids = append(ids, r.TargetID)
		}
		return ids
	}(), tr.TargetID)

	// Back out as Boltz YAML: the same structure as Boltz's file.
	back, err := cl.TargetYAML(ctx, tr.TargetID, "")
	require.NoError(t, err)
	opts := target.ParseOptions{Files: []string{"seq1.a3m"}}
	want, err := target.ParseYAML(yml, opts)
	require.NoError(t, err)
	have, err := target.ParseYAML(back, opts)
	require.NoError(t, err, "%s", back)
	assert.Equal(t, want, have)

	// A screen on it, dry-run: the job's YAML for the first ligand.
	d, err := cl.DryRunBatch(ctx, client.BatchRequest{Model: "boltz2", TargetID: tr.TargetID,
		Ligands: []client.Ligand{{Name: "phenol", SMILES: "c1ccccc1O"}, {Name: "ethanol", SMILES: "CCO"}}})
	require.NoError(t, err)
	assert.Equal(t, "boltz2", d.Model)
	assert.Equal(t, tr.TargetID, d.TargetID)
	assert.Equal(t, tr.Tokens+7, d.Tokens, "the complex and the largest ligand's heavy atoms")
	job, smiles, err := target.ParseJobYAML([]byte(d.BoltzYAML), target.ParseOptions{})
	require.NoError(t, err, d.BoltzYAML)
	assert.Equal(t, "c1ccccc1O", smiles)
	assert.Equal(t, tr.LigandChain, job.LigandChain)
	assert.Len(t, job.Ligands, 2, "SAH and the tyrosine stay; the screened ligand is added")

	// Cisplatin, a metal complex Boltz excludes from affinity, is refused
	// before any record exists.
	before, err := cl.Jobs(ctx, client.ListOptions{PageSize: 100})
	require.NoError(t, err)
	_, err = cl.SubmitBatch(ctx, client.BatchRequest{Model: "boltz2", TargetID: tr.TargetID,
		Ligands: []client.Ligand{{Name: "cisplatin", SMILES: "N->[Pt](<-N)(Cl)Cl"}, {Name: "ethanol", SMILES: "CCO"}}})
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 422, apiErr.Status)
	assert.Equal(t, "ligands", apiErr.Field)
	after, err := cl.Jobs(ctx, client.ListOptions{PageSize: 100})
	require.NoError(t, err)
	assert.Equal(t, len(before.Jobs), len(after.Jobs), "no job or batch record was written")

	require.NoError(t, cl.DeleteTarget(ctx, tr.TargetID))
	assert.Equal(t, 404, status(func() error { _, err := cl.Target(ctx, tr.TargetID); return err }()))
}

// TestBrowserJobShowsItsTarget opens a job on a target in the results
// page: the target's chains with their MSA modes, its cofactor, its
// constraint and the screened ligand's chain are shown.
func TestBrowserJobShowsItsTarget(t *testing.T) {
	base := boltzAPI(t)
	cl := apiClient(t, base)
	ctx0 := ctxT(t)
	targetsReady(t, cl)
	tg := &target.Target{
		Chains: []target.Chain{{Type: target.Protein, IDs: target.ChainIDs{"A"},
			Sequence: "MGSSHHHHHHSSGLVPRGSHMSKLTQLGRGTFGSVYKA", MSA: &target.MSA{Mode: target.MSAEmpty}}},
		Ligands: []target.FixedLigand{{IDs: target.ChainIDs{"M"}, CCD: "MG"}},
		Constraints: []target.Constraint{{Pocket: &target.Pocket{Binder: "L",
			Contacts: []target.TokenRef{{Chain: "A", Residue: 22}, {Chain: "A", Residue: 31}}}}},
		LigandChain: "L",
	}
	tr, err := cl.CreateTarget(ctx0, "kinase + Mg", tg, nil)
	require.NoError(t, err)
	// No GPU worker serves boltz2 here: the job stays pending, and is
	// cancelled at the end.
	job, err := cl.Predict(ctx0, client.PredictRequest{Model: "boltz2", TargetID: tr.TargetID, LigandSMILES: "CCO", LigandName: "ethanol"})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = cl.CancelJob(ctxT(t), job.JobID) })

	ctx := browser(t)
	require.NoError(t, do(t, ctx,
		chromedp.Navigate(base+"/ui/#/jobs/"+job.JobID+"?key="+testKey),
		chromedp.WaitVisible(css(`#target-parts li[data-cofactor="MG"]`)),
	))
	parts := get(t, ctx, chromedp.Text(css(`#target-parts`)))
	assert.Contains(t, parts, "protein A · 38 residues · MSA: none (single-sequence mode)")
	assert.Contains(t, parts, "cofactor M · CCD MG")
	assert.Contains(t, parts, "constraint 1: pocket")
	assert.Contains(t, parts, "screened ligand: chain L")
	assert.Contains(t, get(t, ctx, chromedp.Text(css(`#target`))), tr.TargetID)
}

// targetsReady waits until the API answers the targets list (its store
// reachable), as a test's first target call must not race the start.
func targetsReady(t *testing.T, cl *client.Client) {
	t.Helper()
	require.Eventually(t, func() bool {
		_, err := cl.Targets(ctxT(t), client.ListOptions{PageSize: 1})
		return err == nil
	}, time.Minute, time.Second)
}
