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
//     sb. The isotope has at most three digits and no leading zero.
//     Chirality is @, @@ or an extended form in its OpenSMILES range (@TH1-2,
//     @AL1-2, @SP1-3, @TB1-20, @OH1-30); it is kept verbatim in Atom.Chiral
//     and not interpreted. The hydrogen count is H or H<digit>; the charge is
//     +, ++, -, -- or a sign and a number without leading zeros (at most
//     ±15); the atom class :n is accepted and discarded.
//   - Bonds - = # $ : / \ (/ and \ are single bonds, aromatic between two
//     aromatic atoms as in RDKit; $ is quadruple, order 4), and the dative
//     bonds -> and <- (order 1, pointing from donor to acceptor; as in
//     RDKit they count toward the acceptor's valence only, and on a ring
//     closure they read from the atom they are written on to its partner),
//     branches ( ), ring closures 0-9 and %10-%99 (a ring number may be
//     reused once closed, and a ring closure may span a '.'), and '.' to
//     separate disconnected fragments.
//
// The input must already be trimmed. ParseSMILES rejects, with a
// *SMILESError holding a reason and a 0-based byte position (its messages
// count from 1, as residue positions do: "at position 1" is the first
// character): the empty
// string; strings longer than MaxSMILESLength; more than MaxHeavyAtoms heavy
// atoms; any whitespace; unknown characters; the wildcard atom '*';
// unbracketed elements outside the organic subset ("Na", "H", "se"); unknown
// element symbols ("[Xx]"); unterminated or malformed bracket atoms;
// unbalanced parentheses; empty branches; bonds or '.' with no atom on one
// side; ring bonds left open at the end; a ring closure onto its own atom; a
// second bond between the same two atoms; ring closures whose two ends give
// different bond orders; impossible valences; aromatic atoms that are not
// in a ring; and aromatic ring systems that cannot be kekulized (see below).
//
// # Valence: the rules of RDKit
//
// A SMILES is accepted exactly when RDKit (its SMILES reader with full
// sanitization) accepts it, for everything this grammar covers; the
// exceptions are listed under "Where ParseSMILES differs from RDKit".
// testdata/rdkit_valence.tsv records RDKit's verdict on several hundred
// SMILES, and the tests hold ParseSMILES to it. The rules, after RDKit's
// Code/GraphMol/Atom.cpp, MolOps.cpp and Kekulize.cpp:
//
//   - Allowed valences come from RDKit's periodic table: H 1; B 3; C 4; N 3;
//     O 2; F Cl Br 1; Si 4; P 3,5; S Se Te 2,4,6; As Sb 3,5; I 1,3,5; Xe
//     0,2,4,6; the noble gases 0; alkali and alkaline-earth metals their
//     group valence or more; transition metals, lanthanides and actinides
//     anything. So a neutral N takes three bonds (CN(C)(C)C and [NH4] are
//     refused), a neutral H one ([H][H][H] is refused), and Cl, Br and F one.
//   - A charged atom takes the valences of the element it is isoelectronic
//     with: N+ and B- those of C (4), O+ those of N (3), O- and N-2 those of
//     F (1), S+ those of P (3,5). Anionic P, S, As and Se keep their own
//     element's largest valence less the charge ([PF6-] is accepted).
//   - An atom's valence is the sum of its bond orders, aromatic bonds
//     counting 1.5, plus its written hydrogens. An aromatic atom whose sum
//     lies above its default valence, but within 1.5 of an allowed one, is
//     taken at that allowed valence (the N of Cn1cccc1 has 4, taken as 3).
//     The sum, rounded with .5 going up, must not exceed the largest allowed
//     valence; the error names the atom, its position, its valence and the
//     limit, e.g. "nitrogen at position 1 has valence 4 (max 3)".
//   - Before that check, neutral hypervalent forms that RDKit rewrites are
//     read as their charge-separated equivalents: N with valence 5 and an
//     N=O (the nitro group CN(=O)=O, N-oxides O=n1ccccc1) as [N+][O-]; N
//     with valence 5 and an N#N (the azide CN=N#N) as [N+]=[N-]; P with
//     valence 5, three neighbours, a P=O and a P=C or P=N as [P+][O-]; Cl,
//     Br or I with valence 3, 5 or 7 bonded only to O (OCl(=O)(=O)=O) with
//     each X=O as [X+][O-]. A non-metal over its valence that has a single
//     bond to a metal has that bond read as dative, not counting for the
//     non-metal ([NH3][Pt]([NH3])(Cl)Cl). The Molecule keeps the charges and
//     bond orders as written.
//   - A hydrogen written as an atom ([H]) with one single bond to a heavy
//     atom counts as one hydrogen of that atom, whatever its bond order, as
//     RDKit folds it in; isotopic hydrogens, hydrides, hydrogens that fix a
//     double bond's geometry (F/C=C/[H]) and others stay atoms, and an H
//     atom with two bonds is refused.
//
// # Hydrogens
//
// Bracket atoms carry exactly the hydrogens written (HCount), so [CH3] is
// a radical and [C] a bare carbon; like RDKit, ParseSMILES accepts such
// radicals. Organic-subset atoms get implicit hydrogens up to their next
// allowed valence (C 4; N 3; O 2; P 3 or 5; S 2, 4 or 6; I 1, 3 or 5; B 3;
// F Cl Br 1), or, when aromatic (written in lower case or joined by an
// aromatic bond), up to their default valence: benzene c gets one, a
// ring-fusion c, pyridine n, furan o and thiophene s none. A pyrrole-type
// nitrogen bearing hydrogen must therefore be written [nH].
//
// An unwritten or directional (/ \) bond between two aromatic atoms is
// aromatic (order 1.5) when it lies in a ring and single otherwise (the link
// in c1ccccc1c1ccccc1).
//
// # Kekulization
//
// An aromatic atom outside a ring is refused. In each aromatic ring system
// the atoms that still need a double bond, as RDKit reckons them (benzene
// c, pyridine n, pyrylium o+, but not [nH], pyrrole-type n with three
// bonds, furan o, thiophene s or a c bearing an exocyclic C=O), must pair
// up along aromatic ring bonds. ParseSMILES finds such a pairing with a
// maximum matching; when there is none (c1ccnc1, pyrrole without its H;
// c1cccc1; O=c1ccccc1) it reports the ring system's first atom and how many
// of its atoms needed a double bond. Then, as RDKit does, the aromatic
// bonds of ring atoms are given their single and double orders and the
// valences are checked again, so an atom that fitted only because aromatic
// bonds count 1.5 is refused (C1:BrC:C:C:C:C:1, C1#nCCCCC1); a neutral
// aromatic N or P drops its one written hydrogen first, as RDKit does.
// Rings written in Kekulé form are checked by the valence rules only and
// stay non-aromatic: ParseSMILES does not perceive aromaticity (Perceive
// does; see below).
//
// # Where ParseSMILES differs from RDKit
//
// On purpose, ParseSMILES refuses, while RDKit accepts: wildcard atoms
// ('*', not a real ligand); whitespace (RDKit reads text after a space as a
// name); ring closures whose two ends give different bond orders
// (C=1CC#1, an error in OpenSMILES that RDKit resolves silently); charges
// beyond ±15 and isotopes above 999; an extended chirality class without
// its number ([C@TH]); hydrogen counts of two digits ([CoH30]); and
// RDKit's %(nnn) ring-bond numbers. It also refuses, where RDKit accepts, a
// tetrahedral centre whose written H makes it over-valent ([C@@H](F)(Cl)(Br)I:
// RDKit silently drops that H), and a ring atom that is over its valence
// once kekulized but that RDKit's aromaticity perception, which ParseSMILES
// does not have, makes aromatic again (C=1ccccc1=C). Each is a row marked
// "differs:" in testdata/rdkit_corpus.tsv.
//
// Not reproduced, and kept out of the table: RDKit gives up kekulizing
// after 100 backtracking steps, where ParseSMILES's matching always finds a
// pairing if one exists, so a very large fused aromatic system could be
// accepted here and refused by RDKit; an aromatic atom shared by two ring
// systems that share no bond (aromatic spiro atoms) is paired once here and
// once per system by RDKit; and ParseSMILES does not know which bond of a
// [H] defines a double bond's geometry when that was set by stereo
// perception rather than written. Stereochemistry is parsed but not
// validated, and atom classes are ignored. A differential run of 40,000
// mutated corpus SMILES through both found no disagreement outside these
// classes.
//
// # Descriptors
//
// ComputeDescriptors derives counts, Lipinski donors/acceptors, rotatable
// bonds, ring counts (cycle rank), average molecular weight and Fsp3; see
// the Descriptors field comments for the exact definitions.
//
// # Writing SMILES and standardizing ligands
//
// Molecule.SMILES and SubsetSMILES write a parsed molecule, or some of its
// fragments, back as SMILES (smiles_write.go says what is kept);
// testdata/smiles_write.tsv is RDKit's check that each written SMILES is
// the molecule it came from. Standardize gives the molecule Boltz-2 models
// for an affinity ligand, after Boltz's own standardizer: metals of
// ChEMBL's list refused, the largest fragment kept, charges neutralized;
// standardize.go cites the rules and testdata/standardize.tsv holds RDKit's
// verdicts.
//
// # Aromaticity, rings and SMARTS
//
// Perceive returns a Structure: the molecule as RDKit holds it after
// sanitization, with Kekulé bond orders, RDKit's clean-up charges, total
// hydrogen counts and radicals, RDKit's rings (the relevant cycles, its
// symmetrized SSSR) and aromaticity perceived by RDKit's default model
// (aromatic.go), so that Kekulé and aromatic spellings of one molecule get
// the same aromatic atoms. testdata/rdkit_aromatic.tsv holds RDKit's
// aromatic atoms, aromatic bonds and rings for every molecule of
// testdata/aromatic_corpus.tsv, and TestPerceive_AgreesWithRDKit holds
// Perceive to all of them.
//
// ParseSMARTS reads SMARTS (smarts.go lists the primitives) with [#1] query
// atoms merged into hydrogen counts, as RDKit's FilterCatalog reads them;
// a Matcher (NewMatcher) finds them in a Structure within a step budget,
// returning a *MatchBudgetError (errors.Is ErrMatchBudget) when a search
// runs out. The filters package checks the matcher against RDKit's
// verdicts on every catalog pattern over the same corpus.
//
// # One identity per molecule
//
// Identity gives a SMILES string its canonical identity: a canonical SMILES
// of the molecule as Perceive sees it (identity.go). Two inputs are the same
// molecule when they have the same atoms (element, isotope, formal charge,
// hydrogen count), joined the same way, with the same tetrahedral centres
// and double-bond geometry; how they are written does not count. So Kekulé
// and aromatic spellings (CC(=O)OC1=CC=CC=C1C(=O)O and
// CC(=O)Oc1ccccc1C(=O)O), any atom order, where the hydrogens are written
// ([H]C is C), and chirality or '/' '\' marks on atoms and bonds that are
// not stereo (C[C@H]1CCCC1 is CC1CCCC1) all give one identity, and
// aspirin's is CC(=O)Oc1ccccc1C(=O)O. Enantiomers, diastereomers, E and Z
// isomers, isotopologues ([13CH3]), charge states (CC(=O)O and CC(=O)[O-]),
// tautomers (O=c1cc[nH]cc1 and Oc1ccncc1) and a salt against its parent
// (the identity covers every fragment) are different molecules. This is
// RDKit's notion of sameness: testdata/rdkit_identity.tsv holds RDKit's
// canonical SMILES for 2,240 spellings of 749 molecules (random atom orders,
// Kekulé forms, stereoisomers), and the tests hold Identity to it in both
// directions, and have RDKit read each identity back as its own molecule.
// Not covered: atom-map numbers (discarded by the parser) and
// non-tetrahedral chirality (@SP, @TB, @OH, @AL, not interpreted), which
// RDKit would tell apart. Where the same molecule should be modelled for
// Boltz, compare Standardize's parent instead; the library's duplicate
// report compares the submitted molecules.
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

//go:generate sh -c "cd .. && node scripts/rdkit/check.mjs < chem/testdata/rdkit_corpus.tsv > chem/testdata/rdkit_valence.tsv.new && mv chem/testdata/rdkit_valence.tsv.new chem/testdata/rdkit_valence.tsv"
