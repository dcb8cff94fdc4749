package certs

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"sync"
)

// dialTo sends every connection to addr, whatever host the URL names: the
// test's own DNS, for the client side.
func dialTo(addr string) func(ctx context.Context, network, _ string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

func port(ln net.Listener) string { return strconv.Itoa(portNum(ln)) }

func portNum(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
