package sfu

import (
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/sdp/v3"
	"golang.org/x/time/rate"
)

// A participant names the addresses the server sends ICE checks to, and
// then media: its remote candidates. Unchecked, that makes the server send
// packets wherever a client says: to services on the server's own
// loopback, to its private network, to broadcast and multicast groups,
// and, one candidate costing some 50 bytes of signalling and earning
// several checks of about 110 bytes, to anyone at a gain of several times
// (a 49 KB offer of 1000 candidates: 345 KB of checks in 20 s).

// Pion's remote IP filter (SettingEngine.SetRemoteIPFilter) sees every
// remote candidate, signalled or peer-reflexive, but only its address: no
// port, no protocol, and not which connection it is for, so it cannot
// count. The policy below is given to it too; the guard filters and counts
// what is signalled before Pion sees it.

// Remote candidates a connection takes: MaxCandidates at once, then one
// more every candidateRefill, offer and trickle together. An ICE restart
// does not start afresh (the browser sends its candidates again, which
// cost again), so restarting does not undo the limit. A browser sends a
// handful per network interface, and restarts ICE after a network change.
const (
	MaxCandidates   = 32
	candidateRefill = 2 * time.Second
)

// candidatePolicy says which remote addresses the server may send to.
type candidatePolicy struct {
	loopbackOnly bool // tests and local development: loopback and nothing else
	allowPrivate bool // a server that browsers reach on a private network
}

// Ranges no browser can be reached at, refused whatever the policy; Go's
// netip knows loopback, link-local, multicast and unspecified itself.
var reservedRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255
	netip.MustParsePrefix("::/96"),           // IPv4-compatible (deprecated)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
}

// Private ranges: a server on the Internet must not send into its own
// network on a client's word; one on a LAN reaches browsers only there.
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT, and VPNs such as Tailscale
}

// nat64 embeds an IPv4 address, which a NAT64 gateway would reach.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// allows reports whether the server may send to a.
func (p candidatePolicy) allows(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	if p.loopbackOnly {
		return a.IsLoopback()
	}
	if nat64.Contains(a) {
		b := a.As16()
		return p.allows(netip.AddrFrom4([4]byte(b[12:])))
	}
	if !a.IsValid() || a.IsUnspecified() || a.IsLoopback() || a.IsMulticast() ||
		a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
		return false
	}
	for _, r := range reservedRanges {
		if r.Contains(a) {
			return false
		}
	}
	if a.IsPrivate() {
		return p.allowPrivate
	}
	for _, r := range privateRanges {
		if r.Contains(a) {
			return p.allowPrivate
		}
	}
	return true
}

// allowsIP is allows for Pion's remote IP filter, which also sees the
// addresses of peer-reflexive candidates (checks from an address nobody
// signalled).
func (p candidatePolicy) allowsIP(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	return ok && p.allows(a)
}

// usable reports whether c is a candidate the server can use at all: UDP
// (the server offers nothing else), an IP address (a name would be looked
// up, or resolved by multicast DNS, which the server does not do), a port,
// and an address the policy allows.
func (p candidatePolicy) usable(c ice.Candidate) bool {
	if c.NetworkType().IsTCP() || c.Port() <= 0 || c.Port() > 65535 {
		return false
	}
	a, err := netip.ParseAddr(c.Address())
	return err == nil && p.allows(a)
}

// candidateGuard is one connection's remote candidates: which it took in
// the current ICE generation, and the budget for more.
type candidateGuard struct {
	policy candidatePolicy
	budget *rate.Limiter
	ufrag  string          // the remote ICE username of the generation
	taken  map[string]bool // network address:port, this generation
	now    func() time.Time
}

func newCandidateGuard(p candidatePolicy) candidateGuard {
	return candidateGuard{policy: p, budget: rate.NewLimiter(rate.Every(candidateRefill), MaxCandidates),
		taken: map[string]bool{}, now: time.Now}
}

// admit reports whether to hand c to Pion: usable, and new in this
// generation within the budget. One already taken is admitted again for
// free (a browser may repeat candidates in every m-line).
func (g *candidateGuard) admit(c ice.Candidate) bool {
	if !g.policy.usable(c) {
		return false
	}
	key := c.NetworkType().String() + " " + net.JoinHostPort(c.Address(), strconv.Itoa(c.Port()))
	if g.taken[key] {
		return true
	}
	if !g.budget.AllowN(g.now(), 1) {
		return false
	}
	g.taken[key] = true
	return true
}

// filterDescription removes from a remote description the candidates not
// admitted, and reports whether it removed any. A new ICE username starts
// a new generation (an ICE restart), in which earlier candidates count
// again.
func (g *candidateGuard) filterDescription(desc *sdp.SessionDescription) (removed int) {
	if u := remoteUfrag(desc); u != g.ufrag {
		g.ufrag, g.taken = u, map[string]bool{}
	}
	for _, m := range desc.MediaDescriptions {
		kept := m.Attributes[:0]
		for _, a := range m.Attributes {
			if a.IsICECandidate() {
				c, err := ice.UnmarshalCandidate(a.Value)
				if err != nil || !g.admit(c) {
					removed++
					continue
				}
			}
			kept = append(kept, a)
		}
		m.Attributes = kept
	}
	return removed
}

// remoteUfrag is the description's ICE username, at session level or in
// its first m-line (with BUNDLE all m-lines share it).
func remoteUfrag(desc *sdp.SessionDescription) string {
	if u, ok := desc.Attribute("ice-ufrag"); ok {
		return u
	}
	for _, m := range desc.MediaDescriptions {
		if u, ok := m.Attribute("ice-ufrag"); ok {
			return u
		}
	}
	return ""
}
