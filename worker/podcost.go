package worker

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/omtx-hub/omtx-hub/metrics"
)

// PodDeletionCostAnnotation tells a Deployment's scale-in which pods to
// remove first: the lowest cost. A GPU worker sets it high while it runs a
// model activity and to 0 when idle, so scale-in removes idle workers and
// leaves busy ones (KEDA and the HPA only choose how many).
const PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// Pod deletion costs.
const (
	idleCost = "0"
	busyCost = "1000000"
)

// podCost patches this pod's deletion cost through the Kubernetes API,
// with the pod's own service account (it needs patch on pods in its
// namespace; deploy/ grants it). Outside a cluster it does nothing.
type podCost struct {
	base, namespace, pod string
	class                string // GPU class, the label of the failure counter
	token                func() (string, error)
	client               *http.Client
	log                  *slog.Logger

	mu      sync.Mutex
	want    string // the cost to set
	set     string // the cost last set
	kick    chan struct{}
	timeout time.Duration // of one patch (10 s when zero)
	retry   time.Duration // after a failed patch (5 s when zero)
}

// serviceAccountDir is where Kubernetes mounts the pod's credentials;
// OMTX_SERVICE_ACCOUNT_DIR replaces it (the integration tests point the
// worker at a stand-in API server with their own credentials).
const serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

// newPodCost sets up the patcher from the in-cluster environment, or
// returns nil outside a cluster. The pod's name is POD_NAME (the downward
// API) or, failing that, the hostname, which is the pod's name.
func newPodCost(log *slog.Logger) *podCost {
	host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
	if host == "" || port == "" {
		return nil
	}
	dir := serviceAccountDir
	if d := os.Getenv("OMTX_SERVICE_ACCOUNT_DIR"); d != "" {
		dir = d
	}
	ns, err := os.ReadFile(dir + "/namespace")
	if err != nil {
		log.Warn("pod deletion cost: no namespace file; scale-in may pick busy workers", "error", err)
		return nil
	}
	ca, err := os.ReadFile(dir + "/ca.crt")
	if err != nil {
		log.Warn("pod deletion cost: no CA file; scale-in may pick busy workers", "error", err)
		return nil
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	pod := os.Getenv("POD_NAME")
	if pod == "" {
		pod, _ = os.Hostname()
	}
	return &podCost{
		base: "https://" + net.JoinHostPort(host, port), namespace: strings.TrimSpace(string(ns)), pod: pod,
		token: func() (string, error) {
			b, err := os.ReadFile(dir + "/token") // rotated by the kubelet: read each time
			return strings.TrimSpace(string(b)), err
		},
		client: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}},
		log:    log,
	}
}

// run applies the wanted cost until ctx ends; patches happen here, off
// the activities' path, and a failed patch is retried.
func (p *podCost) run(ctx context.Context) {
	p.mu.Lock()
	if p.kick == nil {
		p.kick = make(chan struct{}, 1)
	}
	if p.want == "" {
		p.want = idleCost
	}
	kick := p.kick
	p.mu.Unlock()
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		case <-retry.C:
		}
		p.mu.Lock()
		want, set := p.want, p.set
		p.mu.Unlock()
		if want == set {
			continue
		}
		if err := p.patch(ctx, want); err != nil {
			p.log.Warn("pod deletion cost not set; retrying", "cost", want, "error", err)
			metrics.PodCostPatchFailures.WithLabelValues(p.class).Inc()
			retry.Reset(cmp.Or(p.retry, 5*time.Second))
			continue
		}
		p.mu.Lock()
		p.set = want
		p.mu.Unlock()
	}
}

// load is activities.GPU.OnLoad: busy while any model activity runs.
func (p *podCost) load(running int) {
	want := idleCost
	if running > 0 {
		want = busyCost
	}
	p.mu.Lock()
	p.want = want
	if p.kick == nil {
		p.kick = make(chan struct{}, 1)
	}
	kick := p.kick
	p.mu.Unlock()
	select {
	case kick <- struct{}{}:
	default:
	}
}

func (p *podCost) patch(ctx context.Context, cost string) error {
	body := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, PodDeletionCostAnnotation, cost)
	_, err := p.do(ctx, http.MethodPatch, []byte(body), 512)
	return err
}

// do sends one request about this pod to the Kubernetes API with the
// service account's token, within the patch timeout, and returns up to
// limit bytes of the answer's body.
func (p *podCost) do(ctx context.Context, method string, body []byte, limit int64) ([]byte, error) {
	tok, err := p.token()
	if err != nil {
		return nil, fmt.Errorf("service account token: %w", err)
	}
	timeout := p.timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := fmt.Sprintf("%s/api/v1/namespaces/%s/pods/%s", p.base, p.namespace, p.pod)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/merge-patch+json")
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	msg, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("%s pod %s/%s: %s %s", strings.ToLower(method), p.namespace, p.pod, resp.Status, bytes.TrimSpace(msg[:min(len(msg), 512)]))
	}
	return msg, err
}

// disruptionTarget is the pod condition Kubernetes sets on a pod that is
// about to be deleted by a disruption: its reason says which, among them
// TerminationByKubelet (the node is shutting down gracefully, as a GKE
// spot VM does on its preemption notice), PreemptionByScheduler,
// DeletionByTaintManager and EvictionByEvictionAPI
// (https://kubernetes.io/docs/concepts/workloads/pods/disruptions/#pod-disruption-conditions).
const disruptionTarget = "DisruptionTarget"

// disrupted reads this pod (get on pods, which the GPU worker's Role
// grants) and reports whether it has the DisruptionTarget condition, with
// the condition's reason.
func (p *podCost) disrupted(ctx context.Context) (bool, string, error) {
	data, err := p.do(ctx, http.MethodGet, nil, 1<<20)
	if err != nil {
		return false, "", err
	}
	var pod struct {
		Status struct {
			Conditions []struct {
				Type   string `json:"type"`
				Status string `json:"status"`
				Reason string `json:"reason"`
			} `json:"conditions"`
		} `json:"status"`
	}
	if err := json.Unmarshal(data, &pod); err != nil {
		return false, "", fmt.Errorf("read pod %s/%s: %w", p.namespace, p.pod, err)
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == disruptionTarget && c.Status == "True" {
			return true, c.Reason, nil
		}
	}
	return false, "", nil
}

// preemptionCheck is how long a stopping GPU worker waits for the
// Kubernetes API to say whether its pod is being disrupted: a few seconds
// of a spot node's shutdown period.
const preemptionCheck = 3 * time.Second

// watchPreemption waits for stop (the worker's SIGTERM), then asks the
// Kubernetes API once whether this pod is being disrupted, and if it is,
// closes preempted: the running model calls are killed at once and
// reported as interruptions, instead of draining for a stop timeout the
// node will not give. Any other stop (a scale-in, a deploy, an API that
// does not answer) drains as before.
func (p *podCost) watchPreemption(stop <-chan struct{}, preempted chan<- struct{}) {
	<-stop
	// The worker's context has ended: the check has a deadline of its own.
	ctx, cancel := context.WithTimeout(context.Background(), preemptionCheck)
	defer cancel()
	ok, reason, err := p.disrupted(ctx)
	switch {
	case err != nil:
		p.log.Warn("stopping: could not read the pod's disruption condition; draining", "error", err)
	case ok:
		p.log.Warn("stopping: the pod is being disrupted; killing running model calls now", "reason", reason)
		close(preempted)
	default:
		p.log.Info("stopping: no disruption condition on the pod; draining")
	}
}
