package deploytest

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// msaServerProblems says how the MSA server's manifests fail to hang
// together: the workers' OMTX_MSA_URL names the Service and its port, the
// Service selects the StatefulSet's pods on a port they serve, the server
// runs on a GPU with its databases on the claim, and the one-time setup Job
// writes onto the same claim the marker the server waits for.
func msaServerProblems(b *built, job *batchv1.Job) []string {
	var out []string
	ssObj := b.find("apps/v1/StatefulSet", "msa-server")
	svcObj := b.find("v1/Service", "msa-server")
	if ssObj == nil || svcObj == nil {
		return []string{"no StatefulSet or Service msa-server"}
	}
	ss := ssObj.Obj.(*appsv1.StatefulSet)
	svc := svcObj.Obj.(*corev1.Service)
	u, err := url.Parse(b.configMap(configMapName).Data["OMTX_MSA_URL"])
	if err != nil || u.Hostname() != svc.Name+"."+namespace+".svc.cluster.local" {
		out = append(out, "OMTX_MSA_URL does not name the Service msa-server")
	} else if len(svc.Spec.Ports) != 1 || u.Port() != strconv.Itoa(int(svc.Spec.Ports[0].Port)) {
		out = append(out, "OMTX_MSA_URL's port is not the Service's")
	}
	c := ss.Spec.Template.Spec.Containers[0]
	if _, ok := c.Resources.Limits[gpuResource]; !ok {
		out = append(out, "the server has no GPU (GPU-accelerated MMseqs2)")
	}
	claim := ""
	for _, v := range ss.Spec.Template.Spec.Volumes {
		if v.Name == "databases" && v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
	}
	if claim == "" || b.find("v1/PersistentVolumeClaim", claim) == nil {
		out = append(out, "the databases are not on a PersistentVolumeClaim of the kustomization")
	}
	jobClaim := ""
	for _, v := range job.Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			jobClaim = v.PersistentVolumeClaim.ClaimName
		}
	}
	if jobClaim != claim {
		out = append(out, "the setup Job writes to claim "+jobClaim+", the server reads "+claim)
	}
	const marker = "/databases/OMTX_SETUP_DONE"
	jobCmd := strings.Join(job.Spec.Template.Spec.Containers[0].Command, " ")
	if !strings.Contains(jobCmd, "touch "+marker) || !strings.Contains(jobCmd, "setup_databases.sh") || !strings.Contains(jobCmd, "GPU=1") {
		out = append(out, "the setup Job does not run setup_databases.sh with GPU=1 and then write "+marker)
	}
	waits := false
	for _, ic := range ss.Spec.Template.Spec.InitContainers {
		waits = waits || strings.Contains(strings.Join(ic.Command, " "), "test -f "+marker)
	}
	if !waits {
		out = append(out, "the server does not wait for "+marker)
	}
	return out
}

func setupJob(t *testing.T) *batchv1.Job {
	t.Helper()
	objs := loadFile(t, "msa-server/setup-databases-job.yaml")
	require.Len(t, objs, 1)
	job, ok := objs[0].Obj.(*batchv1.Job)
	require.True(t, ok)
	assert.Equal(t, namespace, job.Namespace, "applied by hand: it names its namespace")
	assert.Equal(t, "omtx-msa-setup", job.Spec.Template.Labels["app.kubernetes.io/name"], "the label egress-msa-setup-downloads selects")
	return job
}

func TestMSAServer(t *testing.T) {
	job := setupJob(t)
	for _, dir := range []string{"base", "overlays/production"} {
		t.Run(dir, func(t *testing.T) {
			assert.Empty(t, msaServerProblems(build(t, dir), job))
		})
	}
	t.Run("the setup Job is applied by hand, in no kustomization", func(t *testing.T) {
		for _, dir := range kustomizations {
			assert.Nil(t, build(t, dir).find("batch/v1/Job", job.Name), "%s", dir)
		}
		assert.Contains(t, readFile(t, "deploy", "msa-server", "README.md"), "kubectl apply -f deploy/msa-server/setup-databases-job.yaml")
	})
	t.Run("the policy when the server is down is documented", func(t *testing.T) {
		doc := readFile(t, "deploy", "README.md")
		for _, s := range []string{"## The MSA server", "Nothing falls back to single-sequence", "OMTX_MSA_RATE / 3", "bounded budget"} {
			assert.Contains(t, doc, s)
		}
	})
}

func TestMSAServerChecksCanFail(t *testing.T) {
	job := setupJob(t)
	b := build(t, "base")
	require.Empty(t, msaServerProblems(b, job))
	t.Run("the public server", func(t *testing.T) {
		bb := build(t, "base")
		bb.configMap(configMapName).Data["OMTX_MSA_URL"] = "https://api.colabfold.com"
		assert.NotEmpty(t, msaServerProblems(bb, job))
	})
	t.Run("a Job on another claim, without the marker", func(t *testing.T) {
		j := job.DeepCopy()
		j.Spec.Template.Spec.Volumes[0].PersistentVolumeClaim.ClaimName = "other"
		j.Spec.Template.Spec.Containers[0].Command = []string{"/bin/sh", "-c", "GPU=1 setup_databases.sh /databases"}
		assert.Len(t, msaServerProblems(b, j), 2)
	})
}

// TestMSAServerDockerfile: the MSA server's image is pinned and verified
// like the others: FROMs at exact tags, every download checked against a
// sha256 build argument that has no default, an unprivileged user, and the
// same CUDA as the GPU worker's image.
func TestMSAServerDockerfile(t *testing.T) {
	df := parseDockerfile(t, "Dockerfile.msa-server")
	stages := map[string]bool{}
	for _, st := range df.Stages {
		if !stages[st.From] {
			assert.Empty(t, pinned(st.From), "FROM %s", st.From)
		}
		stages[st.Name] = true
	}
	text := df.Text
	assert.Equal(t, strings.Count(text, "curl -fsSL"), strings.Count(text, "sha256sum -c -"), "every download is verified")
	for _, arg := range []string{"MMSEQS_COMMIT", "MMSEQS_SHA256", "SETUP_SHA256"} {
		assert.Regexp(t, `(?m)^ARG `+arg+`$`, text, "%s has no default: the build refuses without it", arg)
	}
	assert.Regexp(t, `(?m)^USER 10001:10001$`, text)
	assert.Contains(t, text, "/opt/colabfold/setup_databases.sh", "the setup Job's script is in the image")
	cuda := cudaBaseRe.FindStringSubmatch(readFile(t, "Dockerfile.gpu-worker"))
	require.NotNil(t, cuda)
	assert.Contains(t, text, "FROM nvidia/cuda:"+cuda[1]+"."+cuda[2]+".", "the same CUDA as the GPU worker (one driver pin for both)")
	ss := build(t, "base").find("apps/v1/StatefulSet", "msa-server")
	require.NotNil(t, ss)
	assert.Equal(t, "msa-server", imageName(ss.Obj.(*appsv1.StatefulSet).Spec.Template.Spec.Containers[0].Image))
}
