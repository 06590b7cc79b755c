// Package msa computes and checks protein multiple sequence alignments
// (MSAs) for Boltz-2, and names their cache objects.
//
// A protein's MSA is computed once per sequence by a ColabFold-compatible
// MMseqs2 server (the public https://api.colabfold.com or a self-hosted
// soedinglab/MMseqs2-App), cached in GCS as CacheObject(seq) =
// "msa/{Key(seq)}.a3m" and reused by every prediction of that protein.
//
// # Protocol
//
// The client speaks the protocol of the reference clients, read at:
//
//   - jwohlwend/boltz src/boltz/data/msa/mmseqs2.py (run_mmseqs2) and
//     src/boltz/main.py (compute_msa), commit
//     832486dafed7b80e1246a3fed895e9bb03976558;
//   - sokrypton/ColabFold colabfold/colabfold.py (run_mmseqs2), commit
//     3b808f0fa70ac160747eedf862b2da3be9dbcbce;
//   - the server side, soedinglab/MMseqs2-App backend/server.go,
//     backend/worker.go and backend/ratelimit.go, commit
//     0ca82749e48913c10df14001b265de1bf74dc648.
//
// It is:
//
//  1. POST {BaseURL}/ticket/msa, form-encoded, q = ">101\nSEQUENCE\n" and
//     mode = "env" (UniRef plus the environmental databases) or "all"
//     (UniRef only), the filtered modes ColabFold and Boltz use for an
//     unpaired MSA. The answer is JSON {"id": ..., "status": ...}; status
//     RATELIMIT (the server's rate limiter answers it with HTTP 429) means
//     "submit again later", ERROR and MAINTENANCE are server failures.
//     The reference clients resubmit on their own; Compute instead returns
//     a retryable error and leaves the backoff to Temporal.
//  2. GET {BaseURL}/ticket/{id} until the status leaves PENDING, RUNNING
//     and UNKNOWN; COMPLETE means the result is ready.
//  3. GET {BaseURL}/result/download/{id}: a tar.gz holding uniref.a3m and,
//     in env mode, bfd.mgnify30.metaeuk30.smag30.a3m (plus files the
//     client ignores, such as msa.sh).
//
// A heteromer's paired MSA (ComputePaired, pair.go) takes the same steps
// with POST {BaseURL}/ticket/pair, every chain's sequence in one query
// (">101", ">102", ...) and mode "pairgreedy" or "pairgreedy-env"; its
// archive holds pair.a3m. PairedCSV turns a chain's paired and unpaired
// alignments into the CSV Boltz writes for it.
//
// Every request carries a User-Agent (ColabFold asks clients for one) and,
// when configured, one authentication header (Boltz's --api_key_header /
// --api_key_value; HTTP basic auth is the header "Authorization: Basic ...").
//
// # Merging the a3m files
//
// Each result file is an MMseqs2 database: one entry per query, entries
// separated by NUL bytes, each starting with the query's own record
// (">101", then the query sequence) followed by its hits. Like Boltz and
// ColabFold, Compute takes the entry of query 101 from uniref.a3m and then
// from the environmental file, in that order, keeping each hit's header
// and aligned sequence as they are. One difference: the reference clients
// keep the environmental file's copy of the query record, so their merged
// A3M lists the query twice; Compute drops that copy (and any other record
// headed ">101" after the first). Boltz's A3M parser skips duplicate
// sequences, so Boltz reads the same MSA either way.
//
// The merged A3M's first record is therefore the query, headed ">101",
// with one line per sequence (Boltz's parser reads one sequence per line).
//
// # Errors
//
// Compute's errors are typed for the Temporal activity that calls it:
// *RateLimitError and *ServerError are retryable (Temporal retries the
// activity with backoff), *InvalidError is permanent. IsRetryable says
// which is which.
package msa
