package omtx

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUnits(t *testing.T) {
	t.Parallel()
	// 1 µM: log10(1) = 0, pIC50 6, ΔG = −8.184 kcal/mol.
	assert.InDelta(t, 6.0, PIC50FromPredValue(0), 1e-12)
	assert.InDelta(t, -8.184, DeltaGFromPredValue(0), 1e-12)
	// 10 nM = 0.01 µM: value −2, pIC50 8.
	assert.InDelta(t, 8.0, PIC50FromPredValue(-2), 1e-12)
	assert.InDelta(t, 0.01, IC50uMFromPredValue(-2), 1e-15)
}

func TestFleet(t *testing.T) {
	t.Parallel()
	f, err := ParseFleet(DefaultFleetSpec)
	require.NoError(t, err)
	require.Len(t, f, 2)

	for _, c := range []struct {
		name       string
		start      string
		tokens     int
		want       string
		wantReason string
		wantErr    bool
	}{
		{"fits the model's class", "l4", 1200, "l4", "fit the l4 budget", false},
		{"too big for L4", "l4", 1201, "a100-80g", "exceed the l4 budget of 1200; routed to a100-80g", false},
		{"too big for every class", "l4", 4001, "", "", true},
		{"unknown class", "h100", 10, "", "", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, reason, err := f.Route(c.start, c.tokens)
			if c.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got.Name)
			assert.Contains(t, reason, c.wantReason)
		})
	}
	next, ok := f.Next("l4")
	assert.True(t, ok)
	assert.Equal(t, "a100-80g", next.Name)
	_, ok = f.Next("a100-80g")
	assert.False(t, ok, "the largest class has no next")
	assert.InDelta(t, 0.65, f[0].CostUSD(3600), 1e-12)

	for _, bad := range []string{"", "l4", "l4:x:1", "l4:10:-1", "a:10:1,a:20:1", "big:100:1,small:10:1"} {
		_, err := ParseFleet(bad)
		assert.Error(t, err, bad)
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "job_batch_x_0007", BatchChildJobID("batch_x", 7, 10))
	assert.Equal(t, "job_batch_x_0007", BatchChildJobID("batch_x", 7, 10000))
	assert.Equal(t, "job_batch_x_00007", BatchChildJobID("batch_x", 7, 10001))
	assert.Equal(t, []string{"job_b_0002", "job_b_0003"}, BatchChildJobIDs("b", 2, 4, 10))
	assert.Equal(t, "msa/uploads/a.a3m", ObjectOf("gs://bucket/msa/uploads/a.a3m"))
	assert.Equal(t, "", ObjectOf(""))
}

func TestProgressCount(t *testing.T) {
	t.Parallel()
	p := CountJobs([]*Job{{Status: StatusCompleted}, nil, {Status: StatusFailed}, {Status: StatusQueued},
		{Status: StatusRunning}, {Status: StatusCancelled}, {Status: StatusCompleted}, {Status: StatusFiltered}})
	assert.Equal(t, Progress{Total: 7, Completed: 2, Failed: 1, Running: 1, Pending: 1, Cancelled: 1, Filtered: 1}, p)
}

func TestStatusFiltered(t *testing.T) {
	t.Parallel()
	// A filtered child is final (the GPU activity skips it) and a status
	// the API accepts in ?status=.
	assert.True(t, StatusFiltered.Terminal())
	assert.True(t, StatusFiltered.Valid())
	assert.False(t, Counts(JobTypeBatchChild, StatusFiltered))
}

func TestModelCatalog(t *testing.T) {
	t.Parallel()
	c := ModelCatalog{
		Available:   map[string]string{BaselineModel: "l4"},
		Substitutes: map[string]string{ModelBoltz2: BaselineModel},
	}
	r, err := c.Resolve(BaselineModel)
	require.NoError(t, err)
	assert.Empty(t, r.Requested)

	r, err = c.Resolve(ModelBoltz2)
	require.NoError(t, err)
	assert.Equal(t, BaselineModel, r.Model)
	assert.Equal(t, ModelBoltz2, r.Requested)
	assert.Contains(t, r.Note, "not boltz2")

	_, err = c.Resolve("alphafold")
	assert.Equal(t, EModel, ErrorCode(err))
	_, err = ModelCatalog{Available: c.Available}.Resolve(ModelBoltz2)
	assert.Equal(t, EModel, ErrorCode(err), "no substitution unless configured")
}

func TestTopFilterHits(t *testing.T) {
	t.Parallel()
	hits := map[string]int{"b": 2, "a": 2, "c": 5, "d": 1}
	assert.Equal(t, []FilterHit{{"c", 5}, {"a", 2}, {"b", 2}}, TopFilterHits(hits, 3))
	assert.Empty(t, TopFilterHits(nil, 3))
}
