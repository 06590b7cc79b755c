package resultcache_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/resultcache"
	"github.com/omtx-hub/omtx-hub/store/storetest"
)

// TestProbeOfAnUnstoredTarget: a target not stored yet (an estimate's
// inline target) has run no job, so nothing can match: no probe, and no
// error for the caller to log.
func TestProbeOfAnUnstoredTarget(t *testing.T) {
	t.Parallel()
	cache := storetest.NewResultCache()
	run := omtx.ModelRun{Version: "2.2.1", LastSeen: time.Now()}
	require.NoError(t, cache.RecordModelRun(t.Context(), omtx.ModelBoltz2, resultcache.RunID(run.Version, run.Checkpoint, run.Defaults), run))
	f := &resultcache.Finder{Store: cache, Blobs: storetest.NewBlobs()}
	p, err := f.Probe(t.Context(), resultcache.Subject{UserID: "u1", Model: omtx.ModelBoltz2, TargetID: "tgt_not_stored", ReadsMSA: true})
	require.NoError(t, err)
	assert.Nil(t, p)
}
