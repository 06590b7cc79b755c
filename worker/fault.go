package worker

import (
	"context"
	"time"

	"github.com/omtx-hub/omtx-hub/activities"
	"github.com/omtx-hub/omtx-hub/omtx"
)

// delayed sleeps before predicting: fault injection for crash tests, which
// need a prediction that is still running when they kill the worker.
type delayed struct {
	activities.Predictor
	d time.Duration
}

func (p delayed) Predict(ctx context.Context, req omtx.PredictRequest) ([]omtx.Prediction, error) {
	select {
	case <-time.After(p.d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return p.Predictor.Predict(ctx, req)
}
