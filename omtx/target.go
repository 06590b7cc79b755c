package omtx

import "time"

// TargetsCollection is the Firestore collection of target documents.
const TargetsCollection = "targets"

// TargetRecord is a target's document: who owns it, its content hash and
// a summary to list and show. The target itself is immutable, at
// TargetObject(TargetID); deleting the document leaves that object (and
// the uploaded files beside it) for the jobs that name it.
type TargetRecord struct {
	TargetID  string    `json:"target_id" firestore:"target_id"`
	UserID    string    `json:"user_id" firestore:"user_id"`
	Name      string    `json:"name,omitempty" firestore:"name,omitempty"`
	CreatedAt time.Time `json:"created_at" firestore:"created_at"`
	// Hash is the target's content hash (package target's Hash).
	Hash string `json:"target_hash" firestore:"target_hash"`
	// Tokens is the complex's size as Boltz tokenizes it, without the
	// screened ligand.
	Tokens      int                   `json:"tokens" firestore:"tokens"`
	LigandChain string                `json:"ligand_chain" firestore:"ligand_chain"`
	Chains      []TargetChainSummary  `json:"chains" firestore:"chains"`
	Ligands     []TargetLigandSummary `json:"ligands,omitempty" firestore:"ligands,omitempty"`
	// Constraints lists each constraint's kind: pocket, contact or bond.
	Constraints []string `json:"constraints,omitempty" firestore:"constraints,omitempty"`
	// Templates lists the template files' names.
	Templates []string `json:"templates,omitempty" firestore:"templates,omitempty"`
	// Files lists the uploaded files' names, stored under
	// TargetPrefix(TargetID)+"files/".
	Files []string `json:"files,omitempty" firestore:"files,omitempty"`
	// MSAStatus is where the MSAs of the target's server chains stand
	// (TargetMSAComputing, TargetMSAReady, TargetMSAFailed), computed
	// once at creation by a TargetMSAWorkflow; "" for a target with no
	// server chain, or one whose workflow could not be started (its
	// first job computes them).
	MSAStatus string `json:"msa_status,omitempty" firestore:"msa_status,omitempty"`
	// MSAReason says why MSAStatus is TargetMSAFailed.
	MSAReason string `json:"msa_reason,omitempty" firestore:"msa_reason,omitempty"`
}

// States of a target's server MSAs (TargetRecord.MSAStatus).
const (
	TargetMSAComputing = "computing"
	TargetMSAReady     = "ready"
	TargetMSAFailed    = "failed"
)

// TargetChainSummary is one polymer entry of a target.
type TargetChainSummary struct {
	IDs    []string `json:"ids" firestore:"ids"`
	Type   string   `json:"type" firestore:"type"`
	Length int      `json:"length" firestore:"length"`
	// MSAMode is server, file or empty for a protein; "" otherwise.
	MSAMode string `json:"msa_mode,omitempty" firestore:"msa_mode,omitempty"`
	// MSADigest is "sha256:<hex>" of an uploaded A3M, or of a server
	// chain's MSA once the target's TargetMSAWorkflow computed it.
	MSADigest string `json:"msa_digest,omitempty" firestore:"msa_digest,omitempty"`
	// MSAPaired is true for a server chain of a heteromer, whose MSA is
	// Boltz's CSV with paired rows (msa.PairedCSV).
	MSAPaired bool `json:"msa_paired,omitempty" firestore:"msa_paired,omitempty"`
}

// TargetLigandSummary is one fixed ligand (cofactor, ion) of a target.
type TargetLigandSummary struct {
	IDs    []string `json:"ids" firestore:"ids"`
	CCD    string   `json:"ccd,omitempty" firestore:"ccd,omitempty"`
	SMILES string   `json:"smiles,omitempty" firestore:"smiles,omitempty"`
	// HeavyAtoms is the ligand's tokens per copy.
	HeavyAtoms int `json:"heavy_atoms" firestore:"heavy_atoms"`
}

// TargetFilter selects a user's targets, newest first.
type TargetFilter struct {
	UserID string
	Limit  int
	// AfterCreatedAt and AfterTargetID continue a listing after a target.
	AfterCreatedAt time.Time
	AfterTargetID  string
}

// TargetFile is the object of a target's uploaded file.
func TargetFile(targetID, name string) string { return TargetPrefix(targetID) + "files/" + name }
