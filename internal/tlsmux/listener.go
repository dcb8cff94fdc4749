package tlsmux

import (
	"net"
	"sync"
)

// listener is one side of the mux: the connections classified for it.
type listener struct {
	m      *Mux
	conns  chan net.Conn // unbuffered: a connection waits, holding its slot, until taken
	closed chan struct{}
	once   sync.Once
}

func newListener(m *Mux) *listener {
	return &listener{m: m, conns: make(chan net.Conn), closed: make(chan struct{})}
}

// Accept waits for the next connection of this side.
func (l *listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-l.m.ctx.Done():
		return nil, l.m.acceptErr()
	}
}

// Close ends this side: its connections are closed from now on. When
// both sides are closed, the mux closes.
func (l *listener) Close() error {
	l.once.Do(func() {
		close(l.closed)
		l.m.sideClosed()
	})
	return nil
}

// Addr is the address of the shared TCP listener.
func (l *listener) Addr() net.Addr { return l.m.ln.Addr() }

func (l *listener) isClosed() bool {
	select {
	case <-l.closed:
		return true
	default:
		return false
	}
}

// deliver hands c to whoever accepts next, or closes it if nobody will.
func (l *listener) deliver(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.closed:
		_ = c.Close()
	case <-l.m.ctx.Done():
		_ = c.Close()
	}
}
