// Package server assembles the whole product: HTTP, signalling, rooms and
// the media engine, listening on one address. cmd/plausch and the
// integration tests both start it through Start.
package server

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"plausch.dev/plausch/internal/metrics"
	"plausch.dev/plausch/internal/names"
	"plausch.dev/plausch/internal/room"
	"plausch.dev/plausch/internal/session"
	"plausch.dev/plausch/internal/sfu"
	"plausch.dev/plausch/internal/signal"
	"plausch.dev/plausch/internal/web"
)

// Config is everything a server needs.
type Config struct {
	Addr       string // host:port to listen on; port 0 picks a free one
	Media      sfu.Config
	Rooms      room.Config
	ICEServers []signal.ICEServer
	Session    session.Config // limits; Registry, Engine and Log are set by Start
	Log        *slog.Logger
	// Metrics serves Prometheus metrics at /metrics on the public address,
	// where anyone can read them; MetricsAddr is the better place.
	Metrics bool
	// MetricsAddr serves /metrics on this address of its own instead (for
	// example 127.0.0.1:9090), and none on the public one.
	MetricsAddr string
	HTTP        HTTPConfig // timeouts of plain HTTP (http.go)
	// AllowedHosts are the host names the server answers to (the Host
	// header, any port); every other gets 421, /ws included, which stops
	// DNS rebinding. Empty answers any name. A configured domain will
	// fill it in by default.
	AllowedHosts []string

	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client; with none, the peer is the client.
	TrustedProxies []netip.Prefix
	// MaxConnectionsPerSource caps the signalling connections one source
	// (address) holds open; 0 is DefaultMaxConnectionsPerSource, negative
	// no cap.
	MaxConnectionsPerSource int

	// TLS, when set, serves HTTPS on Addr (front.go); TURN, when set,
	// starts the built-in TURN server (relay.go), over TLS on Addr too
	// when both are set. TURN needs the media on one UDP port
	// (Media.UDPPort), which its relay guard lets through.
	TLS  *TLSConfig
	TURN *TURNConfig
}

// Server is a running Plausch server.
type Server struct {
	front    front
	relay    *relay // nil without TURN
	http     *http.Server
	engine   *sfu.Engine
	registry *room.Registry
	cancel   context.CancelFunc
	sessions sync.WaitGroup
	served   chan error

	draining     atomic.Bool
	shutdown     chan struct{} // closed: every session ends with CloseRestarting
	shutdownOnce sync.Once
	closeOnce    sync.Once
	closeErr     error
	members      *session.Members
	metrics      *metricsServer // nil without Config.MetricsAddr
	sources      *sources
}

// Start listens on cfg.Addr and serves until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Media.Log == nil {
		cfg.Media.Log = cfg.Log
	}
	if cfg.TURN != nil && cfg.Media.UDPPort == 0 {
		return nil, errors.New("TURN needs the media on one UDP port (the relay guard lets only that through to this server)")
	}
	if cfg.TLS != nil && cfg.TLS.Certs.Log == nil {
		cfg.TLS.Certs.Log = cfg.Log
	}
	engine, err := sfu.NewEngine(cfg.Media)
	if err != nil {
		return nil, err
	}
	s := &Server{engine: engine, registry: room.NewRegistry(cfg.Rooms), served: make(chan error, 1),
		shutdown: make(chan struct{}), sources: newSources(cfg)}
	if err := openFront(cfg.Addr, cfg.TLS, &s.front); err != nil {
		_ = engine.Close()
		return nil, err
	}
	if cfg.TURN != nil {
		_, port, _ := net.SplitHostPort(s.front.ln.Addr().String())
		tlsPort, _ := strconv.Atoi(port)
		s.relay, err = startRelay(*cfg.TURN, cfg.Media, s.front.turnOverTLS(), tlsPort, &cfg)
		if err != nil {
			_ = s.front.close()
			_ = engine.Close()
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	sc := cfg.Session
	sc.Registry, sc.Engine, sc.ICEServers, sc.Log, sc.Shutdown = s.registry, engine, cfg.ICEServers, cfg.Log, s.shutdown
	if s.relay != nil {
		sc.Relay = s.relay
	}
	sc.Members = session.NewMembers()
	s.members = sc.Members
	sc.Defaults()
	wp := web.Params{WebSocket: s.websocket(ctx, &sc), NewName: names.Generate, Ready: func() bool { return !s.draining.Load() },
		AllowedHosts: cfg.AllowedHosts}
	switch {
	case cfg.MetricsAddr != "":
		if s.metrics, err = startMetrics(ctx, cfg.MetricsAddr, cfg.HTTP, metrics.Handler(engine, s.registry)); err != nil {
			cancel()
			s.closeParts()
			return nil, err
		}
	case cfg.Metrics:
		wp.Metrics = metrics.Handler(engine, s.registry)
	}
	s.http = newHTTPServer(ctx, cfg.HTTP, s.front.handler(web.Handler(wp)))
	s.front.serving = true
	go func() { s.served <- s.http.Serve(s.front.serve) }()
	if err := s.front.start(ctx, cfg.HTTP); err != nil {
		_ = s.Close()
		return nil, err
	}
	return s, nil
}

// closeParts closes what Start opened before serving.
func (s *Server) closeParts() {
	if s.relay != nil {
		_ = s.relay.close()
	}
	_ = s.front.close()
	_ = s.engine.Close()
}

func (s *Server) websocket(ctx context.Context, cfg *session.Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Accept checks that the Origin is this server's own host, so no
		// other web page can open a meeting connection in a visitor's name.
		src, ok := s.sources.acquire(r)
		if ok {
			defer s.sources.release(src)
		}
		conn, err := websocket.Accept(w, r, session.AcceptOptions())
		if err != nil {
			return
		}
		s.sessions.Add(1)
		defer s.sessions.Done()
		if !ok {
			refuseConnection(ctx, conn)
			return
		}
		session.Serve(ctx, conn, cfg, src)
	})
}

// URL is the server's base URL, e.g. http://127.0.0.1:8080, or https://
// with TLS.
func (s *Server) URL() string { return s.front.scheme() + "://" + s.front.ln.Addr().String() }

// RedirectURL is the base URL of the plain-HTTP side of an HTTPS server,
// or "" without one.
func (s *Server) RedirectURL() string {
	if s.front.redirectLn == nil {
		return ""
	}
	return "http://" + s.front.redirectLn.Addr().String()
}

// TURNURLs are the URLs of the built-in TURN server, none without it.
func (s *Server) TURNURLs() []string {
	if s.relay == nil {
		return nil
	}
	return s.relay.URLs()
}

// MetricsURL is the base URL of the metrics address, or "" without one.
func (s *Server) MetricsURL() string {
	if s.metrics == nil {
		return ""
	}
	return "http://" + s.metrics.ln.Addr().String()
}

// Registry is the server's meetings.
func (s *Server) Registry() *room.Registry { return s.registry }

// Drain shuts the server down gently: it stops being ready, starts no new
// meeting and tells everyone how long they have; when the last meeting has
// ended or grace has passed, every connection closes with CloseRestarting,
// so clients know to come back. Cancelling ctx cuts the wait short (a
// second SIGINT). Drain ends with Close.
func (s *Server) Drain(ctx context.Context, grace time.Duration) error {
	s.draining.Store(true)
	s.registry.Drain(int(math.Ceil(grace.Seconds())))
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
wait:
	for s.registry.Rooms() > 0 {
		select {
		case <-deadline.C:
			break wait
		case <-ctx.Done():
			break wait
		case <-tick.C:
		}
	}
	s.shutdownOnce.Do(func() { close(s.shutdown) })
	// Give the close handshakes a moment, unless told to hurry.
	done := make(chan struct{})
	go func() { s.sessions.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
	}
	return s.Close()
}

// Close stops listening, ends every session and waits for them. Calls
// after the first return the first one's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		err := s.http.Close()
		s.cancel()
		s.sessions.Wait()
		s.members.FinishAll() // those still waiting to resume
		if e := <-s.served; !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
		if s.metrics != nil {
			err = errors.Join(err, s.metrics.close())
		}
		if s.relay != nil {
			err = errors.Join(err, s.relay.close())
		}
		err = errors.Join(err, s.front.close())
		s.closeErr = errors.Join(err, s.engine.Close())
	})
	return s.closeErr
}
