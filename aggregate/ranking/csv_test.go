package ranking

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

func TestCSV(t *testing.T) {
	t.Parallel()
	children := []*omtx.Job{
		completed(3, -1.23456, 0.9, withName("Aspirin, acetylsalicylic acid"), withMeta("vendor", "Enamine", "logp", "-1.5")),
		child(1, omtx.StatusFailed, withName("=HYPERLINK(\"http://x\")"), withSMILES("=cmd|' /C calc'!A0"), withError("-invalid SMILES")),
		completed(0, 0.5, 0.2, withName("+plus"), withMeta("mw", "180.16", "vendor", "@SUM(A1)")),
		child(2, omtx.StatusRunning, withName("-minus")),
		completed(4, -0.5, 0.7, withoutIndex(), withID("job-noindex"), withSMILES("CC(=O)Oc1ccccc1C(=O)O")),
	}
	out := build(t, input{BatchID: "b1", Children: children})
	header, rows := readCSV(t, out.CSV)

	t.Run("header exact with the user's metadata columns, sorted", func(t *testing.T) {
		t.Parallel()
		got := strings.Join(header, ",")
		want := wantHeader + ",logp,mw,vendor"
		assert.Equal(t, want, got)
		firstLine, _, _ := strings.Cut(string(out.CSV), "\n")
		assert.Equal(t, want, firstLine)
	})

	t.Run("ranked rows first in rank order, then the rest by batch_index", func(t *testing.T) {
		t.Parallel()
		require.Len(t, rows, len(children))
		var gotRank, gotIndex []string
		for _, r := range rows {
			gotRank = append(gotRank, r["rank"])
			gotIndex = append(gotIndex, r["batch_index"])
		}
		// Hit discovery: index 3 (p 0.9), no index (p 0.7), index 0 (p 0.2);
		// then the failed index 1 and the running index 2.
		assert.Equal(t, []string{"1", "2", "3", "", ""}, gotRank)
		assert.Equal(t, []string{"3", "", "0", "1", "2"}, gotIndex)
		assert.Equal(t, "job-noindex", rows[1]["job_id"])
	})

	t.Run("numbers with 4 decimals, empty when missing", func(t *testing.T) {
		t.Parallel()
		r := rows[0]
		assert.Equal(t, "-1.2346", r["affinity_pred_value_log10_ic50_um"])
		assert.Equal(t, "7.2346", r["pic50"])
		assert.Equal(t, "-9.8679", r["delta_g_kcal_mol"])
		assert.Equal(t, "0.9000", r["affinity_probability_binary"])
		assert.Equal(t, "true", r["predicted_binder"])
		assert.Equal(t, "false", rows[2]["predicted_binder"])
		assert.Equal(t, "0.8000", r["confidence"])
		assert.Equal(t, "boltz2", r["model"])
		assert.Empty(t, r["model_note"], "only the baseline carries a note")
		assert.Equal(t, "2.1.1", r["model_version"])
		assert.Equal(t, "false", r["structure_available"])
		assert.Equal(t, "completed", r["status"])
		assert.Empty(t, r["failure_reason"])
		failed := rows[3]
		for _, col := range []string{"rank", "affinity_pred_value_log10_ic50_um", "pic50", "delta_g_kcal_mol", "affinity_probability_binary", "predicted_binder", "confidence", "model_version", "structure_available", "results_url"} {
			assert.Empty(t, failed[col], col)
		}
		assert.Equal(t, "failed", failed["status"])
		assert.Equal(t, "boltz2", failed["model"], "the job's model when there are no results")
	})

	t.Run("links the API serves, not gs:// addresses", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, "/api/v1/jobs/job-00003/files/results.json", rows[0]["results_url"])
		assert.Empty(t, rows[0]["structure_url"], "no structure")
		assert.NotContains(t, string(out.CSV), "gs://")
		s := completed(0, -1, 0.9, withStructure())
		one := build(t, input{Children: []*omtx.Job{s}})
		_, rs := readCSV(t, one.CSV)
		assert.Equal(t, "/api/v1/jobs/job-00000/files/structure.cif", rs[0]["structure_url"])
	})

	t.Run("comma in a name is quoted", func(t *testing.T) {
		t.Parallel()
		assert.Contains(t, string(out.CSV), `,"Aspirin, acetylsalicylic acid",`)
		got := rows[0]["ligand_name"]
		assert.Equal(t, "Aspirin, acetylsalicylic acid", got)
	})

	t.Run("formula injection guard", func(t *testing.T) {
		t.Parallel()
		failed, plus, running := rows[3], rows[2], rows[4]
		assert.Equal(t, `'=HYPERLINK("http://x")`, failed["ligand_name"])
		assert.Equal(t, `'=cmd|' /C calc'!A0`, failed["smiles"])
		assert.Equal(t, "'-invalid SMILES", failed["failure_reason"])
		assert.Equal(t, "'+plus", plus["ligand_name"])
		assert.Equal(t, "'-minus", running["ligand_name"])
		assert.Equal(t, "'@SUM(A1)", plus["vendor"])
		assert.Equal(t, "-1.5", rows[0]["logp"], "a plain number is not a formula")
		assert.Equal(t, "CC(=O)Oc1ccccc1C(=O)O", rows[1]["smiles"], "a valid SMILES is unchanged")
	})

	t.Run("a name's own leading quote is kept apart from the guard's", func(t *testing.T) {
		t.Parallel()
		q := completed(0, -1, 0.9)
		q.InputData.LigandName = "'quoted"
		out := build(t, input{BatchID: "b1", Children: []*omtx.Job{q}})
		_, rows := readCSV(t, out.CSV)
		assert.Equal(t, "''quoted", rows[0]["ligand_name"], "one quote more, so unguarding gives the name back")
	})

	t.Run("warnings joined in their own column", func(t *testing.T) {
		t.Parallel()
		w := completed(0, -1, 0.9)
		w.Warnings = []string{"first", "second"}
		out := build(t, input{Children: []*omtx.Job{w}})
		_, rows := readCSV(t, out.CSV)
		assert.Equal(t, "first; second", rows[0]["warnings"])
	})

	t.Run("modelled SMILES and each chain's MSA", func(t *testing.T) {
		t.Parallel()
		salt := completed(0, -1, 0.9, withSMILES("CC(=O)Oc1ccccc1C(=O)O.[Na+].[Cl-]"))
		salt.InputData.ModelledSMILES = "CC(=O)Oc1ccccc1C(=O)O"
		salt.Results.ModelledSMILES = "CC(=O)Oc1ccccc1C(=O)O"
		salt.Results.MSAMode = omtx.MSAServer
		salt.Results.MSAs = []omtx.ChainMSA{{ChainID: "A", Mode: omtx.MSAServer, Digest: "ab12"}}
		dimer := completed(1, -1, 0.9)
		dimer.Results.MSAs = []omtx.ChainMSA{{ChainID: "A", Mode: omtx.MSAServer, Digest: "ab12"}, {ChainID: "B", Mode: omtx.MSASingleSequence}}
		failed := child(2, omtx.StatusFailed, withSMILES("CCN.Cl"))
		failed.InputData.ModelledSMILES = "CCN"
		base := completed(3, -1, 0.9)
		base.Results.MSAMode = omtx.MSANone
		out := build(t, input{BatchID: "b1", Children: []*omtx.Job{salt, dimer, failed, base}})
		_, rows := readCSV(t, out.CSV)
		require.Len(t, rows, 4)
		byIndex := map[string]map[string]string{}
		for _, r := range rows {
			byIndex[r["batch_index"]] = r
		}
		rows = []map[string]string{byIndex["0"], byIndex["1"], byIndex["2"], byIndex["3"]}
		assert.Equal(t, "CC(=O)Oc1ccccc1C(=O)O.[Na+].[Cl-]", rows[0]["smiles"])
		assert.Equal(t, "CC(=O)Oc1ccccc1C(=O)O", rows[0]["modelled_smiles"])
		assert.Equal(t, "server", rows[0]["msa_mode"])
		assert.Equal(t, "ab12", rows[0]["msa_digest"])
		assert.Equal(t, "A=server; B=single_sequence", rows[1]["msa_mode"])
		assert.Equal(t, "A=ab12; B=", rows[1]["msa_digest"])
		assert.Equal(t, "CCN", rows[2]["modelled_smiles"], "known from submission, before any result")
		assert.Empty(t, rows[2]["msa_mode"])
		assert.Equal(t, "none", rows[3]["msa_mode"])
		assert.Empty(t, rows[3]["msa_digest"])
	})

	t.Run("metadata union with empty cells", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, "Enamine", rows[0]["vendor"])
		assert.Equal(t, "180.16", rows[2]["mw"])
		assert.Empty(t, rows[0]["mw"])
		assert.Empty(t, rows[3]["vendor"])
	})

	t.Run("a metadata name that is taken gets a prefix", func(t *testing.T) {
		t.Parallel()
		got := metaColumns([]string{"class", "Status", "meta_status", "smiles"})
		assert.Equal(t, []string{"class", "meta_Status", "meta_meta_status", "meta_smiles"}, got)
	})

	t.Run("the baseline's rows say what it is", func(t *testing.T) {
		t.Parallel()
		b := completed(0, -1, 0.9)
		b.Model, b.Results.Model = omtx.BaselineModel, omtx.BaselineModel
		out := build(t, input{Children: []*omtx.Job{b}})
		_, rows := readCSV(t, out.CSV)
		assert.Equal(t, "ligand-only descriptor model; ignores the protein", rows[0]["model_note"])
	})
}

func TestGuard(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", ""},
		{"aspirin", "aspirin"},
		{"=1+1", "'=1+1"},
		{"+1", "+1"},
		{"-2.5e-3", "-2.5e-3"},
		{"-.5", "-.5"},
		{"-", "'-"},
		{"-1.2.3", "'-1.2.3"},
		{"-1e", "'-1e"},
		{"-Inf", "'-Inf"},
		{"-0x1p3", "'-0x1p3"},
		{"@A1", "'@A1"},
		{"\tx", "'\tx"},
		{"\r=x", "'\r=x"},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got := guard(tt.in)
			assert.Equal(t, tt.want, got)
		})
	}
}
