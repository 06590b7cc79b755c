package api

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/library"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// sdRecords reads an SD file back as the project's own SD library reader
// does (library.ParseSDF, as a user uploading the export again): each
// record's title and data items. It reads the molfiles too.
func sdRecords(t *testing.T, sd string) (titles []string, fields []map[string]string) {
	t.Helper()
	if sd == "" {
		return nil, nil
	}
	lib, err := library.ParseSDF(strings.NewReader(sd), library.Options{})
	require.NoError(t, err, sd)
	require.NoError(t, lib.Each(func(e library.Entry) error {
		titles = append(titles, e.Name)
		fields = append(fields, e.Metadata)
		return nil
	}))
	return titles, fields
}

func TestBatchResultsSDF(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := resultsBatch(t, f, omtx.StatusCompleted, &omtx.BatchConfig{TotalLigands: 5, Ranking: omtx.RankingHitDiscovery})
	path := "/api/v1/batches/" + id + "/results.sdf"
	w := f.do("GET", path, key1, "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	validateResponse(t, path, w)
	assert.Equal(t, "chemical/x-mdl-sdfile", w.Header().Get("Content-Type"))
	assert.Contains(t, w.Header().Get("Content-Disposition"), id+"_results.sdf")
	assert.Equal(t, "4", w.Header().Get("X-Omtx-Records"))
	titles, fields := sdRecords(t, w.Body.String())
	assert.Equal(t, []string{"L1", "L0", "L2", "L4"}, titles, "rank order, by binder probability; the failed ligand left out")
	assert.Equal(t, "1", fields[0]["rank"])
	assert.Equal(t, "-0.9000", fields[0]["affinity_pred_value_log10_ic50_um"])
	assert.Equal(t, "0.9900", fields[0]["affinity_probability_binary"])
	assert.Equal(t, "6.9000", fields[0]["pic50"])
	assert.NotEmpty(t, fields[0]["delta_g_kcal_mol"])
	assert.Equal(t, "0.7000", fields[0]["confidence"])
	assert.Equal(t, "completed", fields[0]["status"])
	assert.Equal(t, "c1", fields[0]["class"], "the user's metadata column")
	assert.Contains(t, w.Body.String(), "    0.0000    0.0000    0.0000 C ", "no pose: every atom at 0,0,0")

	t.Run("the ranking query and top", func(t *testing.T) {
		t.Parallel()
		p := path + "?ranking=lead_optimization&top=1"
		w := f.do("GET", p, key1, "")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		titles, _ := sdRecords(t, w.Body.String())
		assert.Equal(t, []string{"L0"}, titles, "the binders by affinity_pred_value: L0 (-1.0) before L1 (-0.9)")
		w = f.do("GET", path+"?top=0", key1, "")
		assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
		assert.Contains(t, w.Body.String(), `"field":"top"`)
	})
	t.Run("another user's batch", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, http.StatusNotFound, f.do("GET", path, key2, "").Code)
	})
}

func TestBatchPosesSDF(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := resultsBatch(t, f, omtx.StatusCompleted, &omtx.BatchConfig{TotalLigands: 5, Ranking: omtx.RankingHitDiscovery})
	// L0 (rank 2) has a structure: the Boltz stand-in's, whose ligand is
	// ethanol's heavy atoms, as L0's SMILES is.
	cif, err := os.ReadFile("../boltz/testdata/fixture/model_0.cif")
	require.NoError(t, err)
	kid, err := f.jobs.Get(context.Background(), omtx.BatchChildJobID(id, 0, 5))
	require.NoError(t, err)
	kid.Results.StructureAvailable = true
	kid.Results.StructureFile = f.blobs.URI(omtx.JobFolder(kid) + omtx.FileStructureCIF)
	f.jobs.Put(kid)
	require.NoError(t, f.blobs.Put(context.Background(), omtx.JobFolder(kid)+omtx.FileStructureCIF, "chemical/x-mmcif", cif))

	// L1 (rank 1) says it has a structure that was never stored: skipped,
	// not a failed request.
	kid1, err := f.jobs.Get(context.Background(), omtx.BatchChildJobID(id, 1, 5))
	require.NoError(t, err)
	kid1.Results.StructureAvailable = true
	kid1.Results.StructureFile = f.blobs.URI(omtx.JobFolder(kid1) + omtx.FileStructureCIF)
	f.jobs.Put(kid1)

	// L2 was completed from the result cache: its structure is its source
	// job's file, and it has no folder of its own.
	kid2, err := f.jobs.Get(context.Background(), omtx.BatchChildJobID(id, 2, 5))
	require.NoError(t, err)
	kid2.Results.StructureAvailable = true
	kid2.Results.StructureFile = f.blobs.URI("jobs/job_source/" + omtx.FileStructureCIF)
	f.jobs.Put(kid2)
	require.NoError(t, f.blobs.Put(context.Background(), "jobs/job_source/"+omtx.FileStructureCIF, "chemical/x-mmcif", cif))

	path := "/api/v1/batches/" + id + "/poses.sdf"
	w := f.do("GET", path, key1, "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	validateResponse(t, path, w)
	assert.Equal(t, "2", w.Header().Get("X-Omtx-Records"))
	assert.Equal(t, "2", w.Header().Get("X-Omtx-Skipped"), "one ranked ligand without a structure, one whose structure is missing")
	titles, fields := sdRecords(t, w.Body.String())
	assert.ElementsMatch(t, []string{"L0", "L2"}, titles, "the cache hit's pose comes from its source job")
	for i, title := range titles {
		if title == "L0" {
			assert.Equal(t, "2", fields[i]["rank"])
		}
	}
	assert.Contains(t, w.Body.String(), "3D\n")
	assert.Contains(t, w.Body.String(), "    6.1000    4.6000    3.7000 O ", "the model's coordinates")
}
