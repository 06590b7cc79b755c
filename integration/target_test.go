package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/app/apiapp"
	"github.com/omtx-hub/omtx-hub/client"
	"github.com/omtx-hub/omtx-hub/msa/msatest"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

const (
	targetKinase  = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK"
	targetPartner = "GSHMLEDPVDAFQLGKRIAEELLKRG"
)

// targetAPI is an API that serves Boltz-2 itself (the suite's API serves
// the baseline in its place, which refuses a complex), with the MSA
// server, wired as omtx-api wires it; and a client of it.
func targetAPI(t *testing.T, msaURL string) *client.Client {
	t.Helper()
	cfg := env.cfg
	cfg.Models = omtx.ModelCatalog{Available: map[string]string{omtx.BaselineModel: omtx.GPUClassL4, omtx.ModelBoltz2: omtx.GPUClassL4}}
	cfg.MSAURL = msaURL
	srv, err := apiapp.New(cfg, env.deps, env.log)
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	cl, err := client.New(ts.URL, testKey)
	require.NoError(t, err)
	return cl
}

// storeTarget creates a target through POST /api/v1/targets, with the
// files it names, and returns its id.
func storeTarget(t *testing.T, cl *client.Client, tg *target.Target, files map[string][]byte) string {
	t.Helper()
	out, err := cl.CreateTarget(ctxT(t), "integration dimer", tg, files)
	require.NoError(t, err)
	require.NotEmpty(t, out.TargetID)
	return out.TargetID
}

// screenTarget screens smiles against a target through POST
// /api/v1/predict/batch with target_id, and waits for the batch to end.
func screenTarget(t *testing.T, cl *client.Client, targetID string, smiles []string) omtx.Job {
	t.Helper()
	var lib []client.Ligand
	for i, s := range smiles {
		lib = append(lib, client.Ligand{Name: fmt.Sprintf("t%02d", i), SMILES: s})
	}
	sub, err := cl.SubmitBatch(ctxT(t), client.BatchRequest{Model: omtx.ModelBoltz2, TargetID: targetID, Ligands: lib,
		MaxConcurrent: 2, ChunkSize: 2, Parameters: &client.Parameters{NumSamples: 1}})
	require.NoError(t, err)
	return waitBatch(t, sub.BatchID, 3*time.Minute)
}

// predictOnTarget runs one prediction on a target through POST
// /api/v1/predict with target_id, and waits for it.
func predictOnTarget(t *testing.T, cl *client.Client, targetID, smiles string) omtx.Job {
	t.Helper()
	sub, err := cl.Predict(ctxT(t), client.PredictRequest{Model: omtx.ModelBoltz2, TargetID: targetID,
		LigandSMILES: smiles, LigandName: "single", Parameters: &client.Parameters{NumSamples: 1}})
	require.NoError(t, err)
	return waitJob(t, sub.JobID, omtx.StatusCompleted, 2*time.Minute)
}

// recordedInputs reads every YAML the stand-in received.
func recordedInputs(t *testing.T, record string) []string {
	t.Helper()
	f, err := os.Open(record)
	require.NoError(t, err)
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var rec struct{ Inputs map[string]string }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
		for _, y := range rec.Inputs {
			out = append(out, y)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// TestTargetScreenRunsTheWholeComplex: a screen on a two-chain target with
// a Mg²⁺ cofactor, a pocket for the screened ligand, an uploaded A3M for
// one chain and the server's MSA for the other runs Boltz-2 on the whole
// complex for every ligand; a second screen on the same target asks the
// MSA server nothing.
func TestTargetScreenRunsTheWholeComplex(t *testing.T) {
	server := msatest.New(t, msatest.Options{RequireAuth: "X-Api-Key: msa-secret", PendingPolls: 1})
	restartOrchestration(t, "OMTX_MSA_URL="+server.URL, "OMTX_MSA_AUTH_HEADER=X-Api-Key: msa-secret")
	t.Cleanup(func() { restartOrchestration(t) })
	record := filepath.Join(t.TempDir(), "record.jsonl")
	boltzWorker(t, record)

	cl := targetAPI(t, server.URL)
	targetID := storeTarget(t, cl, &target.Target{
		Chains: []target.Chain{
			{Type: target.Protein, IDs: target.ChainIDs{"A"}, Sequence: targetKinase,
				MSA: &target.MSA{Mode: target.MSAFile, File: "kinase.a3m"}},
			{Type: target.Protein, IDs: target.ChainIDs{"B"}, Sequence: targetPartner},
		},
		Ligands: []target.FixedLigand{{IDs: target.ChainIDs{"C"}, CCD: "MG"}},
		Constraints: []target.Constraint{{Pocket: &target.Pocket{Binder: "D",
			Contacts: []target.TokenRef{{Chain: "A", Residue: 12}, {Chain: "B", Residue: 5}}, MaxDistance: 8}}},
		LigandChain: "D",
	}, map[string][]byte{"kinase.a3m": []byte(">query\n" + targetKinase + "\n>hit\n" + targetKinase + "\n")})
	library := []string{"CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "OC(=O)c1ccccc1"}

	first := screenTarget(t, cl, targetID, library)
	require.Equal(t, omtx.StatusCompleted, first.Status, first.Error)
	assert.Equal(t, len(library), first.Progress.Completed)
	assert.Equal(t, 1, server.Submissions(), "the server is asked for chain B only; chain A's A3M was uploaded")
	assert.Equal(t, []string{targetPartner}, server.Sequences())
	for _, k := range children(t, first.JobID) {
		require.Equal(t, omtx.StatusCompleted, k.Status, k.Error)
		assert.Equal(t, targetID, k.InputData.TargetID)
		require.NotNil(t, k.Results)
		// Boltz's chain indices: A 0, B 1, MG 2, the screened ligand 3.
		assert.Contains(t, k.Results.Metrics, "chains_ptm.3")
		assert.NotContains(t, k.Results.Metrics, "chains_ptm.4")
		assert.Equal(t, k.Results.Metrics["chains_ptm.3"], k.Results.Metrics["binder_chain_ptm"])
	}

	yamls := recordedInputs(t, record)
	require.Len(t, yamls, len(library))
	for _, y := range yamls {
		for _, part := range []string{
			"  - protein:\n      id: A\n      sequence: \"" + targetKinase + "\"\n",
			"  - protein:\n      id: B\n      sequence: \"" + targetPartner + "\"\n",
			"  - ligand:\n      id: C\n      ccd: \"MG\"\n",
			"  - pocket:\n      binder: D\n      contacts: [[A, 12], [B, 5]]\n      max_distance: 8.0\n",
			"properties:\n  - affinity:\n      binder: D\n",
		} {
			assert.Contains(t, y, part)
		}
		assert.Regexp(t, `id: A\n.*\n      msa: ".*/files/kinase\.a3m"\n`, y, "chain A runs on the uploaded A3M")
		assert.Regexp(t, `id: B\n.*\n      msa: ".*/msa/B\.a3m"\n`, y, "chain B runs on the server's cached A3M")
		assert.Regexp(t, `  - ligand:\n      id: D\n      smiles: "[^"]+"\n`, y)
	}

	second := screenTarget(t, cl, targetID, library[:3])
	require.Equal(t, omtx.StatusCompleted, second.Status, second.Error)
	assert.Equal(t, 3, second.Progress.Completed)
	assert.Equal(t, 1, server.Submissions(), "a second screen on the same target asks the MSA server no second time")

	one := predictOnTarget(t, cl, targetID, "CCN")
	require.NotNil(t, one.Results)
	assert.Equal(t, one.Results.Metrics["chains_ptm.3"], one.Results.Metrics["binder_chain_ptm"])
	assert.Equal(t, 1, server.Submissions(), "nor does a prediction on it")
	yamls = recordedInputs(t, record)
	require.Len(t, yamls, len(library)+3+1)
	last := -1
	for i, y := range yamls {
		if strings.Contains(y, `smiles: "CCN"`) {
			last = i
		}
	}
	require.NotEqual(t, -1, last, "the prediction's input reached the stand-in")
	assert.Contains(t, yamls[last], "  - ligand:\n      id: C\n      ccd: \"MG\"\n", "a single prediction runs the whole complex too")
	assert.Contains(t, yamls[last], "binder: D\n")
}
