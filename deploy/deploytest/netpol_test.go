package deploytest

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// A small, explicit NetworkPolicy evaluator (networking.k8s.io/v1
// semantics), enough to say which endpoint may open a connection to which:
//   - a pod is isolated for ingress (egress) when a policy of its namespace
//     selects it with that policy type; an isolated pod accepts (opens) only
//     what some selecting policy's rules allow, the union of them all;
//   - a connection needs the source's egress and the destination's ingress;
//   - a peer is a podSelector (in the policy's namespace), a
//     namespaceSelector (every pod of the matching namespaces), both (the
//     matching pods of the matching namespaces), or an ipBlock (addresses in
//     cidr and not in except, pod addresses included); an empty from/to
//     matches everything, an absent rule list nothing;
//   - ports match by number or by the destination container's port name,
//     with protocol (default TCP) and endPort ranges; no ports match all.
// Namespaces carry kubernetes.io/metadata.name, as the API server sets it.

type endpoint struct {
	Name      string
	Namespace string // "" for an address outside the cluster
	Labels    map[string]string
	IP        netip.Addr
	Ports     []corev1.ContainerPort
}

func (e endpoint) String() string { return e.Name }

type netpolicy struct {
	*networkingv1.NetworkPolicy
}

func (p netpolicy) selects(e endpoint) bool {
	if e.Namespace == "" || e.Namespace != p.Namespace {
		return false
	}
	sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
	if err != nil {
		panic(err)
	}
	return sel.Matches(labels.Set(e.Labels))
}

func (p netpolicy) has(t networkingv1.PolicyType) bool {
	types := p.Spec.PolicyTypes
	if len(types) == 0 { // the API server's default
		types = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(p.Spec.Egress) > 0 {
			types = append(types, networkingv1.PolicyTypeEgress)
		}
	}
	for _, x := range types {
		if x == t {
			return true
		}
	}
	return false
}

// peerMatches says whether peer (of a policy in namespace ns) matches e.
func peerMatches(peer networkingv1.NetworkPolicyPeer, ns string, e endpoint) bool {
	if peer.IPBlock != nil {
		if !e.IP.IsValid() {
			return false
		}
		if !netip.MustParsePrefix(peer.IPBlock.CIDR).Contains(e.IP) {
			return false
		}
		for _, ex := range peer.IPBlock.Except {
			if netip.MustParsePrefix(ex).Contains(e.IP) {
				return false
			}
		}
		return true
	}
	if e.Namespace == "" {
		return false // selectors match pods only
	}
	if peer.NamespaceSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector)
		if err != nil {
			panic(err)
		}
		if !sel.Matches(labels.Set{"kubernetes.io/metadata.name": e.Namespace}) {
			return false
		}
	} else if e.Namespace != ns {
		return false
	}
	if peer.PodSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(peer.PodSelector)
		if err != nil {
			panic(err)
		}
		return sel.Matches(labels.Set(e.Labels))
	}
	return true
}

// portMatches says whether a rule's ports admit port/proto on dst.
func portMatches(ports []networkingv1.NetworkPolicyPort, dst endpoint, port int32, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		pp := corev1.ProtocolTCP
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pp != proto {
			continue
		}
		if p.Port == nil {
			return true
		}
		if p.Port.Type == intstr.String {
			for _, cp := range dst.Ports {
				cproto := cp.Protocol
				if cproto == "" {
					cproto = corev1.ProtocolTCP
				}
				if cp.Name == p.Port.StrVal && cp.ContainerPort == port && cproto == proto {
					return true
				}
			}
			continue
		}
		lo, hi := p.Port.IntVal, p.Port.IntVal
		if p.EndPort != nil {
			hi = *p.EndPort
		}
		if port >= lo && port <= hi {
			return true
		}
	}
	return false
}

func anyPeer(peers []networkingv1.NetworkPolicyPeer, ns string, e endpoint) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		if peerMatches(p, ns, e) {
			return true
		}
	}
	return false
}

// allowed says whether src may open a connection to dst:port/proto under
// policies.
func allowed(policies []netpolicy, src, dst endpoint, port int32, proto corev1.Protocol) bool {
	egressOK, ingressOK := true, true
	if src.Namespace != "" {
		isolated, ok := false, false
		for _, p := range policies {
			if !p.selects(src) || !p.has(networkingv1.PolicyTypeEgress) {
				continue
			}
			isolated = true
			for _, r := range p.Spec.Egress {
				if anyPeer(r.To, p.Namespace, dst) && portMatches(r.Ports, dst, port, proto) {
					ok = true
				}
			}
		}
		egressOK = !isolated || ok
	}
	if dst.Namespace != "" {
		isolated, ok := false, false
		for _, p := range policies {
			if !p.selects(dst) || !p.has(networkingv1.PolicyTypeIngress) {
				continue
			}
			isolated = true
			for _, r := range p.Spec.Ingress {
				if anyPeer(r.From, p.Namespace, src) && portMatches(r.Ports, dst, port, proto) {
					ok = true
				}
			}
		}
		ingressOK = !isolated || ok
	}
	return egressOK && ingressOK
}

// --- the world the policies are evaluated in ---

func tcp(name string, port int32) corev1.ContainerPort {
	return corev1.ContainerPort{Name: name, ContainerPort: port, Protocol: corev1.ProtocolTCP}
}

// world is every endpoint of the checks: OMTX-Hub's pods as the production
// overlay renders them, the Temporal release's pods as the chart labels
// them, cluster add-ons, strangers, and addresses outside the cluster.
func world(t *testing.T) map[string]endpoint {
	b := build(t, "overlays/production")
	w := map[string]endpoint{}
	ip := 10
	for _, d := range b.workloads() {
		c := d.Spec.Template.Spec.Containers[0]
		w[d.Name] = endpoint{Name: d.Name, Namespace: namespace, Labels: d.Spec.Template.Labels,
			IP: netip.AddrFrom4([4]byte{10, 4, 0, byte(ip)}), Ports: c.Ports}
		ip++
	}
	temporal := func(component string, ports ...corev1.ContainerPort) endpoint {
		ip++
		return endpoint{Name: "temporal-" + component, Namespace: "temporal", IP: netip.AddrFrom4([4]byte{10, 4, 1, byte(ip)}),
			Labels: map[string]string{"app.kubernetes.io/name": "temporal", "app.kubernetes.io/instance": "temporal", "app.kubernetes.io/component": component},
			Ports:  ports}
	}
	for _, e := range []endpoint{
		temporal("frontend", tcp("rpc", 7233), tcp("metrics", 9090)),
		temporal("internal-frontend", tcp("rpc", 7236), tcp("metrics", 9090)),
		temporal("history", tcp("rpc", 7234), tcp("metrics", 9090)),
		temporal("matching", tcp("rpc", 7235), tcp("metrics", 9090)),
		temporal("worker", tcp("rpc", 7239), tcp("metrics", 9090)),
		temporal("web", tcp("http", 8080)),
		temporal("admintools"),
		{Name: "kube-dns", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}, IP: netip.MustParseAddr("10.4.2.10"),
			Ports: []corev1.ContainerPort{{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}, tcp("dns-tcp", 53)}},
		{Name: "prometheus", Namespace: "monitoring", Labels: map[string]string{"app.kubernetes.io/name": "prometheus"}, IP: netip.MustParseAddr("10.4.3.10")},
		{Name: "keda-operator", Namespace: "keda", Labels: map[string]string{"app.kubernetes.io/name": "keda-operator"}, IP: netip.MustParseAddr("10.4.4.10")},
		// Strangers: any pod elsewhere, one that copies the API's labels in
		// another namespace, and an unlabelled pod (kubectl run) in ours.
		{Name: "intruder", Namespace: "default", Labels: map[string]string{"run": "intruder"}, IP: netip.MustParseAddr("10.4.5.10")},
		{Name: "lookalike", Namespace: "sandbox", Labels: w["api"].Labels, IP: netip.MustParseAddr("10.4.5.11")},
		{Name: "debug-pod", Namespace: namespace, Labels: map[string]string{"run": "debug"}, IP: netip.MustParseAddr("10.4.0.99")},
		// Outside the cluster.
		{Name: "google-apis", IP: netip.MustParseAddr("142.250.1.95")},
		{Name: "metadata-server", IP: netip.MustParseAddr("169.254.169.254")},
		{Name: "vpc-vm", IP: netip.MustParseAddr("10.128.0.99")},
		{Name: "control-plane", IP: netip.MustParseAddr("172.16.0.2")},
		{Name: "cloud-sql", IP: netip.MustParseAddr("10.20.0.3")},
		{Name: "load-balancer", IP: netip.MustParseAddr("35.191.10.4")},
		{Name: "internet", IP: netip.MustParseAddr("203.0.113.7")},
	} {
		w[e.Name] = e
	}
	for _, n := range []string{"api", "worker", "gpu-worker", "gpu-worker-a100-80g", "msa-server"} {
		require.Contains(t, w, n, "the production overlay has no workload %s", n)
	}
	return w
}

// policies are the NetworkPolicies of the production overlay (namespace
// omtx-hub) and of deploy/temporal (namespace temporal).
func policies(t *testing.T) []netpolicy {
	var out []netpolicy
	for _, o := range build(t, "overlays/production").all("networking.k8s.io/v1/NetworkPolicy") {
		np := o.Obj.(*networkingv1.NetworkPolicy)
		require.Equal(t, namespace, np.Namespace)
		out = append(out, netpolicy{np})
	}
	for _, o := range loadFile(t, "temporal/networkpolicies.yaml") {
		np, ok := o.Obj.(*networkingv1.NetworkPolicy)
		require.True(t, ok, "%s", o)
		require.Equal(t, "temporal", np.Namespace, "%s", o)
		out = append(out, netpolicy{np})
	}
	return out
}

type flow struct {
	From, To string
	Port     int32
	Proto    corev1.Protocol // TCP when empty
}

func (f flow) String() string {
	p := f.Proto
	if p == "" {
		p = corev1.ProtocolTCP
	}
	return fmt.Sprintf("%s -> %s:%d/%s", f.From, f.To, f.Port, p)
}

// wanted are the flows that must be open. Every other pair of endpoints, on
// every port either side listens on or is probed with, must be closed.
var wanted = []flow{
	// API and workers reach the Temporal frontend.
	{"api", "temporal-frontend", 7233, ""}, {"worker", "temporal-frontend", 7233, ""},
	{"gpu-worker", "temporal-frontend", 7233, ""}, {"gpu-worker-a100-80g", "temporal-frontend", 7233, ""},
	// KEDA's temporal scaler reads the GPU queues' backlog.
	{"keda-operator", "temporal-frontend", 7233, ""},
	// (Google APIs over HTTPS, DNS and the metadata server: expect.)
	// The orchestration and GPU workers call the in-cluster MSA server.
	{"worker", "msa-server", 8080, ""}, {"gpu-worker", "msa-server", 8080, ""}, {"gpu-worker-a100-80g", "msa-server", 8080, ""},
	// GPU workers set their pod's deletion cost.
	{"gpu-worker", "control-plane", 443, ""}, {"gpu-worker-a100-80g", "control-plane", 443, ""},
	// Load balancers reach the API and the Web UI.
	{"load-balancer", "api", 8080, ""}, {"load-balancer", "temporal-web", 8080, ""},
	// Prometheus scrapes every pod's metrics port.
	{"prometheus", "api", 9090, ""}, {"prometheus", "worker", 9090, ""}, {"prometheus", "gpu-worker", 9090, ""}, {"prometheus", "gpu-worker-a100-80g", 9090, ""},
	{"prometheus", "temporal-frontend", 9090, ""}, {"prometheus", "temporal-internal-frontend", 9090, ""}, {"prometheus", "temporal-history", 9090, ""},
	{"prometheus", "temporal-matching", 9090, ""}, {"prometheus", "temporal-worker", 9090, ""},
	// (Temporal's own services, Web UI and tools among themselves, and
	// Cloud SQL from them: expect.)
}

// candidatePorts are the ports a flow between src and dst is checked on:
// every port dst listens on, plus the well-known ones of outside endpoints.
func candidatePorts(dst endpoint) []flow {
	var out []flow
	for _, p := range dst.Ports {
		out = append(out, flow{To: dst.Name, Port: p.ContainerPort, Proto: p.Protocol})
	}
	for _, p := range []int32{80, 443, 5432, 8080, 7233} {
		out = append(out, flow{To: dst.Name, Port: p})
	}
	return out
}

// policed are the namespaces with NetworkPolicies of ours.
var policed = map[string]bool{namespace: true, "temporal": true}

// public are addresses on the internet: NetworkPolicy cannot tell Google's
// APIs from any other public HTTPS server (deploy/README.md says so).
var public = map[string]bool{"google-apis": true, "internet": true, "load-balancer": true}

var appPods = map[string]bool{"api": true, "worker": true, "gpu-worker": true, "gpu-worker-a100-80g": true}

// expect is the verdict a flow must get: the wanted flows, plus what every
// pod of a policed namespace may do (DNS, the metadata server), the
// Temporal release's traffic among itself and to its database, and HTTPS
// to public addresses for the processes that call Google's APIs.
func expect(want map[string]bool, src, dst endpoint, port int32, proto corev1.Protocol) (verdict, checked bool) {
	if !policed[src.Namespace] && !policed[dst.Namespace] {
		return false, false
	}
	key := flow{From: src.Name, To: dst.Name, Port: port, Proto: proto}.String()
	switch {
	case want[key]:
		return true, true
	case policed[src.Namespace] && dst.Name == "kube-dns":
		return port == 53, true
	case policed[src.Namespace] && dst.Name == "metadata-server":
		return port == 80 && proto == corev1.ProtocolTCP, true
	case src.Namespace == "temporal" && dst.Namespace == "temporal":
		return false, false // the release's own traffic: any port
	case src.Namespace == "temporal" && dst.Name == "cloud-sql":
		return port == 5432 && proto == corev1.ProtocolTCP, true
	case (appPods[src.Name] || src.Name == "temporal-frontend") && public[dst.Name]:
		return port == 443 && proto == corev1.ProtocolTCP, true
	}
	return false, true
}

// violations lists every flow whose verdict differs from expect's, over
// every pair of endpoints and every port the destination listens on or is
// commonly reached on.
func violations(t *testing.T, pols []netpolicy, w map[string]endpoint) []string {
	want := map[string]bool{}
	for _, f := range wanted {
		if f.Proto == "" {
			f.Proto = corev1.ProtocolTCP
		}
		want[f.String()] = true
	}
	var bad []string
	names := sortedKeys(w)
	for _, sn := range names {
		for _, dn := range names {
			if sn == dn {
				continue
			}
			src, dst := w[sn], w[dn]
			for _, c := range candidatePorts(dst) {
				proto := c.Proto
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				exp, checked := expect(want, src, dst, c.Port, proto)
				if !checked {
					continue
				}
				if got := allowed(pols, src, dst, c.Port, proto); got != exp {
					bad = append(bad, fmt.Sprintf("%s: allowed=%v, want %v", flow{From: sn, To: dn, Port: c.Port, Proto: proto}, got, exp))
				}
			}
		}
	}
	sort.Strings(bad)
	return dedupe(bad)
}

func dedupe(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func TestNetworkPolicies(t *testing.T) {
	w := world(t)
	pols := policies(t)

	t.Run("default deny in both namespaces", func(t *testing.T) {
		for _, ns := range []string{namespace, "temporal"} {
			found := false
			for _, p := range pols {
				if p.Namespace == ns && len(p.Spec.PodSelector.MatchLabels) == 0 && len(p.Spec.PodSelector.MatchExpressions) == 0 &&
					p.has(networkingv1.PolicyTypeIngress) && p.has(networkingv1.PolicyTypeEgress) && len(p.Spec.Ingress) == 0 && len(p.Spec.Egress) == 0 {
					found = true
				}
			}
			assert.True(t, found, "namespace %s has no default-deny policy", ns)
		}
	})
	t.Run("exactly the needed flows are open", func(t *testing.T) {
		for _, v := range violations(t, pols, w) {
			t.Error(v)
		}
	})
	t.Run("spot checks", func(t *testing.T) {
		for _, c := range []struct {
			f    flow
			want bool
		}{
			{flow{"api", "temporal-frontend", 7233, ""}, true},
			{flow{"intruder", "temporal-frontend", 7233, ""}, false},
			{flow{"lookalike", "temporal-frontend", 7233, ""}, false},
			{flow{"debug-pod", "temporal-frontend", 7233, ""}, false},
			{flow{"api", "gpu-worker", 9090, ""}, false},
			{flow{"api", "temporal-internal-frontend", 7236, ""}, false},
			{flow{"worker", "msa-server", 8080, ""}, true},
			{flow{"gpu-worker", "msa-server", 8080, ""}, true},
			{flow{"api", "msa-server", 8080, ""}, false},
			{flow{"debug-pod", "msa-server", 8080, ""}, false},
			{flow{"intruder", "msa-server", 8080, ""}, false},
			{flow{"msa-server", "internet", 443, ""}, false},
			{flow{"msa-server", "temporal-frontend", 7233, ""}, false},
			{flow{"api", "vpc-vm", 443, ""}, false},
			{flow{"internet", "api", 8080, ""}, false},
			{flow{"api", "google-apis", 80, ""}, false},
		} {
			proto := c.f.Proto
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			assert.Equal(t, c.want, allowed(pols, w[c.f.From], w[c.f.To], c.f.Port, proto), "%s", c.f)
		}
	})
	t.Run("documented in deploy/README.md", func(t *testing.T) {
		doc := readFile(t, "deploy", "README.md")
		assert.True(t, strings.Contains(doc, "## Network policies"), "deploy/README.md has no section on the NetworkPolicies")
	})
}

// TestNetworkPolicyChecksCanFail loosens one policy at a time and expects
// the flow check to catch it.
func TestNetworkPolicyChecksCanFail(t *testing.T) {
	w := world(t)
	loosen := map[string]func(p *networkingv1.NetworkPolicy){
		"frontend open to every namespace": func(p *networkingv1.NetworkPolicy) {
			if p.Name == "ingress-frontend-clients" {
				p.Spec.Ingress[0].From[0].NamespaceSelector = &metav1.LabelSelector{}
			}
		},
		"frontend clients by pod labels only": func(p *networkingv1.NetworkPolicy) {
			if p.Name == "ingress-frontend-clients" {
				p.Spec.Ingress[0].From[0].NamespaceSelector = nil
				p.Spec.Ingress = append(p.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{
					From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}, PodSelector: p.Spec.Ingress[0].From[0].PodSelector}},
					Ports: p.Spec.Ingress[0].Ports})
			}
		},
		"default deny turned into allow-all ingress in omtx-hub": func(p *networkingv1.NetworkPolicy) {
			if p.Name == "default-deny" && p.Namespace == namespace {
				p.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{}}
			}
		},
		"temporal namespace's within-release rule for every pod": func(p *networkingv1.NetworkPolicy) {
			if p.Name == "within-release" {
				p.Spec.Ingress[0].From[0].PodSelector = &metav1.LabelSelector{}
				p.Spec.Ingress[0].From[0].NamespaceSelector = &metav1.LabelSelector{}
			}
		},
		"metrics port open to everyone": func(p *networkingv1.NetworkPolicy) {
			if p.Name == "ingress-prometheus-metrics" && p.Namespace == namespace {
				p.Spec.Ingress[0].From = nil
			}
		},
		"MSA egress for every pod and the server open to all": func(p *networkingv1.NetworkPolicy) {
			if p.Name == "egress-msa-server" {
				p.Spec.PodSelector = metav1.LabelSelector{}
			}
			if p.Name == "ingress-msa-server" {
				p.Spec.Ingress[0].From = nil
			}
		},
		"MSA server open to every pod of the namespace": func(p *networkingv1.NetworkPolicy) {
			if p.Name == "ingress-msa-server" {
				p.Spec.Ingress[0].From[0].PodSelector = &metav1.LabelSelector{}
			}
			if p.Name == "egress-msa-server" {
				p.Spec.PodSelector = metav1.LabelSelector{}
			}
		},
		"MSA server reaches the internet": func(p *networkingv1.NetworkPolicy) {
			if p.Name == "egress-msa-setup-downloads" {
				p.Spec.PodSelector = metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "omtx-msa-server"}}
			}
		},
		"Google egress without the private ranges excluded": func(p *networkingv1.NetworkPolicy) {
			if p.Name == "egress-google-apis" {
				p.Spec.Egress[0].To[0].IPBlock.Except = nil
			}
		},
		"API port without a port restriction": func(p *networkingv1.NetworkPolicy) {
			if p.Name == "ingress-api-http" {
				p.Spec.Ingress[0].Ports = nil
			}
		},
	}
	for _, name := range sortedKeys(loosen) {
		t.Run(name, func(t *testing.T) {
			pols := policies(t)
			var loose []netpolicy
			for _, p := range pols {
				c := p.DeepCopy()
				loosen[name](c)
				loose = append(loose, netpolicy{c})
			}
			assert.NotEmpty(t, violations(t, loose, w), "loosening %q went unnoticed", name)
		})
	}
	t.Run("the evaluator: named ports, endPort, protocols, empty rules", func(t *testing.T) {
		udp := corev1.ProtocolUDP
		port := intstr.FromString("metrics")
		end := int32(9100)
		low := intstr.FromInt32(9000)
		dst := endpoint{Name: "d", Namespace: "n", Labels: map[string]string{"a": "b"}, Ports: []corev1.ContainerPort{tcp("metrics", 9090)}}
		src := endpoint{Name: "s", Namespace: "n", Labels: map[string]string{}}
		pol := func(rules ...networkingv1.NetworkPolicyIngressRule) []netpolicy {
			return []netpolicy{{&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "n"},
				Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, Ingress: rules}}}}
		}
		assert.False(t, allowed(pol(), src, dst, 9090, corev1.ProtocolTCP), "no rules: deny")
		assert.True(t, allowed(pol(networkingv1.NetworkPolicyIngressRule{}), src, dst, 9090, corev1.ProtocolTCP), "an empty rule: allow all")
		named := networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{{Port: &port}}}
		assert.True(t, allowed(pol(named), src, dst, 9090, corev1.ProtocolTCP))
		assert.False(t, allowed(pol(named), src, dst, 9091, corev1.ProtocolTCP))
		ranged := networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{{Port: &low, EndPort: &end}}}
		assert.True(t, allowed(pol(ranged), src, dst, 9090, corev1.ProtocolTCP))
		assert.False(t, allowed(pol(ranged), src, dst, 9101, corev1.ProtocolTCP))
		u := networkingv1.NetworkPolicyIngressRule{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &low}}}
		assert.False(t, allowed(pol(u), src, dst, 9000, corev1.ProtocolTCP), "protocols differ")
		other := endpoint{Name: "o", Namespace: "m", Labels: map[string]string{}}
		podOnly := networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}}
		assert.True(t, allowed(pol(podOnly), src, dst, 1, corev1.ProtocolTCP))
		assert.False(t, allowed(pol(podOnly), other, dst, 1, corev1.ProtocolTCP), "a podSelector alone means the policy's namespace")
		nsOnly := networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}}
		assert.True(t, allowed(pol(nsOnly), other, dst, 1, corev1.ProtocolTCP))
	})
}
