package turn

import (
	"net/netip"
)

// The relay guard decides to which peers an allocation may relay. A TURN
// server relays from wherever it stands, so without a guard anyone with a
// credential could reach the server's loopback services, its private
// network, the cloud metadata endpoint or the server's own other ports.
//
// Pion asks per permission and channel bind, with the peer's IP only
// (PermissionHandler); the port rule for the server's own addresses is
// therefore applied to every packet, in both directions, by the relay
// socket (relayConn), which also repeats the IP check as a second line.
//
// Order: Own (exact address and port) is allowed; any other port on the
// server's own IPs is refused, except the relayed address of a live
// allocation; then Deny refuses; then Allow opens; then the built-in
// ranges below refuse; everything else is allowed.

// reason says why a peer was refused, for counters and logs (never the
// address itself).
type reason uint8

const (
	allowed  reason = iota
	self            // one of the server's own addresses, not a media port
	denied          // in Config.Deny
	reserved        // in a built-in refused range
)

func (r reason) String() string {
	return [...]string{"allowed", "server-address", "deny-list", "reserved-range"}[r]
}

// refused4 are the IPv4 ranges no browser is reached at.
var refused4 = prefixes(
	"0.0.0.0/8",       // "this network", unspecified
	"10.0.0.0/8",      // private
	"100.64.0.0/10",   // carrier-grade NAT
	"127.0.0.0/8",     // loopback
	"169.254.0.0/16",  // link-local, incl. the cloud metadata service 169.254.169.254
	"172.16.0.0/12",   // private
	"192.0.0.0/24",    // IETF protocol assignments (DS-Lite, NAT64 discovery)
	"192.0.2.0/24",    // documentation
	"192.88.99.0/24",  // 6to4 relay anycast, deprecated
	"192.168.0.0/16",  // private
	"198.18.0.0/15",   // benchmarking
	"198.51.100.0/24", // documentation
	"203.0.113.0/24",  // documentation
	"224.0.0.0/4",     // multicast
	"240.0.0.0/4",     // reserved, incl. the broadcast address 255.255.255.255
)

// IPv6 is allowed only inside global unicast (2000::/3; loopback,
// unspecified, ULA fc00::/7, link-local fe80::/10, site-local, multicast
// ff00::/8 and the discard prefix all lie outside it), less these ranges.
// NAT64 addresses (64:ff9b::/96) are judged by the IPv4 address inside:
// a NAT64 gateway would carry the packet there.
var (
	global6  = netip.MustParsePrefix("2000::/3")
	nat64    = netip.MustParsePrefix("64:ff9b::/96")
	refused6 = prefixes(
		"2001::/23",     // IETF protocol assignments: Teredo (which embeds an IPv4 address), benchmarking, ORCHID
		"2001:db8::/32", // documentation
		"2002::/16",     // 6to4: carried to the IPv4 address inside, deprecated
		"3fff::/20",     // documentation
	)
)

func prefixes(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

// guard holds the rules; it is read-only after New, except for the live
// relay ports it asks registry about.
type guard struct {
	own     map[netip.AddrPort]struct{}
	ownIPs  map[netip.Addr]struct{}
	self    map[netip.Addr]struct{}
	relayIP netip.Addr
	allow   []netip.Prefix
	deny    []netip.Prefix
	// relayPort says whether a port is a live relay socket's, so that two
	// participants who both relay can reach each other's relayed address.
	relayPort func(uint16) bool
}

func newGuard(cfg *Config, selfIPs []netip.Addr, relayPort func(uint16) bool) *guard {
	g := &guard{
		own:       map[netip.AddrPort]struct{}{},
		ownIPs:    map[netip.Addr]struct{}{},
		self:      map[netip.Addr]struct{}{},
		relayIP:   clean(cfg.RelayIP),
		allow:     unmapAll(cfg.Allow),
		deny:      unmapAll(cfg.Deny),
		relayPort: relayPort,
	}
	for _, o := range cfg.Own {
		a := netip.AddrPortFrom(clean(o.Addr()), o.Port())
		g.own[a] = struct{}{}
		g.ownIPs[a.Addr()] = struct{}{}
		g.self[a.Addr()] = struct{}{}
	}
	for _, ip := range append(selfIPs, cfg.RelayIP, cfg.ListenIP) {
		if ip = clean(ip); ip.IsValid() && !ip.IsUnspecified() {
			g.self[ip] = struct{}{}
		}
	}
	return g
}

// clean drops the zone and the IPv4-mapped form, so that ::ffff:10.0.0.1
// is judged as 10.0.0.1.
func clean(ip netip.Addr) netip.Addr { return ip.Unmap().WithZone("") }

func unmapAll(ps []netip.Prefix) []netip.Prefix {
	out := make([]netip.Prefix, len(ps))
	for i, p := range ps {
		// A prefix written as ::ffff:10.0.0.0/104 means 10.0.0.0/8.
		if a := p.Addr(); a.Is4In6() {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out[i] = p.Masked()
	}
	return out
}

// peerIP judges a permission or channel bind, which names an IP only. An
// own IP passes here when some port of it may be reached (a media port,
// or the relay IP's live relay ports); peer then judges every packet.
func (g *guard) peerIP(ip netip.Addr) reason {
	ip = clean(ip)
	if _, ok := g.ownIPs[ip]; ok || ip == g.relayIP {
		return allowed
	}
	return g.policy(ip)
}

// peer judges one packet to or from a peer.
func (g *guard) peer(ap netip.AddrPort) reason {
	ip := clean(ap.Addr())
	if _, ok := g.own[netip.AddrPortFrom(ip, ap.Port())]; ok {
		return allowed
	}
	if ip == g.relayIP && g.relayPort(ap.Port()) {
		return allowed
	}
	return g.policy(ip)
}

// policy judges an address that is not an allowed own address.
func (g *guard) policy(ip netip.Addr) reason {
	if _, ok := g.self[ip]; ok {
		return self
	}
	inner, isNAT64 := embedded(ip)
	if isNAT64 {
		if _, ok := g.self[inner]; ok {
			return self
		}
	}
	if in(g.deny, ip) || isNAT64 && in(g.deny, inner) {
		return denied
	}
	if isNAT64 {
		// The IPv6 form itself lies outside global unicast; what counts is
		// where the gateway would send it.
		return g.open(inner)
	}
	return g.open(ip)
}

// open applies Allow and the built-in ranges.
func (g *guard) open(ip netip.Addr) reason {
	if in(g.allow, ip) {
		return allowed
	}
	if ip.Is4() {
		if in(refused4, ip) {
			return reserved
		}
		return allowed
	}
	if !global6.Contains(ip) || in(refused6, ip) {
		return reserved
	}
	return allowed
}

// embedded returns the IPv4 address inside a NAT64 address.
func embedded(ip netip.Addr) (netip.Addr, bool) {
	if !ip.Is6() || !nat64.Contains(ip) {
		return netip.Addr{}, false
	}
	b := ip.As16()
	return netip.AddrFrom4([4]byte(b[12:])), true
}

func in(ps []netip.Prefix, ip netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
