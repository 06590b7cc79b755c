package deploytest

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/omtx-hub/omtx-hub/omtx"
)

const (
	namespace     = "omtx-hub"
	configMapName = "omtx-config"
	gpuResource   = corev1.ResourceName("nvidia.com/gpu")
	acceleratorNS = "cloud.google.com/gke-accelerator"
	spotLabel     = "cloud.google.com/gke-spot"
	wiAnnotation  = "iam.gke.io/gcp-service-account"
)

// kustomizations are the folders under deploy/ that are applied.
var kustomizations = []string{"base", "overlays/production"}

// accelerators maps a GPU class to the GKE accelerator label of its nodes.
var accelerators = map[string]string{
	omtx.GPUClassL4:      "nvidia-l4",
	omtx.GPUClassA100x80: "nvidia-a100-80gb",
}

func TestManifestsDecodeStrictly(t *testing.T) {
	for _, f := range deployFiles(t) {
		t.Run(f, func(t *testing.T) {
			if helmValuesFiles[f] {
				var v temporalValues
				require.NoError(t, strictYAML([]byte(readFile(t, "deploy", f)), &v))
				return
			}
			objs := loadFile(t, f) // fails on unknown kinds and unknown fields
			require.NotEmpty(t, objs)
			for _, o := range objs {
				if !strings.HasPrefix(o.GVK, "kustomize.") {
					assert.NotEmpty(t, o.Name, "%s has no metadata.name", o)
				}
			}
		})
	}
	t.Run("unknown kinds and fields are refused", func(t *testing.T) {
		_, err := decodeObject("x", []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"))
		assert.ErrorContains(t, err, "unknown kind")
		_, err = decodeObject("x", []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec: {replica: 2}\n"))
		assert.ErrorContains(t, err, "unknown field")
		_, err = decodeObject("x", []byte("apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: x}\nspec: {maxReplicas: 2}\n"))
		assert.ErrorContains(t, err, "unknown field")
	})
}

func TestKustomizations(t *testing.T) {
	used := map[string]bool{}
	for _, dir := range kustomizations {
		b := build(t, dir)
		for f := range b.Files {
			used[f] = true
		}
		t.Run(dir, func(t *testing.T) { checkBuilt(t, b) })
	}
	t.Run("every manifest under base/ and overlays/ is used", func(t *testing.T) {
		for _, f := range deployFiles(t) {
			if strings.HasPrefix(f, "base/") || strings.HasPrefix(f, "overlays/") {
				assert.True(t, used[f], "%s is referenced by no kustomization", f)
			}
		}
	})
	t.Run("base", func(t *testing.T) {
		b := build(t, "base")
		t.Run("API: HPA 2-10 on 70% CPU, PDB minAvailable 1", func(t *testing.T) {
			hpa := b.find("autoscaling/v2/HorizontalPodAutoscaler", "api").Obj.(*autoscalingv2.HorizontalPodAutoscaler)
			require.NotNil(t, hpa.Spec.MinReplicas)
			assert.EqualValues(t, 2, *hpa.Spec.MinReplicas)
			assert.EqualValues(t, 10, hpa.Spec.MaxReplicas)
			require.Len(t, hpa.Spec.Metrics, 1)
			m := hpa.Spec.Metrics[0]
			require.NotNil(t, m.Resource)
			assert.Equal(t, corev1.ResourceCPU, m.Resource.Name)
			require.NotNil(t, m.Resource.Target.AverageUtilization)
			assert.EqualValues(t, 70, *m.Resource.Target.AverageUtilization)
			pdb := b.find("policy/v1/PodDisruptionBudget", "api").Obj.(*policyv1.PodDisruptionBudget)
			require.NotNil(t, pdb.Spec.MinAvailable)
			assert.Equal(t, 1, pdb.Spec.MinAvailable.IntValue())
		})
		t.Run("orchestration worker has 2 replicas", func(t *testing.T) {
			d := b.deployment("worker")
			require.NotNil(t, d)
			require.NotNil(t, d.Spec.Replicas)
			assert.EqualValues(t, 2, *d.Spec.Replicas)
		})
		t.Run("L4 GPU worker scales 0-8 on omtx-gpu-l4", func(t *testing.T) {
			so := b.find("keda.sh/v1alpha1/ScaledObject", "gpu-worker").Obj.(*ScaledObject)
			assert.EqualValues(t, 0, *so.Spec.MinReplicaCount)
			assert.EqualValues(t, 8, *so.Spec.MaxReplicaCount)
			assert.Equal(t, omtx.GPUTaskQueue(omtx.GPUClassL4), so.Spec.Triggers[0].Metadata["taskQueue"])
		})
	})
	t.Run("overlays/production", func(t *testing.T) {
		b := build(t, "overlays/production")
		t.Run("spot L4, on-demand L4 and A100 80GB workers", func(t *testing.T) {
			spot := b.deployment("gpu-worker-spot")
			require.NotNil(t, spot)
			assert.Equal(t, "true", spot.Spec.Template.Spec.NodeSelector[spotLabel])
			assert.Equal(t, "nvidia-l4", spot.Spec.Template.Spec.NodeSelector[acceleratorNS])
			a100 := b.deployment("gpu-worker-a100-80g")
			require.NotNil(t, a100)
			assert.Equal(t, omtx.GPUClassA100x80, envOf(b, a100, a100.Spec.Template.Spec.Containers[0])["OMTX_GPU_CLASS"])
			assert.Equal(t, "nvidia-a100-80gb", a100.Spec.Template.Spec.NodeSelector[acceleratorNS])
			require.NotNil(t, b.deployment("gpu-worker"))
		})
		t.Run("spot workers scale first, on-demand L4 is the fallback", func(t *testing.T) {
			act := func(name string) int {
				so := b.find("keda.sh/v1alpha1/ScaledObject", name).Obj.(*ScaledObject)
				n, err := strconv.Atoi(so.Spec.Triggers[0].Metadata["activationTargetQueueSize"])
				require.NoError(t, err)
				return n
			}
			assert.Less(t, act("gpu-worker-spot"), act("gpu-worker"))
		})
		t.Run("images are pinned in the registry", func(t *testing.T) {
			for _, d := range b.deployments() {
				for _, c := range d.Spec.Template.Spec.Containers {
					assert.True(t, strings.HasPrefix(c.Image, "us-central1-docker.pkg.dev/om-models/omtx-hub/"), "%s: %s", d.Name, c.Image)
				}
			}
			for _, im := range b.K.Images {
				assert.Empty(t, pinned(im.NewName+":"+im.NewTag), "image %s", im.Name)
			}
		})
	})
}

// checkBuilt checks one rendered kustomization.
func checkBuilt(t *testing.T, b *built) {
	t.Run("namespace omtx-hub everywhere", func(t *testing.T) {
		assert.Equal(t, namespace, b.K.Namespace)
		require.NotNil(t, b.find("v1/Namespace", namespace))
		for _, o := range b.Objects {
			if o.GVK != "v1/Namespace" {
				md := o.Raw["metadata"].(map[string]any)
				assert.Equal(t, namespace, md["namespace"], "%s", o)
			}
		}
	})
	t.Run("names are unique per kind", func(t *testing.T) {
		seen := map[string]string{}
		for _, o := range b.Objects {
			key := o.GVK + "/" + o.Name
			assert.Empty(t, seen[key], "%s is also defined in %s", o, seen[key])
			seen[key] = o.File
		}
	})
	t.Run("ConfigMap holds only variables the code reads", func(t *testing.T) {
		cm := b.configMap(configMapName)
		require.NotNil(t, cm)
		known := configEnv(t)
		for _, k := range sortedKeys(cm.Data) {
			assert.True(t, known[k], "ConfigMap key %s is not read by config/config.go", k)
		}
		assert.Equal(t, "0.0.0.0:9090", cm.Data["OMTX_METRICS_ADDR"])
		assert.NotEmpty(t, cm.Data["TEMPORAL_ADDRESS"])
		assert.NotEmpty(t, cm.Data["TEMPORAL_NAMESPACE"])
		assert.Equal(t, "hub-job-files", cm.Data["OMTX_BUCKET"])
	})
	t.Run("ServiceAccounts use Workload Identity", func(t *testing.T) {
		gsa := regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$`)
		for _, o := range b.all("v1/ServiceAccount") {
			sa := o.Obj.(*corev1.ServiceAccount)
			assert.Regexp(t, gsa, sa.Annotations[wiAnnotation], "ServiceAccount %s", sa.Name)
			assert.Equal(t, sa.Name+"@", strings.SplitN(sa.Annotations[wiAnnotation], "@", 2)[0]+"@", "ServiceAccount %s: one Google SA per Kubernetes SA, same name", sa.Name)
			if assert.NotNil(t, sa.AutomountServiceAccountToken, sa.Name) {
				assert.False(t, *sa.AutomountServiceAccountToken, sa.Name)
			}
		}
	})
	for _, d := range b.deployments() {
		t.Run("Deployment "+d.Name, func(t *testing.T) { checkDeployment(t, b, d) })
	}
	t.Run("no two Deployments select each other's pods", func(t *testing.T) {
		ds := b.deployments()
		for _, a := range ds {
			sel, err := metav1.LabelSelectorAsSelector(a.Spec.Selector)
			require.NoError(t, err)
			for _, o := range ds {
				if o.Name != a.Name {
					assert.False(t, sel.Matches(labels.Set(o.Spec.Template.Labels)), "%s's selector matches %s's pods", a.Name, o.Name)
				}
			}
		}
	})
	t.Run("Services select pods that have their target ports", func(t *testing.T) {
		for _, o := range b.all("v1/Service") {
			svc := o.Obj.(*corev1.Service)
			matched := podsOf(b, labels.SelectorFromSet(svc.Spec.Selector))
			require.NotEmpty(t, matched, "Service %s selects no Deployment's pods", svc.Name)
			for _, p := range svc.Spec.Ports {
				for _, d := range matched {
					assert.True(t, hasPort(d, targetPort(p)), "Service %s port %s: Deployment %s has no port %s", svc.Name, p.Name, d.Name, targetPort(p))
				}
			}
		}
		api := b.find("v1/Service", "api").Obj.(*corev1.Service)
		ports := map[string]corev1.ServicePort{}
		for _, p := range api.Spec.Ports {
			ports[p.Name] = p
		}
		assert.EqualValues(t, 80, ports["http"].Port)
		assert.Equal(t, "http", targetPort(ports["http"]))
		assert.EqualValues(t, 9090, ports["metrics"].Port)
	})
	t.Run("autoscaled Deployments leave replicas to their autoscaler", func(t *testing.T) {
		targets := map[string]string{}
		for _, o := range b.all("autoscaling/v2/HorizontalPodAutoscaler") {
			h := o.Obj.(*autoscalingv2.HorizontalPodAutoscaler)
			require.Equal(t, "Deployment", h.Spec.ScaleTargetRef.Kind)
			require.NotNil(t, b.deployment(h.Spec.ScaleTargetRef.Name), "HPA %s targets an unknown Deployment", h.Name)
			targets[h.Spec.ScaleTargetRef.Name] = "HPA " + h.Name
		}
		for _, so := range b.scaledObjects() {
			_, dup := targets[so.Spec.ScaleTargetRef.Name]
			assert.False(t, dup, "%s is scaled twice", so.Spec.ScaleTargetRef.Name)
			targets[so.Spec.ScaleTargetRef.Name] = "ScaledObject " + so.Metadata.Name
		}
		for name, by := range targets {
			d := b.deployment(name)
			require.NotNil(t, d, "%s targets an unknown Deployment %s", by, name)
			assert.Nil(t, d.Spec.Replicas, "%s sets replicas although %s scales it", name, by)
		}
		for _, d := range b.deployments() {
			if _, ok := targets[d.Name]; !ok {
				require.NotNil(t, d.Spec.Replicas, "%s has neither replicas nor an autoscaler", d.Name)
				assert.GreaterOrEqual(t, *d.Spec.Replicas, int32(2), "%s", d.Name)
			}
		}
	})
	t.Run("PodDisruptionBudgets select pods", func(t *testing.T) {
		for _, o := range b.all("policy/v1/PodDisruptionBudget") {
			pdb := o.Obj.(*policyv1.PodDisruptionBudget)
			sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
			require.NoError(t, err)
			assert.NotEmpty(t, podsOf(b, sel), "PDB %s selects nothing", pdb.Name)
		}
	})
	t.Run("GPU fleet: every class has workers, every model a class", func(t *testing.T) {
		fleet := fleetOf(t, b)
		served := map[string]bool{}
		for _, d := range b.deployments() {
			if isGPU(d) {
				served[envOf(b, d, d.Spec.Template.Spec.Containers[0])["OMTX_GPU_CLASS"]] = true
			}
		}
		for _, c := range fleet {
			assert.True(t, served[c.Name], "GPU class %s is in OMTX_GPU_CLASSES but no Deployment serves omtx-gpu-%s", c.Name, c.Name)
		}
		models := b.configMap(configMapName).Data["OMTX_MODELS"]
		for _, pair := range strings.Split(models, ",") {
			name, class, ok := strings.Cut(strings.TrimSpace(pair), "=")
			require.True(t, ok, "OMTX_MODELS entry %q", pair)
			_, inFleet := fleet.Class(class)
			assert.True(t, inFleet, "model %s is served by class %s, which is not in the fleet", name, class)
		}
	})
	t.Run("KEDA ScaledObjects scale each GPU worker on its own queue", func(t *testing.T) {
		scaled := map[string]int{}
		for _, so := range b.scaledObjects() {
			checkScaledObject(t, b, so)
			scaled[so.Spec.ScaleTargetRef.Name]++
		}
		for _, d := range b.deployments() {
			if isGPU(d) {
				assert.Equal(t, 1, scaled[d.Name], "GPU Deployment %s needs exactly one ScaledObject", d.Name)
			}
		}
	})
	t.Run("ServiceMonitor scrapes every process' metrics port", func(t *testing.T) {
		sms := b.all("monitoring.coreos.com/v1/ServiceMonitor")
		require.Len(t, sms, 1)
		sm := sms[0].Obj.(*ServiceMonitor)
		assert.Equal(t, "omtx-hub", sm.Spec.Selector.MatchLabels["app"], "seed 4.1 selects app=omtx-hub")
		sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
		require.NoError(t, err)
		require.Len(t, sm.Spec.Endpoints, 1)
		ep := sm.Spec.Endpoints[0]
		assert.Equal(t, "metrics", ep.Port)
		assert.Equal(t, "/metrics", ep.Path)
		assert.Equal(t, "30s", ep.Interval)
		jobs := map[string]bool{}
		for _, o := range b.all("v1/Service") {
			svc := o.Obj.(*corev1.Service)
			if !sel.Matches(labels.Set(svc.Labels)) {
				continue
			}
			has := false
			for _, p := range svc.Spec.Ports {
				has = has || p.Name == ep.Port
			}
			assert.True(t, has, "Service %s is scraped but has no port %s", svc.Name, ep.Port)
			job := svc.Labels[sm.Spec.JobLabel]
			assert.NotEmpty(t, job, "Service %s lacks the job label %s", svc.Name, sm.Spec.JobLabel)
			jobs[job] = true
		}
		assert.Equal(t, map[string]bool{"omtx-api": true, "omtx-worker": true, "omtx-gpu-worker": true}, jobs,
			"the jobs the alerts (WorkerAbsent: omtx-.*worker) expect")
	})
	t.Run("PrometheusRule alerts", func(t *testing.T) { checkAlerts(t, b) })
}

func checkDeployment(t *testing.T, b *built, d *appsv1.Deployment) {
	pod := d.Spec.Template.Spec
	known := configEnv(t)

	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	require.NoError(t, err)
	assert.True(t, sel.Matches(labels.Set(d.Spec.Template.Labels)), "selector does not match the pod template")
	assert.Equal(t, "omtx-hub", d.Spec.Template.Labels["app"], "pods carry app=omtx-hub")

	sa := b.find("v1/ServiceAccount", pod.ServiceAccountName)
	require.NotNil(t, sa, "serviceAccountName %q is not defined", pod.ServiceAccountName)
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]

	t.Run("image pinned, and built by a Dockerfile here", func(t *testing.T) {
		assert.Empty(t, pinned(c.Image), "%s %s", c.Image, pinned(c.Image))
		_, ok := imageDockerfile[imageName(c.Image)]
		assert.True(t, ok, "image %s is built by none of %v", c.Image, dockerfiles)
	})
	t.Run("hardened security context", func(t *testing.T) {
		require.NotNil(t, pod.SecurityContext)
		require.NotNil(t, pod.SecurityContext.RunAsNonRoot)
		assert.True(t, *pod.SecurityContext.RunAsNonRoot)
		require.NotNil(t, pod.SecurityContext.RunAsUser)
		df := parseDockerfile(t, imageDockerfile[imageName(c.Image)])
		uid, _, _ := strings.Cut(df.user(), ":")
		assert.Equal(t, uid, strconv.FormatInt(*pod.SecurityContext.RunAsUser, 10), "runAsUser is the image's USER")
		require.NotNil(t, c.SecurityContext)
		require.NotNil(t, c.SecurityContext.AllowPrivilegeEscalation)
		assert.False(t, *c.SecurityContext.AllowPrivilegeEscalation)
		require.NotNil(t, c.SecurityContext.ReadOnlyRootFilesystem)
		assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
		require.NotNil(t, c.SecurityContext.Capabilities)
		assert.Equal(t, []corev1.Capability{"ALL"}, c.SecurityContext.Capabilities.Drop)
		vols := map[string]bool{}
		for _, v := range pod.Volumes {
			vols[v.Name] = true
		}
		for _, m := range c.VolumeMounts {
			assert.True(t, vols[m.Name], "volumeMount %s has no volume", m.Name)
		}
	})
	t.Run("every env var is one the code reads", func(t *testing.T) {
		for _, k := range sortedKeys(envOf(b, d, c)) {
			assert.True(t, known[k], "%s sets %s, which config/config.go does not read", d.Name, k)
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				checkSecretRef(t, e.ValueFrom.SecretKeyRef)
			}
		}
		for _, ef := range c.EnvFrom {
			require.NotNil(t, ef.ConfigMapRef, "only ConfigMaps are used through envFrom")
			assert.NotNil(t, b.configMap(ef.ConfigMapRef.Name), "envFrom ConfigMap %s is not defined", ef.ConfigMapRef.Name)
		}
	})
	t.Run("ports agree with the env and the Dockerfile's EXPOSE", func(t *testing.T) {
		env := envOf(b, d, c)
		exposed := parseDockerfile(t, imageDockerfile[imageName(c.Image)]).exposed()
		ports := map[string]int32{}
		for _, p := range c.Ports {
			ports[p.Name] = p.ContainerPort
			assert.True(t, exposed[strconv.Itoa(int(p.ContainerPort))], "port %s (%d) is not EXPOSEd by the image", p.Name, p.ContainerPort)
		}
		require.Contains(t, ports, "metrics", "every process serves metrics")
		assert.EqualValues(t, 9090, ports["metrics"])
		assert.Equal(t, strconv.Itoa(int(ports["metrics"])), portOf(t, env["OMTX_METRICS_ADDR"]))
		if addr, ok := env["OMTX_API_ADDR"]; ok {
			assert.EqualValues(t, 8080, ports["http"])
			assert.Equal(t, strconv.Itoa(int(ports["http"])), portOf(t, addr))
			host, _, err := net.SplitHostPort(addr)
			require.NoError(t, err)
			assert.Equal(t, "0.0.0.0", host, "the API must listen beyond loopback in a pod")
		}
	})
	t.Run("probes hit routes that exist, on named ports", func(t *testing.T) {
		routes := apiRoutes(t)
		for kind, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe, "startup": c.StartupProbe} {
			if p == nil {
				continue
			}
			require.NotNil(t, p.HTTPGet, "%s probe is not an HTTP GET", kind)
			port := p.HTTPGet.Port.String()
			assert.True(t, hasPort(d, port), "%s probe port %s is not a container port", kind, port)
			if port == "metrics" {
				assert.Equal(t, "/metrics", p.HTTPGet.Path)
			} else {
				assert.True(t, routes[p.HTTPGet.Path], "%s probe path %s is not a route of api/server.go", kind, p.HTTPGet.Path)
			}
		}
		assert.NotNil(t, c.LivenessProbe, "every process has a liveness probe")
		if _, api := envOf(b, d, c)["OMTX_API_ADDR"]; api {
			require.NotNil(t, c.ReadinessProbe)
			assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
			assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)
		}
	})
	if isGPU(d) {
		t.Run("GPU worker", func(t *testing.T) { checkGPUWorker(t, b, d) })
	}
}

func checkGPUWorker(t *testing.T, b *built, d *appsv1.Deployment) {
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	env := envOf(b, d, c)
	class := env["OMTX_GPU_CLASS"]

	t.Run("one GPU, requested and limited", func(t *testing.T) {
		one := resource.MustParse("1")
		lim, ok := c.Resources.Limits[gpuResource]
		require.True(t, ok, "limits must hold nvidia.com/gpu")
		assert.Zero(t, lim.Cmp(one), "nvidia.com/gpu limit %s", lim.String())
		if req, ok := c.Resources.Requests[gpuResource]; ok {
			assert.Zero(t, req.Cmp(one))
		}
	})
	t.Run("scheduled on its class' GPU nodes", func(t *testing.T) {
		require.Contains(t, accelerators, class, "unknown GPU class %q", class)
		assert.Equal(t, accelerators[class], pod.NodeSelector[acceleratorNS])
		tolerated := false
		for _, tol := range pod.Tolerations {
			tolerated = tolerated || (tol.Key == string(gpuResource) && tol.Effect == corev1.TaintEffectNoSchedule)
		}
		assert.True(t, tolerated, "must tolerate the nvidia.com/gpu NoSchedule taint")
		if pod.NodeSelector[spotLabel] == "true" {
			assert.Contains(t, d.Name, "spot", "a spot Deployment says so in its name")
		}
	})
	t.Run("CUDA required, class and fleet agree", func(t *testing.T) {
		assert.Equal(t, "true", env["OMTX_REQUIRE_GPU"])
		assert.Equal(t, "cuda", env["OMTX_ORT_PROVIDER"])
		assert.Equal(t, class, d.Spec.Template.Labels["omtx-hub.io/gpu-class"])
		_, ok := fleetOf(t, b).Class(class)
		assert.True(t, ok, "OMTX_GPU_CLASS %s is not in OMTX_GPU_CLASSES (the worker would refuse to start)", class)
	})
	t.Run("graceful stop: long grace period and a preStop sleep", func(t *testing.T) {
		require.NotNil(t, pod.TerminationGracePeriodSeconds)
		assert.GreaterOrEqual(t, *pod.TerminationGracePeriodSeconds, int64(300))
		require.NotNil(t, c.Lifecycle)
		require.NotNil(t, c.Lifecycle.PreStop)
		require.NotNil(t, c.Lifecycle.PreStop.Sleep)
		assert.Less(t, c.Lifecycle.PreStop.Sleep.Seconds, *pod.TerminationGracePeriodSeconds/10)
	})
	t.Run("library, model bundle and Boltz paths exist in the image", func(t *testing.T) {
		df := parseDockerfile(t, "Dockerfile.gpu-worker", map[string]string{"INSTALL_BOLTZ": "true"})
		denv := df.env(df.final())
		dests := df.copyDests(df.final())
		for _, k := range []string{"ONNXRUNTIME_LIB", "OMTX_MODEL_BUNDLE"} {
			require.NotEmpty(t, env[k], "%s must be set", k)
			assert.Equal(t, denv[k], env[k], "%s differs from the image's", k)
			dir := env[k][:strings.LastIndex(env[k], "/")]
			assert.Contains(t, dests, dir, "%s: no COPY creates %s", k, dir)
		}
		models := b.configMap(configMapName).Data["OMTX_MODELS"]
		boltz := strings.Contains(","+strings.ReplaceAll(models, " ", ""), ","+omtx.ModelBoltz2+"=")
		if boltz {
			assert.Equal(t, boltzVenv+"/bin/boltz", env["OMTX_BOLTZ_BIN"], "Boltz-2 is served: OMTX_BOLTZ_BIN must name the image's boltz")
			assert.Equal(t, denv["BOLTZ_CACHE"], env["BOLTZ_CACHE"])
			assert.Contains(t, dests, boltzVenv, "the Boltz image copies the venv")
			assert.Contains(t, imageRefTag(c.Image), "boltz", "an image that serves Boltz-2 is built with INSTALL_BOLTZ=true and tagged so")
		} else {
			assert.Empty(t, env["OMTX_BOLTZ_BIN"], "OMTX_BOLTZ_BIN is set but OMTX_MODELS does not list boltz2")
		}
	})
}

func checkScaledObject(t *testing.T, b *built, so *ScaledObject) {
	ref := so.Spec.ScaleTargetRef
	assert.Equal(t, "Deployment", ref.Kind, "ScaledObject %s", so.Metadata.Name)
	assert.Equal(t, "apps/v1", ref.APIVersion, "ScaledObject %s", so.Metadata.Name)
	d := b.deployment(ref.Name)
	require.NotNil(t, d, "ScaledObject %s scales unknown Deployment %s", so.Metadata.Name, ref.Name)
	require.True(t, isGPU(d), "ScaledObject %s scales %s, which is not a GPU worker", so.Metadata.Name, ref.Name)
	env := envOf(b, d, d.Spec.Template.Spec.Containers[0])

	require.NotNil(t, so.Spec.MinReplicaCount)
	require.NotNil(t, so.Spec.MaxReplicaCount)
	assert.EqualValues(t, 0, *so.Spec.MinReplicaCount, "GPU workers scale to zero")
	assert.GreaterOrEqual(t, *so.Spec.MaxReplicaCount, int32(1))

	require.Len(t, so.Spec.Triggers, 1)
	tr := so.Spec.Triggers[0]
	assert.Equal(t, "temporal", tr.Type)
	allowed := map[string]bool{"endpoint": true, "endpointFromEnv": true, "namespace": true, "namespaceFromEnv": true,
		"taskQueue": true, "targetQueueSize": true, "activationTargetQueueSize": true, "queueTypes": true,
		"minConnectTimeout": true, "unsafeSsl": true, "tlsServerName": true}
	for k := range tr.Metadata {
		assert.True(t, allowed[k], "ScaledObject %s: %q is not a temporal scaler parameter", so.Metadata.Name, k)
	}
	assert.Equal(t, omtx.GPUTaskQueue(env["OMTX_GPU_CLASS"]), tr.Metadata["taskQueue"],
		"ScaledObject %s must watch the queue of %s's OMTX_GPU_CLASS", so.Metadata.Name, d.Name)
	assert.Equal(t, "activity", tr.Metadata["queueTypes"], "GPU queues hold activities only")
	for _, k := range []string{"endpointFromEnv", "namespaceFromEnv"} {
		if name, ok := tr.Metadata[k]; ok {
			assert.NotEmpty(t, env[name], "ScaledObject %s: %s names %s, which the target's container does not have", so.Metadata.Name, k, name)
		}
	}
	assert.True(t, tr.Metadata["endpoint"] != "" || tr.Metadata["endpointFromEnv"] != "", "the scaler needs Temporal's address")
	n, err := strconv.Atoi(tr.Metadata["targetQueueSize"])
	require.NoError(t, err, "targetQueueSize")
	assert.Positive(t, n)
	a, err := strconv.Atoi(tr.Metadata["activationTargetQueueSize"])
	require.NoError(t, err, "activationTargetQueueSize")
	assert.GreaterOrEqual(t, a, 0)
	if tr.AuthenticationRef != nil {
		assert.NotNil(t, b.find("keda.sh/v1alpha1/TriggerAuthentication", tr.AuthenticationRef.Name))
	}
}

// alert is what each alert must look like.
type alertSpec struct {
	For  time.Duration
	Expr []*regexp.Regexp
}

var alertSpecs = map[string]alertSpec{
	"HighJobFailureRate": {10 * time.Minute, []*regexp.Regexp{
		regexp.MustCompile(`omtx_jobs_total\{status="failed"\}`),
		regexp.MustCompile(`/\s*sum\(rate\(omtx_jobs_total\[`),
		regexp.MustCompile(`>\s*0\.1\s*$`)}},
	"QueueBacklog":      {5 * time.Minute, []*regexp.Regexp{regexp.MustCompile(`omtx_task_queue_backlog\)?\s*>\s*1000\s*$`)}},
	"GPUUtilizationLow": {30 * time.Minute, []*regexp.Regexp{regexp.MustCompile(`DCGM_FI_DEV_GPU_UTIL.*<\s*50\s*$`)}},
	"WorkerAbsent":      {5 * time.Minute, []*regexp.Regexp{regexp.MustCompile(`^absent\(up\{job=~"omtx-\.\*worker"\}`)}},
}

func checkAlerts(t *testing.T, b *built) {
	prs := b.all("monitoring.coreos.com/v1/PrometheusRule")
	require.Len(t, prs, 1)
	pr := prs[0].Obj.(*PrometheusRule)
	found := map[string]bool{}
	for _, g := range pr.Spec.Groups {
		for _, r := range g.Rules {
			spec, ok := alertSpecs[r.Alert]
			if !assert.True(t, ok, "unexpected alert %q", r.Alert) {
				continue
			}
			found[r.Alert] = true
			expr := strings.TrimSpace(r.Expr)
			for _, re := range spec.Expr {
				assert.Regexp(t, re, expr, "alert %s", r.Alert)
			}
			d, err := time.ParseDuration(r.For)
			require.NoError(t, err, "alert %s: for", r.Alert)
			assert.Equal(t, spec.For, d, "alert %s: for", r.Alert)
			assert.NotEmpty(t, r.Annotations["summary"], "alert %s", r.Alert)
			assert.NotEmpty(t, r.Labels["severity"], "alert %s", r.Alert)
			assert.Equal(t, strings.Count(expr, "("), strings.Count(expr, ")"), "alert %s: unbalanced parentheses", r.Alert)
		}
	}
	assert.Len(t, found, len(alertSpecs))
	t.Run("the metrics the alerts use are the ones the code exports", func(t *testing.T) {
		src := readFile(t, "metrics", "metrics.go")
		for _, m := range []string{"omtx_jobs_total", "omtx_task_queue_backlog"} {
			assert.Contains(t, src, `Name: "`+m+`"`, "metrics/metrics.go does not export %s", m)
		}
		assert.Contains(t, src, `"status"`, "omtx_jobs_total needs its status label")
		assert.Contains(t, src, `"task_queue"`, "omtx_task_queue_backlog needs its task_queue label")
	})
}

// --- helpers ---

func isGPU(d *appsv1.Deployment) bool {
	for _, c := range d.Spec.Template.Spec.Containers {
		if _, ok := c.Resources.Limits[gpuResource]; ok {
			return true
		}
		if _, ok := c.Resources.Requests[gpuResource]; ok {
			return true
		}
	}
	return false
}

// envOf is a container's environment: envFrom ConfigMaps, then env
// (values only; secret references map to "").
func envOf(b *built, d *appsv1.Deployment, c corev1.Container) map[string]string {
	env := map[string]string{}
	for _, ef := range c.EnvFrom {
		if ef.ConfigMapRef != nil {
			if cm := b.configMap(ef.ConfigMapRef.Name); cm != nil {
				for k, v := range cm.Data {
					env[ef.Prefix+k] = v
				}
			}
		}
	}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	return env
}

func hasPort(d *appsv1.Deployment, port string) bool {
	for _, c := range d.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == port || strconv.Itoa(int(p.ContainerPort)) == port {
				return true
			}
		}
	}
	return false
}

func podsOf(b *built, sel labels.Selector) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, d := range b.deployments() {
		if !sel.Empty() && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			out = append(out, d)
		}
	}
	return out
}

func fleetOf(t testing.TB, b *built) omtx.Fleet {
	t.Helper()
	spec := omtx.DefaultFleetSpec
	if v := b.configMap(configMapName).Data["OMTX_GPU_CLASSES"]; v != "" {
		spec = v
	}
	f, err := omtx.ParseFleet(spec)
	require.NoError(t, err)
	return f
}

func imageName(image string) string {
	r := parseImage(image).Repo
	return r[strings.LastIndex(r, "/")+1:]
}

func imageRefTag(image string) string { return parseImage(image).Tag }

var routeRe = regexp.MustCompile(`r\.GET\("(/[^"]*)"`)

// apiRoutes are the top-level GET routes api/server.go registers.
func apiRoutes(t testing.TB) map[string]bool {
	out := map[string]bool{}
	for _, m := range routeRe.FindAllStringSubmatch(readFile(t, "api", "server.go"), -1) {
		out[m[1]] = true
	}
	require.True(t, out["/healthz"] && out["/readyz"], "api/server.go registers no /healthz or /readyz")
	return out
}

// checkSecretRef checks a secretKeyRef against the documented example
// Secret (deploy/secrets/), since real Secrets are never committed.
func checkSecretRef(t *testing.T, ref *corev1.SecretKeySelector) {
	objs := loadFile(t, "secrets/"+ref.Name+".example.yaml")
	require.Len(t, objs, 1, "no example Secret documents %s", ref.Name)
	s := objs[0].Obj.(*corev1.Secret)
	assert.Equal(t, ref.Name, s.Name)
	_, ok := s.StringData[ref.Key]
	assert.True(t, ok, "the example Secret %s has no key %s", ref.Name, ref.Key)
	assert.True(t, configEnv(t)[ref.Key], "Secret key %s is expected to be an env var the code reads", ref.Key)
	for _, entry := range strings.Split(s.StringData[ref.Key], ",") {
		k, u, ok := strings.Cut(entry, "=")
		assert.True(t, ok && len(k) >= 16 && u != "", fmt.Sprintf("example entry %q is not key=user with a 16+ character key", entry))
	}
}

func targetPort(p corev1.ServicePort) string { return p.TargetPort.String() }
