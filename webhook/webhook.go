// Package webhook sends the completion notifications of jobs and batches:
// a JSON POST to the URL the user gave, signed with HMAC-SHA256 under a
// secret of the API key that submitted the work, with a timestamp against
// replay.
//
// Destinations are guarded against server-side request forgery twice: the
// API refuses a URL that is not https or names a private, loopback or
// link-local address (CheckURL), and the sender checks every address it
// actually dials, after DNS resolution (so a name that resolves to an
// internal address, at submission or later, is refused too). AllowLoopback
// lets local development use http://127.0.0.1 receivers.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Headers of a notification.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256 of
	// "<t>.<body>">".
	SignatureHeader = "X-OMTX-Signature"
	// EventHeader names the event, as the body's "event" does.
	EventHeader = "X-OMTX-Event"
	// MaxURLLength bounds a notify_url.
	MaxURLLength = 2048
	// Tolerance is how old a signature a receiver should accept.
	Tolerance = 5 * time.Minute
)

// ErrRefused wraps every refusal of a destination.
var ErrRefused = errors.New("webhook destination refused")

// Policy says which destinations are allowed.
type Policy struct {
	// AllowLoopback allows http:// and loopback addresses (local
	// development only).
	AllowLoopback bool
}

// CheckURL checks a notify_url at submission: absolute https (or http to
// loopback under AllowLoopback), no user info, a host, and, when the host
// is an IP literal, an allowed address. Names are resolved only when sent.
func (p Policy) CheckURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLength {
		return nil, fmt.Errorf("%w: longer than %d characters", ErrRefused, MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("%w: not an absolute URL", ErrRefused)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: user information is not allowed in the URL", ErrRefused)
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("%w: a fragment is not allowed in the URL", ErrRefused)
	}
	host := u.Hostname()
	switch u.Scheme {
	case "https":
	case "http":
		if !p.AllowLoopback || !isLoopbackHost(host) {
			return nil, fmt.Errorf("%w: only https URLs are allowed", ErrRefused)
		}
	default:
		return nil, fmt.Errorf("%w: only https URLs are allowed", ErrRefused)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: bad port", ErrRefused)
		}
	}
	ip, literal, err := hostAddr(host)
	switch {
	case err != nil:
		return nil, err
	case literal:
		if err := p.CheckAddr(ip); err != nil {
			return nil, err
		}
	case isLocalhostName(host) && !p.AllowLoopback:
		return nil, fmt.Errorf("%w: loopback destinations are not allowed", ErrRefused)
	}
	return u, nil
}

// hostAddr reads a URL host as the address a resolver or browser would
// dial when the host is an IP literal in any spelling: [IPv6], dotted
// quad, and the forms that inet_aton and the WHATWG URL parser also take
// (a trailing dot, hex 0x7f.1, octal 0177.0.0.1, a single 32-bit number
// 2130706433, fewer than four parts 127.1). A host whose last label is
// numeric but that is no address in any of those spellings is refused: it
// is no name a DNS lookup would resolve.
func hostAddr(host string) (ip netip.Addr, literal bool, err error) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return ip, true, nil
	}
	h := strings.TrimSuffix(host, ".")
	labels := strings.Split(h, ".")
	last := labels[len(labels)-1]
	if last == "" || !(last[0] >= '0' && last[0] <= '9') {
		return netip.Addr{}, false, nil // a name
	}
	ip, ok := parseInetAton(labels)
	if !ok {
		return netip.Addr{}, false, fmt.Errorf("%w: %q is neither a host name nor an IP address", ErrRefused, host)
	}
	return ip, true, nil
}

// parseInetAton parses an IPv4 address as inet_aton(3) does: one to four
// parts, each decimal, octal (leading 0) or hex (0x), the last part
// filling the remaining bytes.
func parseInetAton(parts []string) (netip.Addr, bool) {
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 0, 32)
		if p == "" || err != nil || strings.HasPrefix(p, "0b") || strings.HasPrefix(p, "0o") || strings.Contains(p, "_") {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 0xff {
			return netip.Addr{}, false
		}
		n |= v << (24 - 8*uint(i))
	}
	lastBits := 32 - 8*uint(len(vals)-1)
	if vals[len(vals)-1] >= 1<<lastBits {
		return netip.Addr{}, false
	}
	n |= vals[len(vals)-1]
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// isLocalhostName: localhost, with or without the root's trailing dot,
// and its subdomains, which resolvers answer with loopback (RFC 6761).
func isLocalhostName(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

func isLoopbackHost(host string) bool {
	if isLocalhostName(host) {
		return true
	}
	ip, literal, err := hostAddr(host)
	return err == nil && literal && ip.IsLoopback()
}

// CheckAddr refuses private, loopback (unless allowed), link-local,
// unspecified, multicast and other non-global addresses.
func (p Policy) CheckAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		if p.AllowLoopback {
			return nil
		}
		return fmt.Errorf("%w: %s is a loopback address", ErrRefused, ip)
	case ip.IsPrivate(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(),
		ip.IsMulticast(), ip.IsUnspecified(), !ip.IsGlobalUnicast():
		return fmt.Errorf("%w: %s is not a public address", ErrRefused, ip)
	}
	for _, pfx := range nonPublic {
		if pfx.Contains(ip) {
			return fmt.Errorf("%w: %s is not a public address", ErrRefused, ip)
		}
	}
	return nil
}

// nonPublic lists ranges that netip does not call private but that are not
// reachable public destinations (shared address space, benchmarking,
// documentation, 6to4/Teredo relays, NAT64, discard-only, ...).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("100::/64"),
	netip.MustParsePrefix("2001::/23"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"),
}

// Sign returns the signature header value of body at t under secret.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header for body under secret, refusing ones
// older or newer than Tolerance around now. Receivers (and the tests) use it.
func Verify(secret []byte, header string, body []byte, now time.Time) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return errors.New("webhook: malformed signature header")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > Tolerance || d < -Tolerance {
		return errors.New("webhook: signature timestamp outside the tolerance")
	}
	if !hmac.Equal([]byte(sig), []byte(mac(secret, ts, body))) {
		return errors.New("webhook: signature does not match")
	}
	return nil
}

// Sender posts notifications.
type Sender struct {
	Policy Policy
	// Dial, when set, replaces the network dial (tests use it to refuse
	// anything but loopback); the policy's address check runs first either
	// way.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Timeout bounds one attempt (default 15 s).
	Timeout time.Duration

	once   sync.Once
	client *http.Client
}

// Outcome is the result of one attempt.
type Outcome struct {
	StatusCode int
	// Permanent is true when retrying cannot help (a refused destination,
	// or a 4xx other than 408 and 429).
	Permanent bool
}

// Send posts body to rawURL, signed with secret at now.
func (s *Sender) Send(ctx context.Context, rawURL, event string, secret, body []byte, now time.Time) (Outcome, error) {
	u, err := s.Policy.CheckURL(rawURL)
	if err != nil {
		return Outcome{Permanent: true}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return Outcome{Permanent: true}, fmt.Errorf("%w: %v", ErrRefused, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "omtx-hub-webhook/1")
	req.Header.Set(EventHeader, event)
	req.Header.Set(SignatureHeader, Sign(secret, now, body))
	resp, err := s.httpClient().Do(req)
	if err != nil {
		if errors.Is(err, ErrRefused) {
			return Outcome{Permanent: true}, err
		}
		return Outcome{}, fmt.Errorf("webhook: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	out := Outcome{StatusCode: resp.StatusCode}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return out, nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return out, fmt.Errorf("webhook: receiver answered %s", resp.Status)
	default:
		out.Permanent = true
		return out, fmt.Errorf("webhook: receiver answered %s", resp.Status)
	}
}

func (s *Sender) httpClient() *http.Client {
	s.once.Do(s.init)
	return s.client
}

func (s *Sender) init() {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	d := &net.Dialer{
		Timeout: 10 * time.Second,
		// Control sees the address actually dialed, after resolution: the
		// guard that DNS cannot get around.
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %v", ErrRefused, err)
			}
			return s.Policy.CheckAddr(ap.Addr())
		},
	}
	dial := d.DialContext
	if s.Dial != nil {
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			// Resolve here so the policy sees the addresses before the
			// replacement dial does.
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			if err != nil {
				return nil, err
			}
			for _, ip := range ips {
				if err := s.Policy.CheckAddr(ip); err != nil {
					return nil, err
				}
			}
			return s.Dial(ctx, network, net.JoinHostPort(ips[0].String(), port))
		}
	}
	s.client = &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:           dial,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: timeout,
			MaxIdleConns:          16,
			IdleConnTimeout:       30 * time.Second,
			Proxy:                 nil, // never through a proxy: the guard checks the real destination
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
