package msa_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/omtx-hub/omtx-hub/msa"
	"github.com/omtx-hub/omtx-hub/msa/msatest"
)

const protein = "MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQAPILSRVGDGTQDNLSGAEKAVQVKVKALPDAQFEVVHSLAKWKRQTLGQHDFSAGEGLYTHMKALRPDEDRLSPLHSVYVDQWDWERVMGDGERQFSTLKSTVEAIWAGIKATEAAVSEEFGLAPFLPDQIHFVHSQELLSRYPDLDAKGRERAIAKDLGAVFLVGIGGKLSDGHRHDVRAPDYDDWUAXBZ"

// client returns a Client for srv with test-friendly timings.
func client(url string) *msa.Client {
	return &msa.Client{
		BaseURL:   url,
		UseEnv:    true,
		PollEvery: 2 * time.Millisecond,
		HTTP:      &http.Client{Timeout: 10 * time.Second},
		Logger:    slog.New(slog.DiscardHandler),
	}
}

// headers lists an A3M's header lines.
func headers(a3m []byte) []string {
	var out []string
	for _, l := range strings.Split(string(a3m), "\n") {
		if strings.HasPrefix(l, ">") {
			out = append(out, l)
		}
	}
	return out
}

func asRateLimit(t *testing.T, err error) *msa.RateLimitError {
	t.Helper()
	var e *msa.RateLimitError
	require.True(t, errors.As(err, &e), "want *RateLimitError, got %T: %v", err, err)
	return e
}

func asServer(t *testing.T, err error) *msa.ServerError {
	t.Helper()
	var e *msa.ServerError
	require.True(t, errors.As(err, &e), "want *ServerError, got %T: %v", err, err)
	return e
}

func asInvalid(t *testing.T, err error) *msa.InvalidError {
	t.Helper()
	var e *msa.InvalidError
	require.True(t, errors.As(err, &e), "want *InvalidError, got %T: %v", err, err)
	return e
}

func TestCompute(t *testing.T) {
	t.Parallel()

	t.Run("happy path env mode", func(t *testing.T) {
		t.Parallel()
		srv := msatest.New(t, msatest.Options{PendingPolls: 2})
		a3m, err := client(srv.URL).Compute(context.Background(), protein)
		require.NoError(t, err)

		n, err := msa.ValidateA3M(a3m, protein)
		require.NoError(t, err)
		assert.Equal(t, 1+msatest.UnirefHits+msatest.EnvHits, n)

		lines := strings.Split(string(a3m), "\n")
		require.GreaterOrEqual(t, len(lines), 2)
		assert.Equal(t, msa.QueryHeader, lines[0], "query record first")
		assert.Equal(t, protein, lines[1])
		assert.Equal(t, "", lines[len(lines)-1], "ends with a newline")

		hs := headers(a3m)
		assert.Equal(t, 1, strings.Count(string(a3m), msa.QueryHeader+"\n"), "query record once")
		require.Len(t, hs, n)
		for i, h := range hs[1:] {
			db := "uniref"
			if i >= msatest.UnirefHits {
				db = "env"
			}
			assert.True(t, strings.HasPrefix(h, fmt.Sprintf("%s%s_", msatest.HitPrefix, db)), "hit %d: uniref hits, then env hits: %s", i+1, h)
		}
		assert.Contains(t, string(a3m), "-", "a hit has a deletion")
		assert.Regexp(t, `\n[A-Z-]*[a-z]+[A-Z-]*\n`, string(a3m), "a hit has an insertion")
		assert.NotContains(t, string(a3m), "\x00")

		assert.Equal(t, 1, srv.Submissions())
		assert.Equal(t, 1, srv.Downloads())
		assert.Equal(t, []string{protein}, srv.Sequences())
		for _, ua := range srv.UserAgents() {
			assert.Equal(t, msa.DefaultUserAgent, ua)
		}
	})

	t.Run("merged A3M is the uniref then env alignment", func(t *testing.T) {
		t.Parallel()
		srv := msatest.New(t, msatest.Options{})
		a3m, err := client(srv.URL).Compute(context.Background(), protein)
		require.NoError(t, err)
		uniref := msatest.Alignment("101", protein, "uniref", msatest.UnirefHits)
		env := msatest.Alignment("101", protein, "env", msatest.EnvHits)
		envHits := strings.SplitN(env, "\n", 3)[2] // drop the env file's query record
		assert.Equal(t, uniref+envHits, string(a3m))
	})

	t.Run("all mode is uniref only", func(t *testing.T) {
		t.Parallel()
		srv := msatest.New(t, msatest.Options{})
		c := client(srv.URL)
		c.UseEnv = false
		assert.Equal(t, "all", c.Mode())
		a3m, err := c.Compute(context.Background(), protein)
		require.NoError(t, err)
		n, err := msa.ValidateA3M(a3m, protein)
		require.NoError(t, err)
		assert.Equal(t, 1+msatest.UnirefHits, n)
		assert.NotContains(t, string(a3m), msatest.HitPrefix+"env_")
	})

	t.Run("lower-case sequence with whitespace", func(t *testing.T) {
		t.Parallel()
		srv := msatest.New(t, msatest.Options{})
		a3m, err := client(srv.URL).Compute(context.Background(), " "+strings.ToLower(protein[:40])+"\n"+strings.ToLower(protein[40:])+"\n")
		require.NoError(t, err)
		_, err = msa.ValidateA3M(a3m, protein)
		require.NoError(t, err)
		assert.Equal(t, []string{protein}, srv.Sequences())
	})

	t.Run("auth header required and sent", func(t *testing.T) {
		t.Parallel()
		srv := msatest.New(t, msatest.Options{RequireAuth: "X-API-Key: s3cret"})

		_, err := client(srv.URL).Compute(context.Background(), protein)
		require.Error(t, err)
		inv := asInvalid(t, err)
		assert.Equal(t, http.StatusUnauthorized, inv.HTTPStatus)
		assert.False(t, msa.IsRetryable(err))
		assert.Equal(t, 0, srv.Submissions())

		c := client(srv.URL)
		c.AuthHeader = "X-API-Key: s3cret"
		c.UserAgent = "omtx-hub-test/0"
		a3m, err := c.Compute(context.Background(), protein)
		require.NoError(t, err)
		_, err = msa.ValidateA3M(a3m, protein)
		require.NoError(t, err)
		assert.Equal(t, 1, srv.Submissions())
		uas := srv.UserAgents()
		require.GreaterOrEqual(t, len(uas), 3, "submit, poll, download")
		for _, ua := range uas {
			assert.Equal(t, "omtx-hub-test/0", ua)
		}
	})

	t.Run("malformed auth header is permanent and not echoed", func(t *testing.T) {
		t.Parallel()
		srv := msatest.New(t, msatest.Options{})
		for _, h := range []string{"topsecretvalue", ": topsecretvalue", "X Key: topsecretvalue", "X-Key: topsecret\nvalue", "X-Key: top\x00secretvalue"} {
			c := client(srv.URL)
			c.AuthHeader = h
			_, err := c.Compute(context.Background(), protein)
			require.Error(t, err, "%q", h)
			asInvalid(t, err)
			assert.False(t, msa.IsRetryable(err))
			assert.NotContains(t, err.Error(), "secret")
		}
		assert.Equal(t, 0, srv.Submissions())
	})

	t.Run("RATELIMIT is a retryable RateLimitError", func(t *testing.T) {
		t.Parallel()
		srv := msatest.New(t, msatest.Options{RateLimitFirst: 2})
		c := client(srv.URL)
		for i := 0; i < 2; i++ {
			_, err := c.Compute(context.Background(), protein)
			require.Error(t, err)
			rl := asRateLimit(t, err)
			assert.Equal(t, time.Second, rl.RetryAfter)
			assert.True(t, msa.IsRetryable(err))
		}
		assert.Equal(t, 2, srv.RateLimited())
		assert.Equal(t, 0, srv.Submissions())

		a3m, err := c.Compute(context.Background(), protein)
		require.NoError(t, err)
		_, err = msa.ValidateA3M(a3m, protein)
		require.NoError(t, err)
		assert.Equal(t, 1, srv.Submissions())
	})

	t.Run("RATELIMIT status with HTTP 200", func(t *testing.T) {
		t.Parallel()
		srv := msatest.New(t, msatest.Options{SubmitStatus: "RATELIMIT"})
		_, err := client(srv.URL).Compute(context.Background(), protein)
		require.Error(t, err)
		asRateLimit(t, err)
		assert.True(t, msa.IsRetryable(err))
	})

	t.Run("job ERROR is a retryable ServerError", func(t *testing.T) {
		t.Parallel()
		srv := msatest.New(t, msatest.Options{PendingPolls: 1, FinalStatus: "ERROR"})
		_, err := client(srv.URL).Compute(context.Background(), protein)
		require.Error(t, err)
		se := asServer(t, err)
		assert.Equal(t, msa.StatusError, se.Status)
		assert.True(t, msa.IsRetryable(err))
		assert.Equal(t, 0, srv.Downloads())
	})

	t.Run("submit ERROR and MAINTENANCE are retryable ServerErrors", func(t *testing.T) {
		t.Parallel()
		for _, st := range []string{msa.StatusError, msa.StatusMaintenance} {
			srv := msatest.New(t, msatest.Options{SubmitStatus: st})
			_, err := client(srv.URL).Compute(context.Background(), protein)
			require.Error(t, err, st)
			se := asServer(t, err)
			assert.Equal(t, st, se.Status)
			assert.True(t, msa.IsRetryable(err), st)
		}
	})

	t.Run("PendingPolls honoured and OnPoll called", func(t *testing.T) {
		t.Parallel()
		srv := msatest.New(t, msatest.Options{PendingPolls: 3})
		var mu sync.Mutex
		var polls []string
		c := client(srv.URL)
		c.OnPoll = func(status string) {
			mu.Lock()
			defer mu.Unlock()
			polls = append(polls, status)
		}
		_, err := c.Compute(context.Background(), protein)
		require.NoError(t, err)
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []string{"RUNNING", "RUNNING", "RUNNING", "COMPLETE"}, polls)
	})

	t.Run("ctx cancel during polling", func(t *testing.T) {
		t.Parallel()
		srv := msatest.New(t, msatest.Options{PendingPolls: 1 << 30})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var n atomic.Int32
		c := client(srv.URL)
		c.OnPoll = func(string) {
			if n.Add(1) == 3 {
				cancel()
			}
		}
		_, err := c.Compute(ctx, protein)
		require.Error(t, err)
		assert.ErrorIs(t, err, context.Canceled)
		assert.False(t, msa.IsRetryable(err))
		assert.Equal(t, int32(3), n.Load())
		assert.Equal(t, 0, srv.Downloads())
	})

	t.Run("ctx deadline during polling is retryable", func(t *testing.T) {
		t.Parallel()
		srv := msatest.New(t, msatest.Options{PendingPolls: 1 << 30})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		_, err := client(srv.URL).Compute(ctx, protein)
		require.Error(t, err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.True(t, msa.IsRetryable(err))
	})

	t.Run("invalid sequences are rejected before submitting", func(t *testing.T) {
		t.Parallel()
		srv := msatest.New(t, msatest.Options{})
		for _, seq := range []string{"", "  \n", "MKT*AYI", "MKT-AYI", "MKT1"} {
			_, err := client(srv.URL).Compute(context.Background(), seq)
			require.Error(t, err, "%q", seq)
			asInvalid(t, err)
			assert.False(t, msa.IsRetryable(err))
		}
		assert.Equal(t, 0, srv.Submissions())
	})

	t.Run("no base URL", func(t *testing.T) {
		t.Parallel()
		_, err := (&msa.Client{}).Compute(context.Background(), protein)
		require.Error(t, err)
		asInvalid(t, err)
	})

	t.Run("concurrent computes", func(t *testing.T) {
		t.Parallel()
		srv := msatest.New(t, msatest.Options{PendingPolls: 2})
		c := client(srv.URL)
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				seq := protein[i : i+60]
				a3m, err := c.Compute(context.Background(), seq)
				if err == nil {
					_, err = msa.ValidateA3M(a3m, seq)
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			assert.NoError(t, err, "compute %d", i)
		}
		assert.Equal(t, len(errs), srv.Submissions())
		assert.Equal(t, len(errs), srv.Downloads())
	})
}

// fake is a scripted MSA server for answers msatest does not give.
type fake struct {
	submit   http.HandlerFunc
	status   http.HandlerFunc
	download http.HandlerFunc
}

func (f fake) start(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	if f.submit == nil {
		f.submit = jsonAnswer(http.StatusOK, `{"id":"job1","status":"PENDING"}`)
	}
	if f.status == nil {
		f.status = jsonAnswer(http.StatusOK, `{"id":"job1","status":"COMPLETE"}`)
	}
	if f.download == nil {
		f.download = tgzAnswer(t, protein, true)
	}
	mux.HandleFunc("POST /ticket/msa", f.submit)
	mux.HandleFunc("GET /ticket/{id}", f.status)
	mux.HandleFunc("GET /result/download/{id}", f.download)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func jsonAnswer(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

func tgzAnswer(t *testing.T, seq string, env bool) http.HandlerFunc {
	tgz, err := msatest.ResultFor(seq, env)
	require.NoError(t, err)
	return func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(tgz) }
}

// filesAnswer serves a tar.gz of the given files.
func filesAnswer(t *testing.T, files map[string]string) http.HandlerFunc {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, data := range files {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}))
		_, err := tw.Write([]byte(data))
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	require.NoError(t, zw.Close())
	tgz := buf.Bytes()
	return func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(tgz) }
}

func TestComputeServerAnswers(t *testing.T) {
	t.Parallel()

	t.Run("form and headers as the reference clients send them", func(t *testing.T) {
		t.Parallel()
		var got struct {
			sync.Mutex
			q, mode, ctype, ua, auth string
			paths                    []string
		}
		record := func(next http.HandlerFunc) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				got.Lock()
				got.paths = append(got.paths, r.Method+" "+r.URL.Path)
				if r.Method == http.MethodPost {
					_ = r.ParseForm()
					got.q, got.mode = r.PostForm.Get("q"), r.PostForm.Get("mode")
					got.ctype = r.Header.Get("Content-Type")
				}
				got.ua, got.auth = r.Header.Get("User-Agent"), r.Header.Get("Authorization")
				got.Unlock()
				next(w, r)
			}
		}
		url := fake{
			submit:   record(jsonAnswer(http.StatusOK, `{"id":"job/1","status":"PENDING"}`)),
			status:   record(jsonAnswer(http.StatusOK, `{"id":"job/1","status":"COMPLETE"}`)),
			download: record(tgzAnswer(t, protein, true)),
		}.start(t)
		c := client(url + "/")
		c.AuthHeader = "Authorization:  Bearer tok"
		_, err := c.Compute(context.Background(), protein)
		require.NoError(t, err)
		got.Lock()
		defer got.Unlock()
		assert.Equal(t, ">101\n"+protein+"\n", got.q)
		assert.Equal(t, "env", got.mode)
		assert.Equal(t, "application/x-www-form-urlencoded", got.ctype)
		assert.Equal(t, msa.DefaultUserAgent, got.ua)
		assert.Equal(t, "Bearer tok", got.auth)
		assert.Equal(t, []string{"POST /ticket/msa", "GET /ticket/job/1", "GET /result/download/job/1"}, got.paths)
	})

	t.Run("HTTP 429 carries Retry-After", func(t *testing.T) {
		t.Parallel()
		url := fake{submit: func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			jsonAnswer(http.StatusTooManyRequests, `{"status":"RATELIMIT","reason":"slow down"}`)(w, r)
		}}.start(t)
		_, err := client(url).Compute(context.Background(), protein)
		rl := asRateLimit(t, err)
		assert.Equal(t, 7*time.Second, rl.RetryAfter)
		assert.Equal(t, "slow down", rl.Reason)
		assert.True(t, msa.IsRetryable(err))
	})

	t.Run("HTTP 5xx on submit is a retryable ServerError", func(t *testing.T) {
		t.Parallel()
		url := fake{submit: jsonAnswer(http.StatusBadGateway, "bad gateway")}.start(t)
		_, err := client(url).Compute(context.Background(), protein)
		se := asServer(t, err)
		assert.Equal(t, http.StatusBadGateway, se.HTTPStatus)
		assert.True(t, msa.IsRetryable(err))
	})

	t.Run("HTTP 400 on submit is a permanent InvalidError", func(t *testing.T) {
		t.Parallel()
		url := fake{submit: jsonAnswer(http.StatusBadRequest, "selected databases are not valid")}.start(t)
		_, err := client(url).Compute(context.Background(), protein)
		inv := asInvalid(t, err)
		assert.Equal(t, http.StatusBadRequest, inv.HTTPStatus)
		assert.Contains(t, err.Error(), "selected databases are not valid")
		assert.False(t, msa.IsRetryable(err))
	})

	t.Run("non-JSON answer is a ServerError", func(t *testing.T) {
		t.Parallel()
		url := fake{submit: jsonAnswer(http.StatusOK, "<html>oops</html>")}.start(t)
		_, err := client(url).Compute(context.Background(), protein)
		asServer(t, err)
		assert.True(t, msa.IsRetryable(err))
	})

	t.Run("UNKNOWN keeps polling", func(t *testing.T) {
		t.Parallel()
		var n atomic.Int32
		url := fake{status: func(w http.ResponseWriter, r *http.Request) {
			st := "UNKNOWN"
			if n.Add(1) > 2 {
				st = "COMPLETE"
			}
			jsonAnswer(http.StatusOK, `{"id":"job1","status":"`+st+`"}`)(w, r)
		}}.start(t)
		_, err := client(url).Compute(context.Background(), protein)
		require.NoError(t, err)
		assert.Equal(t, int32(3), n.Load())
	})

	t.Run("transient poll failures are tolerated", func(t *testing.T) {
		t.Parallel()
		var n atomic.Int32
		url := fake{status: func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) <= 3 {
				jsonAnswer(http.StatusServiceUnavailable, "busy")(w, r)
				return
			}
			jsonAnswer(http.StatusOK, `{"id":"job1","status":"COMPLETE"}`)(w, r)
		}}.start(t)
		_, err := client(url).Compute(context.Background(), protein)
		require.NoError(t, err)
	})

	t.Run("persistent poll failures give up", func(t *testing.T) {
		t.Parallel()
		var n atomic.Int32
		url := fake{status: func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			jsonAnswer(http.StatusInternalServerError, "down")(w, r)
		}}.start(t)
		_, err := client(url).Compute(context.Background(), protein)
		se := asServer(t, err)
		assert.Equal(t, http.StatusInternalServerError, se.HTTPStatus)
		assert.Equal(t, int32(6), n.Load())
	})

	t.Run("lost ticket is a retryable ServerError", func(t *testing.T) {
		t.Parallel()
		url := fake{status: jsonAnswer(http.StatusBadRequest, "unknown ticket")}.start(t)
		_, err := client(url).Compute(context.Background(), protein)
		se := asServer(t, err)
		assert.Equal(t, http.StatusBadRequest, se.HTTPStatus)
		assert.True(t, msa.IsRetryable(err))
	})

	t.Run("COMPLETE at submission downloads without polling", func(t *testing.T) {
		t.Parallel()
		url := fake{
			submit: jsonAnswer(http.StatusOK, `{"id":"job1","status":"COMPLETE"}`),
			status: func(w http.ResponseWriter, r *http.Request) { t.Error("polled a complete job") },
		}.start(t)
		c := client(url)
		c.OnPoll = func(string) { t.Error("OnPoll without a poll") }
		a3m, err := c.Compute(context.Background(), protein)
		require.NoError(t, err)
		_, err = msa.ValidateA3M(a3m, protein)
		require.NoError(t, err)
	})

	t.Run("download that is not a tar.gz", func(t *testing.T) {
		t.Parallel()
		url := fake{download: jsonAnswer(http.StatusOK, "not an archive")}.start(t)
		_, err := client(url).Compute(context.Background(), protein)
		asServer(t, err)
		assert.True(t, msa.IsRetryable(err))
	})

	t.Run("result without the env file", func(t *testing.T) {
		t.Parallel()
		url := fake{download: tgzAnswer(t, protein, false)}.start(t)
		_, err := client(url).Compute(context.Background(), protein)
		se := asServer(t, err)
		assert.Contains(t, se.Error(), msa.EnvFile)
	})

	t.Run("result without an alignment for the query is permanent", func(t *testing.T) {
		t.Parallel()
		other := ">102\nMKTAYIAKQR\n>hit\nMKTAYIAKQR\n\x00"
		url := fake{download: filesAnswer(t, map[string]string{msa.UnirefFile: other, msa.EnvFile: other})}.start(t)
		_, err := client(url).Compute(context.Background(), protein)
		asInvalid(t, err)
		assert.False(t, msa.IsRetryable(err))
	})

	t.Run("malformed result entry is a ServerError", func(t *testing.T) {
		t.Parallel()
		bad := ">101\n>hit\n" + protein + "\n\x00"
		url := fake{download: filesAnswer(t, map[string]string{msa.UnirefFile: bad, msa.EnvFile: bad})}.start(t)
		_, err := client(url).Compute(context.Background(), protein)
		asServer(t, err)
		assert.True(t, msa.IsRetryable(err))
	})

	t.Run("result in a folder with extra files", func(t *testing.T) {
		t.Parallel()
		uniref := ">101\n" + protein + "\n>UniRef100_X\t123\t0.9\n" + protein + "\n\x00"
		env := ">101\n" + protein + "\n>MGYP0001\n" + strings.ToLower(protein[:2]) + protein + "\n\x00"
		url := fake{download: filesAnswer(t, map[string]string{
			"out/" + msa.UnirefFile: uniref, "out/" + msa.EnvFile: env, "out/pdb70.m8": "x", "msa.sh": "#!/bin/sh",
		})}.start(t)
		a3m, err := client(url).Compute(context.Background(), protein)
		require.NoError(t, err)
		assert.Equal(t, ">101\n"+protein+"\n>UniRef100_X\t123\t0.9\n"+protein+"\n>MGYP0001\n"+strings.ToLower(protein[:2])+protein+"\n", string(a3m))
	})

	t.Run("result for another sequence is permanent", func(t *testing.T) {
		t.Parallel()
		url := fake{download: tgzAnswer(t, "MKTAYIAKQR", true)}.start(t)
		_, err := client(url).Compute(context.Background(), protein)
		asInvalid(t, err)
		assert.False(t, msa.IsRetryable(err))
	})

	t.Run("network error is a retryable ServerError", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		_, err := client(url).Compute(context.Background(), protein)
		se := asServer(t, err)
		assert.Error(t, se.Err)
		assert.True(t, msa.IsRetryable(err))
	})
}

func TestIsRetryable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"rate limit", &msa.RateLimitError{RetryAfter: time.Second}, true},
		{"server error", &msa.ServerError{Status: "ERROR"}, true},
		{"wrapped server error", fmt.Errorf("activity: %w", &msa.ServerError{HTTPStatus: 503}), true},
		{"invalid", &msa.InvalidError{Msg: "bad"}, false},
		{"wrapped invalid", fmt.Errorf("activity: %w", &msa.InvalidError{Msg: "bad"}), false},
		{"canceled", fmt.Errorf("x: %w", context.Canceled), false},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"other", errors.New("connection reset"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, msa.IsRetryable(tc.err))
		})
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"rate limit", &msa.RateLimitError{RetryAfter: 3 * time.Second, Reason: "busy"}, "msa server rate limit: busy (retry after 3s)"},
		{"server status", &msa.ServerError{Op: "status", Status: "ERROR", Msg: "job x failed"}, "msa server status: status ERROR: job x failed"},
		{"server http", &msa.ServerError{Op: "submit", HTTPStatus: 502, Msg: "bad gateway"}, "msa server submit: HTTP 502: bad gateway"},
		{"server network", &msa.ServerError{Op: "download", Msg: "request failed", Err: errors.New("eof")}, "msa server download: request failed: eof"},
		{"invalid", &msa.InvalidError{HTTPStatus: 400, Msg: "rejected"}, "msa: HTTP 400: rejected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.err.Error())
		})
	}
}
