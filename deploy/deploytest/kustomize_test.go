package deploytest

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"
)

var hashedConfigMap = regexp.MustCompile(`\b` + configMapName + `-[a-z0-9]{10}\b`)

// TestRealKustomize renders each kustomization with kubectl's own kustomize
// and compares it with what the checks here build: the same objects, the
// same content, and the generated ConfigMap's name hashed and referenced
// under that name. Skipped, with a message, without kubectl.
func TestRealKustomize(t *testing.T) {
	bin := lookTool(t, "kubectl")
	if bin == "" {
		t.Skip("kubectl not found: the kustomizations are checked by deploytest's own renderer only, not against kustomize")
	}
	for _, dir := range kustomizations {
		t.Run(dir, func(t *testing.T) {
			out, err := exec.Command(bin, "kustomize", repoPath(t, "deploy", dir)).CombinedOutput()
			require.NoError(t, err, "kubectl kustomize %s: %s", dir, out)
			text := string(out)
			names := map[string]bool{}
			for _, m := range hashedConfigMap.FindAllString(text, -1) {
				names[m] = true
			}
			require.Len(t, names, 1, "kustomize names the generated ConfigMap with a content hash, once")
			refs := strings.Count(text, "name: "+sortedKeys(names)[0])
			assert.Equal(t, 1+len(build(t, dir).deployments()), refs, "the ConfigMap and every Deployment's envFrom use the hashed name")
			text = hashedConfigMap.ReplaceAllString(text, configMapName)

			real := map[string]map[string]any{}
			for i, doc := range splitYAML(text) {
				j, err := yaml.YAMLToJSON([]byte(doc))
				require.NoError(t, err)
				o, err := objectFromJSON("kustomize output", j)
				require.NoError(t, err, "document %d", i)
				real[o.GVK+"/"+o.Name] = o.Raw
			}
			ours := map[string]map[string]any{}
			for _, o := range build(t, dir).Objects {
				ours[o.GVK+"/"+o.Name] = o.Raw
			}
			assert.ElementsMatch(t, sortedKeys(ours), sortedKeys(real), "the same objects")
			for k, r := range real {
				o, ok := ours[k]
				if !ok {
					continue
				}
				rj, _ := json.MarshalIndent(r, "", " ")
				oj, _ := json.MarshalIndent(o, "", " ")
				assert.JSONEq(t, string(rj), string(oj), "%s differs between kustomize and deploytest's renderer", k)
			}
		})
	}
}
