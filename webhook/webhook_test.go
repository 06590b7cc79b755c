package webhook

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckURL(t *testing.T) {
	t.Parallel()
	strict, dev := Policy{}, Policy{AllowLoopback: true}
	for _, c := range []struct {
		url  string
		p    Policy
		want string // "" when allowed
	}{
		{"https://hooks.example.org/omtx", strict, ""},
		{"https://hooks.example.org:8443/omtx?x=1", strict, ""},
		{"http://hooks.example.org/omtx", strict, "only https"},
		{"ftp://hooks.example.org/", strict, "only https"},
		{"https://user:pw@hooks.example.org/", strict, "user information"},
		{"https://hooks.example.org/#frag", strict, "fragment"},
		{"/relative", strict, "absolute"},
		{"https://10.1.2.3/", strict, "not a public address"},
		{"https://192.168.0.1/", strict, "not a public address"},
		{"https://172.16.5.4/", strict, "not a public address"},
		{"https://169.254.169.254/latest/meta-data", strict, "not a public address"},
		{"https://[fe80::1]/", strict, "not a public address"},
		{"https://[fd00::1]/", strict, "not a public address"},
		{"https://100.64.0.1/", strict, "not a public address"},
		{"https://0.0.0.0/", strict, "not a public address"},
		{"https://[::ffff:10.0.0.1]/", strict, "not a public address"},
		{"https://127.0.0.1/", strict, "loopback"},
		{"https://localhost/", strict, "loopback"},
		// IP literals in disguise, as inet_aton and browsers read them.
		{"https://127.0.0.1./", strict, "loopback"},
		{"https://localhost./", strict, "loopback"},
		{"https://LocalHost./", strict, "loopback"},
		{"https://api.localhost/", strict, "loopback"},
		{"https://0x7f.1/", strict, "loopback"},
		{"https://0x7f000001/", strict, "loopback"},
		{"https://0177.0.0.1/", strict, "loopback"},
		{"https://2130706433/", strict, "loopback"},
		{"https://127.1/", strict, "loopback"},
		{"https://0xa.0.0.1/", strict, "not a public address"},
		{"https://012.1.2.3/", strict, "not a public address"},
		{"https://3232235521/", strict, "not a public address"},
		{"https://169.254.43518/", strict, "not a public address"},
		{"https://1.2.3.4.5/", strict, "neither a host name nor an IP address"},
		{"https://999.1.1.1/", strict, "neither a host name nor an IP address"},
		{"https://hooks.example.org./omtx", strict, ""},
		{"https://8.8.8.8./", strict, ""},
		{"https://0x8.8.8.8/", strict, ""},
		{"https://1e100.net/", strict, ""},
		{"http://127.0.0.1:9999/hook", dev, ""},
		{"http://localhost:9999/hook", dev, ""},
		{"http://10.0.0.1/hook", dev, "only https"},
		{"https://" + strings.Repeat("a", MaxURLLength) + ".org/", strict, "longer than"},
	} {
		_, err := c.p.CheckURL(c.url)
		if c.want == "" {
			assert.NoError(t, err, c.url)
			continue
		}
		require.Error(t, err, c.url)
		assert.True(t, errors.Is(err, ErrRefused), c.url)
		assert.Contains(t, err.Error(), c.want, c.url)
	}
}

func TestSignAndVerify(t *testing.T) {
	t.Parallel()
	secret, body := []byte("s3cret-s3cret-s3cret"), []byte(`{"event":"job.completed"}`)
	now := time.Unix(1_800_000_000, 0)
	h := Sign(secret, now, body)
	assert.True(t, strings.HasPrefix(h, "t=1800000000,v1="))
	require.NoError(t, Verify(secret, h, body, now.Add(time.Minute)))
	assert.Error(t, Verify([]byte("other-secret-other"), h, body, now), "another secret")
	assert.Error(t, Verify(secret, h, []byte(`{"event":"job.failed"}`), now), "another body")
	assert.Error(t, Verify(secret, h, body, now.Add(Tolerance+time.Second)), "a replay after the tolerance")
	assert.Error(t, Verify(secret, "v1=abc", body, now), "no timestamp")
}

// TestSenderGuardsTheDialedAddress: the address is checked when dialed,
// after resolution, so a name that resolves to loopback is refused unless
// loopback is allowed; a replacement dial sees only allowed addresses.
func TestSenderGuardsTheDialedAddress(t *testing.T) {
	t.Parallel()
	got := make(chan *http.Request, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		got <- r
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	byName := "http://localhost:" + port + "/hook"
	secret := []byte("s3cret-s3cret-s3cret")
	ctx := context.Background()

	strict := &Sender{Policy: Policy{}}
	out, err := strict.Send(ctx, byName, "job.completed", secret, []byte(`{}`), time.Now())
	require.Error(t, err)
	assert.True(t, out.Permanent)
	assert.Empty(t, got)

	var dialed []string
	dev := &Sender{Policy: Policy{AllowLoopback: true}, Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = append(dialed, addr)
		ap, err := netip.ParseAddrPort(addr)
		if err != nil || !ap.Addr().IsLoopback() {
			t.Errorf("dialed a non-loopback address %s", addr)
			return nil, errors.New("refused by the test")
		}
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	out, err = dev.Send(ctx, byName, "job.completed", secret, []byte(`{"id":"job_x"}`), time.Now())
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, out.StatusCode)
	r := <-got
	assert.Equal(t, "job.completed", r.Header.Get(EventHeader))
	assert.NotEmpty(t, r.Header.Get(SignatureHeader))
	assert.NotEmpty(t, dialed)
}

func TestSenderClassifiesAnswers(t *testing.T) {
	t.Parallel()
	code := http.StatusInternalServerError
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }))
	defer srv.Close()
	s := &Sender{Policy: Policy{AllowLoopback: true}}
	for _, c := range []struct {
		code      int
		ok, final bool
	}{{500, false, false}, {503, false, false}, {429, false, false}, {408, false, false}, {404, false, true}, {400, false, true}, {204, true, false}} {
		code = c.code
		out, err := s.Send(context.Background(), srv.URL, "e", []byte("s3cret-s3cret-s3cret"), []byte(`{}`), time.Now())
		assert.Equal(t, c.ok, err == nil, c.code)
		assert.Equal(t, c.final, out.Permanent, c.code)
	}
}
