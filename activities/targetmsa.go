package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// TargetMSAStore updates a target's document; store.Targets implements
// it (and storetest.Targets, in tests).
type TargetMSAStore interface {
	// UpdateMSA reads the document, lets update change it and writes it
	// back, atomically; a missing document is an omtx ENotFound error.
	UpdateMSA(ctx context.Context, targetID string, update func(*omtx.TargetRecord)) error
}

// RecordTargetMSA records on a target's document what its
// TargetMSAWorkflow computed: each server chain's MSA digest ("sha256:"
// and the hex SHA-256 of the cached A3M or CSV, the bytes every job on
// the target reads) and whether it is paired, with msa_status ready; or,
// for in.Failure, msa_status failed with the reason. A target deleted
// meanwhile is left deleted.
func (o *Orchestration) RecordTargetMSA(ctx context.Context, in contract.RecordTargetMSAInput) (contract.RecordTargetMSAResult, error) {
	if o.Targets == nil {
		return contract.RecordTargetMSAResult{}, contract.NonRetryable(contract.ErrTypePermanent, "this worker stores no targets", nil)
	}
	digests := map[string]string{}
	if in.Failure == "" {
		for id, obj := range in.MSA.Chains {
			data, err := o.Blobs.Read(ctx, obj)
			if err != nil {
				return contract.RecordTargetMSAResult{}, storeErr("read msa of chain "+id, err)
			}
			sum := sha256.Sum256(data)
			digests[id] = "sha256:" + hex.EncodeToString(sum[:])
		}
	}
	err := o.Targets.UpdateMSA(ctx, in.TargetID, func(t *omtx.TargetRecord) {
		if in.Failure != "" {
			t.MSAStatus, t.MSAReason = omtx.TargetMSAFailed, in.Failure
			return
		}
		t.MSAStatus, t.MSAReason = omtx.TargetMSAReady, ""
		for i := range t.Chains {
			c := &t.Chains[i]
			if len(c.IDs) == 0 {
				continue
			}
			if d, ok := digests[c.IDs[0]]; ok {
				c.MSADigest, c.MSAPaired = d, msa.IsPairedObject(in.MSA.Chains[c.IDs[0]])
			}
		}
	})
	switch {
	case omtx.ErrorCode(err) == omtx.ENotFound:
		return contract.RecordTargetMSAResult{}, nil
	case err != nil:
		return contract.RecordTargetMSAResult{}, storeErr(fmt.Sprintf("record msa of target %s", in.TargetID), err)
	}
	return contract.RecordTargetMSAResult{}, nil
}
