package msatest_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/msa/msatest"
)

const seq = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ"

type ticket struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func post(t *testing.T, base, q, mode string, hdr ...string) (*http.Response, ticket) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/ticket/msa", strings.NewReader(url.Values{"q": {q}, "mode": {mode}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return send(t, req)
}

func get(t *testing.T, u string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func send(t *testing.T, req *http.Request) (*http.Response, ticket) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var tk ticket
	_ = json.Unmarshal(body, &tk)
	return resp, tk
}

// untar lists a tar.gz's files.
func untar(t *testing.T, tgz []byte) map[string]string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	require.NoError(t, err)
	tr := tar.NewReader(zr)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		b, err := io.ReadAll(tr)
		require.NoError(t, err)
		out[h.Name] = string(b)
	}
}

func TestServer(t *testing.T) {
	t.Parallel()

	t.Run("submit, poll, download", func(t *testing.T) {
		t.Parallel()
		s := msatest.New(t, msatest.Options{PendingPolls: 1})
		resp, tk := post(t, s.URL, ">101\n"+seq+"\n", "env")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "PENDING", tk.Status)
		require.NotEmpty(t, tk.ID)

		resp, _ = get(t, s.URL+"/result/download/"+tk.ID)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "not complete yet")

		for _, want := range []string{"RUNNING", "COMPLETE", "COMPLETE"} {
			resp, body := get(t, s.URL+"/ticket/"+tk.ID)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			var st ticket
			require.NoError(t, json.Unmarshal(body, &st))
			assert.Equal(t, want, st.Status)
		}
		resp, tgz := get(t, s.URL+"/result/download/"+tk.ID)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		files := untar(t, tgz)
		assert.Contains(t, files, "msa.sh")
		for name, hits := range map[string]int{msa.UnirefFile: msatest.UnirefHits, msa.EnvFile: msatest.EnvHits} {
			data, ok := files[name]
			require.True(t, ok, name)
			assert.True(t, strings.HasSuffix(data, "\x00"), "%s: entry ends with NUL", name)
			assert.True(t, strings.HasPrefix(data, ">101\n"+seq+"\n"), name)
			n, err := msa.ValidateA3M([]byte(strings.TrimSuffix(data, "\x00")), seq)
			require.NoError(t, err, name)
			assert.Equal(t, 1+hits, n, name)
			assert.Equal(t, hits, strings.Count(data, "synthetic test hit"), name)
		}
		assert.Equal(t, 1, s.Submissions())
		assert.Equal(t, 1, s.Downloads())
		assert.Equal(t, []string{seq}, s.Sequences())
	})

	t.Run("all mode has no env file", func(t *testing.T) {
		t.Parallel()
		tgz, err := msatest.ResultFor(seq, false)
		require.NoError(t, err)
		files := untar(t, tgz)
		assert.Contains(t, files, msa.UnirefFile)
		assert.NotContains(t, files, msa.EnvFile)
	})

	t.Run("deterministic", func(t *testing.T) {
		t.Parallel()
		a, err := msatest.ResultFor(seq, true)
		require.NoError(t, err)
		b, err := msatest.ResultFor(seq, true)
		require.NoError(t, err)
		assert.Equal(t, a, b)
		assert.Equal(t, msatest.Alignment("101", seq, "env", 4), msatest.Alignment("101", seq, "env", 4))
		assert.NotEqual(t, msatest.Alignment("101", seq, "env", 2), msatest.Alignment("101", seq, "uniref", 2))
	})

	t.Run("multi-query submission", func(t *testing.T) {
		t.Parallel()
		s := msatest.New(t, msatest.Options{})
		other := "GSHMSLFDFFKNKGSAAT"
		_, tk := post(t, s.URL, ">101\n"+seq+"\n>102\n"+other+"\n", "all")
		get(t, s.URL+"/ticket/"+tk.ID)
		resp, tgz := get(t, s.URL+"/result/download/"+tk.ID)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		uniref := untar(t, tgz)[msa.UnirefFile]
		entries := strings.Split(strings.TrimSuffix(uniref, "\x00"), "\x00")
		require.Len(t, entries, 2)
		_, err := msa.ValidateA3M([]byte(strings.Replace(entries[0], ">101", ">q", 1)), seq)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(entries[1], ">102\n"+other+"\n"))
		_, err = msa.ValidateA3M([]byte(entries[1]), other)
		require.NoError(t, err)
		assert.Equal(t, []string{seq, other}, s.Sequences())
	})

	t.Run("rejects malformed submissions", func(t *testing.T) {
		t.Parallel()
		s := msatest.New(t, msatest.Options{})
		for _, tc := range []struct{ q, mode string }{
			{"", "env"},
			{seq, "env"},
			{">101\n", "env"},
			{">101\nMKT*AY\n", "env"},
			{">101\n" + seq + "\n", ""},
		} {
			resp, _ := post(t, s.URL, tc.q, tc.mode)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%q %q", tc.q, tc.mode)
		}
		resp, _ := get(t, s.URL+"/ticket/nope")
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		resp, _ = get(t, s.URL+"/result/download/nope")
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.Equal(t, 0, s.Submissions())
	})

	t.Run("auth required on every endpoint", func(t *testing.T) {
		t.Parallel()
		s := msatest.New(t, msatest.Options{RequireAuth: "Authorization: Bearer xyz"})
		resp, _ := post(t, s.URL, ">101\n"+seq+"\n", "env")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		resp, _ = post(t, s.URL, ">101\n"+seq+"\n", "env", "Authorization", "Bearer wrong")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		resp, tk := post(t, s.URL, ">101\n"+seq+"\n", "env", "Authorization", "Bearer xyz", "User-Agent", "ua/1")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		resp, _ = get(t, s.URL+"/ticket/"+tk.ID)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		resp, _ = get(t, s.URL+"/ticket/"+tk.ID, "Authorization", "Bearer xyz")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		resp, _ = get(t, s.URL+"/result/download/"+tk.ID)
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		resp, _ = get(t, s.URL+"/result/download/"+tk.ID, "Authorization", "Bearer xyz")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, 1, s.Submissions())
		assert.Contains(t, s.UserAgents(), "ua/1")
	})

	t.Run("rate limit first submissions", func(t *testing.T) {
		t.Parallel()
		s := msatest.New(t, msatest.Options{RateLimitFirst: 2})
		for i := 0; i < 2; i++ {
			resp, tk := post(t, s.URL, ">101\n"+seq+"\n", "env")
			assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
			assert.Equal(t, "1", resp.Header.Get("Retry-After"))
			assert.Equal(t, "RATELIMIT", tk.Status)
		}
		resp, tk := post(t, s.URL, ">101\n"+seq+"\n", "env")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "PENDING", tk.Status)
		assert.Equal(t, 2, s.RateLimited())
		assert.Equal(t, 1, s.Submissions())
	})

	t.Run("concurrent submissions are counted", func(t *testing.T) {
		t.Parallel()
		s := msatest.New(t, msatest.Options{RateLimitFirst: 5})
		const n = 40
		var wg sync.WaitGroup
		codes := make([]int, n)
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.PostForm(s.URL+"/ticket/msa", url.Values{"q": {">101\n" + seq[i%10:] + "\n"}, "mode": {"env"}})
				if err != nil {
					return
				}
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}()
		}
		wg.Wait()
		ok, limited := 0, 0
		for _, c := range codes {
			switch c {
			case http.StatusOK:
				ok++
			case http.StatusTooManyRequests:
				limited++
			}
		}
		assert.Equal(t, n-5, ok)
		assert.Equal(t, 5, limited)
		assert.Equal(t, n-5, s.Submissions())
		assert.Equal(t, 5, s.RateLimited())
		assert.Len(t, s.Sequences(), n-5)
	})
}

// TestPairEndpoint submits two queries to /ticket/pair as Boltz's
// run_mmseqs2 does (mmseqs2.py L65-83, L169-177) and reads pair.a3m back.
func TestPairEndpoint(t *testing.T) {
	t.Parallel()
	const other = "GSHMLEDPVAGKTFLW"
	srv := msatest.New(t, msatest.Options{})
	q := ">101\n" + seq + "\n>102\n" + other + "\n"
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/ticket/pair", strings.NewReader(url.Values{"q": {q}, "mode": {"pairgreedy-env"}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, tk := send(t, req)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, _ = get(t, srv.URL+"/ticket/"+tk.ID)
	resp, body := get(t, srv.URL+"/result/download/"+tk.ID)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	files := untar(t, body)
	require.Contains(t, files, msa.PairFile)
	assert.NotContains(t, files, msa.UnirefFile)
	assert.Equal(t, msatest.PairedAlignment("101", seq)+"\x00"+msatest.PairedAlignment("102", other)+"\x00", files[msa.PairFile])
	assert.Equal(t, 1, srv.PairSubmissions())

	t.Run("an unpaired mode on the pair endpoint is refused", func(t *testing.T) {
		t.Parallel()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/ticket/pair", strings.NewReader(url.Values{"q": {q}, "mode": {"env"}}.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, _ := send(t, req)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
}
