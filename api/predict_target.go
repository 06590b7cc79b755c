package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/library"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// jobTarget is what a prediction or a screen runs against: a stored
// target (target_id), an inline one (target), or the seed's one protein
// chain (protein_sequence).
type jobTarget struct {
	// t is the target; for the seed's shape, target.OneChain (filled in
	// once the MSA mode is known, for a dry run's YAML).
	t *target.Target
	// id and hash name a stored or inline target; empty for the seed's
	// shape, whose jobs carry no TargetID.
	id, hash string
	// protein is the first protein chain's sequence: InputData's
	// ProteinSequence, for display and for readers that know no targets.
	protein string
	// name is InputData's ProteinName: a FASTA record's header, or a
	// stored target's name.
	name string
	// tokens is the complex's size without the screened ligand.
	tokens int
	// prepared is an inline target, stored before the job is submitted.
	prepared *preparedTarget
	warnings []string
}

// seed reports whether the request used the seed's protein_sequence.
func (jt *jobTarget) seed() bool { return jt.id == "" }

// resolveTarget reads the one of protein_sequence, target_id and target
// that a request sends. msaSent says an A3M came in the msa field, which
// only the seed's shape takes: a target carries its own.
func (s *Server) resolveTarget(c *gin.Context, protein *string, targetID string, inline *target.Target, msaSent bool) (*jobTarget, error) {
	n := 0
	for _, set := range []bool{protein != nil, targetID != "", inline != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return nil, omtx.Errorf(omtx.EInvalid, "protein_sequence", "is required (or name a stored target with target_id, or send one as target)")
	case n > 1:
		field := "target"
		if targetID != "" {
			field = "target_id"
		}
		return nil, omtx.Errorf(omtx.EInvalid, field, "send exactly one of protein_sequence, target_id and target")
	case protein != nil:
		name, seq := splitFASTA(*protein)
		return &jobTarget{protein: seq, name: name}, nil
	case msaSent:
		return nil, omtx.Errorf(omtx.EInvalid, "msa", "a target carries its own MSAs: upload the A3M with the target (POST /api/v1/targets)")
	}
	var jt *jobTarget
	if targetID != "" {
		rec, err := s.ownTarget(c, targetID, "target_id")
		if err != nil {
			return nil, err
		}
		t, err := s.loadTarget(c, rec.TargetID)
		if err != nil {
			return nil, err
		}
		jt = &jobTarget{t: t, id: rec.TargetID, hash: rec.Hash, tokens: rec.Tokens, name: rec.Name}
	} else {
		if s.targets == nil {
			return nil, omtx.Errorf(omtx.EUnavailable, "", "this deployment stores no targets")
		}
		p, err := s.prepareTarget(userOf(c), "", inline, map[string][]byte{}, "target.")
		if err != nil {
			return nil, err
		}
		jt = &jobTarget{t: p.t, id: p.record.TargetID, hash: p.record.Hash, tokens: p.record.Tokens, prepared: p, warnings: p.warnings}
	}
	for _, ch := range jt.t.Chains {
		if ch.Type == target.Protein {
			jt.protein = ch.Sequence
			break
		}
	}
	if jt.protein == "" {
		field := "target.chains"
		if targetID != "" {
			field = "target_id"
		}
		return nil, omtx.Errorf(omtx.EInvalid, field, "the target has no protein chain; predictions and screens need one")
	}
	for i, ch := range jt.t.Chains {
		if ch.MSA != nil && ch.MSA.Mode == target.MSAEmpty {
			jt.warnings = append(jt.warnings, fmt.Sprintf(
				"chain %s (chains[%d]) runs in single-sequence mode (msa: empty), which Boltz's documentation calls not recommended because it reduces accuracy", ch.IDs[0], i))
		}
	}
	return jt, nil
}

// checkModel refuses a target the resolved model cannot run: the
// descriptor baseline (also where it substitutes for boltz2) models one
// protein chain and the screened ligand, never a target's other parts.
func (jt *jobTarget) checkModel(res omtx.Resolution) error {
	if jt.seed() || res.Model != omtx.BaselineModel {
		return nil
	}
	return fieldPrefixed("target.", target.CheckBaseline(jt.t, res.Model))
}

// apply records the target in a job's input.
func (jt *jobTarget) apply(in *omtx.InputData) {
	in.TargetID, in.TargetHash, in.ProteinName = jt.id, jt.hash, jt.name
}

// complexTokens is the job's size in tokens for routing and estimates:
// the complex and the (largest) screened ligand.
func (jt *jobTarget) complexTokens(protein string, ligandAtoms int) int {
	if jt.seed() {
		return len(protein) + ligandAtoms
	}
	return jt.tokens + ligandAtoms
}

// store stores an inline target before its job is submitted.
func (s *Server) storeJobTarget(c *gin.Context, jt *jobTarget) error {
	if jt.prepared == nil {
		return nil
	}
	_, _, err := s.storeTarget(c, jt.prepared)
	return err
}

// dryRun reads the dry_run query parameter.
func dryRun(c *gin.Context) (bool, error) {
	v := c.Query("dry_run")
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, omtx.Errorf(omtx.EInvalid, "dry_run", "must be true or false")
	}
	return b, nil
}

// DryRunResponse answers ?dry_run=true: what would run, with nothing
// created.
type DryRunResponse struct {
	DryRun bool `json:"dry_run"`
	// BoltzYAML is the input Boltz-2 would run for the (first) ligand,
	// with placeholder MSA and template paths (msa/CHAIN.a3m,
	// templates/NAME) where the runner puts the files.
	BoltzYAML      string          `json:"boltz_yaml"`
	Settings       omtx.Parameters `json:"settings"`
	Model          string          `json:"model"`
	RequestedModel string          `json:"requested_model,omitempty"`
	// Substituted says another model serves the request than the one
	// asked for.
	Substituted bool     `json:"substituted"`
	Warnings    []string `json:"warnings,omitempty"`
	Tokens      int      `json:"tokens"`
	GPUClass    string   `json:"gpu_class"`
	// TargetID and TargetHash name the target the job would run on (an
	// inline target: the id it would be stored under).
	TargetID   string `json:"target_id,omitempty"`
	TargetHash string `json:"target_hash,omitempty"`
}

// baselineDryRunNote says the YAML is not what will run.
const baselineDryRunNote = "the descriptor baseline serves this request; boltz_yaml is the input Boltz-2 would get, shown for reference"

// writeDryRun answers a dry run for spec, rendering the job's Boltz YAML
// for ligandSMILES.
func (s *Server) writeDryRun(c *gin.Context, spec *contract.JobSpec, res omtx.Resolution, jt *jobTarget, ligandSMILES string, warnings []string) {
	t := jt.t
	if t == nil {
		mode := target.MSAEmpty
		if spec.InputData.Parameters.UseMSA {
			mode = target.MSAServer
		}
		t = target.OneChain(spec.InputData.ProteinSequence, mode)
	}
	files := target.JobFiles{MSA: map[string]string{}, Templates: map[string]string{}}
	paired := serverHeteromer(t)
	for _, ch := range t.Chains {
		if ch.MSA != nil && ch.MSA.Mode != target.MSAEmpty {
			files.MSA[ch.IDs[0]] = "msa/" + ch.IDs[0] + ".a3m"
			if paired && ch.MSA.Mode == target.MSAServer {
				files.MSA[ch.IDs[0]] = "msa/" + ch.IDs[0] + ".csv"
			}
		}
	}
	for _, tp := range t.Templates {
		files.Templates[tp.CIF+tp.PDB] = "templates/" + tp.CIF + tp.PDB
	}
	out, err := target.RenderJob(t, ligandSMILES, files)
	if err != nil {
		s.writeError(c, fieldPrefixed("target.", err))
		return
	}
	resp := DryRunResponse{
		DryRun: true, BoltzYAML: string(out), Settings: spec.InputData.Parameters,
		Model: res.Model, RequestedModel: res.Requested, Substituted: res.Requested != "" && res.Requested != res.Model,
		Warnings: warnings, Tokens: spec.Tokens, GPUClass: spec.GPUClass(),
		TargetID: jt.id, TargetHash: jt.hash,
	}
	if res.Model == omtx.BaselineModel {
		resp.Warnings = append([]string{baselineDryRunNote}, resp.Warnings...)
	}
	c.JSON(http.StatusOK, resp)
}

// noteOf is a substitution's note as a warning, if there is one.
func noteOf(res omtx.Resolution) []string {
	if res.Note == "" {
		return nil
	}
	return []string{res.Note}
}

// writeBatchDryRun answers a batch's dry run with the first valid
// ligand's YAML.
func (s *Server) writeBatchDryRun(c *gin.Context, spec *contract.JobSpec, res omtx.Resolution, jt *jobTarget, lib *library.Library) {
	first := ""
	_ = lib.Each(func(e library.Entry) error {
		if e.Error == "" {
			first = e.SMILES
			return errStop
		}
		return nil
	})
	if first == "" {
		s.writeError(c, omtx.Errorf(omtx.EInvalid, "ligands", "no valid ligand to render"))
		return
	}
	warnings := noteOf(res)
	if n := lib.Renamed(); n > 0 {
		warnings = append(warnings, fmt.Sprintf("%d duplicate ligand names were made unique by appending \" (2)\", \" (3)\", ...", n))
	}
	s.writeDryRun(c, spec, res, jt, first, append(warnings, spec.Warnings...))
}

var errStop = errors.New("stop")
