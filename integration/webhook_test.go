package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/api"
	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/webhook"
	"github.com/omtx-hub/omtx-hub/worker"
)

// receiver is a webhook receiver on loopback that keeps what it gets.
type receiver struct {
	*httptest.Server
	mu    sync.Mutex
	calls []delivery
}

type delivery struct {
	event, signature string
	body             []byte
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.calls = append(r.calls, delivery{event: req.Header.Get(webhook.EventHeader), signature: req.Header.Get(webhook.SignatureHeader), body: body})
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) got() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.calls...)
}

// loopbackOnly fails the test on any dial off this machine: whatever the
// guard does, no test sends traffic anywhere else.
func loopbackOnly(t *testing.T) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil || !ap.Addr().IsLoopback() {
			t.Errorf("the webhook sender dialed %s, which is not loopback", addr)
			return nil, errors.New("refused: not loopback")
		}
		return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
	}
}

// TestWebhooks: a batch and a single prediction with a notify_url each
// send one signed POST when they end; the signature verifies with the
// secret the API gives the key; destinations that are not public https
// are refused at submission, before any work.
func TestWebhooks(t *testing.T) {
	// The orchestration worker runs here, so its sender's dial can be
	// replaced by one that fails the test off loopback.
	env.orch.stop()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- worker.RunOrchestration(ctx, env.cfg, env.deps, env.log, worker.OrchestrationOptions{Dial: loopbackOnly(t)})
	}()
	defer func() {
		cancel()
		require.NoError(t, <-done)
		var err error
		env.orch, err = startProcess(env.orchBin, "omtx-worker.log")
		require.NoError(t, err)
	}()
	startGPUWorker(t)

	code, body := call(t, "GET", "/api/v1/webhook-secret", testKey, "")
	require.Equal(t, http.StatusOK, code, string(body))
	secret := []byte(decode[api.WebhookSecret](t, body).Secret)

	rcv := newReceiver(t)
	hook := rcv.URL + "/omtx"

	t.Run("refused destinations", func(t *testing.T) {
		for _, u := range []string{"http://hooks.example.org/x", "https://10.0.0.7/x", "https://169.254.169.254/latest", "https://[fd00::1]/x", "ftp://example.org/"} {
			b := fmt.Sprintf(`{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK","ligand_smiles":"CCO","notify_url":%q}`, u)
			code, resp := call(t, "POST", "/api/v1/predict", testKey, b)
			require.Equal(t, http.StatusUnprocessableEntity, code, "%s: %s", u, resp)
			assert.Equal(t, "notify_url", decode[errBody](t, resp).Error.Field, u)
		}
	})

	b := fmt.Sprintf(`{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK",`+
		`"ligands":[{"name":"a","smiles":"CCO"},{"name":"b","smiles":"CCN"},{"name":"c","smiles":"c1ccccc1O"}],"notify_url":%q}`, hook)
	code, resp := call(t, "POST", "/api/v1/predict/batch", testKey, b)
	require.Equal(t, http.StatusAccepted, code, string(resp))
	batchID := decode[api.BatchSubmitResponse](t, resp).BatchID
	j := fmt.Sprintf(`{"model":"boltz2","protein_sequence":"MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEK","ligand_smiles":"CCO","notify_url":%q}`, hook)
	code, resp = call(t, "POST", "/api/v1/predict", testKey, j)
	require.Equal(t, http.StatusAccepted, code, string(resp))
	jobID := decode[api.SubmitResponse](t, resp).JobID

	require.Eventually(t, func() bool { return len(rcv.got()) >= 2 }, 3*time.Minute, 200*time.Millisecond, "two webhooks")
	seen := map[string]map[string]any{}
	for _, d := range rcv.got() {
		require.NoError(t, webhook.Verify(secret, d.signature, d.body, time.Now()), "the signature verifies")
		var n map[string]any
		require.NoError(t, json.Unmarshal(d.body, &n))
		assert.Equal(t, d.event, n["event"])
		seen[n["id"].(string)] = n
	}
	require.Contains(t, seen, batchID)
	require.Contains(t, seen, jobID)
	assert.Equal(t, "batch.completed", seen[batchID]["event"])
	assert.Equal(t, "completed", seen[batchID]["status"])
	assert.EqualValues(t, 3, seen[batchID]["progress"].(map[string]any)["completed"])
	assert.NotNil(t, seen[batchID]["best"], "the batch's best ligand")
	assert.Equal(t, "job.completed", seen[jobID]["event"])
	assert.NotNil(t, seen[jobID]["results"])
	captureHistory(t, contract.NotifyWorkflowID(batchID), "")
	captureHistory(t, contract.BatchWorkflowID(batchID), "")
	time.Sleep(2 * time.Second)
	assert.Len(t, rcv.got(), 2, "one webhook per job or batch")
}

// errBody decodes an error response.
type errBody struct {
	Error struct {
		Code, Message, Field string
	} `json:"error"`
}
