package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResultsReportTheCache: results says how many ligands the result
// cache served and what they saved; screen --no-cache sends cache=false,
// and without it the field is not sent (the API's default, on).
func TestResultsReportTheCache(t *testing.T) {
	t.Parallel()
	f, url := newFake(t, "completed", "4,0,0,0")
	code, _, errOut := omtxRun(t, url, "results", "batch_x")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "Result cache: 3 of 4 ligands reused earlier results; saved 60.0 GPU-seconds ($0.0200)")

	fasta, lib := writeFiles(t)
	code, _, errOut = omtxRun(t, url, "screen", "--protein", "@"+fasta, "--library", lib)
	require.Equal(t, 0, code, errOut)
	code, _, errOut = omtxRun(t, url, "screen", "--protein", "@"+fasta, "--library", lib, "--no-cache")
	require.Equal(t, 0, code, errOut)
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Equal(t, []string{"", "false"}, f.cache)
}
