package turn

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	pionturn "github.com/pion/turn/v5"
	"golang.org/x/time/rate"
)

// minBitrate is the lowest MaxBitrate accepted: one Opus stream with room.
const minBitrate = 64_000

// portTries is how many random ports of RelayPorts are tried before an
// allocation fails for want of a free one.
const portTries = 32

var (
	errNoUser     = errors.New("turn: allocation without a user (EVEN-PORT is not offered)")
	errFamily     = errors.New("turn: relay address family not offered")
	errPort       = errors.New("turn: requested relay ports are not offered")
	errTCPRelay   = errors.New("turn: TCP relaying (RFC 6062) is not offered")
	errNoFreePort = errors.New("turn: no free relay port")
	errNotUDPAddr = errors.New("turn: peer address is not UDP")
)

// allocator is the pion RelayAddressGenerator: it opens a relay socket per
// allocation and hands pion a relayConn around it, which applies the guard
// and the bitrate limit to every packet, counts, and registers the socket
// under its user for the quota and EndUser.
type allocator struct {
	network  string // udp4 or udp6, from RelayIP
	relayIP  netip.Addr
	listenIP netip.Addr
	ports    [2]uint16
	bitrate  int64 // bits/s per direction; -1: none
	guard    *guard
	reg      *registry
	stats    *serverCounters
}

var _ pionturn.RelayAddressGenerator = (*allocator)(nil)

// Validate implements pionturn.RelayAddressGenerator; Config.Validate has
// done the work.
func (a *allocator) Validate() error { return nil }

// AllocatePacketConn implements pionturn.RelayAddressGenerator.
func (a *allocator) AllocatePacketConn(c pionturn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	switch {
	case c.UserID == "":
		// Pion probes for an even port by allocating without a user, up
		// to 128 sockets per request: not offered (browsers don't ask).
		return nil, nil, errNoUser
	case c.Network != a.network:
		return nil, nil, fmt.Errorf("%w: %s", errFamily, c.Network)
	case c.RequestedPort != 0:
		return nil, nil, errPort
	}
	udp, err := a.listen()
	if err != nil {
		return nil, nil, err
	}
	port := uint16(udp.LocalAddr().(*net.UDPAddr).Port)
	rc := &relayConn{conn: udp, user: c.UserID, port: port, v4: a.relayIP.Is4(), guard: a.guard, reg: a.reg}
	if a.bitrate > 0 {
		rc.out, rc.in = newLimiter(a.bitrate), newLimiter(a.bitrate)
	}
	if err := a.reg.add(rc); err != nil {
		if errors.Is(err, errQuota) {
			a.stats.quotaRefused.Add(1)
		}
		_ = udp.Close()
		return nil, nil, err
	}
	a.stats.allocations.Add(1)
	return rc, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a.relayIP, port)), nil
}

// AllocateListener implements pionturn.RelayAddressGenerator: TCP
// allocations are refused; browsers relay UDP only (over any transport).
func (a *allocator) AllocateListener(pionturn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, errTCPRelay
}

// AllocateConn implements pionturn.RelayAddressGenerator; see
// AllocateListener.
func (a *allocator) AllocateConn(pionturn.AllocateConnConfig) (net.Conn, error) {
	return nil, errTCPRelay
}

// listen opens a relay socket on a free port of the range.
func (a *allocator) listen() (*net.UDPConn, error) {
	lo, hi := int(a.ports[0]), int(a.ports[1])
	if lo == 0 {
		return a.listenOn(0)
	}
	for range min(portTries, hi-lo+1) {
		c, err := a.listenOn(lo + rand.IntN(hi-lo+1))
		if err == nil {
			return c, nil
		}
	}
	return nil, errNoFreePort
}

func (a *allocator) listenOn(port int) (*net.UDPConn, error) {
	c, err := net.ListenUDP(a.network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a.listenIP, uint16(port))))
	if err != nil {
		return nil, fmt.Errorf("turn: relay socket: %w", err)
	}
	return c, nil
}

// newLimiter allows bits per second, with a burst of a quarter second (a
// keyframe) but never less than a few full packets.
func newLimiter(bits int64) *rate.Limiter {
	perSec := float64(bits) / 8
	return rate.NewLimiter(rate.Limit(perSec), max(int(perSec/4), 16<<10))
}

// relayConn is one allocation's relay socket as pion sees it. WriteTo
// carries the client's packets to peers, ReadFrom the peers' to the
// client; pion calls each from one goroutine.
type relayConn struct {
	conn    *net.UDPConn
	user    string
	port    uint16
	v4      bool
	guard   *guard
	reg     *registry
	out, in *rate.Limiter // nil: no limit
	counts  atomicCounters

	// permitted are the peer IPs pion holds a permission for, from its
	// events: packets from anyone else are dropped before they can spend
	// the allocation's bitrate (pion would drop them anyway). Copied on
	// write, read without a lock.
	permitted atomic.Pointer[map[netip.Addr]struct{}]
	permMu    sync.Mutex

	closeOnce sync.Once
	closeErr  error
}

var _ net.PacketConn = (*relayConn)(nil)

// WriteTo sends to a peer, if the guard and the bitrate allow; a dropped
// packet reports success, as UDP loss does.
func (c *relayConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, errNotUDPAddr
	}
	ap := ua.AddrPort()
	if c.v4 {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if c.guard.peer(ap) != allowed {
		c.counts.guardDrops.Add(1)
		return len(p), nil
	}
	if c.out != nil && !c.out.AllowN(time.Now(), len(p)) {
		c.counts.rateDrops.Add(1)
		return len(p), nil
	}
	n, err := c.conn.WriteToUDPAddrPort(p, ap)
	if err != nil {
		return n, err
	}
	c.counts.pktsOut.Add(1)
	c.counts.bytesOut.Add(uint64(n))
	return n, nil
}

// ReadFrom returns the next packet from a peer that the guard and the
// bitrate allow, dropping the others.
func (c *relayConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, ap, err := c.conn.ReadFromUDPAddrPort(p)
		if err != nil {
			return n, nil, err
		}
		if !c.isPermitted(ap.Addr()) {
			continue
		}
		if c.guard.peer(ap) != allowed {
			c.counts.guardDrops.Add(1)
			continue
		}
		if c.in != nil && !c.in.AllowN(time.Now(), n) {
			c.counts.rateDrops.Add(1)
			continue
		}
		c.counts.pktsIn.Add(1)
		c.counts.bytesIn.Add(uint64(n))
		return n, net.UDPAddrFromAddrPort(ap), nil
	}
}

// permit records that pion made (on) or removed a permission for ip.
func (c *relayConn) permit(ip netip.Addr, on bool) {
	ip = clean(ip)
	c.permMu.Lock()
	defer c.permMu.Unlock()
	next := map[netip.Addr]struct{}{}
	if cur := c.permitted.Load(); cur != nil {
		maps.Copy(next, *cur)
	}
	if on {
		next[ip] = struct{}{}
	} else {
		delete(next, ip)
	}
	c.permitted.Store(&next)
}

func (c *relayConn) isPermitted(ip netip.Addr) bool {
	m := c.permitted.Load()
	if m == nil {
		return false
	}
	_, ok := (*m)[clean(ip)]
	return ok
}

// Close closes the socket once; pion then deletes the allocation (its
// reading goroutine ends on the error). Later calls return the first
// result, so that pion's closing of all allocations is not cut short.
func (c *relayConn) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.conn.Close()
		c.reg.remove(c)
	})
	return c.closeErr
}

// LocalAddr implements net.PacketConn.
func (c *relayConn) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// SetDeadline implements net.PacketConn.
func (c *relayConn) SetDeadline(t time.Time) error { return c.conn.SetDeadline(t) }

// SetReadDeadline implements net.PacketConn.
func (c *relayConn) SetReadDeadline(t time.Time) error { return c.conn.SetReadDeadline(t) }

// SetWriteDeadline implements net.PacketConn.
func (c *relayConn) SetWriteDeadline(t time.Time) error { return c.conn.SetWriteDeadline(t) }
