// Command replay replays workflow histories against the current workflow
// code, to check that a change is safe for workflows already running.
//
//	temporal workflow show --workflow-id batch-$ID -o json > history.json
//	go run ./cmd/replay -workflow-id batch-$ID history.json
//
// Batch histories start chunk workflows whose ids derive from the batch's
// workflow id, so pass -workflow-id (and -run-id if known) for them.
package main

import (
	"flag"
	"fmt"
	"os"

	"go.temporal.io/sdk/workflow"

	"github.com/omtx-hub/omtx-hub/worker"
)

func main() {
	wid := flag.String("workflow-id", "", "the history's workflow id (needed for batch histories)")
	rid := flag.String("run-id", "", "the history's run id")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: replay [-workflow-id ID] [-run-id ID] history.json ...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	failed := false
	for _, path := range flag.Args() {
		if err := worker.ReplayFile(path, workflow.Execution{ID: *wid, RunID: *rid}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed = true
			continue
		}
		fmt.Printf("%s: replayed without non-determinism\n", path)
	}
	if failed {
		os.Exit(1)
	}
}
