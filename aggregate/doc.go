// Package aggregate computes the files that summarise a finished batch
// (virtual screen): one protein against many ligands, each ligand a batch
// child job.
//
// An Aggregator sees every child of a batch twice, in batch_index order,
// without holding them (AggregateBatch streams both passes from
// Firestore, page by page), and writes the contents of
//
//   - batch_results.csv: one row per child, ranked children in rank order,
//     then the others (failed, filtered, cancelled) in batch_index order,
//     with the user's metadata columns and links the API serves;
//   - batch_results.json: the best ligand, the average ΔG and the top 10;
//   - summary.json: the ranking rule, counts, a status line, the failures
//     with their reasons, and statistics over predicted binders and over
//     all ligands;
//   - analysis/affinity_distribution.png: a histogram of
//     affinity_pred_value over predicted binders, in front of all ligands;
//   - analysis/top_10_structures.zip: the top-10 structures, when the model
//     produced coordinates;
//
// together with the omtx.BatchResults block of the parent document. The
// package does no I/O of its own: structures are read through a loader,
// and writing the files is the caller's job. Build runs both passes over
// an in-memory slice.
//
// Ranking follows Boltz-2's own advice: affinity_probability_binary tells
// binders from decoys (hit discovery, the default), and
// affinity_pred_value, log10(IC50 in µM), compares binders among
// themselves (lead optimization). Confidence floors on ligand_iptm and
// iptm flag doubted poses and rank them last. See omtx.RankingOptions and
// RankBy.
//
// A child counts as completed when its status is completed and it has a
// results block whose predicted values are all finite numbers. A child whose
// status is completed but whose results are missing or non-finite is not
// ranked; Summary counts it in Other and in CompletedWithoutResults.
package aggregate
