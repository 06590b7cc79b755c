// Command httpcheck is the container health check of OMTX-Hub's images. The
// distroless images have no shell, curl or wget, so the Dockerfiles build
// this into every image: it GETs one URL of the local process and exits 0 on
// a 2xx answer, 1 otherwise.
//
//	httpcheck http://127.0.0.1:8080/healthz
//	httpcheck -addr-env OMTX_API_ADDR -addr 127.0.0.1:8080 -path /healthz
//	httpcheck -addr-env OMTX_METRICS_ADDR -addr 127.0.0.1:9090 -path /metrics
//
// With -addr-env the address is the process's own listen address (an
// unspecified host such as 0.0.0.0 becomes loopback), so the check follows
// the container's configuration.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	addrEnv := flag.String("addr-env", "", "environment variable that holds the listen address (host:port)")
	addr := flag.String("addr", "127.0.0.1:8080", "address when -addr-env is unset or empty")
	path := flag.String("path", "/healthz", "URL path")
	timeout := flag.Duration("timeout", 3*time.Second, "request timeout")
	flag.Parse()

	url := flag.Arg(0)
	if url == "" {
		a := *addr
		if *addrEnv != "" {
			if v := strings.TrimSpace(os.Getenv(*addrEnv)); v != "" {
				a = v
			}
		}
		url = "http://" + dialable(a) + *path
	}
	if err := check(url, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "httpcheck:", err)
		os.Exit(1)
	}
}

// dialable turns a listen address into one to dial: an empty or
// unspecified host becomes loopback.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func check(url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
