package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"plausch.dev/plausch/internal/web"
)

// metricsServer serves /metrics on an address of its own (Config.MetricsAddr),
// for a Prometheus on loopback or a private network: the counts of
// meetings and participants say when people meet, which is nobody else's
// business, and the public address then has no /metrics at all.
type metricsServer struct {
	ln     net.Listener
	http   *http.Server
	served chan error
}

func startMetrics(ctx context.Context, addr string, cfg HTTPConfig, metrics http.Handler) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	m := &metricsServer{ln: ln, http: newHTTPServer(ctx, cfg, web.WithSecurityHeaders(mux)), served: make(chan error, 1)}
	go func() { m.served <- m.http.Serve(web.Listener(ln)) }()
	return m, nil
}

func (m *metricsServer) close() error {
	err := m.http.Close()
	if e := <-m.served; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
