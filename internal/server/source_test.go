package server

import (
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"plausch.dev/plausch/internal/signal"
)

// Behind a trusted proxy the source is the client X-Forwarded-For names,
// not the proxy; a proxy that names nobody turns the per-source limits
// off for its connections, which is logged once, without an address.
func TestSourceFromTrustedProxy(t *testing.T) {
	var logs syncBuffer
	srv := startServer(t, func(c *Config) {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
		c.MaxConnectionsPerSource = 2
		c.Log = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	dial := func(xff string) *websocket.Conn {
		t.Helper()
		ctx, cancel := contextTimeout(5 * time.Second)
		defer cancel()
		opts := &websocket.DialOptions{}
		if xff != "" {
			opts.HTTPHeader = http.Header{"X-Forwarded-For": {xff}}
		}
		ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL(), "http")+"/ws", opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ws.CloseNow() })
		return ws
	}
	refused := func(ws *websocket.Conn) bool {
		t.Helper()
		if err := ws.Write(t.Context(), websocket.MessageText, []byte(joinMsg("proxied", "P", ""))); err != nil {
			return true
		}
		m, err := readWS(ws, "joined")
		if err != nil {
			t.Fatal(err)
		}
		return m.Code == signal.CodeTooManyConnections
	}
	// The client's part of the header is not believed; the proxy's is.
	a1, a2, a3 := dial("6.6.6.6, 203.0.113.7"), dial("7.7.7.7, 203.0.113.7"), dial("203.0.113.7")
	if refused(a1) || refused(a2) || !refused(a3) {
		t.Error("two connections from 203.0.113.7 are not its cap")
	}
	if refused(dial("203.0.113.8")) {
		t.Error("another client behind the proxy was refused")
	}
	// No header: unknown, not limited.
	for range 3 {
		if refused(dial("")) {
			t.Error("a connection of unknown source was limited")
		}
	}
	out := logs.String()
	if n := strings.Count(out, "a trusted proxy sends no X-Forwarded-For; per-source limits are off for its connections"); n != 1 {
		t.Errorf("the warning was logged %d times:\n%s", n, out)
	}
	for _, addr := range []string{"203.0.113", "6.6.6.6", "127.0.0.1"} {
		if strings.Contains(out, addr) {
			t.Errorf("logs contain %q", addr)
		}
	}
}
