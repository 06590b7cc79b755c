package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/omtx-hub/omtx-hub/contract"
	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/webhook"
)

// Notifier sends completion webhooks.
type Notifier struct {
	Sender *webhook.Sender
	// Secret returns the signing secret of the API key keyID.
	Secret func(keyID string) ([]byte, bool)
	// BaseURL is the API's public address, for links in the body.
	BaseURL string
}

// notification is the JSON body of a completion webhook.
type notification struct {
	Event     string              `json:"event"`
	ID        string              `json:"id"`
	JobType   omtx.JobType        `json:"job_type"`
	Status    omtx.JobStatus      `json:"status"`
	EndedAt   time.Time           `json:"ended_at"`
	Error     string              `json:"error,omitempty"`
	URL       string              `json:"url"`
	Progress  *omtx.Progress      `json:"progress,omitempty"`
	Best      *omtx.RankedLigand  `json:"best,omitempty"`
	Results   *notificationResult `json:"results,omitempty"`
	Delivered time.Time           `json:"sent_at"`
}

type notificationResult struct {
	Model                     string  `json:"model"`
	AffinityPredValue         float64 `json:"affinity_pred_value"`
	AffinityPredValueUnits    string  `json:"affinity_pred_value_units"`
	PIC50                     float64 `json:"pic50"`
	DeltaGKcalMol             float64 `json:"delta_g_kcal_mol"`
	AffinityProbabilityBinary float64 `json:"affinity_probability_binary"`
	Confidence                float64 `json:"confidence"`
}

// Event names the event of a job or batch that ended with status:
// "job.completed", "batch.cancelled", ...
func Event(t omtx.JobType, s omtx.JobStatus) string {
	kind := "job"
	if t == omtx.JobTypeBatchParent {
		kind = "batch"
	}
	return kind + "." + string(s)
}

// Notify posts one completion webhook. Network errors, 5xx, 408 and 429
// are retried by the caller's retry policy (for up to a day); a refused
// destination or another 4xx ends it at once. Its failure never touches
// the job, which is final before it runs.
func (o *Orchestration) Notify(ctx context.Context, in contract.NotifyInput) (contract.NotifyResult, error) {
	info := activity.GetInfo(ctx)
	out := contract.NotifyResult{Attempts: info.Attempt}
	if o.Notifier == nil || o.Notifier.Sender == nil {
		out.Error = "this deployment sends no webhooks"
		return out, nil
	}
	secret, ok := o.Notifier.Secret(in.KeyID)
	if !ok {
		out.Error = "the API key that submitted this work has no webhook secret any more"
		return out, contract.NonRetryable(contract.ErrTypePermanent, out.Error, nil)
	}
	kind := "jobs"
	if in.JobType == omtx.JobTypeBatchParent {
		kind = "batches"
	}
	n := notification{
		Event: Event(in.JobType, in.Status), ID: in.JobID, JobType: in.JobType, Status: in.Status,
		EndedAt: in.EndedAt, Error: in.Error, Progress: in.Progress, Best: in.Best,
		URL: strings.TrimSuffix(o.Notifier.BaseURL, "/") + "/api/v1/" + kind + "/" + in.JobID, Delivered: o.now(),
	}
	if r := in.Results; r != nil {
		n.Results = &notificationResult{
			Model: r.Model, AffinityPredValue: r.AffinityPredValue, AffinityPredValueUnits: omtx.UnitsLog10IC50uM,
			PIC50: r.PIC50, DeltaGKcalMol: r.DeltaGKcalMol, AffinityProbabilityBinary: r.AffinityProbabilityBinary,
			Confidence: r.Confidence,
		}
	}
	body, err := json.Marshal(n)
	if err != nil {
		return out, fmt.Errorf("encode notification: %w", err)
	}
	res, err := o.Notifier.Sender.Send(ctx, in.URL, n.Event, secret, body, o.now())
	out.StatusCode = res.StatusCode
	log := logFor(ctx, o.Logger, "job_id", in.JobID)
	if err != nil {
		out.Error = err.Error()
		log.Warn("webhook not delivered", "status_code", res.StatusCode, "error", err, "permanent", res.Permanent)
		if res.Permanent {
			return out, contract.NonRetryable(contract.ErrTypePermanent, err.Error(), nil)
		}
		return out, err
	}
	out.Delivered = true
	log.Info("webhook delivered", "status_code", res.StatusCode)
	return out, nil
}
