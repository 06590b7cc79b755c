package deploytest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// --- minimal, strict types of the custom resources (not in k8s.io/api) ---

// ServiceMonitor is monitoring.coreos.com/v1 ServiceMonitor, the fields used here.
type ServiceMonitor struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		JobLabel          string               `json:"jobLabel,omitempty"`
		PodTargetLabels   []string             `json:"podTargetLabels,omitempty"`
		Selector          metav1.LabelSelector `json:"selector"`
		NamespaceSelector *struct {
			Any        bool     `json:"any,omitempty"`
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector,omitempty"`
		Endpoints []struct {
			Port          string `json:"port"`
			Path          string `json:"path,omitempty"`
			Scheme        string `json:"scheme,omitempty"`
			Interval      string `json:"interval,omitempty"`
			ScrapeTimeout string `json:"scrapeTimeout,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// PrometheusRule is monitoring.coreos.com/v1 PrometheusRule.
type PrometheusRule struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Groups []struct {
			Name     string `json:"name"`
			Interval string `json:"interval,omitempty"`
			Rules    []struct {
				Alert       string            `json:"alert,omitempty"`
				Record      string            `json:"record,omitempty"`
				Expr        string            `json:"expr"`
				For         string            `json:"for,omitempty"`
				Labels      map[string]string `json:"labels,omitempty"`
				Annotations map[string]string `json:"annotations,omitempty"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

// ScaledObject is keda.sh/v1alpha1 ScaledObject.
type ScaledObject struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		ScaleTargetRef struct {
			APIVersion             string `json:"apiVersion,omitempty"`
			Kind                   string `json:"kind,omitempty"`
			Name                   string `json:"name"`
			EnvSourceContainerName string `json:"envSourceContainerName,omitempty"`
		} `json:"scaleTargetRef"`
		PollingInterval  *int32 `json:"pollingInterval,omitempty"`
		CooldownPeriod   *int32 `json:"cooldownPeriod,omitempty"`
		IdleReplicaCount *int32 `json:"idleReplicaCount,omitempty"`
		MinReplicaCount  *int32 `json:"minReplicaCount,omitempty"`
		MaxReplicaCount  *int32 `json:"maxReplicaCount,omitempty"`
		Fallback         *struct {
			FailureThreshold int32 `json:"failureThreshold"`
			Replicas         int32 `json:"replicas"`
		} `json:"fallback,omitempty"`
		Advanced *struct {
			RestoreToOriginalReplicaCount bool `json:"restoreToOriginalReplicaCount,omitempty"`
			HorizontalPodAutoscalerConfig *struct {
				Name     string                                         `json:"name,omitempty"`
				Behavior *autoscalingv2.HorizontalPodAutoscalerBehavior `json:"behavior,omitempty"`
			} `json:"horizontalPodAutoscalerConfig,omitempty"`
		} `json:"advanced,omitempty"`
		Triggers []scaledTrigger `json:"triggers"`
	} `json:"spec"`
}

// scaledTrigger is one entry of a ScaledObject's triggers.
type scaledTrigger struct {
	Type              string            `json:"type"`
	Name              string            `json:"name,omitempty"`
	Metadata          map[string]string `json:"metadata"`
	MetricType        string            `json:"metricType,omitempty"`
	UseCachedMetrics  bool              `json:"useCachedMetrics,omitempty"`
	AuthenticationRef *struct {
		Name string `json:"name"`
		Kind string `json:"kind,omitempty"`
	} `json:"authenticationRef,omitempty"`
}

// TriggerAuthentication is keda.sh/v1alpha1 TriggerAuthentication.
type TriggerAuthentication struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		SecretTargetRef []struct {
			Parameter string `json:"parameter"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretTargetRef,omitempty"`
		// Env reads a parameter from the scale target's container
		// environment; decoded so that a test can refuse it.
		Env []struct {
			Parameter     string `json:"parameter"`
			Name          string `json:"name"`
			ContainerName string `json:"containerName,omitempty"`
		} `json:"env,omitempty"`
	} `json:"spec"`
}

// ComputeClass is GKE's cloud.google.com/v1 ComputeClass, the fields used
// here (names from the CRD's schema and GKE's reference page for it).
type ComputeClass struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Priorities []struct {
			Nodepools     []string `json:"nodepools,omitempty"`
			MachineFamily string   `json:"machineFamily,omitempty"`
			MachineType   string   `json:"machineType,omitempty"`
			Spot          *bool    `json:"spot,omitempty"`
			GPU           *struct {
				Type  string `json:"type,omitempty"`
				Count int    `json:"count,omitempty"`
			} `json:"gpu,omitempty"`
		} `json:"priorities"`
		ActiveMigration *struct {
			OptimizeRulePriority bool `json:"optimizeRulePriority"`
		} `json:"activeMigration,omitempty"`
		NodePoolAutoCreation *struct {
			Enabled bool `json:"enabled"`
		} `json:"nodePoolAutoCreation,omitempty"`
		WhenUnsatisfiable string `json:"whenUnsatisfiable"`
	} `json:"spec"`
}

// Certificate is cert-manager.io/v1 Certificate, the fields used here.
type Certificate struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		SecretName  string   `json:"secretName"`
		CommonName  string   `json:"commonName,omitempty"`
		DNSNames    []string `json:"dnsNames,omitempty"`
		IsCA        bool     `json:"isCA,omitempty"`
		Usages      []string `json:"usages,omitempty"`
		Duration    string   `json:"duration,omitempty"`
		RenewBefore string   `json:"renewBefore,omitempty"`
		PrivateKey  *struct {
			Algorithm string `json:"algorithm,omitempty"`
			Size      int    `json:"size,omitempty"`
		} `json:"privateKey,omitempty"`
		IssuerRef struct {
			Name  string `json:"name"`
			Kind  string `json:"kind,omitempty"`
			Group string `json:"group,omitempty"`
		} `json:"issuerRef"`
	} `json:"spec"`
}

// ClusterIssuer is cert-manager.io/v1 ClusterIssuer: self-signed or a CA.
type ClusterIssuer struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		SelfSigned *struct{} `json:"selfSigned,omitempty"`
		CA         *struct {
			SecretName string `json:"secretName"`
		} `json:"ca,omitempty"`
	} `json:"spec"`
}

// ManagedCertificate is GKE's networking.gke.io/v1 ManagedCertificate.
type ManagedCertificate struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		Domains []string `json:"domains"`
	} `json:"spec"`
}

// BackendConfig is GKE's cloud.google.com/v1 BackendConfig, IAP only.
type BackendConfig struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		IAP struct {
			Enabled                bool `json:"enabled"`
			OAuthClientCredentials *struct {
				SecretName string `json:"secretName"`
			} `json:"oauthclientCredentials,omitempty"`
		} `json:"iap"`
	} `json:"spec"`
}

// generator is a configMapGenerator entry.
type generator struct {
	Name     string   `json:"name"`
	Behavior string   `json:"behavior,omitempty"`
	Envs     []string `json:"envs,omitempty"`
	Literals []string `json:"literals,omitempty"`
	Options  *struct {
		Labels map[string]string `json:"labels,omitempty"`
	} `json:"options,omitempty"`
}

// Kustomization is kustomize.config.k8s.io/v1beta1 Kustomization, the fields used here.
type Kustomization struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        *metav1.ObjectMeta `json:"metadata,omitempty"`
	Namespace       string             `json:"namespace,omitempty"`
	Labels          []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors,omitempty"`
		IncludeTemplates bool              `json:"includeTemplates,omitempty"`
	} `json:"labels,omitempty"`
	Resources          []string    `json:"resources,omitempty"`
	ConfigMapGenerator []generator `json:"configMapGenerator,omitempty"`
	Components         []string    `json:"components,omitempty"`
	Patches            []struct {
		Path string `json:"path,omitempty"`
	} `json:"patches,omitempty"`
	Replicas []struct {
		Name  string `json:"name"`
		Count int64  `json:"count"`
	} `json:"replicas,omitempty"`
	Images []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images,omitempty"`
}

// kinds maps apiVersion/kind to a new typed value. Anything else under
// deploy/ is an error.
var kinds = map[string]func() any{
	"apps/v1/Deployment":                       func() any { return &appsv1.Deployment{} },
	"v1/Service":                               func() any { return &corev1.Service{} },
	"v1/ServiceAccount":                        func() any { return &corev1.ServiceAccount{} },
	"v1/ConfigMap":                             func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                                func() any { return &corev1.Secret{} },
	"v1/Namespace":                             func() any { return &corev1.Namespace{} },
	"autoscaling/v2/HorizontalPodAutoscaler":   func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"policy/v1/PodDisruptionBudget":            func() any { return &policyv1.PodDisruptionBudget{} },
	"batch/v1/Job":                             func() any { return &batchv1.Job{} },
	"networking.k8s.io/v1/NetworkPolicy":       func() any { return &networkingv1.NetworkPolicy{} },
	"rbac.authorization.k8s.io/v1/Role":        func() any { return &rbacv1.Role{} },
	"rbac.authorization.k8s.io/v1/RoleBinding": func() any { return &rbacv1.RoleBinding{} },
	"cloud.google.com/v1/ComputeClass":         func() any { return &ComputeClass{} },
	"admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy": func() any {
		return &admissionregistrationv1.ValidatingAdmissionPolicy{}
	},
	"admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding": func() any {
		return &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	},
	"apps/v1/StatefulSet":                           func() any { return &appsv1.StatefulSet{} },
	"v1/PersistentVolumeClaim":                      func() any { return &corev1.PersistentVolumeClaim{} },
	"cloud.google.com/v1/BackendConfig":             func() any { return &BackendConfig{} },
	"networking.gke.io/v1/ManagedCertificate":       func() any { return &ManagedCertificate{} },
	"cert-manager.io/v1/Certificate":                func() any { return &Certificate{} },
	"cert-manager.io/v1/ClusterIssuer":              func() any { return &ClusterIssuer{} },
	"monitoring.coreos.com/v1/ServiceMonitor":       func() any { return &ServiceMonitor{} },
	"monitoring.coreos.com/v1/PrometheusRule":       func() any { return &PrometheusRule{} },
	"keda.sh/v1alpha1/ScaledObject":                 func() any { return &ScaledObject{} },
	"keda.sh/v1alpha1/TriggerAuthentication":        func() any { return &TriggerAuthentication{} },
	"kustomize.config.k8s.io/v1beta1/Kustomization": func() any { return &Kustomization{} },
}

// builtin kinds are merged by kustomize with strategic merge patches; the
// others (CRDs) with JSON merge patches.
func builtin(gvk string) bool {
	return !strings.Contains(gvk, ".coreos.com/") && !strings.HasPrefix(gvk, "keda.sh/") && !strings.HasPrefix(gvk, "kustomize.") &&
		!strings.HasPrefix(gvk, "cloud.google.com/") && !strings.HasPrefix(gvk, "cert-manager.io/") && !strings.HasPrefix(gvk, "networking.gke.io/")
}

// helmValuesFiles are YAML files under deploy/ that are not manifests.
var helmValuesFiles = map[string]bool{"temporal/values.yaml": true}

// object is one manifest document.
type object struct {
	File string // relative to deploy/
	GVK  string // apiVersion/kind
	Name string
	Raw  map[string]any // the document as JSON values
	Obj  any            // strictly decoded typed value
	// Generated is set on a ConfigMap made by a configMapGenerator: kustomize
	// appends a hash of its content to its name (TestRealKustomize checks that).
	Generated bool
}

func (o *object) String() string { return fmt.Sprintf("%s %s (%s)", o.GVK, o.Name, o.File) }

// decodeObject converts one YAML document into an object, decoding it
// strictly into its type.
func decodeObject(file string, doc []byte) (*object, error) {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return objectFromJSON(file, j)
}

func objectFromJSON(file string, j []byte) (*object, error) {
	var raw map[string]any
	if err := json.Unmarshal(j, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	av, _ := raw["apiVersion"].(string)
	k, _ := raw["kind"].(string)
	gvk := av + "/" + k
	mk, ok := kinds[gvk]
	if !ok {
		return nil, fmt.Errorf("%s: unknown kind %q", file, gvk)
	}
	v := mk()
	if err := strictJSON(j, v); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", file, gvk, err)
	}
	name := ""
	if md, ok := raw["metadata"].(map[string]any); ok {
		name, _ = md["name"].(string)
	}
	return &object{File: file, GVK: gvk, Name: name, Raw: raw, Obj: v}, nil
}

// deployFiles lists the YAML files under deploy/, relative to it.
func deployFiles(t testing.TB) []string {
	t.Helper()
	dir := repoPath(t, "deploy")
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	require.NoError(t, err)
	sort.Strings(out)
	require.NotEmpty(t, out)
	return out
}

// loadFile decodes every document of a manifest file under deploy/.
func loadFile(t testing.TB, rel string) []*object {
	t.Helper()
	var out []*object
	for i, doc := range splitYAML(readFile(t, "deploy", rel)) {
		o, err := decodeObject(fmt.Sprintf("%s#%d", rel, i), []byte(doc))
		require.NoError(t, err)
		out = append(out, o)
	}
	return out
}

// --- a small kustomize: enough of it to check what an overlay produces ---

// built is the output of one kustomization, and what went into it.
type built struct {
	Dir     string // relative to deploy/
	K       *Kustomization
	Objects []*object
	// Files are the manifest files it used, as resources or patches
	// (its bases' included), relative to deploy/.
	Files map[string]bool
}

// build renders the kustomization in deploy/<dir> the way kustomize would
// for the features used here: resources (files and folders), patches
// (strategic merge for built-in kinds, JSON merge for custom resources),
// replicas, images, namespace and labels.
func build(t testing.TB, dir string) *built {
	t.Helper()
	kpath := filepath.ToSlash(filepath.Join(dir, "kustomization.yaml"))
	ko := loadFile(t, kpath)
	require.Len(t, ko, 1, kpath)
	k, ok := ko[0].Obj.(*Kustomization)
	require.True(t, ok, "%s is not a Kustomization", kpath)
	b := &built{Dir: dir, K: k, Files: map[string]bool{kpath: true}}
	require.Empty(t, k.Components, "%s: components are not supported by this check", kpath)

	for _, r := range k.Resources {
		rel := filepath.ToSlash(filepath.Clean(filepath.Join(dir, r)))
		st, err := os.Stat(repoPath(t, "deploy", rel))
		require.NoError(t, err, "%s: resource %s does not exist", kpath, r)
		if st.IsDir() {
			require.FileExists(t, repoPath(t, "deploy", rel, "kustomization.yaml"), "%s: resource folder %s has no kustomization.yaml", kpath, r)
			sub := build(t, rel)
			for _, o := range sub.Objects {
				b.Objects = append(b.Objects, cloneObject(t, o))
			}
			for f := range sub.Files {
				b.Files[f] = true
			}
			continue
		}
		b.Files[rel] = true
		for _, o := range loadFile(t, rel) {
			require.NotEqual(t, "kustomize.config.k8s.io/v1beta1/Kustomization", o.GVK, "%s: resource %s is a Kustomization", kpath, r)
			b.Objects = append(b.Objects, o)
		}
	}
	for _, g := range k.ConfigMapGenerator {
		data := map[string]any{}
		for _, e := range g.Envs {
			rel := filepath.ToSlash(filepath.Clean(filepath.Join(dir, e)))
			b.Files[rel] = true
			kv, err := parseEnvFile(readFile(t, "deploy", rel))
			require.NoError(t, err, "%s: %s", kpath, e)
			for k, v := range kv {
				data[k] = v
			}
		}
		for _, l := range g.Literals {
			k, v, ok := strings.Cut(l, "=")
			require.True(t, ok, "%s: literal %q", kpath, l)
			data[k] = v
		}
		existing := b.find("v1/ConfigMap", g.Name)
		switch g.Behavior {
		case "", "create":
			require.Nil(t, existing, "%s: configMapGenerator %s creates a ConfigMap that exists", kpath, g.Name)
			md := map[string]any{"name": g.Name}
			if g.Options != nil && len(g.Options.Labels) > 0 {
				ls := map[string]any{}
				for k, v := range g.Options.Labels {
					ls[k] = v
				}
				md["labels"] = ls
			}
			raw := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": data}
			o := mustObject(t, kpath+" configMapGenerator "+g.Name, raw)
			o.Generated = true
			b.Objects = append(b.Objects, o)
		case "merge":
			require.NotNil(t, existing, "%s: configMapGenerator %s merges into a ConfigMap the bases lack", kpath, g.Name)
			d, _ := existing.Raw["data"].(map[string]any)
			for k, v := range data {
				d[k] = v
			}
			gen := existing.Generated
			*existing = *mustObject(t, existing.File+" merged by "+kpath, existing.Raw)
			existing.Generated = gen
		default:
			t.Fatalf("%s: configMapGenerator behavior %q is not supported by this check", kpath, g.Behavior)
		}
	}
	for _, p := range k.Patches {
		require.NotEmpty(t, p.Path, "%s: only patches with a path are supported by this check", kpath)
		rel := filepath.ToSlash(filepath.Clean(filepath.Join(dir, p.Path)))
		require.FileExists(t, repoPath(t, "deploy", rel), "%s: patch %s does not exist", kpath, p.Path)
		b.Files[rel] = true
		for _, po := range loadFile(t, rel) {
			target := b.find(po.GVK, po.Name)
			require.NotNil(t, target, "%s: patch %s targets %s %s, which the kustomization does not have", kpath, p.Path, po.GVK, po.Name)
			merged := mergePatch(target.Raw, po.Raw, builtin(po.GVK))
			*target = *mustObject(t, target.File+" patched by "+rel, merged)
		}
	}
	for _, r := range k.Replicas {
		d := b.find("apps/v1/Deployment", r.Name)
		require.NotNil(t, d, "%s: replicas for unknown Deployment %s", kpath, r.Name)
		d.Raw["spec"].(map[string]any)["replicas"] = float64(r.Count)
		*d = *mustObject(t, d.File, d.Raw)
	}
	for _, o := range b.Objects {
		changed := false
		if k.Namespace != "" && o.GVK != "v1/Namespace" {
			o.Raw["metadata"].(map[string]any)["namespace"] = k.Namespace
			changed = true
		}
		for _, l := range k.Labels {
			md := o.Raw["metadata"].(map[string]any)
			labels, _ := md["labels"].(map[string]any)
			if labels == nil {
				labels = map[string]any{}
				md["labels"] = labels
			}
			for lk, lv := range l.Pairs {
				labels[lk] = lv
			}
			changed = true
		}
		if len(k.Images) > 0 && (o.GVK == "apps/v1/Deployment" || o.GVK == "apps/v1/StatefulSet") {
			for _, c := range containersRaw(o.Raw) {
				img, _ := c["image"].(string)
				ref := parseImage(img)
				for _, im := range k.Images {
					if im.Name != ref.Repo {
						continue
					}
					if im.NewName != "" {
						ref.Repo = im.NewName
					}
					if im.NewTag != "" {
						ref.Tag = im.NewTag
					}
					if im.Digest != "" {
						ref.Digest = im.Digest
					}
					// As kustomize writes it: repo:tag@digest.
					c["image"] = ref.Repo + ":" + ref.Tag
					if ref.Digest != "" {
						c["image"] = c["image"].(string) + "@" + ref.Digest
					}
					changed = true
				}
			}
		}
		if changed {
			gen := o.Generated
			*o = *mustObject(t, o.File, o.Raw)
			o.Generated = gen
		}
	}
	return b
}

func (b *built) find(gvk, name string) *object {
	for _, o := range b.Objects {
		if o.GVK == gvk && o.Name == name {
			return o
		}
	}
	return nil
}

func (b *built) all(gvk string) []*object {
	var out []*object
	for _, o := range b.Objects {
		if o.GVK == gvk {
			out = append(out, o)
		}
	}
	return out
}

func (b *built) deployments() []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, o := range b.all("apps/v1/Deployment") {
		out = append(out, o.Obj.(*appsv1.Deployment))
	}
	return out
}

// workloads are the Deployments and, as Deployments of the same pod
// template, the StatefulSets: every pod the kustomization runs.
func (b *built) workloads() []*appsv1.Deployment {
	out := b.deployments()
	for _, o := range b.all("apps/v1/StatefulSet") {
		ss := o.Obj.(*appsv1.StatefulSet)
		out = append(out, &appsv1.Deployment{ObjectMeta: ss.ObjectMeta,
			Spec: appsv1.DeploymentSpec{Selector: ss.Spec.Selector, Template: ss.Spec.Template}})
	}
	return out
}

func (b *built) deployment(name string) *appsv1.Deployment {
	if o := b.find("apps/v1/Deployment", name); o != nil {
		return o.Obj.(*appsv1.Deployment)
	}
	return nil
}

func (b *built) configMap(name string) *corev1.ConfigMap {
	if o := b.find("v1/ConfigMap", name); o != nil {
		return o.Obj.(*corev1.ConfigMap)
	}
	return nil
}

func (b *built) scaledObjects() []*ScaledObject {
	var out []*ScaledObject
	for _, o := range b.all("keda.sh/v1alpha1/ScaledObject") {
		out = append(out, o.Obj.(*ScaledObject))
	}
	return out
}

func containersRaw(raw map[string]any) []map[string]any {
	spec, _ := raw["spec"].(map[string]any)
	tmpl, _ := spec["template"].(map[string]any)
	pod, _ := tmpl["spec"].(map[string]any)
	var out []map[string]any
	for _, key := range []string{"initContainers", "containers"} {
		cs, _ := pod[key].([]any)
		for _, c := range cs {
			if m, ok := c.(map[string]any); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

func mustObject(t testing.TB, file string, raw map[string]any) *object {
	t.Helper()
	j, err := json.Marshal(raw)
	require.NoError(t, err)
	o, err := objectFromJSON(file, j)
	require.NoError(t, err)
	return o
}

func cloneObject(t testing.TB, o *object) *object {
	t.Helper()
	j, err := json.Marshal(o.Raw)
	require.NoError(t, err)
	c, err := objectFromJSON(o.File, j)
	require.NoError(t, err)
	c.Generated = o.Generated
	return c
}

// mergePatch merges patch into a copy of dst. With strategic, lists whose
// items all have a "name" merge item by item (containers, env, ports,
// volumes), as kustomize's strategic merge does, new items first; other
// lists, and every list of a custom resource, are replaced.
func mergePatch(dst, patch map[string]any, strategic bool) map[string]any {
	out := map[string]any{}
	for k, v := range dst {
		out[k] = v
	}
	for k, pv := range patch {
		dv, exists := out[k]
		switch p := pv.(type) {
		case nil:
			delete(out, k)
		case map[string]any:
			if dm, ok := dv.(map[string]any); ok {
				out[k] = mergePatch(dm, p, strategic)
			} else {
				out[k] = p
			}
		case []any:
			dl, ok := dv.([]any)
			if strategic && exists && ok && named(dl) && named(p) {
				out[k] = mergeNamed(dl, p)
			} else {
				out[k] = p
			}
		default:
			out[k] = p
		}
	}
	return out
}

func named(l []any) bool {
	for _, x := range l {
		m, ok := x.(map[string]any)
		if !ok {
			return false
		}
		if _, ok := m["name"].(string); !ok {
			return false
		}
	}
	return true
}

func mergeNamed(dst, patch []any) []any {
	out := append([]any(nil), dst...)
	var added []any
	for _, p := range patch {
		pm := p.(map[string]any)
		found := false
		for i, d := range out {
			dm := d.(map[string]any)
			if dm["name"] == pm["name"] {
				out[i] = mergePatch(dm, pm, true)
				found = true
				break
			}
		}
		if !found {
			added = append(added, pm)
		}
	}
	// kustomize puts items that only the patch has before the others
	// (TestRealKustomize compares).
	return append(added, out...)
}

// parseEnvFile reads a kustomize env file: KEY=VALUE lines, blank lines and
// lines starting with # skipped, the value taken literally.
func parseEnvFile(s string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(s, "\n") {
		l := strings.TrimSpace(line)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("line %d: %q is not KEY=VALUE", i+1, line)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("line %d: %s is set twice", i+1, k)
		}
		out[k] = v
	}
	return out, nil
}
