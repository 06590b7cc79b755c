// Package sdf writes a batch's ligands as an SD file (BIOVIA's "CTfile
// Formats", 2020: one molfile per record, then its data fields and "$$$$"):
// each ligand's record carries its batch_results.csv row as data fields,
// under the same names.
//
// Two kinds of record:
//
//   - The ligand itself (Ligand): the modelled molecule's connection table
//     with every atom at 0,0,0 and the molfile marked 2D, the convention
//     for a connection table without a depiction. Stereo is not in the
//     connection table; the smiles and modelled_smiles fields keep it.
//   - Its predicted pose (Pose): the screened ligand's heavy atoms with the
//     coordinates the model wrote in the complex's mmCIF, marked 3D, with
//     the bonds, charges and isotopes of the modelled SMILES.
//
// How a pose is read from Boltz-2's mmCIF (jwohlwend/boltz at commit
// 832486dafed7b80e1246a3fed895e9bb03976558):
//
//   - The screened ligand's chain is the last chain: Boltz writes the
//     chains in input order under their input names
//     (src/boltz/data/write/mmcif.py, lines 105-108 and 142), and
//     target.RenderJob writes the screened ligand after every chain of the
//     target (boltz.job.ligandChainIndex).
//   - Its atoms are the heavy atoms of an RDKit molecule with hydrogens
//     added, in that molecule's order, each named its upper-case element
//     symbol and its canonical rank plus one
//     (src/boltz/data/parse/schema.py, lines 1242-1256; the residue is
//     parsed from that molecule at lines 1276-1280, and parse_ccd_residue
//     skips its hydrogens at lines 712-715).
//   - That molecule is not built from the SMILES as given: the affinity
//     ligand's SMILES is first standardized (schema.py lines 1239-1240:
//     standardize, lines 1837-1862, returns Chem.MolToSmiles of the ChEMBL
//     pipeline's molecule), so the atoms come in the order of RDKit's
//     canonical SMILES, not in the order of ours. And the element column is
//     guessed from the atom name (mmcif.py lines 167-178).
//
// So Pose does not trust the order or the element column: it matches the
// modelled molecule's heavy atoms to the chain's atoms by the element in
// each atom name and by geometry (every bond of the molecule must join two
// atoms no farther apart than their covalent radii allow), a graph match
// that any permutation of the atoms passes and a different molecule fails.
// Atoms that the heavy-atom graph cannot tell apart (the two oxygens of a
// carboxylic acid, whose hydrogen Boltz does not place) may be given
// either position.
package sdf
