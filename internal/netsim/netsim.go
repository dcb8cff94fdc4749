// Package netsim is an impaired network for tests with real peers: a Pion
// transport.Net over the host's own loopback sockets whose controller can
// drop a random share of the packets each way, cut the link for a while, or
// move the host to another loopback address. Pion's ICE agent runs on it
// unchanged (SettingEngine.SetNet), and DialContext carries a TCP
// connection (the signalling WebSocket) over the same link.
//
// The simulated host has one interface, the loopback one, with one IPv4
// address (127.0.0.1 at first; Linux routes all of 127.0.0.0/8 to lo, so
// 127.0.0.2 works without setup). Traffic never leaves the loopback range.
//
// The rules, checked per packet:
//   - A socket bound to an address the host no longer has is dead: what it
//     sends and what reaches it is dropped, as if the address were gone.
//     Moving back to that address brings the socket back.
//   - While the link is down, every packet is dropped.
//   - Otherwise a packet is dropped with the configured probability for its
//     direction, drawn from one RNG seeded in New. The draws are
//     reproducible for the same sequence of packets; with real peers that
//     sequence depends on timing, so runs differ in detail, not in rate.
//
// TCP cannot lose data, so a TCP connection stalls instead: while its
// packets would be dropped it delivers nothing either way, then carries on
// (data that arrived meanwhile is held, not lost). Closing a stalled
// connection still reaches the other side at once, since the kernel sends
// the FIN. Multicast sockets (mDNS) pass through unimpaired, IPv6 is not
// offered, and TCP listening is not supported.
package netsim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"

	"github.com/pion/transport/v5"
)

// startAddr is the address the host has at first.
var startAddr = netip.AddrFrom4([4]byte{127, 0, 0, 1})

// ErrNotLoopback is returned for an address outside 127.0.0.0/8.
var ErrNotLoopback = errors.New("netsim: not an IPv4 loopback address")

// Net is one simulated host. It implements transport.Net; its methods are
// safe for concurrent use.
type Net struct {
	lo net.Interface // the host's real loopback interface, for its name and flags

	mu      sync.Mutex
	rng     *rand.Rand
	loss    [2]float64 // by direction
	down    bool
	addr    netip.Addr
	changed chan struct{} // closed and replaced on every change of down or addr
	stats   Stats
}

// Stats counts packets by direction: those that went through and those
// dropped (by loss, a down link or a dead socket).
type Stats struct {
	Sent, DroppedOut    int
	Received, DroppedIn int
}

// LossOut is the share of outgoing packets dropped so far.
func (s Stats) LossOut() float64 { return share(s.DroppedOut, s.Sent) }

// LossIn is the share of incoming packets dropped so far.
func (s Stats) LossIn() float64 { return share(s.DroppedIn, s.Received) }

func share(dropped, passed int) float64 {
	if dropped+passed == 0 {
		return 0
	}
	return float64(dropped) / float64(dropped+passed)
}

type direction int

const (
	out direction = iota
	in
)

var _ transport.Net = (*Net)(nil)

// New makes a host at 127.0.0.1 whose random losses are drawn from seed.
func New(seed uint64) (*Net, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback != 0 && ifc.Flags&net.FlagUp != 0 {
			return &Net{lo: ifc, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), addr: startAddr,
				changed: make(chan struct{})}, nil
		}
	}
	return nil, errors.New("netsim: no loopback interface is up")
}

// SetLoss drops each packet sent with probability out and each packet
// received with probability in (0 to 1).
func (n *Net) SetLoss(out, in float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.loss = [2]float64{clamp(out), clamp(in)}
}

func clamp(p float64) float64 { return min(max(p, 0), 1) }

// SetDown cuts the link (true) or restores it (false).
func (n *Net) SetDown(down bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.down = down
	n.notify()
}

// SetAddress gives the host another loopback address, as after a network
// change: sockets and connections bound to the old one go dead, Interfaces
// reports the new one, and new sockets bind to it.
func (n *Net) SetAddress(a netip.Addr) error {
	if !a.Is4() || !a.IsLoopback() {
		return fmt.Errorf("%w: %v", ErrNotLoopback, a)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.addr = a
	n.notify()
	return nil
}

// Address is the host's address now.
func (n *Net) Address() netip.Addr {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addr
}

// Stats returns the packet counts so far.
func (n *Net) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.stats
}

// notify wakes everything waiting for a change; n.mu is held.
func (n *Net) notify() {
	close(n.changed)
	n.changed = make(chan struct{})
}

// pass decides the fate of one packet on a socket bound to local.
func (n *Net) pass(local netip.Addr, d direction) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	ok := !n.down && local == n.addr
	if ok && n.loss[d] > 0 {
		ok = n.rng.Float64() >= n.loss[d]
	}
	switch {
	case d == out && ok:
		n.stats.Sent++
	case d == out:
		n.stats.DroppedOut++
	case ok:
		n.stats.Received++
	default:
		n.stats.DroppedIn++
	}
	return ok
}

// open reports whether a connection bound to local can carry data now, and
// a channel closed at the next change.
func (n *Net) open(local netip.Addr) (bool, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.down && local == n.addr, n.changed
}

// bindAddr is where a socket asked to bind to ip goes: the host's address
// when unspecified, else ip itself, which must be the host's address.
func (n *Net) bindAddr(ip net.IP) (netip.Addr, error) {
	cur := n.Address()
	if len(ip) == 0 || ip.IsUnspecified() {
		return cur, nil
	}
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}, fmt.Errorf("netsim: bad address %v", ip)
	}
	if a = a.Unmap(); a != cur {
		return netip.Addr{}, fmt.Errorf("netsim: cannot bind %v: the host's address is %v", a, cur)
	}
	return a, nil
}

// Interfaces returns the loopback interface with the host's address.
func (n *Net) Interfaces() ([]*transport.Interface, error) {
	ifc := transport.NewInterface(n.lo)
	ifc.AddAddress(&net.IPNet{IP: n.Address().AsSlice(), Mask: net.CIDRMask(8, 32)})
	return []*transport.Interface{ifc}, nil
}

// InterfaceByIndex returns the loopback interface if index is its.
func (n *Net) InterfaceByIndex(index int) (*transport.Interface, error) {
	if index != n.lo.Index {
		return nil, fmt.Errorf("%w: index=%d", transport.ErrInterfaceNotFound, index)
	}
	ifs, _ := n.Interfaces()
	return ifs[0], nil
}

// InterfaceByName returns the loopback interface if name is its.
func (n *Net) InterfaceByName(name string) (*transport.Interface, error) {
	if name != n.lo.Name {
		return nil, fmt.Errorf("%w: %s", transport.ErrInterfaceNotFound, name)
	}
	ifs, _ := n.Interfaces()
	return ifs[0], nil
}

// ListenPacket listens on a UDP address (see ListenUDP).
func (n *Net) ListenPacket(network, address string) (net.PacketConn, error) {
	laddr, err := n.ResolveUDPAddr(network, address)
	if err != nil {
		return nil, err
	}
	c, err := n.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	if pc, ok := c.(net.PacketConn); ok {
		return pc, nil
	}
	_ = c.Close()
	return nil, transport.ErrNotSupported
}

// ListenUDP opens a UDP socket on the host's address (an unspecified
// address means it). A multicast address gets a plain, unimpaired socket.
func (n *Net) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	if laddr == nil {
		laddr = &net.UDPAddr{}
	}
	if laddr.IP.IsMulticast() {
		return net.ListenUDP(network, laddr)
	}
	if network == "udp6" {
		return nil, fmt.Errorf("netsim: %w: IPv6", transport.ErrNotSupported)
	}
	local, err := n.bindAddr(laddr.IP)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: local.AsSlice(), Port: laddr.Port})
	if err != nil {
		return nil, err
	}
	return &udpConn{n: n, c: c, local: local}, nil
}

// DialUDP opens a connected UDP socket from the host's address.
func (n *Net) DialUDP(network string, laddr, raddr *net.UDPAddr) (transport.UDPConn, error) {
	if network == "udp6" {
		return nil, fmt.Errorf("netsim: %w: IPv6", transport.ErrNotSupported)
	}
	var ip net.IP
	port := 0
	if laddr != nil {
		ip, port = laddr.IP, laddr.Port
	}
	local, err := n.bindAddr(ip)
	if err != nil {
		return nil, err
	}
	c, err := net.DialUDP("udp4", &net.UDPAddr{IP: local.AsSlice(), Port: port}, raddr)
	if err != nil {
		return nil, err
	}
	return &udpConn{n: n, c: c, local: local}, nil
}

// Dial connects over UDP or TCP from the host's address.
func (n *Net) Dial(network, address string) (net.Conn, error) {
	return n.DialContext(context.Background(), network, address)
}

// DialContext connects over UDP or TCP from the host's address. A TCP
// connection stalls whenever the link would drop its packets; dialing
// while the link is down waits for it (or ctx).
func (n *Net) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	switch network {
	case "udp", "udp4":
		raddr, err := n.ResolveUDPAddr(network, address)
		if err != nil {
			return nil, err
		}
		c, err := n.DialUDP("udp4", nil, raddr)
		if err != nil {
			return nil, err
		}
		return c.(net.Conn), nil
	case "tcp", "tcp4":
	default:
		return nil, fmt.Errorf("netsim: %w: network %q", transport.ErrNotSupported, network)
	}
	for {
		local := n.Address()
		ok, changed := n.open(local)
		if ok {
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: local.AsSlice()}}
			c, err := d.DialContext(ctx, "tcp4", address)
			if err != nil {
				return nil, err
			}
			return &tcpConn{Conn: c, n: n, local: local, closed: make(chan struct{})}, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// DialTCP is not supported: use Dial or DialContext.
func (n *Net) DialTCP(string, *net.TCPAddr, *net.TCPAddr) (transport.TCPConn, error) {
	return nil, fmt.Errorf("netsim: %w: DialTCP", transport.ErrNotSupported)
}

// ListenTCP is not supported.
func (n *Net) ListenTCP(string, *net.TCPAddr) (transport.TCPListener, error) {
	return nil, fmt.Errorf("netsim: %w: ListenTCP", transport.ErrNotSupported)
}

// ResolveIPAddr resolves as the standard library does.
func (n *Net) ResolveIPAddr(network, address string) (*net.IPAddr, error) {
	return net.ResolveIPAddr(network, address)
}

// ResolveUDPAddr resolves as the standard library does.
func (n *Net) ResolveUDPAddr(network, address string) (*net.UDPAddr, error) {
	return net.ResolveUDPAddr(network, address)
}

// ResolveTCPAddr resolves as the standard library does.
func (n *Net) ResolveTCPAddr(network, address string) (*net.TCPAddr, error) {
	return net.ResolveTCPAddr(network, address)
}

// CreateDialer returns a dialer over this host.
func (n *Net) CreateDialer(*net.Dialer) transport.Dialer { return dialer{n} }

// CreateListenConfig returns a listen config over this host (UDP only).
func (n *Net) CreateListenConfig(*net.ListenConfig) transport.ListenConfig { return listenConfig{n} }

type dialer struct{ n *Net }

func (d dialer) Dial(network, address string) (net.Conn, error) { return d.n.Dial(network, address) }

type listenConfig struct{ n *Net }

func (l listenConfig) Listen(context.Context, string, string) (net.Listener, error) {
	return nil, fmt.Errorf("netsim: %w: Listen", transport.ErrNotSupported)
}

func (l listenConfig) ListenPacket(_ context.Context, network, address string) (net.PacketConn, error) {
	return l.n.ListenPacket(network, address)
}
