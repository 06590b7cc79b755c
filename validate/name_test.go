package validate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
)

func TestLigandName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, in, want, refused string
	}{
		{name: "plain", in: "  Aspirin ", want: "Aspirin"},
		{name: "empty gets the default", in: "  ", want: "Ligand_1"},
		{name: "decomposed é becomes precomposed", in: "Caf" + "e\u0301" + "ine", want: "Caf\u00e9ine"},
		{name: "precomposed stays", in: "Caf\u00e9ine", want: "Caf\u00e9ine"},
		{name: "Hangul jamo compose", in: "\u1100\u1161", want: "\uac00"},
		{name: "line separator", in: "Aspirin\u2028=cmd", refused: "U+2028"},
		{name: "paragraph separator", in: "Asp\u2029irin", refused: "U+2029"},
		{name: "newline", in: "Asp\nirin", refused: "control"},
		{name: "right-to-left override", in: "Asp\u202eirin", refused: "direction"},
		{name: "invalid UTF-8", in: "Asp\xffirin", refused: "UTF-8"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := LigandName("ligands[3].name", c.in, "Ligand_1")
			if c.refused != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), c.refused)
				var e *omtx.Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, "ligands[3].name", e.Field)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.want, got)
		})
	}
}
