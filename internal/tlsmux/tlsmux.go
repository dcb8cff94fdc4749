// Package tlsmux serves HTTPS and TURN over TLS on one TCP port, so an
// operator opens only 443/tcp: every connection does its TLS handshake
// here, and what it negotiated (ALPN) or, without ALPN, the first bytes it
// sends tell HTTP from TURN. The two kinds come out of two net.Listeners,
// one for http.Server.Serve and one for a TURN server.
//
// It knows nothing of certificates (the tls.Config comes from outside) nor
// of what HTTP or TURN do with their connections.
package tlsmux

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"
)

// ALPN protocol IDs the mux decides by.
const (
	ALPNHTTP2    = "h2"
	ALPNHTTP11   = "http/1.1"
	ALPNTURN     = "stun.turn"  // RFC 7443; browsers send no ALPN for TURN
	ALPNACMETLS1 = "acme-tls/1" // RFC 8737: the handshake alone answers the challenge
)

// Options tune the mux; the zero value gets the defaults.
type Options struct {
	// HandshakeTimeout bounds a TLS handshake, from accept to finished.
	// Default 10 s: a browser's handshake takes a few round trips.
	HandshakeTimeout time.Duration
	// SniffTimeout bounds the wait for the first bytes of a connection
	// that negotiated no ALPN (TURN clients, old HTTP clients); one that
	// stays silent that long is closed. Default 10 s, as long as
	// net/http's ReadHeaderTimeout in our server and the HTTP/2 preface
	// timeout that guard connections which did negotiate ALPN.
	SniffTimeout time.Duration
	// MaxPending caps connections accepted but not yet handed to a side
	// (in handshake or sniff). At the cap, accepting waits and new
	// connections queue in the kernel's backlog: a burst is slowed, not
	// refused, and a flood of silent connections costs a bounded amount
	// of memory (a few tens of KiB each). Default 1024.
	MaxPending int
	// Log gets debug lines about refused connections, never an address.
	Log *slog.Logger
}

// Defaults fills in zero fields.
func (o *Options) Defaults() {
	if o.HandshakeTimeout == 0 {
		o.HandshakeTimeout = 10 * time.Second
	}
	if o.SniffTimeout == 0 {
		o.SniffTimeout = 10 * time.Second
	}
	if o.MaxPending == 0 {
		o.MaxPending = 1024
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Validate reports options that cannot work.
func (o Options) Validate() error {
	if o.HandshakeTimeout < 0 || o.SniffTimeout < 0 {
		return errors.New("tlsmux: timeouts must not be negative")
	}
	if o.MaxPending < 0 {
		return errors.New("tlsmux: MaxPending must not be negative")
	}
	return nil
}

// Mux owns the TCP listener and hands out its connections.
type Mux struct {
	ln   net.Listener
	tls  *tls.Config
	opts Options
	http *listener
	turn *listener

	slots  chan struct{} // one per pending connection
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loop and every pending connection

	mu      sync.Mutex
	pending map[net.Conn]struct{} // closed by Close to end their wait
	err     error                 // why accepting stopped

	closeOnce sync.Once
	closeErr  error
}

// New starts serving ln with cfg. The returned Mux owns ln: closing both
// of its listeners, or the Mux, closes ln. A server without TURN closes
// TURN() at once, which closes TURN connections as they come.
//
// cfg must offer "h2" and "http/1.1" in NextProtos for HTTP/2 (the mux
// adds "stun.turn"); the *tls.Conn of a connection that negotiated one of
// them goes to HTTP untouched, so net/http sees a real TLS connection and
// serves HTTP/2 and r.TLS as it does on its own TLS listener.
func New(ln net.Listener, cfg *tls.Config, opts Options) (*Mux, error) {
	opts.Defaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, errors.New("tlsmux: no tls.Config")
	}
	cfg = cfg.Clone()
	if !slices.Contains(cfg.NextProtos, ALPNTURN) {
		// A client that offers only stun.turn must not fail the handshake
		// for want of a common protocol (crypto/tls refuses then).
		// (Clip: Clone shares the slice, and the caller's must not change.)
		cfg.NextProtos = append(slices.Clip(cfg.NextProtos), ALPNTURN)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Mux{ln: ln, tls: cfg, opts: opts, slots: make(chan struct{}, opts.MaxPending),
		ctx: ctx, cancel: cancel, pending: make(map[net.Conn]struct{})}
	m.http = newListener(m)
	m.turn = newListener(m)
	m.wg.Add(1)
	go m.acceptLoop()
	return m, nil
}

// HTTP is the listener of HTTPS connections, for http.Server.Serve.
func (m *Mux) HTTP() net.Listener { return m.http }

// TURN is the listener of TURN-over-TLS connections.
func (m *Mux) TURN() net.Listener { return m.turn }

// Addr is the address of the TCP listener.
func (m *Mux) Addr() net.Addr { return m.ln.Addr() }

// Close stops accepting, closes every connection not yet handed out,
// ends both listeners and waits for the mux's goroutines. Connections
// already handed out belong to their server and stay open.
func (m *Mux) Close() error {
	m.closeOnce.Do(func() {
		m.cancel()
		m.closeErr = m.ln.Close()
		m.mu.Lock()
		for c := range m.pending {
			_ = c.Close()
		}
		m.mu.Unlock()
		m.wg.Wait()
		if errors.Is(m.closeErr, net.ErrClosed) {
			m.closeErr = nil // the accept loop closed it already
		}
	})
	return m.closeErr
}

// sideClosed closes the mux once nobody is left to take its connections.
func (m *Mux) sideClosed() {
	if m.http.isClosed() && m.turn.isClosed() {
		_ = m.Close()
	}
}

func (m *Mux) acceptLoop() {
	defer m.wg.Done()
	var backoff time.Duration
	for {
		select {
		case m.slots <- struct{}{}:
		case <-m.ctx.Done():
			return
		}
		c, err := m.ln.Accept()
		if err != nil {
			<-m.slots
			if m.ctx.Err() != nil {
				return // Close
			}
			if isTemporary(err) {
				// Out of file descriptors and the like: wait, as
				// net/http does, instead of spinning or giving up.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				select {
				case <-time.After(backoff):
					continue
				case <-m.ctx.Done():
					return
				}
			}
			m.stop(err)
			return
		}
		backoff = 0
		if !m.track(c) {
			<-m.slots
			_ = c.Close()
			return
		}
		m.wg.Add(1)
		go m.serveConn(c)
	}
}

// stop records why accepting ended and wakes both listeners.
func (m *Mux) stop(err error) {
	m.mu.Lock()
	if m.err == nil {
		m.err = fmt.Errorf("tlsmux: accept: %w", err)
	}
	m.mu.Unlock()
	m.cancel()
	_ = m.ln.Close()
}

func (m *Mux) acceptErr() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	return net.ErrClosed
}

// track registers a pending connection, unless the mux is closing.
func (m *Mux) track(c net.Conn) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx.Err() != nil {
		return false
	}
	m.pending[c] = struct{}{}
	return true
}

func (m *Mux) untrack(c net.Conn) {
	m.mu.Lock()
	delete(m.pending, c)
	m.mu.Unlock()
}

// serveConn does the handshake, decides the side and hands the connection
// over. It runs in a goroutine of its own, so a slow client holds only its
// own slot, never the accept loop.
func (m *Mux) serveConn(raw net.Conn) {
	defer m.wg.Done()
	defer func() { <-m.slots }()

	conn, side, stage, err := m.classify(raw)
	// From here on a closing mux is noticed by deliver, which closes the
	// connection it could not hand over.
	m.untrack(raw)
	if err != nil {
		m.opts.Log.Debug("tlsmux: connection closed", "stage", stage, "reason", reason(err))
		_ = raw.Close()
		return
	}
	if side == nil {
		_ = raw.Close() // a TLS-ALPN-01 validation: the handshake was all
		return
	}
	side.deliver(conn)
}

// classify returns the connection to hand over and its side; a nil side
// with no error means the connection has done its job. On error, stage
// says where it failed.
func (m *Mux) classify(raw net.Conn) (conn net.Conn, side *listener, stage string, err error) {
	tc := tls.Server(raw, m.tls)
	_ = raw.SetDeadline(time.Now().Add(m.opts.HandshakeTimeout))
	if err := tc.HandshakeContext(m.ctx); err != nil {
		return nil, nil, "handshake", err
	}
	switch tc.ConnectionState().NegotiatedProtocol {
	case ALPNHTTP2, ALPNHTTP11:
		// The protocol is settled; net/http needs this very *tls.Conn
		// for HTTP/2, so nothing may be read from it here.
		_ = raw.SetDeadline(time.Time{})
		return tc, m.http, "", nil
	case ALPNTURN:
		_ = raw.SetDeadline(time.Time{})
		return tc, m.turn, "", nil
	case ALPNACMETLS1:
		return nil, nil, "", nil
	}
	_ = raw.SetDeadline(time.Now().Add(m.opts.SniffTimeout))
	head, kind, err := sniff(tc)
	if err != nil {
		return nil, nil, "first bytes", err
	}
	_ = raw.SetDeadline(time.Time{})
	c := &sniffedConn{Conn: tc, head: head}
	if kind == kindTURN {
		return c, m.turn, "", nil
	}
	return c, m.http, "", nil
}

// reason is err without the addresses that a *net.OpError names: the
// log never holds a client's address.
func reason(err error) string {
	var op *net.OpError
	if errors.As(err, &op) {
		return op.Op + ": " + op.Err.Error()
	}
	return err.Error()
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}
