package deploytest

import (
	"maps"
	"reflect"
	"regexp"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The GPU worker's ValidatingAdmissionPolicy (deploy/cluster/
// gpu-worker-admission.yaml) is evaluated here on allowed and forbidden
// pod updates. github.com/google/cel-go is not in go.sum (k8s.io/api and
// apimachinery do not pull it), so each CEL expression has a Go twin below,
// keyed by its exact text: the test refuses a policy whose expressions are
// not all twinned, so a changed expression cannot pass on an old twin. What
// this does not prove is that the API server's CEL compiles them; the
// README's "What could not be verified here" lists the server-side dry run
// that does.

const costKey = "controller.kubernetes.io/pod-deletion-cost"

// admissionRequest is what the expressions read: request.userInfo, object
// and oldObject.
type admissionRequest struct {
	Username  string
	Extra     map[string][]string
	Old, New  *corev1.Pod
	Namespace string
}

var intRe = regexp.MustCompile(`^-?[0-9]+$`)

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// celTwins are the Go meaning of each expression of the policy.
var celTwins = map[string]func(r admissionRequest) bool{
	"request.userInfo.username == 'system:serviceaccount:omtx-hub:omtx-gpu-worker'": func(r admissionRequest) bool {
		return r.Username == "system:serviceaccount:omtx-hub:omtx-gpu-worker"
	},
	"'authentication.kubernetes.io/pod-name' in request.userInfo.extra && object.metadata.name in request.userInfo.extra['authentication.kubernetes.io/pod-name']": func(r admissionRequest) bool {
		names, ok := r.Extra["authentication.kubernetes.io/pod-name"]
		return ok && slices.Contains(names, r.New.Name)
	},
	"object.spec == oldObject.spec": func(r admissionRequest) bool {
		return reflect.DeepEqual(r.New.Spec, r.Old.Spec)
	},
	"object.metadata.?labels.orValue({}) == oldObject.metadata.?labels.orValue({})": func(r admissionRequest) bool {
		return maps.Equal(orEmpty(r.New.Labels), orEmpty(r.Old.Labels))
	},
	"object.metadata.?finalizers.orValue([]) == oldObject.metadata.?finalizers.orValue([]) && object.metadata.?ownerReferences.orValue([]) == oldObject.metadata.?ownerReferences.orValue([])": func(r admissionRequest) bool {
		return slices.Equal(r.New.Finalizers, r.Old.Finalizers) &&
			len(r.New.OwnerReferences) == len(r.Old.OwnerReferences) &&
			(len(r.New.OwnerReferences) == 0 || reflect.DeepEqual(r.New.OwnerReferences, r.Old.OwnerReferences))
	},
	"object.metadata.?annotations.orValue({}).all(k, k == 'controller.kubernetes.io/pod-deletion-cost' || (k in oldObject.metadata.?annotations.orValue({}) && oldObject.metadata.annotations[k] == object.metadata.annotations[k])) && oldObject.metadata.?annotations.orValue({}).all(k, k == 'controller.kubernetes.io/pod-deletion-cost' || k in object.metadata.?annotations.orValue({}))": func(r admissionRequest) bool {
		nw, old := orEmpty(r.New.Annotations), orEmpty(r.Old.Annotations)
		for k, v := range nw {
			if ov, ok := old[k]; k != costKey && (!ok || ov != v) {
				return false
			}
		}
		for k := range old {
			if _, ok := nw[k]; k != costKey && !ok {
				return false
			}
		}
		return true
	},
	"!('controller.kubernetes.io/pod-deletion-cost' in object.metadata.?annotations.orValue({})) || object.metadata.annotations['controller.kubernetes.io/pod-deletion-cost'].matches('^-?[0-9]+$')": func(r admissionRequest) bool {
		v, ok := orEmpty(r.New.Annotations)[costKey]
		return !ok || intRe.MatchString(v)
	},
}

// admit evaluates vap on r as the API server would for a matching
// resource: false from a match condition means the policy does not apply;
// otherwise every validation must hold. It returns the failed messages.
func admit(t *testing.T, vap *admissionregistrationv1.ValidatingAdmissionPolicy, r admissionRequest) []string {
	t.Helper()
	for _, mc := range vap.Spec.MatchConditions {
		f, ok := celTwins[mc.Expression]
		require.True(t, ok, "match condition %q has no Go twin", mc.Expression)
		if !f(r) {
			return nil
		}
	}
	var denied []string
	for _, v := range vap.Spec.Validations {
		f, ok := celTwins[v.Expression]
		require.True(t, ok, "validation %q has no Go twin", v.Expression)
		if !f(r) {
			denied = append(denied, v.Message)
		}
	}
	return denied
}

func gpuWorkerPolicy(t *testing.T) (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	t.Helper()
	var vap *admissionregistrationv1.ValidatingAdmissionPolicy
	var vapb *admissionregistrationv1.ValidatingAdmissionPolicyBinding
	for _, o := range loadFile(t, "cluster/gpu-worker-admission.yaml") {
		switch v := o.Obj.(type) {
		case *admissionregistrationv1.ValidatingAdmissionPolicy:
			vap = v
		case *admissionregistrationv1.ValidatingAdmissionPolicyBinding:
			vapb = v
		}
	}
	require.NotNil(t, vap)
	require.NotNil(t, vapb)
	return vap, vapb
}

func gpuPod(name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "omtx-hub",
			Labels:          map[string]string{"app.kubernetes.io/name": "omtx-gpu-worker", "pod-template-hash": "7d9f"},
			Annotations:     map[string]string{costKey: "0", "kubectl.kubernetes.io/restartedAt": "2026-12-01T00:00:00Z"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "gpu-worker-7d9f"}},
		},
		Spec: corev1.PodSpec{
			ServiceAccountName: "omtx-gpu-worker",
			Containers:         []corev1.Container{{Name: "gpu-worker", Image: "omtx-gpu-worker@sha256:aa"}},
		},
	}
}

func TestGPUWorkerAdmissionPolicy(t *testing.T) {
	vap, vapb := gpuWorkerPolicy(t)
	t.Run("every expression has its Go twin, and every twin is used", func(t *testing.T) {
		used := map[string]bool{}
		for _, mc := range vap.Spec.MatchConditions {
			used[mc.Expression] = true
		}
		for _, v := range vap.Spec.Validations {
			used[v.Expression] = true
		}
		assert.ElementsMatch(t, slices.Collect(maps.Keys(celTwins)), slices.Collect(maps.Keys(used)))
	})
	t.Run("what it matches and how it is bound", func(t *testing.T) {
		require.NotNil(t, vap.Spec.FailurePolicy)
		assert.Equal(t, admissionregistrationv1.Fail, *vap.Spec.FailurePolicy)
		rules := vap.Spec.MatchConstraints.ResourceRules
		require.Len(t, rules, 1)
		assert.Equal(t, []string{""}, rules[0].APIGroups)
		assert.Equal(t, []string{"pods"}, rules[0].Resources)
		assert.Contains(t, rules[0].Operations, admissionregistrationv1.Update, "a PATCH is an UPDATE in admission")
		assert.Equal(t, vap.Name, vapb.Spec.PolicyName)
		assert.Equal(t, []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}, vapb.Spec.ValidationActions)
		assert.Equal(t, "omtx-hub", vapb.Spec.MatchResources.NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"])
		role := build(t, "base").find("rbac.authorization.k8s.io/v1/Role", "omtx-gpu-worker-pod-deletion-cost")
		require.NotNil(t, role)
		for _, r := range role.Obj.(*rbacv1.Role).Rules {
			assert.Equal(t, []string{"pods"}, r.Resources, "RBAC grants no subresource, which the policy does not match")
		}
	})
	const sa = "system:serviceaccount:omtx-hub:omtx-gpu-worker"
	own := map[string][]string{"authentication.kubernetes.io/pod-name": {"gpu-worker-7d9f-aaaaa"}, "authentication.kubernetes.io/pod-uid": {"u1"}}
	change := func(name string, f func(p *corev1.Pod)) admissionRequest {
		old := gpuPod(name)
		nw := old.DeepCopy()
		f(nw)
		return admissionRequest{Username: sa, Extra: own, Old: old, New: nw, Namespace: "omtx-hub"}
	}
	setCost := func(v string) func(p *corev1.Pod) { return func(p *corev1.Pod) { p.Annotations[costKey] = v } }
	for _, c := range []struct {
		name    string
		req     admissionRequest
		allowed bool
	}{
		{"its own pod's cost", change("gpu-worker-7d9f-aaaaa", setCost("1000000")), true},
		{"its own pod's cost back to 0", change("gpu-worker-7d9f-aaaaa", setCost("0")), true},
		{"a cost on a pod that had no annotations", func() admissionRequest {
			r := change("gpu-worker-7d9f-aaaaa", func(p *corev1.Pod) { p.Annotations = map[string]string{costKey: "0"} })
			r.Old.Annotations = nil
			return r
		}(), true},
		{"another pod's cost", change("gpu-worker-7d9f-bbbbb", setCost("0")), false},
		{"its own pod's image", change("gpu-worker-7d9f-aaaaa", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "evil:latest" }), false},
		{"its own pod's labels (leaving the ReplicaSet)", change("gpu-worker-7d9f-aaaaa", func(p *corev1.Pod) { delete(p.Labels, "pod-template-hash") }), false},
		{"another annotation added", change("gpu-worker-7d9f-aaaaa", func(p *corev1.Pod) { p.Annotations["x"] = "y" }), false},
		{"another annotation removed", change("gpu-worker-7d9f-aaaaa", func(p *corev1.Pod) { delete(p.Annotations, "kubectl.kubernetes.io/restartedAt") }), false},
		{"a finalizer", change("gpu-worker-7d9f-aaaaa", func(p *corev1.Pod) { p.Finalizers = []string{"x/y"} }), false},
		{"orphaned from its ReplicaSet", change("gpu-worker-7d9f-aaaaa", func(p *corev1.Pod) { p.OwnerReferences = nil }), false},
		{"a cost that is not an integer", change("gpu-worker-7d9f-aaaaa", setCost("high")), false},
		{"a token not bound to a pod", func() admissionRequest {
			r := change("gpu-worker-7d9f-aaaaa", setCost("0"))
			r.Extra = nil
			return r
		}(), false},
		{"another user is not this policy's business", func() admissionRequest {
			r := change("gpu-worker-7d9f-bbbbb", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "x" })
			r.Username = "system:serviceaccount:kube-system:replicaset-controller"
			return r
		}(), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			denied := admit(t, vap, c.req)
			if c.allowed {
				assert.Empty(t, denied)
			} else {
				assert.NotEmpty(t, denied)
			}
		})
	}
}

func TestAdmissionChecksCanFail(t *testing.T) {
	vap, _ := gpuWorkerPolicy(t)
	t.Run("without the own-pod rule another pod's cost passes", func(t *testing.T) {
		weak := vap.DeepCopy()
		weak.Spec.Validations = weak.Spec.Validations[1:]
		old := gpuPod("gpu-worker-7d9f-bbbbb")
		nw := old.DeepCopy()
		nw.Annotations[costKey] = "0"
		r := admissionRequest{Username: "system:serviceaccount:omtx-hub:omtx-gpu-worker",
			Extra: map[string][]string{"authentication.kubernetes.io/pod-name": {"gpu-worker-7d9f-aaaaa"}}, Old: old, New: nw}
		assert.Empty(t, admit(t, weak, r))
		assert.NotEmpty(t, admit(t, vap, r))
	})
	t.Run("an expression without a twin is refused", func(t *testing.T) {
		_, ok := celTwins["object.spec.containers.size() == 1"]
		assert.False(t, ok)
	})
}
