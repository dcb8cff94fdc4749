package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"plausch.dev/plausch/internal/session"
	"plausch.dev/plausch/internal/signal"
	"plausch.dev/plausch/internal/source"
)

// DefaultMaxConnectionsPerSource leaves room for a large class behind one
// router, each with a tab open, and a few reconnecting.
const DefaultMaxConnectionsPerSource = 100

// sources finds where each signalling connection comes from and holds the
// cap on connections per source. Nothing of an address is kept or logged:
// only its salted key, and that only while a connection is open.
type sources struct {
	resolver *source.Resolver
	conns    *source.Counter[source.Key] // nil: no cap
	log      *slog.Logger
	warned   sync.Map // why -> struct{}: each problem is logged once
}

func newSources(cfg Config) *sources {
	ss := &sources{resolver: source.NewResolver(source.NewHasher(), cfg.TrustedProxies), log: cfg.Log}
	switch n := cfg.MaxConnectionsPerSource; {
	case n == 0:
		ss.conns = source.NewCounter[source.Key](DefaultMaxConnectionsPerSource)
	case n > 0:
		ss.conns = source.NewCounter[source.Key](n)
	}
	return ss
}

// acquire is the source of r and whether it may open another connection;
// if so, release must follow when the connection ends.
func (ss *sources) acquire(r *http.Request) (k source.Key, ok bool) {
	k, why := ss.resolver.Request(r)
	if !k.Known() {
		if _, seen := ss.warned.LoadOrStore(why, struct{}{}); !seen {
			ss.log.Warn(why + "; per-source limits are off for its connections")
		}
		return k, true
	}
	return k, ss.conns == nil || ss.conns.Acquire(k)
}

func (ss *sources) release(k source.Key) {
	if k.Known() && ss.conns != nil {
		ss.conns.Release(k)
	}
}

// refuseConnection tells a client over its cap why, the way any other
// fatal error is told, so the app can say it.
func refuseConnection(ctx context.Context, conn *websocket.Conn) {
	const text = "too many connections from your network"
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = conn.Write(wctx, websocket.MessageText, signal.Encode(signal.ErrorMessage{Code: signal.CodeTooManyConnections, Message: text}))
	_ = conn.Close(session.CloseProtocolError, text)
}
