package app

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSlowClientsAreCutOff: a client that trickles its body, or sits idle
// on a connection, is disconnected at the server's limits.
func TestSlowClientsAreCutOff(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	lim := ServerLimits{ReadHeaderTimeout: time.Second, ReadTimeout: 500 * time.Millisecond, WriteTimeout: time.Second, IdleTimeout: 500 * time.Millisecond, MaxHeaderBytes: 1 << 10}
	go func() { _ = ServeWith(ctx, ln, h, lim, slog.New(slog.DiscardHandler)) }()

	t.Run("a trickled body", func(t *testing.T) {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		_, err = io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
		require.NoError(t, err)
		cut := false
		for i := 0; i < 100 && !cut; i++ { // 100 bytes over ~10 s, far past the limit
			if _, err := c.Write([]byte("x")); err != nil {
				cut = true
			}
			time.Sleep(100 * time.Millisecond)
			_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
			if _, err := c.Read(make([]byte, 1)); err == io.EOF {
				cut = true
			}
		}
		assert.True(t, cut, "the server kept a connection whose body trickled in")
	})

	t.Run("an idle keep-alive connection", func(t *testing.T) {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		resp.Body.Close()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = c.Read(make([]byte, 1))
		assert.ErrorIs(t, err, io.EOF, "the server closes an idle connection")
	})

	t.Run("oversized headers", func(t *testing.T) {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 8<<10)+"\r\n\r\n")
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err)
		assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	})
}
