package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sdfAPI answers results.sdf and poses.sdf as the API does, and the rest as
// fakeAPI does.
type sdfAPI struct {
	*fakeAPI
	mu   sync.Mutex
	asks []string // path?query of each SD file asked for
}

const fakeSD = "L1\n  OMTXHub 01010000002D\n\n  1  0  0  0  0  0  0  0  0  0999 V2000\n" +
	"    0.0000    0.0000    0.0000 C   0  0  0  0  0  0  0  0  0  0  0  0\nM  END\n> <rank>\n1\n\n$$$$\n"

func (s *sdfAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, ".sdf") {
		s.mu.Lock()
		s.asks = append(s.asks, r.URL.Path+"?"+r.URL.RawQuery)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "chemical/x-mdl-sdfile")
		w.Header().Set("X-Omtx-Records", "1")
		if strings.HasSuffix(r.URL.Path, "/poses.sdf") {
			w.Header().Set("X-Omtx-Skipped", "2")
		} else {
			w.Header().Set("X-Omtx-Skipped", "0")
		}
		fmt.Fprint(w, fakeSD)
		return
	}
	s.fakeAPI.ServeHTTP(w, r)
}

func newSDFFake(t *testing.T, final string, steps ...string) (*sdfAPI, string) {
	f := &sdfAPI{fakeAPI: &fakeAPI{steps: steps, final: final}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

func TestResultsSDF(t *testing.T) {
	t.Parallel()
	t.Run("ligands", func(t *testing.T) {
		t.Parallel()
		f, url := newSDFFake(t, "completed", "4,0,0,0")
		code, out, errOut := omtxRun(t, url, "results", "batch_x", "--format", "sdf", "--top", "0", "--ranking", "lead_optimization")
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, fakeSD, out, "the API's SD file, as it came")
		assert.Equal(t, []string{"/api/v1/batches/batch_x/results.sdf?ranking=lead_optimization"}, f.asks)
		assert.Contains(t, errOut, "1 ligand in the SD file\n")
		assert.Contains(t, errOut, "Ranking: Rule lead_optimization.", "the footer follows on stderr")
	})
	t.Run("poses", func(t *testing.T) {
		t.Parallel()
		f, url := newSDFFake(t, "completed", "4,0,0,0")
		code, out, errOut := omtxRun(t, url, "results", "batch_x", "--format", "sdf", "--poses", "--top", "5")
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, fakeSD, out)
		assert.Equal(t, []string{"/api/v1/batches/batch_x/poses.sdf?top=5"}, f.asks)
		assert.Contains(t, errOut, "1 pose in the SD file; 2 ranked ligands without one")
	})
	t.Run("poses of every ranked ligand the API gives", func(t *testing.T) {
		t.Parallel()
		f, url := newSDFFake(t, "completed", "4,0,0,0")
		code, _, errOut := omtxRun(t, url, "results", "batch_x", "--format", "sdf", "--poses", "--top", "0")
		require.Equal(t, 0, code, errOut)
		assert.Equal(t, []string{"/api/v1/batches/batch_x/poses.sdf?top=1000"}, f.asks, "--top 0 asks for the API's most, not its default 100")
	})
	t.Run("failures still exit 4", func(t *testing.T) {
		t.Parallel()
		_, url := newSDFFake(t, "completed", "3,1,0,0")
		code, _, errOut := omtxRun(t, url, "results", "batch_x", "--format", "sdf")
		assert.Equal(t, 4, code, errOut)
		assert.Contains(t, errOut, "1 failed:")
	})
	t.Run("usage", func(t *testing.T) {
		t.Parallel()
		_, url := newSDFFake(t, "completed", "4,0,0,0")
		code, _, errOut := omtxRun(t, url, "results", "batch_x", "--poses")
		assert.Equal(t, 2, code)
		assert.Contains(t, errOut, "--poses goes with --format sdf")
		code, _, errOut = omtxRun(t, url, "results", "job_x", "--format", "sdf")
		assert.Equal(t, 2, code)
		assert.Contains(t, errOut, "--format sdf needs a batch id")
	})
}
