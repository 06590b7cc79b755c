package app

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

func (p delayed) Predict(ctx context.Context, protein string, ligands []omtx.Ligand, params omtx.Parameters) ([]omtx.Prediction, error) {
	select {
	case <-time.After(p.d):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return p.Predictor.Predict(ctx, protein, ligands, params)
}
