package aggregate

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

const wantHeader = "rank,batch_index,job_id,ligand_name,smiles,status," +
	"affinity_pred_value_log10_ic50_um,pic50,delta_g_kcal_mol,affinity_probability_binary," +
	"confidence,model,model_version,structure_available,results_file,error,warnings," +
	"modelled_smiles,msa_mode,msa_digest"

// readCSV parses a CSV file into rows keyed by column name.
func readCSV(t *testing.T, data []byte) (header []string, rows []map[string]string) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, recs)
	header = recs[0]
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, v := range rec {
			row[header[i]] = v
		}
		rows = append(rows, row)
	}
	return header, rows
}

func TestCSV(t *testing.T) {
	t.Parallel()
	children := []*omtx.Job{
		completed(3, -1.23456, 0.9, withName("Aspirin, acetylsalicylic acid"), withMeta("vendor", "Enamine", "logp", "-1.5")),
		child(1, omtx.StatusFailed, withName("=HYPERLINK(\"http://x\")"), withSMILES("=cmd|' /C calc'!A0"), withError("-invalid SMILES")),
		completed(0, 0.5, 0.2, withName("+plus"), withMeta("mw", "180.16", "vendor", "@SUM(A1)")),
		child(2, omtx.StatusRunning, withName("-minus")),
		completed(4, -0.5, 0.7, withoutIndex(), withID("job-noindex"), withSMILES("CC(=O)Oc1ccccc1C(=O)O")),
	}
	out, err := Build(Input{BatchID: "b1", BatchName: "screen", Children: children})
	require.NoError(t, err)
	header, rows := readCSV(t, out.CSV)

	t.Run("header exact with sorted meta columns", func(t *testing.T) {
		t.Parallel()
		got := strings.Join(header, ",")
		want := wantHeader + ",meta_logp,meta_mw,meta_vendor"
		assert.Equal(t, want, got)
		firstLine, _, _ := strings.Cut(string(out.CSV), "\n")
		assert.Equal(t, want, firstLine)
	})

	t.Run("one row per child ordered by batch_index", func(t *testing.T) {
		t.Parallel()
		require.Len(t, rows, len(children))
		var got []string
		for _, r := range rows {
			got = append(got, r["batch_index"])
		}
		assert.Equal(t, []string{"0", "1", "2", "3", ""}, got)
		assert.Equal(t, "job-noindex", rows[4]["job_id"])
	})

	t.Run("rank only for completed", func(t *testing.T) {
		t.Parallel()
		var got []string
		for _, r := range rows {
			got = append(got, r["rank"])
		}
		// Binders by value: index 3 (-1.23), no-index (-0.5); then index 0.
		assert.Equal(t, []string{"3", "", "", "1", "2"}, got)
	})

	t.Run("numbers with 4 decimals, empty when missing", func(t *testing.T) {
		t.Parallel()
		r := rows[3]
		assert.Equal(t, "-1.2346", r["affinity_pred_value_log10_ic50_um"])
		assert.Equal(t, "7.2346", r["pic50"])
		assert.Equal(t, "-9.8679", r["delta_g_kcal_mol"])
		assert.Equal(t, "0.9000", r["affinity_probability_binary"])
		assert.Equal(t, "0.8000", r["confidence"])
		assert.Equal(t, "boltz2", r["model"])
		assert.Equal(t, "2.1.1", r["model_version"])
		assert.Equal(t, "false", r["structure_available"])
		assert.Equal(t, "completed", r["status"])
		failed := rows[1]
		for _, col := range []string{"rank", "affinity_pred_value_log10_ic50_um", "pic50", "delta_g_kcal_mol", "affinity_probability_binary", "confidence", "model_version", "structure_available", "results_file"} {
			assert.Empty(t, failed[col], col)
		}
		assert.Equal(t, "failed", failed["status"])
		assert.Equal(t, "boltz2", failed["model"], "the job's model when there are no results")
	})

	t.Run("comma in a name is quoted", func(t *testing.T) {
		t.Parallel()
		assert.Contains(t, string(out.CSV), `,"Aspirin, acetylsalicylic acid",`)
		got := rows[3]["ligand_name"]
		assert.Equal(t, "Aspirin, acetylsalicylic acid", got)
	})

	t.Run("formula injection guard", func(t *testing.T) {
		t.Parallel()
		assert.Equal(t, `'=HYPERLINK("http://x")`, rows[1]["ligand_name"])
		assert.Equal(t, `'=cmd|' /C calc'!A0`, rows[1]["smiles"])
		assert.Equal(t, "'-invalid SMILES", rows[1]["error"])
		assert.Equal(t, "'+plus", rows[0]["ligand_name"])
		assert.Equal(t, "'-minus", rows[2]["ligand_name"])
		assert.Equal(t, "'@SUM(A1)", rows[0]["meta_vendor"])
		assert.Equal(t, "-1.5", rows[3]["meta_logp"], "a plain number is not a formula")
		assert.Equal(t, "CC(=O)Oc1ccccc1C(=O)O", rows[4]["smiles"], "a valid SMILES is unchanged")
	})

	t.Run("a name's own leading quote is kept apart from the guard's", func(t *testing.T) {
		t.Parallel()
		q := completed(0, -1, 0.9)
		q.InputData.LigandName = "'quoted"
		out, err := Build(Input{Children: []*omtx.Job{q}})
		require.NoError(t, err)
		_, rows := readCSV(t, out.CSV)
		assert.Equal(t, "''quoted", rows[0]["ligand_name"], "one quote more, so unguarding gives the name back")
	})

	t.Run("warnings joined in their own column", func(t *testing.T) {
		t.Parallel()
		w := completed(0, -1, 0.9)
		w.Warnings = []string{"first", "second"}
		out, err := Build(Input{Children: []*omtx.Job{w}})
		require.NoError(t, err)
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
		out, err := Build(Input{Children: []*omtx.Job{salt, dimer, failed, base}})
		require.NoError(t, err)
		_, rows := readCSV(t, out.CSV)
		require.Len(t, rows, 4)
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
		assert.Equal(t, "Enamine", rows[3]["meta_vendor"])
		assert.Equal(t, "180.16", rows[0]["meta_mw"])
		assert.Empty(t, rows[3]["meta_mw"])
		assert.Empty(t, rows[1]["meta_vendor"])
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
