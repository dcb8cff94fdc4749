package hostile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// Slow HTTP clients: each holds a connection open as long as the server
// lets it, the way a slowloris attack exhausts a server's connections.

// Dialer opens TCP connections; nil in the helpers below means net.Dialer.
type Dialer func(ctx context.Context, network, addr string) (net.Conn, error)

func dial(ctx context.Context, d Dialer, addr string) (net.Conn, error) {
	if d == nil {
		var nd net.Dialer
		d = nd.DialContext
	}
	return d(ctx, "tcp", addr)
}

// IdleKeepAlive makes one complete GET request for path, reads the whole
// response, and returns the connection: kept alive, idle, never used again.
func IdleKeepAlive(ctx context.Context, d Dialer, addr, path string) (net.Conn, error) {
	conn, err := dial(ctx, d, addr)
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", path, addr); err != nil {
		conn.Close()
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetReadDeadline(dl)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err == nil {
		_, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn, nil
}

// SlowHeaders sends the start of a request and then one more header line
// every interval, never the blank line that ends the headers, until ctx
// ends or the server hangs up.
func SlowHeaders(ctx context.Context, d Dialer, addr string, every time.Duration) (net.Conn, error) {
	conn, err := dial(ctx, d, addr)
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\n", addr); err != nil {
		conn.Close()
		return nil, err
	}
	go trickle(ctx, conn, every, func(i int) string { return fmt.Sprintf("X-Slow-%d: 1\r\n", i) })
	return conn, nil
}

// SlowBody sends complete headers that announce a body of size bytes, and
// then one byte of it every interval, until ctx ends or the server hangs
// up. The server answers at once (no route takes a body), but the request
// is not over until its body is: net/http reads the rest of a small body to
// keep the connection.
func SlowBody(ctx context.Context, d Dialer, addr string, size int, every time.Duration) (net.Conn, error) {
	conn, err := dial(ctx, d, addr)
	if err != nil {
		return nil, err
	}
	if _, err := fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\nx", addr, size); err != nil {
		conn.Close()
		return nil, err
	}
	go trickle(ctx, conn, every, func(int) string { return "x" })
	return conn, nil
}

func trickle(ctx context.Context, conn net.Conn, every time.Duration, next func(int) string) {
	t := time.NewTicker(every)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := io.WriteString(conn, next(i)); err != nil {
				return
			}
		}
	}
}

// Open reports whether the server still holds conn open: it reads (and
// discards) whatever the server sent and waits up to wait for more. A
// connection the server closed or reset reads EOF or an error at once.
func Open(conn net.Conn, wait time.Duration) bool {
	_ = conn.SetReadDeadline(time.Now().Add(wait))
	defer conn.SetReadDeadline(time.Time{})
	buf := make([]byte, 4096)
	for {
		_, err := conn.Read(buf)
		switch {
		case err == nil:
			continue
		case errors.Is(err, os.ErrDeadlineExceeded):
			return true
		default:
			return false
		}
	}
}

// RawRequest sends raw bytes (a request, broken or not) on a new
// connection and returns the server's answer, parsed.
func RawRequest(ctx context.Context, d Dialer, addr, raw string) (*http.Response, string, error) {
	conn, err := dial(ctx, d, addr)
	if err != nil {
		return nil, "", err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if _, err := io.WriteString(conn, raw); err != nil {
		return nil, "", err
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, "", err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res, strings.TrimSpace(string(body)), nil
}
