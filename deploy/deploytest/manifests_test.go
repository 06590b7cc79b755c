package deploytest

import (
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
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/keys"
	"github.com/omtx-hub/omtx-hub/omtx"
)

const (
	namespace     = "omtx-hub"
	configMapName = "omtx-config"
	gpuResource   = corev1.ResourceName("nvidia.com/gpu")
	acceleratorNS = "cloud.google.com/gke-accelerator"
	spotLabel     = "cloud.google.com/gke-spot"
	wiAnnotation  = "iam.gke.io/gcp-service-account"
	// computeClassLabel selects a GKE ComputeClass; its node pools carry it
	// as a label and as a NoSchedule taint.
	computeClassLabel = "cloud.google.com/compute-class"
	l4ComputeClass    = "omtx-l4"
	gpuClassLabel     = "omtx-hub.io/gpu-class"
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
			assert.Equal(t, contract.GPUTaskQueue(omtx.GPUClassL4), triggerOf(t, so, "temporal").Metadata["taskQueue"])
		})
	})
	t.Run("overlays/production", func(t *testing.T) {
		b := build(t, "overlays/production")
		t.Run("one L4 Deployment on the ComputeClass, one A100 Deployment", func(t *testing.T) {
			byClass := map[string][]string{}
			for _, d := range b.deployments() {
				if isGPU(d) {
					class := envOf(b, d, d.Spec.Template.Spec.Containers[0])["OMTX_GPU_CLASS"]
					byClass[class] = append(byClass[class], d.Name)
				}
			}
			assert.Equal(t, map[string][]string{omtx.GPUClassL4: {"gpu-worker"}, omtx.GPUClassA100x80: {"gpu-worker-a100-80g"}}, byClass,
				"one Deployment per GPU class: two scalers on one backlog race each other")
			l4 := b.deployment("gpu-worker")
			require.NotNil(t, l4)
			assert.Equal(t, l4ComputeClass, l4.Spec.Template.Spec.NodeSelector[computeClassLabel])
			so := b.find("keda.sh/v1alpha1/ScaledObject", "gpu-worker").Obj.(*ScaledObject)
			assert.EqualValues(t, 12, *so.Spec.MaxReplicaCount)
			assert.Len(t, so.Spec.Triggers, 2, "the production patch keeps the base's triggers")
		})
		t.Run("images are pinned in the registry", func(t *testing.T) {
			for _, d := range b.deployments() {
				for _, c := range d.Spec.Template.Spec.Containers {
					assert.True(t, strings.HasPrefix(c.Image, "us-central1-docker.pkg.dev/om-models/omtx-hub/"), "%s: %s", d.Name, c.Image)
				}
			}
			for _, im := range b.K.Images {
				ref := im.NewName + ":" + im.NewTag
				if im.Digest != "" {
					ref += "@" + im.Digest
				}
				assert.Empty(t, pinnedByDigest(ref), "image %s", im.Name)
			}
		})
		t.Run("production references its images by digest", func(t *testing.T) {
			for _, d := range b.workloads() {
				for _, c := range append(d.Spec.Template.Spec.InitContainers, d.Spec.Template.Spec.Containers...) {
					assert.Empty(t, pinnedByDigest(c.Image), "%s: %s", d.Name, c.Image)
				}
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
	t.Run("the ConfigMap is generated, so its name carries a content hash", func(t *testing.T) {
		o := b.find("v1/ConfigMap", configMapName)
		require.NotNil(t, o)
		assert.True(t, o.Generated, "omtx-config must come from a configMapGenerator: a plain ConfigMap does not roll the pods when it changes")
	})
	t.Run("only the GPU workers mount a Kubernetes API token, bound to get and patch pods", func(t *testing.T) {
		for _, d := range b.deployments() {
			auto := d.Spec.Template.Spec.AutomountServiceAccountToken
			require.NotNil(t, auto, "%s must say whether it mounts a token", d.Name)
			assert.Equal(t, isGPU(d), *auto, "%s", d.Name)
		}
		rb := b.find("rbac.authorization.k8s.io/v1/RoleBinding", "omtx-gpu-worker-pod-deletion-cost")
		require.NotNil(t, rb, "the GPU workers need patch on their pods (pod-deletion-cost)")
		binding := rb.Obj.(*rbacv1.RoleBinding)
		require.Len(t, binding.Subjects, 1)
		assert.Equal(t, "ServiceAccount", binding.Subjects[0].Kind)
		assert.Equal(t, "omtx-gpu-worker", binding.Subjects[0].Name)
		assert.Equal(t, namespace, binding.Subjects[0].Namespace, "a ServiceAccount subject needs its namespace")
		assert.Equal(t, "Role", binding.RoleRef.Kind, "a Role, not a ClusterRole: this namespace only")
		ro := b.find("rbac.authorization.k8s.io/v1/Role", binding.RoleRef.Name)
		require.NotNil(t, ro)
		role := ro.Obj.(*rbacv1.Role)
		require.Len(t, role.Rules, 1)
		r := role.Rules[0]
		assert.Equal(t, []string{""}, r.APIGroups)
		assert.Equal(t, []string{"pods"}, r.Resources)
		assert.ElementsMatch(t, []string{"get", "patch"}, r.Verbs, "no more than the worker needs")
		for _, o := range b.all("rbac.authorization.k8s.io/v1/RoleBinding") {
			for _, sub := range o.Obj.(*rbacv1.RoleBinding).Subjects {
				assert.Equal(t, "omtx-gpu-worker", sub.Name, "only the GPU workers talk to the Kubernetes API")
			}
		}
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
		queues := map[string]string{}
		for _, so := range b.scaledObjects() {
			checkScaledObject(t, b, so)
			scaled[so.Spec.ScaleTargetRef.Name]++
			q := triggerOf(t, so, "temporal").Metadata["taskQueue"]
			assert.Empty(t, queues[q], "ScaledObjects %s and %s both scale on %s", queues[q], so.Metadata.Name, q)
			queues[q] = so.Metadata.Name
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
			"the jobs the alerts (APIAbsent, OrchestrationWorkerAbsent, GPUWorkerAbsent) expect")
		assert.Contains(t, sm.Spec.PodTargetLabels, gpuClassLabel, "GPUWorkerAbsent reads the GPU class of each target")
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
			if contractEnv[k] {
				continue // TestCodeContracts checks it, with the reason the manifests need it
			}
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
				// Served beside /metrics by every process (code contracts).
				assert.Contains(t, []string{"/readyz", "/livez"}, p.HTTPGet.Path, "%s probe on the metrics port", kind)
			} else {
				assert.True(t, routes[p.HTTPGet.Path], "%s probe path %s is not a route of api/server.go", kind, p.HTTPGet.Path)
			}
		}
		require.NotNil(t, c.LivenessProbe, "every process has a liveness probe")
		require.NotNil(t, c.ReadinessProbe, "every process has a readiness probe")
		if _, api := envOf(b, d, c)["OMTX_API_ADDR"]; api {
			assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
			assert.Equal(t, "http", c.ReadinessProbe.HTTPGet.Port.String())
			assert.Equal(t, "/healthz", c.LivenessProbe.HTTPGet.Path)
			return
		}
		// Workers: readiness is pollers started (and the model loaded, and
		// Temporal reachable), liveness is no stalled poller or hung call.
		assert.Equal(t, "/readyz", c.ReadinessProbe.HTTPGet.Path)
		assert.Equal(t, "/livez", c.LivenessProbe.HTTPGet.Path)
		assert.Equal(t, "metrics", c.ReadinessProbe.HTTPGet.Port.String())
		assert.Equal(t, "metrics", c.LivenessProbe.HTTPGet.Port.String())
		require.NotNil(t, c.StartupProbe, "a worker's start (model load) is guarded by a startup probe, not by liveness")
		assert.Equal(t, "/readyz", c.StartupProbe.HTTPGet.Path)
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
	t.Run("scratch: 20-50 GiB of ephemeral storage requested, the volumes fit the limit", func(t *testing.T) {
		req, ok := c.Resources.Requests[corev1.ResourceEphemeralStorage]
		require.True(t, ok, "GPU pods write 20-50 GiB of scratch: request ephemeral-storage so the scheduler places them on a node with room")
		assert.GreaterOrEqual(t, req.Cmp(resource.MustParse("20Gi")), 0, "request %s", req.String())
		assert.LessOrEqual(t, req.Cmp(resource.MustParse("50Gi")), 0, "request %s", req.String())
		lim, ok := c.Resources.Limits[corev1.ResourceEphemeralStorage]
		require.True(t, ok)
		assert.GreaterOrEqual(t, lim.Cmp(req), 0)
		sum := resource.MustParse("0")
		for _, v := range pod.Volumes {
			if v.EmptyDir != nil && v.EmptyDir.Medium == "" {
				require.NotNil(t, v.EmptyDir.SizeLimit, "emptyDir %s needs a sizeLimit", v.Name)
				sum.Add(*v.EmptyDir.SizeLimit)
			}
		}
		assert.LessOrEqual(t, sum.Cmp(lim), 0, "emptyDirs (%s) exceed the ephemeral-storage limit (%s): the kubelet would evict the pod before a volume is full", sum.String(), lim.String())
		assert.GreaterOrEqual(t, sum.Cmp(req), 0, "the request should cover the scratch the volumes allow")
	})
	t.Run("scheduled on its class' GPU nodes", func(t *testing.T) {
		require.Contains(t, accelerators, class, "unknown GPU class %q", class)
		assert.Equal(t, accelerators[class], pod.NodeSelector[acceleratorNS])
		assert.True(t, tolerates(pod.Tolerations, string(gpuResource), "", corev1.TaintEffectNoSchedule), "must tolerate the nvidia.com/gpu NoSchedule taint")
		if cc := pod.NodeSelector[computeClassLabel]; cc != "" {
			assert.True(t, tolerates(pod.Tolerations, computeClassLabel, cc, corev1.TaintEffectNoSchedule), "the ComputeClass' node pools are tainted %s=%s:NoSchedule", computeClassLabel, cc)
			checkComputeClass(t, cc, class)
		}
		if class == omtx.GPUClassL4 {
			assert.Equal(t, l4ComputeClass, pod.NodeSelector[computeClassLabel], "the L4 worker falls back from spot to on-demand through its ComputeClass")
		}
		assert.NotEqual(t, "true", pod.NodeSelector[spotLabel], "a spot-only Deployment has no fallback: use the ComputeClass")
	})
	t.Run("CUDA required, class and fleet agree", func(t *testing.T) {
		assert.Equal(t, "true", env["OMTX_REQUIRE_GPU"])
		assert.Equal(t, "cuda", env["OMTX_ORT_PROVIDER"])
		assert.Equal(t, class, d.Spec.Template.Labels[gpuClassLabel])
		_, ok := fleetOf(t, b).Class(class)
		assert.True(t, ok, "OMTX_GPU_CLASS %s is not in OMTX_GPU_CLASSES (the worker would refuse to start)", class)
	})
	t.Run("graceful stop: the worker's stop timeout fits the grace period", func(t *testing.T) {
		checkStopTimeout(t, pod, c, env)
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
			cm := b.configMap(configMapName).Data
			assert.Equal(t, "64", cm["OMTX_CHUNK_GROUP"], "Boltz-2 is served: one model call per chunk of 64 (BENCHMARKS.md, GPU efficiency)")
			assert.Equal(t, cm["OMTX_CHUNK_GROUP"], cm["OMTX_BATCH_CHUNK_SIZE"], "a default chunk is one model call")
		} else {
			assert.Empty(t, env["OMTX_BOLTZ_BIN"], "OMTX_BOLTZ_BIN is set but OMTX_MODELS does not list boltz2")
		}
	})
}

// stopMargin is what the GPU worker's stop timeout leaves of the grace
// period: time for the process to exit once its running activity has
// finished or been given up.
const stopMargin = 30 * time.Second

// checkStopTimeout checks that a GPU worker has no preStop hook (SIGTERM
// must reach the worker at once: a spot preemption gives the pod seconds)
// and OMTX_WORKER_STOP_TIMEOUT = grace period - stopMargin, and that the
// grace period covers a planned chunk.
func checkStopTimeout(t *testing.T, pod corev1.PodSpec, c corev1.Container, env map[string]string) {
	require.NotNil(t, pod.TerminationGracePeriodSeconds)
	grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	assert.GreaterOrEqual(t, grace, chunkPlanned, "the grace period must cover one planned Boltz-2 chunk on an L4 (%s)", chunkPlanned)
	assert.True(t, c.Lifecycle == nil || c.Lifecycle.PreStop == nil, "a GPU worker has no preStop hook: it would delay SIGTERM past a spot node's shutdown period")
	raw, ok := env["OMTX_WORKER_STOP_TIMEOUT"]
	require.True(t, ok, "OMTX_WORKER_STOP_TIMEOUT must be set: the worker's default stop timeout is far shorter than the grace period")
	stop, err := time.ParseDuration(raw)
	require.NoError(t, err, "OMTX_WORKER_STOP_TIMEOUT is a Go duration")
	assert.Equal(t, grace-stopMargin, stop,
		"OMTX_WORKER_STOP_TIMEOUT = terminationGracePeriodSeconds (%s) - margin (%s)", grace, stopMargin)
}

// chunkPlanned is a Boltz-2 chunk of 16 ligands on an L4: 16 x 60 s + 25 s
// model load (the planning figure of issue 10).
const chunkPlanned = 985 * time.Second

func tolerates(ts []corev1.Toleration, key, value string, effect corev1.TaintEffect) bool {
	for _, tol := range ts {
		if tol.Key != key || (tol.Effect != "" && tol.Effect != effect) {
			continue
		}
		if tol.Operator == corev1.TolerationOpExists || tol.Value == value {
			return true
		}
	}
	return false
}

// checkComputeClass checks the cluster's ComputeClass name for class: spot
// node pools first, on-demand after, no migration of running pods, and no
// other hardware when neither can grow.
func checkComputeClass(t *testing.T, name, class string) {
	objs := loadFile(t, "cluster/computeclass-"+name+".yaml")
	require.Len(t, objs, 1)
	cc, ok := objs[0].Obj.(*ComputeClass)
	require.True(t, ok, "%s is not a ComputeClass", objs[0])
	assert.Equal(t, name, cc.Metadata.Name)
	assert.Empty(t, cc.Metadata.Namespace, "ComputeClass is cluster-scoped")
	require.Len(t, cc.Spec.Priorities, 2, "spot, then on-demand")
	assert.Equal(t, []string{class + "-spot"}, cc.Spec.Priorities[0].Nodepools, "spot first")
	assert.Equal(t, []string{class}, cc.Spec.Priorities[1].Nodepools, "on-demand second")
	require.NotNil(t, cc.Spec.ActiveMigration)
	assert.False(t, cc.Spec.ActiveMigration.OptimizeRulePriority, "migrating back to spot would evict running chunks")
	assert.Contains(t, []string{"ScaleUpAnyway", "DoNotScaleUp"}, cc.Spec.WhenUnsatisfiable)
	assert.Equal(t, "DoNotScaleUp", cc.Spec.WhenUnsatisfiable, "no hardware outside the two L4 pools")
	doc := readFile(t, "deploy", "README.md")
	for _, pool := range []string{class + "-spot", class} {
		assert.Contains(t, doc, "`"+pool+"`", "deploy/README.md's prerequisites create node pool %s", pool)
	}
	assert.Contains(t, readFile(t, "deploy", "cluster", "computeclass-"+name+".yaml"),
		"--node-taints=cloud.google.com/compute-class="+name+":NoSchedule", "the ComputeClass file says how its pools are labelled and tainted")
}

// kedaParams are the trigger parameters of KEDA's scalers used here (the
// temporal and prometheus scalers' metadata fields in KEDA 2.17+).
var kedaParams = map[string]map[string]bool{
	"temporal": {"endpoint": true, "endpointFromEnv": true, "namespace": true, "namespaceFromEnv": true,
		"taskQueue": true, "targetQueueSize": true, "activationTargetQueueSize": true, "queueTypes": true,
		"minConnectTimeout": true, "unsafeSsl": true, "tlsServerName": true},
	"prometheus": {"serverAddress": true, "query": true, "queryParameters": true, "threshold": true,
		"activationThreshold": true, "namespace": true, "customHeaders": true, "ignoreNullValues": true,
		"unsafeSsl": true, "timeout": true},
}

func triggerOf(t testing.TB, so *ScaledObject, typ string) *scaledTrigger {
	t.Helper()
	var out *scaledTrigger
	for i := range so.Spec.Triggers {
		if so.Spec.Triggers[i].Type == typ {
			require.Nil(t, out, "ScaledObject %s has two %s triggers", so.Metadata.Name, typ)
			out = &so.Spec.Triggers[i]
		}
	}
	require.NotNil(t, out, "ScaledObject %s has no %s trigger", so.Metadata.Name, typ)
	return out
}

func checkScaledObject(t *testing.T, b *built, so *ScaledObject) {
	ref := so.Spec.ScaleTargetRef
	assert.Equal(t, "Deployment", ref.Kind, "ScaledObject %s", so.Metadata.Name)
	assert.Equal(t, "apps/v1", ref.APIVersion, "ScaledObject %s", so.Metadata.Name)
	d := b.deployment(ref.Name)
	require.NotNil(t, d, "ScaledObject %s scales unknown Deployment %s", so.Metadata.Name, ref.Name)
	require.True(t, isGPU(d), "ScaledObject %s scales %s, which is not a GPU worker", so.Metadata.Name, ref.Name)
	env := envOf(b, d, d.Spec.Template.Spec.Containers[0])
	class := env["OMTX_GPU_CLASS"]
	queue := contract.GPUTaskQueue(class)

	require.NotNil(t, so.Spec.MinReplicaCount)
	require.NotNil(t, so.Spec.MaxReplicaCount)
	assert.EqualValues(t, 0, *so.Spec.MinReplicaCount, "GPU workers scale to zero")
	assert.GreaterOrEqual(t, *so.Spec.MaxReplicaCount, int32(1))

	require.Len(t, so.Spec.Triggers, 2, "ScaledObject %s: a temporal trigger (backlog) and a prometheus trigger (work in flight)", so.Metadata.Name)
	for _, tr := range so.Spec.Triggers {
		allowed, ok := kedaParams[tr.Type]
		require.True(t, ok, "ScaledObject %s: trigger type %s", so.Metadata.Name, tr.Type)
		for k := range tr.Metadata {
			assert.True(t, allowed[k], "ScaledObject %s: %q is not a %s scaler parameter", so.Metadata.Name, k, tr.Type)
		}
		assert.NotEmpty(t, tr.Name, "name each trigger: KEDA's metrics and errors are reported per trigger")
		if tr.AuthenticationRef != nil {
			assert.NotNil(t, b.find("keda.sh/v1alpha1/TriggerAuthentication", tr.AuthenticationRef.Name))
		}
	}

	t.Run("temporal trigger: the backlog of the class' queue", func(t *testing.T) {
		tr := triggerOf(t, so, "temporal")
		assert.Equal(t, queue, tr.Metadata["taskQueue"], "ScaledObject %s must watch the queue of %s's OMTX_GPU_CLASS", so.Metadata.Name, d.Name)
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
		assert.Equal(t, "0", tr.Metadata["activationTargetQueueSize"], "any waiting task wakes the pool from zero")
	})
	t.Run("prometheus trigger: in-flight plus waiting work, one per slot", func(t *testing.T) {
		tr := triggerOf(t, so, "prometheus")
		slots := env["OMTX_GPU_SLOTS"]
		require.NotEmpty(t, slots)
		assert.Equal(t, slots, tr.Metadata["threshold"], "one replica per OMTX_GPU_SLOTS units of work: the desired count never falls below the busy pods")
		assert.Equal(t, "0", tr.Metadata["activationThreshold"], "the last pod stays while anything runs")
		assert.True(t, strings.HasPrefix(tr.Metadata["serverAddress"], "http"), "serverAddress")
		expr, err := promParser().ParseExpr(tr.Metadata["query"])
		require.NoError(t, err, "the query must be PromQL")
		sel := selectorsOf(expr)
		inflight := sel[inflightMetric]
		require.Len(t, inflight, 1, "the query reads %s", inflightMetric)
		assert.Equal(t, map[string]string{"namespace": namespace, "gpu_class": class}, equalMatchers(inflight[0]))
		backlog := sel["omtx_task_queue_backlog"]
		require.Len(t, backlog, 1, "the query adds the waiting tasks (omtx_task_queue_backlog)")
		assert.Equal(t, map[string]string{"namespace": namespace, "task_queue": queue, "type": "activity"}, equalMatchers(backlog[0]))
		assert.NotContains(t, tr.Metadata["query"], "vector(", "missing data must be a scaler error, not a zero")
		replicas := sel["kube_deployment_status_replicas"]
		require.Len(t, replicas, 1, "a real zero is a Deployment with no pods (kube-state-metrics)")
		assert.Equal(t, map[string]string{"namespace": namespace, "deployment": d.Name}, equalMatchers(replicas[0]))
		assert.Equal(t, "false", tr.Metadata["ignoreNullValues"], "an empty result must be an error")
		for _, c := range kedaQueryCases(class, queue, d.Name) {
			t.Run(c.name, func(t *testing.T) {
				assert.Equal(t, c.want, evalQuery(t, tr.Metadata["query"], c.series, c.at))
			})
		}
	})
	t.Run("scale-down is slow and the last pod waits for idle", func(t *testing.T) {
		require.NotNil(t, so.Spec.CooldownPeriod)
		assert.GreaterOrEqual(t, *so.Spec.CooldownPeriod, int32(300), "cooldownPeriod: a GPU node takes minutes to come back")
		require.NotNil(t, so.Spec.Advanced)
		require.NotNil(t, so.Spec.Advanced.HorizontalPodAutoscalerConfig)
		beh := so.Spec.Advanced.HorizontalPodAutoscalerConfig.Behavior
		require.NotNil(t, beh)
		require.NotNil(t, beh.ScaleDown)
		require.NotNil(t, beh.ScaleDown.StabilizationWindowSeconds)
		assert.GreaterOrEqual(t, *beh.ScaleDown.StabilizationWindowSeconds, int32(300))
		require.Len(t, beh.ScaleDown.Policies, 1)
		p := beh.ScaleDown.Policies[0]
		assert.Equal(t, autoscalingv2.PodsScalingPolicy, p.Type)
		assert.EqualValues(t, 1, p.Value, "one pod per period")
		assert.GreaterOrEqual(t, p.PeriodSeconds, int32(120))
	})
}

const inflightMetric = "omtx_gpu_activities_inflight"

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
	for _, d := range b.workloads() {
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
	if ref.Key == "OMTX_API_KEYS" {
		// The real parser reads the example, as the API and worker will.
		_, err := keys.Parse(s.StringData[ref.Key], nil)
		assert.NoError(t, err, "the example OMTX_API_KEYS does not parse")
	}
}

func targetPort(p corev1.ServicePort) string { return p.TargetPort.String() }
