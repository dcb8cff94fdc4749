package turn

import (
	"errors"
	"net"
	"sync"
	"time"
)

// TURN over TCP and TLS: pion reads TURN from any net.Listener of stream
// connections. The wrappers here add what pion leaves out: an accept loop
// that survives running out of file descriptors, an idle limit for
// connections that hold no allocation, a way to close a user's
// connections (EndUser), and closing every connection on Close (pion
// closes only the listener).

// streamListener wraps a listener handed to ServeTCP.
type streamListener struct {
	net.Listener
	reg       *registry
	idle      time.Duration
	done      chan struct{}
	closeOnce sync.Once
}

func newStreamListener(ln net.Listener, reg *registry, idle time.Duration) *streamListener {
	return &streamListener{Listener: ln, reg: reg, idle: idle, done: make(chan struct{})}
}

// Accept returns the next connection. Pion's accept loop ends for good
// on any error, so errors other than a closed listener (too many open
// files, say) are waited out here, as net/http does.
func (l *streamListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
				continue
			case <-l.done:
				t.Stop()
				return nil, net.ErrClosed
			}
		}
		s := newStreamConn(c, l.reg, l.idle)
		if err := l.reg.addStream(s); err != nil {
			_ = c.Close()
			return nil, net.ErrClosed
		}
		return s, nil
	}
}

// Close implements net.Listener.
func (l *streamListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// streamConn is one TCP or TLS connection carrying TURN.
type streamConn struct {
	net.Conn
	key  string
	reg  *registry
	idle time.Duration

	mu     sync.Mutex
	user   string // of the allocation it carries, once it has one
	allocs int

	closeOnce sync.Once
	closeErr  error
}

func newStreamConn(c net.Conn, reg *registry, idle time.Duration) *streamConn {
	s := &streamConn{Conn: c, key: streamKey(c.RemoteAddr(), c.LocalAddr()), reg: reg, idle: idle}
	// Until it allocates. A conn that cannot take deadlines lives on.
	_ = c.SetReadDeadline(time.Now().Add(idle))
	return s
}

// streamKey names a connection as pion's allocation events do: by the
// client's address and the server's.
func streamKey(src, dst net.Addr) string {
	if src == nil || dst == nil {
		return ""
	}
	return src.Network() + " " + src.String() + " " + dst.String()
}

// allocated counts an allocation made (delta 1) or deleted (-1) on this
// connection: while it has one, no idle limit applies.
func (s *streamConn) allocated(user string, delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allocs += delta
	if delta > 0 {
		s.user = user
	}
	// Under the lock, so that a creation and a deletion racing cannot set
	// their deadlines in the wrong order.
	if s.allocs > 0 {
		_ = s.Conn.SetReadDeadline(time.Time{})
	} else {
		_ = s.Conn.SetReadDeadline(time.Now().Add(s.idle))
	}
}

// belongsTo says whether the connection carries an allocation of user.
func (s *streamConn) belongsTo(user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user == user
}

// Close implements net.Conn; pion closes it when its read loop ends, and
// EndUser and Server.Close may too.
func (s *streamConn) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.Conn.Close()
		s.reg.removeStream(s)
	})
	return s.closeErr
}
