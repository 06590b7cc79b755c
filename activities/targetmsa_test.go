package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/store/storetest"
)

// TestRecordTargetMSA: each server chain's digest is the SHA-256 of the
// cached MSA that jobs read, a CSV is marked paired, and a failure is
// recorded with its reason.
func TestRecordTargetMSA(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	blobs, targets := storetest.NewBlobs(), storetest.NewTargets()
	require.NoError(t, blobs.Put(ctx, "msa/v2/a.csv", "text/csv", []byte("key,sequence\n0,MKT")))
	require.NoError(t, blobs.Put(ctx, "msa/v2/c.a3m", "text/plain", []byte(">101\nGSH\n")))
	rec := &omtx.TargetRecord{TargetID: "tgt_1", UserID: "u", MSAStatus: omtx.TargetMSAComputing, Chains: []omtx.TargetChainSummary{
		{IDs: []string{"A", "B"}, Type: "protein", MSAMode: "server"},
		{IDs: []string{"C"}, Type: "protein"},
		{IDs: []string{"D"}, Type: "protein", MSAMode: "file", MSADigest: "sha256:up"},
	}}
	require.NoError(t, targets.Create(ctx, rec))
	o := &Orchestration{Targets: targets, Blobs: blobs}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return "sha256:" + hex.EncodeToString(h[:]) }

	_, err := o.RecordTargetMSA(ctx, contract.RecordTargetMSAInput{TargetID: "tgt_1",
		MSA: omtx.MSARef{Mode: omtx.MSAServer, Chains: map[string]string{"A": "msa/v2/a.csv", "C": "msa/v2/c.a3m"}}})
	require.NoError(t, err)
	got, err := targets.Get(ctx, "tgt_1")
	require.NoError(t, err)
	assert.Equal(t, omtx.TargetMSAReady, got.MSAStatus)
	assert.Equal(t, []omtx.TargetChainSummary{
		{IDs: []string{"A", "B"}, Type: "protein", MSAMode: "server", MSADigest: sum("key,sequence\n0,MKT"), MSAPaired: true},
		{IDs: []string{"C"}, Type: "protein", MSADigest: sum(">101\nGSH\n")},
		{IDs: []string{"D"}, Type: "protein", MSAMode: "file", MSADigest: "sha256:up"},
	}, got.Chains)

	_, err = o.RecordTargetMSA(ctx, contract.RecordTargetMSAInput{TargetID: "tgt_1", Failure: "msa server: down"})
	require.NoError(t, err)
	got, err = targets.Get(ctx, "tgt_1")
	require.NoError(t, err)
	assert.Equal(t, omtx.TargetMSAFailed, got.MSAStatus)
	assert.Equal(t, "msa server: down", got.MSAReason)

	_, err = o.RecordTargetMSA(ctx, contract.RecordTargetMSAInput{TargetID: "tgt_gone", Failure: "x"})
	assert.NoError(t, err, "a deleted target stays deleted")
}
