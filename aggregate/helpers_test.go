package aggregate

import (
	"github.com/omtx-hub/omtx-hub/aggregate/internal/childtest"
)

// The children these tests rank, from the one fixture package.
type opt = childtest.Opt

var (
	child         = childtest.Child
	completed     = childtest.Completed
	withName      = childtest.WithName
	withStructure = childtest.WithStructure
	withMeta      = childtest.WithMeta
	readCSV       = childtest.ReadCSV
	rankSet       = childtest.RankSet
)

const wantHeader = childtest.WantHeader
