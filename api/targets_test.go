package api

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/omtx"
	"github.com/omtx-hub/omtx-hub/target"
)

// kinase is the README's worked example: a kinase with Mg²⁺, its own
// A3M, and a pocket for the screened ligand (chain L).
const kinaseSeq = "MGSSHHHHHHSSGLVPRGSHMSKLTQLGRGTFGSVYKA"

var kinaseA3M = ">query\n" + kinaseSeq + "\n>hit1\n" + strings.Replace(kinaseSeq, "MGSS", "MGAS", 1) + "\n"

func kinaseTarget(withFile bool) map[string]any {
	msa := map[string]any{"mode": "server"}
	if withFile {
		msa = map[string]any{"mode": "file", "file": "kinase.a3m"}
	}
	return map[string]any{
		"chains":  []any{map[string]any{"type": "protein", "id": "A", "sequence": kinaseSeq, "msa": msa}},
		"ligands": []any{map[string]any{"id": "M", "ccd": "MG"}},
		"constraints": []any{map[string]any{"pocket": map[string]any{
			"binder": "L", "contacts": []any{[]any{"A", 22}, []any{"A", 31}}, "max_distance": 5,
		}}},
		"ligand_chain": "L",
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// specValidator validates responses against api/openapi.yaml, as the
// integration suite's specChecker does, for the unit tests here.
type specValidator struct {
	router routers.Router
}

var (
	specOnce sync.Once
	specV    *specValidator
	specErr  error
)

func loadValidator(t *testing.T) *specValidator {
	t.Helper()
	specOnce.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(OpenAPI)
		if err != nil {
			specErr = err
			return
		}
		doc.Servers = nil
		r, err := gorillamux.NewRouter(doc)
		if err != nil {
			specErr = err
			return
		}
		specV = &specValidator{router: r}
	})
	require.NoError(t, specErr)
	return specV
}

// call sends a request and validates its response against the spec.
func (f *fixture) call(t *testing.T, method, path, key, contentType string, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	w := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(w, req)

	v := loadValidator(t)
	vreq := httptest.NewRequest(method, "http://api.test"+path, nil)
	route, params, err := v.router.FindRoute(vreq)
	require.NoError(t, err, "%s %s has an operation in the spec", method, path)
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route},
		Status:                 w.Code,
		Header:                 w.Header(),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(w.Body.Bytes())
	assert.NoError(t, openapi3filter.ValidateResponse(context.Background(), in),
		"%s %s → %d does not match the spec; body: %.600s", method, path, w.Code, w.Body.String())
	return w
}

func (f *fixture) callJSON(t *testing.T, method, path, key string, body any) *httptest.ResponseRecorder {
	t.Helper()
	var raw []byte
	ct := ""
	if body != nil {
		raw = []byte(mustJSON(t, body))
		ct = "application/json"
	}
	return f.call(t, method, path, key, ct, raw)
}

// wantRefusal checks a refusal's status and the field it names.
func wantRefusal(t *testing.T, w *httptest.ResponseRecorder, code int, field string) {
	t.Helper()
	require.Equal(t, code, w.Code, w.Body.String())
	var e ErrorBody
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
	assert.Equal(t, field, e.Error.Field, w.Body.String())
	assert.NotEmpty(t, e.Error.Message)
}

func createKinase(t *testing.T, f *fixture) TargetResponse {
	t.Helper()
	w := f.callJSON(t, "POST", "/api/v1/targets", key1, map[string]any{
		"name": "kinase + Mg", "target": kinaseTarget(true), "files": map[string]string{"kinase.a3m": kinaseA3M},
	})
	require.Contains(t, []int{http.StatusCreated, http.StatusOK}, w.Code, w.Body.String())
	var tr TargetResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &tr))
	return tr
}

func TestCreateTargetJSONIsContentAddressed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	first := createKinase(t, f)
	assert.Regexp(t, `^tgt_[0-9a-f]{16}$`, first.TargetID)
	assert.False(t, first.Duplicate)
	assert.Equal(t, "u1", first.UserID)
	assert.Equal(t, "kinase + Mg", first.Name)
	assert.Equal(t, len(kinaseSeq)+1, first.Tokens, "residues and Mg's one heavy atom")
	require.Len(t, first.Chains, 1)
	assert.Equal(t, target.MSAFile, first.Chains[0].MSAMode)
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, first.Chains[0].MSADigest)
	assert.Equal(t, []string{"pocket"}, first.Constraints)
	assert.Equal(t, 1, first.Ligands[0].HeavyAtoms)

	again := createKinase(t, f)
	assert.True(t, again.Duplicate)
	assert.Equal(t, first.TargetID, again.TargetID)
	assert.Equal(t, 1, f.targets.Len())

	// The immutable target and its file are stored.
	obj, err := f.blobs.Get(context.Background(), omtx.TargetObject(first.TargetID))
	require.NoError(t, err)
	var stored target.Target
	require.NoError(t, json.Unmarshal(obj.Data, &stored))
	assert.Equal(t, "L", stored.LigandChain)
	a3m, err := f.blobs.Get(context.Background(), omtx.TargetFile(first.TargetID, "kinase.a3m"))
	require.NoError(t, err)
	assert.Equal(t, kinaseA3M, string(a3m.Data))

	// Another user's same content is another target.
	w := f.callJSON(t, "POST", "/api/v1/targets", key2, map[string]any{
		"target": kinaseTarget(true), "files": map[string]string{"kinase.a3m": kinaseA3M},
	})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var other TargetResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &other))
	assert.NotEqual(t, first.TargetID, other.TargetID)
}

func TestCreateTargetRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	withChain := func(mut func(ch map[string]any)) map[string]any {
		tg := kinaseTarget(false)
		mut(tg["chains"].([]any)[0].(map[string]any))
		return tg
	}
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no target", map[string]any{"name": "x"}, "target"},
		{"unknown field", map[string]any{"target": withChain(func(ch map[string]any) { ch["colour"] = "red" })}, "target.chains[0].colour"},
		{"unknown field deep inside", map[string]any{"target": func() map[string]any {
			tg := kinaseTarget(false)
			tg["constraints"].([]any)[0].(map[string]any)["pocket"].(map[string]any)["radius"] = 3
			return tg
		}()}, "target.constraints[0].pocket.radius"},
		{"bad residue", map[string]any{"target": withChain(func(ch map[string]any) { ch["sequence"] = "MKT1AY" })}, "target.chains[0].sequence"},
		{"file not sent", map[string]any{"target": kinaseTarget(true)}, "target.chains[0].msa.file"},
		{"file sent but not named", map[string]any{"target": kinaseTarget(false), "files": map[string]string{"extra.a3m": kinaseA3M}}, "files.extra.a3m"},
		{"A3M of another protein", map[string]any{"target": kinaseTarget(true), "files": map[string]string{"kinase.a3m": ">q\nMKTAYIAKQR\n"}}, "target.chains[0].msa.file"},
		{"too many copies", map[string]any{"target": withChain(func(ch map[string]any) {
			ch["id"] = []string{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "N", "O"}
		})}, "target.chains[0].id"},
		{"pocket on an unknown chain", map[string]any{"target": func() map[string]any {
			tg := kinaseTarget(false)
			tg["constraints"].([]any)[0].(map[string]any)["pocket"].(map[string]any)["binder"] = "Q"
			return tg
		}()}, "target.constraints[0].pocket.binder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := f.callJSON(t, "POST", "/api/v1/targets", key1, tc.body)
			wantRefusal(t, w, http.StatusUnprocessableEntity, tc.field)
		})
	}
	assert.Equal(t, 0, f.targets.Len(), "no refused target was stored")
}

func TestCreateTargetFromBoltzYAML(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	yml, err := os.ReadFile("../target/testdata/boltz-examples/prot_no_msa.yaml")
	require.NoError(t, err)
	w := f.call(t, "POST", "/api/v1/targets?name=prot", key1, "application/yaml", yml)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var tr TargetResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &tr))
	assert.Equal(t, "prot", tr.Name)
	assert.Equal(t, target.MSAEmpty, tr.Chains[0].MSAMode)

	// Back out as Boltz YAML: the same target.
	w = f.call(t, "GET", "/api/v1/targets/"+tr.TargetID+"/boltz.yaml", key1, "", nil)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, "application/yaml", w.Header().Get("Content-Type"))
	back, err := target.ParseYAML(w.Body.Bytes(), target.ParseOptions{})
	require.NoError(t, err)
	orig, err := target.ParseYAML(yml, target.ParseOptions{})
	require.NoError(t, err)
	assert.Equal(t, orig, back)

	// A YAML Boltz would refuse: the field as the YAML spells it.
	w = f.call(t, "POST", "/api/v1/targets", key1, "application/yaml", []byte("version: 1\nsequences:\n  - protein:\n      id: A\n      sequence: MKT1\n"))
	wantRefusal(t, w, http.StatusUnprocessableEntity, "sequences[0].protein.sequence")
}

// multipartTarget builds a form with the YAML and files.
func multipartTarget(t *testing.T, yml []byte, files map[string][]byte, fields map[string]string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	p, err := mw.CreateFormFile("yaml", "complex.yaml")
	require.NoError(t, err)
	_, _ = p.Write(yml)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	for n, d := range files {
		p, err := mw.CreateFormFile("file", n)
		require.NoError(t, err)
		_, _ = p.Write(d)
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), buf.Bytes()
}

func TestCreateTargetMultipartWithA3M(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	yml, err := os.ReadFile("../target/testdata/boltz-examples/ligand.yaml")
	require.NoError(t, err)
	a3m, err := os.ReadFile("../target/testdata/boltz-examples/msa/seq1.a3m")
	require.NoError(t, err)

	t.Run("the path to a file not sent is refused, naming it", func(t *testing.T) {
		ct, body := multipartTarget(t, yml, nil, nil)
		w := f.call(t, "POST", "/api/v1/targets", key1, ct, body)
		wantRefusal(t, w, http.StatusUnprocessableEntity, "sequences[0].protein.msa")
		assert.Contains(t, w.Body.String(), "seq1.a3m")
	})
	t.Run("with its A3M", func(t *testing.T) {
		ct, body := multipartTarget(t, yml, map[string][]byte{"seq1.a3m": a3m}, map[string]string{"name": "boltz ligand example"})
		w := f.call(t, "POST", "/api/v1/targets", key1, ct, body)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		var tr TargetResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &tr))
		assert.Equal(t, []string{"A", "B"}, tr.Chains[0].IDs)
		assert.Equal(t, target.MSAFile, tr.Chains[0].MSAMode)
		assert.NotEmpty(t, tr.Chains[0].MSADigest)
		assert.Equal(t, []string{"seq1.a3m"}, tr.Files)
		assert.Equal(t, "G", tr.LigandChain, "the first letter the file does not use")
		// SAH (26 heavy atoms) and tyrosine (13), two copies each.
		assert.Equal(t, 2*len(tr.Target.Chains[0].Sequence)+2*26+2*13, tr.Tokens)
	})
}

func TestTargetReadListDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tr := createKinase(t, f)
	path := "/api/v1/targets/" + tr.TargetID

	w := f.call(t, "GET", path, key1, "", nil)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var got TargetResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &got))
	require.NotNil(t, got.Target)
	assert.Equal(t, kinaseSeq, got.Target.Chains[0].Sequence)

	wantRefusal(t, f.call(t, "GET", path, key2, "", nil), http.StatusNotFound, "target_id")
	wantRefusal(t, f.call(t, "GET", "/api/v1/targets/tgt_nothex", key1, "", nil), http.StatusNotFound, "target_id")
	wantRefusal(t, f.call(t, "DELETE", path, key2, "", nil), http.StatusNotFound, "target_id")

	// The pocket names the screened ligand: Boltz needs it in the file.
	wantRefusal(t, f.call(t, "GET", path+"/boltz.yaml", key1, "", nil), http.StatusUnprocessableEntity, "ligand_smiles")
	w = f.call(t, "GET", path+"/boltz.yaml?ligand_smiles=CCO", key1, "", nil)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), "binder: L")
	assert.Contains(t, w.Body.String(), `msa: "kinase.a3m"`)

	// A second target, then pages of one.
	w = f.callJSON(t, "POST", "/api/v1/targets", key1, map[string]any{"target": target.OneChain(kinaseSeq, target.MSAEmpty)})
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	var ids []string
	next := ""
	for range 3 {
		w = f.call(t, "GET", "/api/v1/targets?page_size=1&page_token="+next, key1, "", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var page TargetList
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &page))
		for _, r := range page.Targets {
			ids = append(ids, r.TargetID)
		}
		if next = page.NextPageToken; next == "" {
			break
		}
	}
	assert.Len(t, ids, 2)
	assert.Contains(t, ids, tr.TargetID)
	w = f.call(t, "GET", "/api/v1/targets", key2, "", nil)
	assert.JSONEq(t, `{"targets":[]}`, w.Body.String())
	wantRefusal(t, f.call(t, "GET", "/api/v1/targets?page_token=bogus", key1, "", nil), http.StatusUnprocessableEntity, "page_token")

	w = f.call(t, "DELETE", path, key1, "", nil)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	wantRefusal(t, f.call(t, "GET", path, key1, "", nil), http.StatusNotFound, "target_id")
	ok, err := f.blobs.Exists(context.Background(), omtx.TargetObject(tr.TargetID))
	require.NoError(t, err)
	assert.True(t, ok, "the immutable target stays for jobs that name it")
}

func TestPredictOnATarget(t *testing.T) {
	t.Parallel()
	f := boltzFixture(t)
	tr := createKinase(t, f)
	const smiles = "CC(=O)Nc1ccc(O)cc1" // 11 heavy atoms

	w := f.callJSON(t, "POST", "/api/v1/predict", key1, map[string]any{"model": "boltz2", "target_id": tr.TargetID, "ligand_smiles": smiles})
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	var sub SubmitResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &sub))
	assert.Equal(t, tr.TargetID, sub.TargetID)
	ins := f.sched.predictions()
	require.Len(t, ins, 1)
	job := ins[0].Job
	assert.Equal(t, tr.TargetID, job.InputData.TargetID)
	assert.Equal(t, tr.Hash, job.InputData.TargetHash)
	assert.Equal(t, kinaseSeq, job.InputData.ProteinSequence)
	assert.Equal(t, tr.Tokens+11, job.Tokens, "the complex's tokens and the ligand's heavy atoms")

	t.Run("another user's target is a 404", func(t *testing.T) {
		w := f.callJSON(t, "POST", "/api/v1/predict", key2, map[string]any{"model": "boltz2", "target_id": tr.TargetID, "ligand_smiles": smiles})
		wantRefusal(t, w, http.StatusNotFound, "target_id")
	})
	t.Run("one of protein_sequence, target_id and target", func(t *testing.T) {
		w := f.callJSON(t, "POST", "/api/v1/predict", key1, map[string]any{"model": "boltz2", "target_id": tr.TargetID, "protein_sequence": kinaseSeq, "ligand_smiles": smiles})
		wantRefusal(t, w, http.StatusUnprocessableEntity, "target_id")
		w = f.callJSON(t, "POST", "/api/v1/predict", key1, map[string]any{"model": "boltz2", "ligand_smiles": smiles})
		wantRefusal(t, w, http.StatusUnprocessableEntity, "protein_sequence")
	})
	t.Run("an inline target is stored first", func(t *testing.T) {
		before := f.targets.Len()
		w := f.callJSON(t, "POST", "/api/v1/predict", key1, map[string]any{"model": "boltz2", "target": target.OneChain(kinaseSeq+"K", target.MSAServer), "ligand_smiles": smiles})
		require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
		assert.Equal(t, before+1, f.targets.Len())
	})
	t.Run("an inline target's refusal names its field", func(t *testing.T) {
		tg := kinaseTarget(true) // names a file, which cannot come inline
		w := f.callJSON(t, "POST", "/api/v1/predict", key1, map[string]any{"model": "boltz2", "target": tg, "ligand_smiles": smiles})
		wantRefusal(t, w, http.StatusUnprocessableEntity, "target.chains[0].msa.file")
	})
	t.Run("a metal complex screened on a target is refused before any record", func(t *testing.T) {
		jobs, started := f.jobs.Len(), len(f.sched.batches())
		w := f.callJSON(t, "POST", "/api/v1/predict/batch", key1, map[string]any{
			"model": "boltz2", "target_id": tr.TargetID,
			"ligands": []any{map[string]any{"name": "cisplatin", "smiles": "N->[Pt](<-N)(Cl)Cl"}, map[string]any{"name": "ok", "smiles": smiles}},
		})
		wantRefusal(t, w, http.StatusUnprocessableEntity, "ligands")
		assert.Equal(t, jobs, f.jobs.Len())
		assert.Len(t, f.sched.batches(), started)
	})
}

func TestScreenOnATarget(t *testing.T) {
	t.Parallel()
	f := boltzFixture(t)
	tr := createKinase(t, f)
	w := f.callJSON(t, "POST", "/api/v1/predict/batch", key1, map[string]any{
		"model": "boltz2", "target_id": tr.TargetID,
		"ligands": []any{map[string]any{"name": "a", "smiles": "CCO"}, map[string]any{"name": "b", "smiles": "c1ccccc1CCCCCC"}},
	})
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
	var sub BatchSubmitResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &sub))
	assert.Equal(t, tr.TargetID, sub.TargetID)
	ins := f.sched.batches()
	require.Len(t, ins, 1)
	parent := ins[0].Parent
	assert.Equal(t, tr.TargetID, parent.InputData.TargetID)
	assert.Equal(t, tr.Tokens+12, parent.Tokens, "the complex and the largest ligand")
}

func TestBaselineRefusesWhatItCannotModel(t *testing.T) {
	t.Parallel()
	f := newFixture(t) // boltz2 is served by the baseline here
	tr := createKinase(t, f)
	for _, path := range []string{"/api/v1/predict", "/api/v1/predict/batch"} {
		t.Run(path, func(t *testing.T) {
			body := map[string]any{"model": "boltz2", "target_id": tr.TargetID, "ligand_smiles": "CCO"}
			if strings.HasSuffix(path, "batch") {
				delete(body, "ligand_smiles")
				body["ligands"] = []any{map[string]any{"smiles": "CCO"}}
			}
			w := f.callJSON(t, "POST", path, key1, body)
			wantRefusal(t, w, http.StatusUnprocessableEntity, "target.ligands[0]")
			assert.Contains(t, w.Body.String(), omtx.BaselineModel)
		})
	}
	assert.Equal(t, 0, f.jobs.Len())
	// A one-chain target is what the baseline models.
	w := f.callJSON(t, "POST", "/api/v1/predict", key1, map[string]any{
		"model": "boltz2", "target": target.OneChain(kinaseSeq, target.MSAServer), "ligand_smiles": "CCO",
	})
	require.Equal(t, http.StatusAccepted, w.Code, w.Body.String())
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	t.Run("predict on a target renders the job's YAML and creates nothing", func(t *testing.T) {
		t.Parallel()
		f := boltzFixture(t)
		inline := kinaseTarget(false)
		w := f.callJSON(t, "POST", "/api/v1/predict?dry_run=true", key1, map[string]any{"model": "boltz2", "target": inline, "ligand_smiles": "CCO"})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var d DryRunResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &d))
		assert.True(t, d.DryRun)
		assert.False(t, d.Substituted)
		assert.Equal(t, omtx.ModelBoltz2, d.Model)
		assert.Equal(t, len(kinaseSeq)+1+3, d.Tokens)
		assert.NotEmpty(t, d.GPUClass)
		assert.Regexp(t, `^tgt_`, d.TargetID)
		back, smiles, err := target.ParseJobYAML([]byte(d.BoltzYAML), target.ParseOptions{})
		require.NoError(t, err, d.BoltzYAML)
		assert.Equal(t, "CCO", smiles)
		assert.Equal(t, "L", back.LigandChain)
		assert.Contains(t, d.BoltzYAML, `msa: "msa/A.a3m"`)
		assert.Equal(t, 0, f.targets.Len(), "an inline target is not stored on a dry run")
		assert.Equal(t, 0, f.jobs.Len())
		assert.Empty(t, f.sched.predictions())
	})
	t.Run("the seed's shape renders as one chain", func(t *testing.T) {
		t.Parallel()
		f := boltzFixture(t)
		w := f.callJSON(t, "POST", "/api/v1/predict?dry_run=1", key1, map[string]any{"model": "boltz2", "protein_sequence": kinaseSeq, "ligand_smiles": "CCO"})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var d DryRunResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &d))
		assert.Contains(t, d.BoltzYAML, "msa: empty")
		assert.Empty(t, d.TargetID)
	})
	t.Run("a batch on the baseline says so and shows Boltz-2's YAML", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		w := f.callJSON(t, "POST", "/api/v1/predict/batch?dry_run=true", key1, map[string]any{
			"model": "boltz2", "target": target.OneChain(kinaseSeq, target.MSAServer),
			"ligands": []any{map[string]any{"smiles": "C1CC"}, map[string]any{"smiles": "CCN"}}, "skip_invalid": true,
		})
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		var d DryRunResponse
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &d))
		assert.True(t, d.Substituted)
		assert.Equal(t, omtx.BaselineModel, d.Model)
		assert.Equal(t, baselineDryRunNote, d.Warnings[0])
		assert.Contains(t, d.BoltzYAML, `smiles: "CCN"`, "the first valid ligand")
		assert.Equal(t, 0, f.jobs.Len())
		assert.Equal(t, 0, f.targets.Len())
	})
	t.Run("dry_run must be a boolean", func(t *testing.T) {
		t.Parallel()
		f := boltzFixture(t)
		w := f.callJSON(t, "POST", "/api/v1/predict?dry_run=maybe", key1, map[string]any{"model": "boltz2", "protein_sequence": kinaseSeq, "ligand_smiles": "CCO"})
		wantRefusal(t, w, http.StatusUnprocessableEntity, "dry_run")
	})
}

func TestEstimateOnATargetCountsTheComplex(t *testing.T) {
	t.Parallel()
	f := boltzFixture(t)
	f.srv.runtimes = map[string]Runtime{omtx.ModelBoltz2 + "@" + omtx.GPUClassL4: {SecondsPerLigand: 10, LoadSeconds: 30}}
	tr := createKinase(t, f)
	w := f.callJSON(t, "POST", "/api/v1/estimate", key1, map[string]any{"model": "boltz2", "target_id": tr.TargetID, "ligand_smiles": "CCO"})
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	var e EstimateResponse
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e))
	assert.Equal(t, tr.Tokens+3, e.Tokens)
	wantRefusal(t, f.callJSON(t, "POST", "/api/v1/estimate", key2, map[string]any{"model": "boltz2", "target_id": tr.TargetID, "num_ligands": 5}),
		http.StatusNotFound, "target_id")
}
