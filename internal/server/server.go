// Package server assembles the whole product: HTTP, signalling, rooms and
// the media engine, listening on one address. cmd/plausch and the
// integration tests both start it through Start.
package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"sync"
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
	Metrics    bool // serve Prometheus metrics at /metrics
}

// Server is a running Plausch server.
type Server struct {
	ln       net.Listener
	http     *http.Server
	engine   *sfu.Engine
	registry *room.Registry
	cancel   context.CancelFunc
	sessions sync.WaitGroup
	served   chan error
}

// Start listens on cfg.Addr and serves until Close.
func Start(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Media.Log == nil {
		cfg.Media.Log = cfg.Log
	}
	engine, err := sfu.NewEngine(cfg.Media)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		_ = engine.Close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{ln: ln, engine: engine, registry: room.NewRegistry(cfg.Rooms), cancel: cancel, served: make(chan error, 1)}
	sc := cfg.Session
	sc.Registry, sc.Engine, sc.ICEServers, sc.Log = s.registry, engine, cfg.ICEServers, cfg.Log
	sc.Defaults()
	wp := web.Params{WebSocket: s.websocket(ctx, &sc), NewName: names.Generate}
	if cfg.Metrics {
		wp.Metrics = metrics.Handler(engine, s.registry)
	}
	s.http = &http.Server{
		Handler:           web.Handler(wp),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    16 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		// net/http's error lines name client addresses; they are dropped.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { s.served <- s.http.Serve(ln) }()
	return s, nil
}

func (s *Server) websocket(ctx context.Context, cfg *session.Config) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Accept checks that the Origin is this server's own host, so no
		// other web page can open a meeting connection in a visitor's name.
		conn, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		s.sessions.Add(1)
		defer s.sessions.Done()
		session.Serve(ctx, conn, cfg)
	})
}

// URL is the server's base URL, e.g. http://127.0.0.1:8080.
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() }

// Registry is the server's meetings.
func (s *Server) Registry() *room.Registry { return s.registry }

// Close stops listening, ends every session and waits for them.
func (s *Server) Close() error {
	err := s.http.Close()
	s.cancel()
	s.sessions.Wait()
	if e := <-s.served; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return errors.Join(err, s.engine.Close())
}
