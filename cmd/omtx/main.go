// Command omtx is the OMTX-Hub command line: submit predictions and
// screens, watch them, and fetch their results, over the REST API.
//
//	omtx screen --protein @target.fasta --library ligands.csv --wait --out hits/
//	omtx watch batch_…
//	omtx results batch_… --top 20
//
// Configuration: OMTX_API_URL (default http://127.0.0.1:8080) and
// OMTX_API_KEY, or --api-key-file (default .omtx/dev-api-key when it
// exists). Exit codes: 0 success; 1 the job or batch ended failed or
// cancelled (or the API refused the action); 2 usage errors, including
// input the API refused as invalid; 3 the API is unreachable or refuses
// the key; 130 interrupted (Ctrl-C stops watching, never the work).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
