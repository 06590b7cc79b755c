package api

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

// TestOpenAPIMatchesRoutes checks that every gin route is described and
// everything described is routed.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	raw, err := yaml.YAMLToJSON(OpenAPI)
	require.NoError(t, err)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."))

	var described []string
	for path, ops := range doc.Paths {
		for method := range ops {
			described = append(described, strings.ToUpper(method)+" "+path)
		}
	}
	param := regexp.MustCompile(`[:*]([a-z_]+)`)
	var routed []string
	for _, r := range newFixture(t).srv.Routes() {
		routed = append(routed, param.ReplaceAllString(r, "{$1}"))
	}
	sort.Strings(described)
	sort.Strings(routed)
	assert.Equal(t, described, routed)
}
