package server

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"time"
)

// HTTPConfig bounds what a client may hold of the server over plain HTTP:
// how long it may take to send a request and to read the answer, and how
// long an idle kept-alive connection stays. Without these, a client holds
// a connection (and its goroutine and buffers) for as long as it likes by
// sending slowly or not at all. None of it touches /ws once upgraded:
// net/http clears a connection's deadlines when it is hijacked (Go 1.26,
// conn.hijackLocked), and a meeting's socket has its own keepalive
// (session.Config's PingEvery and PingTimeout).
// TestHostileHTTPSlowClientsTimeOut holds both.
type HTTPConfig struct {
	// ReadHeaderTimeout is the time to send the request line and headers:
	// 10 s (a browser sends them in one packet).
	ReadHeaderTimeout time.Duration
	// ReadTimeout is the time to send the whole request, body included:
	// 20 s. No route takes a body, but net/http reads a small one to the
	// end to keep the connection, so a slow body held it without limit.
	ReadTimeout time.Duration
	// WriteTimeout is the time from the end of the headers to the end of
	// the answer: 60 s, which serves the app (the largest answer, a few
	// hundred KB) over a very slow mobile link, and bounds a client that
	// does not read.
	WriteTimeout time.Duration
	// IdleTimeout is how long a kept-alive connection may wait for its
	// next request: 30 s. The app loads its files at once and then only
	// talks over /ws; a browser that comes back later opens a new one.
	IdleTimeout time.Duration
	// MaxHeaderBytes caps the request line and headers: 16 KiB.
	MaxHeaderBytes int
}

func (c *HTTPConfig) defaults() {
	setDefault(&c.ReadHeaderTimeout, 10*time.Second)
	setDefault(&c.ReadTimeout, 20*time.Second)
	setDefault(&c.WriteTimeout, 60*time.Second)
	setDefault(&c.IdleTimeout, 30*time.Second)
	setDefault(&c.MaxHeaderBytes, 16<<10)
}

func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// newHTTPServer is an http.Server for h with the limits of cfg.
func newHTTPServer(ctx context.Context, cfg HTTPConfig, h http.Handler) *http.Server {
	cfg.defaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		// net/http's error lines name client addresses; they are dropped.
		ErrorLog: log.New(io.Discard, "", 0),
	}
}
