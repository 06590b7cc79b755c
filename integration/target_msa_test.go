package integration

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/client"
	"github.com/omtx-hub/omtx-hub/msa/msatest"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// recordedMSAs reads every MSA file the stand-in was given, by base name.
func recordedMSAs(t *testing.T, record string) map[string]string {
	t.Helper()
	f, err := os.Open(record)
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var rec struct{ MSAs map[string]string }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &rec))
		for k, v := range rec.MSAs {
			out[k] = v
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// waitTargetMSA polls a target until its MSA status leaves computing.
func waitTargetMSA(t *testing.T, cl *client.Client, targetID string, limit time.Duration) *client.TargetResponse {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		tr, err := cl.Target(ctxT(t), targetID)
		require.NoError(t, err)
		if tr.MSAStatus != omtx.TargetMSAComputing || time.Now().After(deadline) {
			return tr
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// TestTargetMSAComputedOnceAtCreation: creating a two-chain heteromer
// whose chains use the MSA server computes its MSAs then, in the
// background: each chain's unpaired alignment and one paired run of both,
// as Boltz asks for a heteromer. A screen submitted while that still runs
// waits for it instead of asking the server again; the target shows
// msa_status ready with each chain's digest; a second screen asks the
// server nothing; and Boltz (the stand-in) is given each chain's paired
// CSV, the bytes whose digest the target records.
func TestTargetMSAComputedOnceAtCreation(t *testing.T) {
	server := msatest.New(t, msatest.Options{PendingPolls: 1})
	restartOrchestration(t, "OMTX_MSA_URL="+server.URL)
	t.Cleanup(func() { restartOrchestration(t) })
	record := filepath.Join(t.TempDir(), "record.jsonl")
	boltzWorker(t, record)
	cl := targetAPI(t, server.URL)

	created, err := cl.CreateTarget(ctxT(t), "heteromer", &target.Target{
		Chains: []target.Chain{
			{Type: target.Protein, IDs: target.ChainIDs{"A"}, Sequence: targetKinase},
			{Type: target.Protein, IDs: target.ChainIDs{"B"}, Sequence: targetPartner},
		},
		LigandChain: "L",
	}, nil)
	require.NoError(t, err)
	assert.Equal(t, omtx.TargetMSAComputing, created.MSAStatus, "the API starts the computation and asks no MSA server itself")
	library := []string{"CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1"}

	// Submitted at once, while the target's MSAs are being computed.
	first := screenTarget(t, cl, created.TargetID, library)
	require.Equal(t, omtx.StatusCompleted, first.Status, first.Error)

	tr := waitTargetMSA(t, cl, created.TargetID, 2*time.Minute)
	require.Equal(t, omtx.TargetMSAReady, tr.MSAStatus, tr.MSAReason)
	assert.Equal(t, 1, server.PairSubmissions(), "one paired run for the heteromer")
	assert.Equal(t, 3, server.Submissions(), "each chain's unpaired alignment and one paired run, however many jobs")
	require.Len(t, tr.Chains, 2)
	for _, ch := range tr.Chains {
		assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, ch.MSADigest, "chain %v", ch.IDs)
		assert.True(t, ch.MSAPaired, "chain %v", ch.IDs)
	}

	second := screenTarget(t, cl, created.TargetID, library[:2])
	require.Equal(t, omtx.StatusCompleted, second.Status, second.Error)
	assert.Equal(t, 3, server.Submissions(), "a second screen asks the MSA server nothing")

	yamls := recordedInputs(t, record)
	require.Len(t, yamls, len(library)+2)
	for _, y := range yamls {
		assert.Regexp(t, `id: A\n.*\n      msa: ".*/msa/A\.csv"\n`, y, "chain A runs on its paired CSV")
		assert.Regexp(t, `id: B\n.*\n      msa: ".*/msa/B\.csv"\n`, y, "chain B runs on its paired CSV")
	}
	msas := recordedMSAs(t, record)
	for i, seq := range []string{targetKinase, targetPartner} {
		name := tr.Chains[i].IDs[0] + ".csv"
		csv, ok := msas[name]
		require.True(t, ok, "the stand-in was given %s", name)
		// Boltz's layout: the paired rows keyed by row (the query is row
		// 0), then the unpaired rows keyed -1 (main.py L496-522).
		assert.True(t, strings.HasPrefix(csv, "key,sequence\n0,"+seq+"\n1,"), "%s: %.200s", name, csv)
		assert.Contains(t, csv, "\n-1,")
		sum := sha256.Sum256([]byte(csv))
		assert.Equal(t, "sha256:"+hex.EncodeToString(sum[:]), tr.Chains[i].MSADigest, "the target records the digest of what jobs read")
	}
}
