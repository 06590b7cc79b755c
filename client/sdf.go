package client

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// SDF is an SD file of a batch's ligands, as the API wrote it.
type SDF struct {
	Data []byte
	// Records is how many records Data holds; Skipped how many of the
	// ranked ligands asked for have none (poses: no structure, or a pose
	// that does not fit the modelled molecule).
	Records, Skipped int
}

// BatchSDF reads a batch's ranked ligands as an SD file, best first:
// results.sdf (the modelled molecules, no coordinates) or, with poses,
// poses.sdf (the predicted poses where a structure exists). Each record's
// data fields are its batch_results.csv row. o ranks as BatchResults does
// (its Offset and PageSize are not used); top > 0 keeps that many ranked
// ligands, else the API's default (every one for results.sdf, 100 for
// poses.sdf).
func (c *Client) BatchSDF(ctx context.Context, batchID string, poses bool, o ResultsOptions, top int) (*SDF, error) {
	o.Offset, o.PageSize = 0, 0
	q := o.values()
	if top > 0 {
		q.Set("top", strconv.Itoa(top))
	}
	name := "/results.sdf"
	if poses {
		name = "/poses.sdf"
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/batches/" + url.PathEscape(batchID) + name, query: q, auth: true})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := &SDF{Data: data}
	out.Records, _ = strconv.Atoi(resp.Header.Get("X-Omtx-Records"))
	out.Skipped, _ = strconv.Atoi(resp.Header.Get("X-Omtx-Skipped"))
	return out, nil
}
