package client

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
)

// CreateTarget creates a target from its JSON shape, with the files it
// names (A3M, mmCIF, PDB) by name. The same target created again answers
// the first, with Duplicate set.
func (c *Client) CreateTarget(ctx context.Context, name string, t *Target, files map[string][]byte) (*TargetResponse, error) {
	body := struct {
		Name   string            `json:"name,omitempty"`
		Target *Target           `json:"target"`
		Files  map[string]string `json:"files,omitempty"`
	}{Name: name, Target: t}
	if len(files) > 0 {
		body.Files = map[string]string{}
		for n, d := range files {
			body.Files[n] = string(d)
		}
	}
	req, err := jsonRequest(http.MethodPost, "/api/v1/targets", body)
	if err != nil {
		return nil, err
	}
	var out TargetResponse
	if _, err := c.doJSON(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ImportTarget creates a target from a Boltz input YAML and the files
// its paths name, sent as a multipart form (files matched by name).
func (c *Client) ImportTarget(ctx context.Context, in TargetImport) (*TargetResponse, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range [][2]string{{"name", in.Name}, {"ligand_chain", in.LigandChain}} {
		if f[1] != "" {
			if err := w.WriteField(f[0], f[1]); err != nil {
				return nil, err
			}
		}
	}
	fw, err := w.CreateFormFile("yaml", "target.yaml")
	if err != nil {
		return nil, err
	}
	if _, err := fw.Write(in.YAML); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(in.Files))
	for n := range in.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fw, err := w.CreateFormFile("file", n)
		if err != nil {
			return nil, err
		}
		if _, err := fw.Write(in.Files[n]); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	req := request{method: http.MethodPost, path: "/api/v1/targets", body: buf.Bytes(), contentType: w.FormDataContentType(), auth: true}
	var out TargetResponse
	if _, err := c.doJSON(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Target reads one of the caller's targets.
func (c *Client) Target(ctx context.Context, targetID string) (*TargetResponse, error) {
	var out TargetResponse
	_, err := c.doJSON(ctx, request{method: http.MethodGet, path: "/api/v1/targets/" + url.PathEscape(targetID), auth: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Targets lists the caller's targets, newest first.
func (c *Client) Targets(ctx context.Context, o ListOptions) (*TargetList, error) {
	var out TargetList
	_, err := c.doJSON(ctx, request{method: http.MethodGet, path: "/api/v1/targets", query: o.values(), auth: true}, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteTarget deletes a target's document; jobs already running on it
// finish.
func (c *Client) DeleteTarget(ctx context.Context, targetID string) error {
	_, err := c.doJSON(ctx, request{method: http.MethodDelete, path: "/api/v1/targets/" + url.PathEscape(targetID), auth: true}, nil)
	return err
}

// TargetYAML returns a target as a Boltz input YAML; ligandSMILES, when
// set, is added as the screened ligand and affinity binder (needed when
// the target's constraints name it).
func (c *Client) TargetYAML(ctx context.Context, targetID, ligandSMILES string) ([]byte, error) {
	q := url.Values{}
	if ligandSMILES != "" {
		q.Set("ligand_smiles", ligandSMILES)
	}
	resp, err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/targets/" + url.PathEscape(targetID) + "/boltz.yaml", query: q, auth: true})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DryRunPredict validates a prediction and returns what would run,
// creating nothing.
func (c *Client) DryRunPredict(ctx context.Context, in PredictRequest) (*DryRunResponse, error) {
	return c.dryRun(ctx, "/api/v1/predict", in)
}

// DryRunBatch validates a batch and returns what would run for its
// first valid ligand, creating nothing.
func (c *Client) DryRunBatch(ctx context.Context, in BatchRequest) (*DryRunResponse, error) {
	return c.dryRun(ctx, "/api/v1/predict/batch", in)
}

func (c *Client) dryRun(ctx context.Context, path string, in any) (*DryRunResponse, error) {
	req, err := jsonRequest(http.MethodPost, path, in)
	if err != nil {
		return nil, err
	}
	req.query = url.Values{"dry_run": {"true"}}
	var out DryRunResponse
	if _, err := c.doJSON(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
