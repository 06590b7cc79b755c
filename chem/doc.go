// Package chem validates and describes the inputs of a protein–ligand
// binding prediction: ligand SMILES strings and protein sequences. It is pure
// Go with no dependencies, and is meant to reject bad input with a clear,
// positioned reason before any model runs, and to provide simple descriptors
// for the featurizer.
//
// # SMILES grammar
//
// ParseSMILES accepts the subset of OpenSMILES used by real ligand libraries:
//
//   - Organic-subset atoms B C N O P S F Cl Br I and aromatic b c n o p s.
//   - Bracket atoms [isotope? symbol chiral? hcount? charge? class?] with any
//     element symbol H..Og, or an aromatic symbol b c n o p s se as te si ge
//     sb. Chirality is @, @@ or an extended form (@TH1, @AL1, @SP1, @TB1,
//     @OH1); it is kept verbatim in Atom.Chiral and not interpreted. The
//     hydrogen count is H or H<digit>; the charge is +, -, ++, +2, -3, ...
//     (at most ±15); the atom class :n is accepted and discarded.
//   - Bonds - = # $ : / \ (/ and \ are single bonds; $ is quadruple, order 4),
//     branches ( ), ring closures 0-9 and %nn (a ring number may be reused
//     once closed, and a ring closure may span a '.'), and '.' to separate
//     disconnected fragments.
//
// The input must already be trimmed. ParseSMILES rejects, with a
// *SMILESError holding a reason and a 0-based byte position: the empty
// string; strings longer than MaxSMILESLength; more than MaxHeavyAtoms heavy
// atoms; any whitespace; unknown characters; the wildcard atom '*';
// unbracketed elements outside the organic subset ("Na", "H", "se"); unknown
// element symbols ("[Xx]"); unterminated or malformed bracket atoms;
// unbalanced parentheses; empty branches; bonds or '.' with no atom on one
// side; ring bonds left open at the end; a ring closure onto its own atom; a
// second bond between the same two atoms; ring closures whose two ends give
// different bond orders; aromatic atoms that are not in a ring; and
// impossible valences (see below).
//
// # Hydrogens and valence
//
// Bracket atoms carry exactly the hydrogens written (HCount). Organic-subset
// atoms get implicit hydrogens from their standard valences (B 3; C 4; N 3,5;
// O 2; P 3,5; S 2,4,6; F Cl Br I 1):
//
//   - Aliphatic atoms: the bond-order sum v (aromatic ':' bonds count 1.5,
//     rounded up) is raised to the smallest allowed valence >= v and the
//     difference is the hydrogen count. If v exceeds the largest allowed
//     valence the SMILES is rejected, e.g. "carbon at position 2 has valence
//     5 (max 4)".
//   - Aromatic atoms: each aromatic bond counts 1, other bonds their order,
//     plus 1 for the atom's own pi bond when it supplies one. Carbon always
//     does, unless it already has a double bond (e.g. an exocyclic C=O);
//     n and p do when they have two sigma bonds (pyridine type) but not when
//     they have three (pyrrole type, N-substituted); o, s and b never do.
//     The hydrogen count is the smallest allowed valence minus that total,
//     never below zero. So benzene c gets one H, a ring-fusion c none,
//     pyridine n none, and thiophene s and furan o none. A pyrrole-type
//     nitrogen bearing hydrogen must be written [nH]; a bare n with two ring
//     bonds is taken as pyridine-like and gets no hydrogen.
//
// An unwritten bond between two aromatic atoms is aromatic (order 1.5) when
// it lies in a ring and single otherwise (the link in c1ccccc1c1ccccc1).
//
// For bracket atoms only C, N and O are valence-checked, against a maximum
// adjusted by charge (C 4, C+ and C- 3; N 5, N+ 4, N- 2; O 2, O+ 3, O- 1),
// counting bonds (aromatic bonds as 1) plus written hydrogens. Other
// elements and unusual charges are not checked.
//
// # What is not checked
//
// The parser does not perceive aromaticity or attempt Kekulé assignment:
// rings written in Kekulé form stay non-aromatic, and an aromatic system
// that could not be kekulized (e.g. pyrrole written c1ccnc1) is accepted.
// Stereochemistry is parsed but not validated, atom classes are ignored, and
// charges on elements other than C, N and O are taken as written.
//
// # Descriptors
//
// ComputeDescriptors derives counts, Lipinski donors/acceptors, rotatable
// bonds, ring counts (cycle rank), average molecular weight and Fsp3; see
// the Descriptors field comments for the exact definitions.
//
// # Protein sequences
//
// ValidateProteinSequence removes whitespace, upper-cases, and accepts the
// 20 standard amino-acid letters plus X, U and O, with a length between
// MinProteinLength and MaxProteinLength. It names the first bad character
// and its 1-based residue position, and rejects sequences of 20 or more
// letters made only of A, C, G, T, U and N as probable DNA/RNA.
// ComputeProteinDescriptors gives length, average mass, hydrophobic fraction
// and a crude net charge at pH 7.
package chem
