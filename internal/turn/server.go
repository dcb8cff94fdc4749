// Package turn is Plausch's built-in TURN server (RFC 8656, on pion/turn),
// for participants whose network lets no UDP through: it relays their
// media over UDP, TCP or TLS to the SFU.
//
// What it adds to pion: short-lived per-participant credentials (the TURN
// REST scheme, which coturn also speaks), a relay guard that keeps relayed
// packets away from the server's own services and private networks
// (guard.go), per-user quotas on allocations and per-allocation bitrate,
// the end of a participant's allocations when it leaves (EndUser), and
// counters without personal data. It imports nothing of Plausch's: the
// server hands it sockets and asks it for credentials.
package turn

import (
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	pionturn "github.com/pion/turn/v5"
)

// ErrClosed is returned by ServeUDP and ServeTCP after Close.
var ErrClosed = errClosed

// Server is a TURN server. Its methods may be called from any goroutine.
type Server struct {
	cfg   Config
	reg   *registry
	guard *guard
	alloc *allocator
	stats serverCounters
	log   *slog.Logger

	mu     sync.Mutex
	closed bool
	pion   []*pionturn.Server
}

// New makes a server; it serves once given sockets (ServeUDP, ServeTCP).
func New(cfg Config) (*Server, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.RelayIP, cfg.ListenIP = clean(cfg.RelayIP), clean(cfg.ListenIP)
	if len(cfg.Secret) == 0 {
		cfg.Secret = make([]byte, 32)
		_, _ = rand.Read(cfg.Secret) // never fails (crypto/rand)
	} else {
		cfg.Secret = append([]byte(nil), cfg.Secret...)
	}
	selfIPs := cfg.SelfIPs
	if selfIPs == nil {
		var err error
		if selfIPs, err = interfaceIPs(); err != nil {
			return nil, err
		}
	}
	s := &Server{cfg: cfg, reg: newRegistry(cfg.MaxAllocationsPerUser), log: cfg.Log}
	s.guard = newGuard(&s.cfg, selfIPs, s.reg.relayPort)
	network := "udp4"
	if cfg.RelayIP.Is6() {
		network = "udp6"
	}
	s.alloc = &allocator{
		network: network, relayIP: cfg.RelayIP, listenIP: cfg.ListenIP, ports: cfg.RelayPorts,
		bitrate: cfg.MaxBitrate, guard: s.guard, reg: s.reg, stats: &s.stats,
	}
	return s, nil
}

// interfaceIPs are the machine's own addresses.
func interfaceIPs() ([]netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("turn: own addresses: %w", err)
	}
	var ips []netip.Addr
	for _, a := range addrs {
		if p, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(p.IP); ok {
				ips = append(ips, clean(ip))
			}
		}
	}
	return ips, nil
}

// ServeUDP answers TURN on pc (the TURN port's UDP socket) until Close,
// which closes pc. It returns at once.
func (s *Server) ServeUDP(pc net.PacketConn) error {
	return s.start(func(c *pionturn.ServerConfig) {
		c.PacketConnConfigs = []pionturn.PacketConnConfig{{
			PacketConn: pc, RelayAddressGenerator: s.alloc, PermissionHandler: s.permit,
		}}
	}, pc)
}

// ServeTCP answers TURN on every connection ln accepts until Close, which
// closes ln and the connections. Any listener of stream connections will
// do: plain TCP on the TURN port, or one that hands over TLS connections
// (already handshaken or not) carrying TURN, such as the HTTPS port's
// demultiplexer. ln must return an error wrapping net.ErrClosed once
// closed. It returns at once.
func (s *Server) ServeTCP(ln net.Listener) error {
	sl := newStreamListener(ln, s.reg, s.cfg.IdleTimeout)
	return s.start(func(c *pionturn.ServerConfig) {
		c.ListenerConfigs = []pionturn.ListenerConfig{{
			Listener: sl, RelayAddressGenerator: s.alloc, PermissionHandler: s.permit,
		}}
	}, sl)
}

// start runs one pion server for one socket, so that sockets can be added
// at any time (the TLS one arrives with the HTTPS server).
func (s *Server) start(set func(*pionturn.ServerConfig), sock interface{ Close() error }) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = sock.Close()
		return ErrClosed
	}
	c := pionturn.ServerConfig{
		Realm:        s.cfg.Realm,
		AuthHandler:  s.authenticate,
		QuotaHandler: s.quota,
		EventHandler: s.events(),
		// A client that names no address family gets the relay's; an IPv4
		// relay serves IPv6 clients too (pion would otherwise follow the
		// listening socket's family and refuse them).
		StrictAddressFamily: s.cfg.RelayIP.Is4(),
		LoggerFactory:       discardLogs{},
	}
	set(&c)
	p, err := pionturn.NewServer(c)
	if err != nil {
		_ = sock.Close()
		return fmt.Errorf("turn: %w", err)
	}
	s.pion = append(s.pion, p)
	return nil
}

// permit is pion's PermissionHandler: the relay guard, for permissions and
// channel binds.
func (s *Server) permit(_ net.Addr, peer net.IP) bool {
	ip, ok := netip.AddrFromSlice(peer)
	r := reserved
	if ok {
		r = s.guard.peerIP(ip)
	}
	if r != allowed {
		s.stats.permissionsRefused.Add(1)
		s.log.Debug("turn: peer refused", "reason", r.String())
		return false
	}
	return true
}

// quota is pion's QuotaHandler; refusing here gets the client a 486
// (Allocation Quota Reached).
func (s *Server) quota(user, _ string, _ net.Addr) bool {
	if s.reg.underQuota(user) {
		return true
	}
	s.stats.quotaRefused.Add(1)
	s.log.Debug("turn: allocation refused: quota reached")
	return false
}

// events follow allocations to the connections that carry them and
// permissions to their relay sockets, and count authentications that
// failed on the password.
func (s *Server) events() pionturn.EventHandler {
	return pionturn.EventHandler{
		OnAuth: func(_, _ net.Addr, _, _, _, _ string, verdict bool) {
			if !verdict {
				s.stats.authFailures.Add(1)
			}
		},
		OnAllocationCreated: func(src, dst net.Addr, _, user, _ string, _ net.Addr, _ int) {
			s.reg.allocated(src, dst, user, 1)
		},
		OnAllocationDeleted: func(src, dst net.Addr, _, user, _ string) {
			s.reg.allocated(src, dst, user, -1)
		},
		OnPermissionCreated: func(_, _ net.Addr, _, _, _ string, relay net.Addr, peer net.IP) {
			s.permitted(relay, peer, true)
		},
		OnPermissionDeleted: func(_, _ net.Addr, _, _, _ string, relay net.Addr, peer net.IP) {
			s.permitted(relay, peer, false)
		},
	}
}

// permitted passes a permission pion made or removed to its relay socket.
func (s *Server) permitted(relay net.Addr, peer net.IP, on bool) {
	ip, ok := netip.AddrFromSlice(peer)
	if c := s.reg.relay(relay); c != nil && ok {
		c.permit(ip, on)
	}
}

// EndUser ends user's allocations, closes the TCP and TLS connections
// that carry them, and refuses user's credentials from now on (until
// Credentials is called for user again): call it when a participant has
// left for good.
func (s *Server) EndUser(user string) {
	if user == "" {
		return
	}
	now := time.Now()
	relays, streams := s.reg.revoke(user, now, now.Add(s.cfg.CredentialTTL))
	for _, c := range relays {
		_ = c.Close() // pion deletes the allocation when its read fails
	}
	for _, c := range streams {
		_ = c.Close()
	}
	if len(relays) > 0 {
		s.log.Debug("turn: allocations ended", "allocations", len(relays))
	}
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	live, c := s.reg.stats()
	return Stats{
		Allocations:        live,
		AllocationsTotal:   s.stats.allocations.Load(),
		BytesToPeers:       c.bytesOut,
		BytesFromPeers:     c.bytesIn,
		PacketsToPeers:     c.pktsOut,
		PacketsFromPeers:   c.pktsIn,
		GuardDropped:       c.guardDrops,
		RateDropped:        c.rateDrops,
		PermissionsRefused: s.stats.permissionsRefused.Load(),
		QuotaRefused:       s.stats.quotaRefused.Load(),
		AuthFailures:       s.stats.authFailures.Load(),
	}
}

// Close stops serving and closes every socket and connection it was given
// or opened. Pion's goroutines end as their sockets fail. Calls after the
// first return nil.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	servers := s.pion
	s.mu.Unlock()

	var errs []error
	for _, p := range servers {
		if err := p.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	relays, streams := s.reg.close()
	for _, c := range relays {
		_ = c.Close()
	}
	for _, c := range streams {
		_ = c.Close()
	}
	if len(errs) > 0 {
		return fmt.Errorf("turn: close: %w", errors.Join(errs...))
	}
	return nil
}
