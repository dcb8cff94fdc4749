package netsim

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// udpConn is a real UDP socket whose every packet passes the host's rules.
// It wraps rather than embeds *net.UDPConn, so no method of the socket can
// bypass them.
type udpConn struct {
	n     *Net
	c     *net.UDPConn
	local netip.Addr
}

// ReadFrom reads the next packet that the link lets through.
func (u *udpConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := u.ReadFromUDP(p)
	if addr == nil {
		return n, nil, err // not a typed nil in the interface
	}
	return n, addr, err
}

// ReadFromUDP reads the next packet that the link lets through.
func (u *udpConn) ReadFromUDP(p []byte) (int, *net.UDPAddr, error) {
	for {
		n, addr, err := u.c.ReadFromUDP(p)
		if err != nil || u.n.pass(u.local, in) {
			return n, addr, err
		}
	}
}

// ReadMsgUDP reads the next packet that the link lets through.
func (u *udpConn) ReadMsgUDP(p, oob []byte) (n, oobn, flags int, addr *net.UDPAddr, err error) {
	for {
		n, oobn, flags, addr, err = u.c.ReadMsgUDP(p, oob)
		if err != nil || u.n.pass(u.local, in) {
			return n, oobn, flags, addr, err
		}
	}
}

// Read reads the next packet that the link lets through (connected socket).
func (u *udpConn) Read(p []byte) (int, error) {
	for {
		n, err := u.c.Read(p)
		if err != nil || u.n.pass(u.local, in) {
			return n, err
		}
	}
}

// WriteTo sends p unless the link drops it; a dropped packet counts as sent.
func (u *udpConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if !u.n.pass(u.local, out) {
		return len(p), nil
	}
	return u.c.WriteTo(p, addr)
}

// WriteToUDP sends p unless the link drops it.
func (u *udpConn) WriteToUDP(p []byte, addr *net.UDPAddr) (int, error) {
	if !u.n.pass(u.local, out) {
		return len(p), nil
	}
	return u.c.WriteToUDP(p, addr)
}

// WriteMsgUDP sends p unless the link drops it.
func (u *udpConn) WriteMsgUDP(p, oob []byte, addr *net.UDPAddr) (n, oobn int, err error) {
	if !u.n.pass(u.local, out) {
		return len(p), len(oob), nil
	}
	return u.c.WriteMsgUDP(p, oob, addr)
}

// Write sends p unless the link drops it (connected socket).
func (u *udpConn) Write(p []byte) (int, error) {
	if !u.n.pass(u.local, out) {
		return len(p), nil
	}
	return u.c.Write(p)
}

func (u *udpConn) Close() error                       { return u.c.Close() }
func (u *udpConn) LocalAddr() net.Addr                { return u.c.LocalAddr() }
func (u *udpConn) RemoteAddr() net.Addr               { return u.c.RemoteAddr() }
func (u *udpConn) SetDeadline(t time.Time) error      { return u.c.SetDeadline(t) }
func (u *udpConn) SetReadDeadline(t time.Time) error  { return u.c.SetReadDeadline(t) }
func (u *udpConn) SetWriteDeadline(t time.Time) error { return u.c.SetWriteDeadline(t) }
func (u *udpConn) SetReadBuffer(bytes int) error      { return u.c.SetReadBuffer(bytes) }
func (u *udpConn) SetWriteBuffer(bytes int) error     { return u.c.SetWriteBuffer(bytes) }

// tcpConn is a real TCP connection that stalls while the link would drop
// its packets: writes wait, and what arrives is held until the link carries
// it. Deadlines apply to the real connection only, not to a stalled wait;
// Close ends every wait.
type tcpConn struct {
	net.Conn
	n         *Net
	local     netip.Addr
	closed    chan struct{}
	closeOnce sync.Once
}

func (c *tcpConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if werr := c.wait(); werr != nil {
		return 0, werr
	}
	return n, err
}

func (c *tcpConn) Write(p []byte) (int, error) {
	if err := c.wait(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func (c *tcpConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// wait blocks until the link carries this connection's data, or Close.
func (c *tcpConn) wait() error {
	for {
		ok, changed := c.n.open(c.local)
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-c.closed:
			return net.ErrClosed
		}
	}
}
