package turn

import (
	"net/netip"
	"testing"
)

// The guard's rules, address by address. The namespace test
// (TestRelayGuard) shows them at work through pion with real clients.
func TestGuardRules(t *testing.T) {
	cfg := Config{
		RelayIP:  netip.MustParseAddr("198.51.100.7"), // a documentation address standing for the public IP
		ListenIP: netip.MustParseAddr("10.0.0.5"),     // behind 1:1 NAT
		Own: []netip.AddrPort{
			netip.MustParseAddrPort("198.51.100.7:10000"),
			netip.MustParseAddrPort("10.0.0.5:10000"),
			netip.MustParseAddrPort("127.0.0.1:10000"),
		},
		Allow: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("fd00:1::/32"), netip.MustParsePrefix("::ffff:192.168.50.0/120")},
		Deny:  []netip.Prefix{netip.MustParsePrefix("10.20.30.0/24"), netip.MustParsePrefix("8.8.8.0/24"), netip.MustParsePrefix("2606:4700::/32")},
	}
	selfIPs := []netip.Addr{netip.MustParseAddr("192.0.2.44"), netip.MustParseAddr("2a01:4f8::44"), netip.MustParseAddr("10.0.0.5")}
	relayPorts := map[uint16]bool{40000: true}
	g := newGuard(&cfg, selfIPs, func(p uint16) bool { return relayPorts[p] })

	for _, c := range []struct {
		peer string
		want reason
	}{
		// Own media addresses, whatever their range; the same IPs at other
		// ports are the server's own services.
		{"198.51.100.7:10000", allowed},
		{"10.0.0.5:10000", allowed},
		{"127.0.0.1:10000", allowed},
		{"[::ffff:127.0.0.1]:10000", allowed},
		{"198.51.100.7:22", self},
		{"198.51.100.7:443", self},
		{"127.0.0.1:8080", self},
		{"10.0.0.5:3478", self},
		// The relay IP at a live relay port: another participant's relayed
		// address. A dead port is not.
		{"198.51.100.7:40000", allowed},
		{"198.51.100.7:40001", self},
		// Other own addresses: no port at all.
		{"192.0.2.44:10000", self},
		{"[2a01:4f8::44]:443", self},
		{"[64:ff9b::c000:22c]:22", self}, // NAT64 of 192.0.2.44
		// Loopback, private, link-local, CGNAT, multicast, broadcast,
		// unspecified, reserved, documentation.
		{"127.0.0.2:1", reserved},
		{"127.255.255.254:1", reserved},
		{"10.1.2.3:1", reserved},
		{"172.16.0.1:1", reserved},
		{"172.31.255.255:1", reserved},
		{"192.168.0.1:1", reserved},
		{"100.64.0.1:1", reserved},
		{"100.127.255.254:1", reserved},
		{"169.254.169.254:80", reserved},
		{"169.254.0.1:1", reserved},
		{"224.0.0.251:5353", reserved},
		{"239.255.255.250:1900", reserved},
		{"255.255.255.255:1", reserved},
		{"0.0.0.0:1", reserved},
		{"0.1.2.3:1", reserved},
		{"240.0.0.1:1", reserved},
		{"192.0.0.170:1", reserved},
		{"192.0.2.1:1", reserved},
		{"198.18.0.1:1", reserved},
		{"203.0.113.9:1", reserved},
		{"192.88.99.1:1", reserved},
		// The same, IPv4-mapped.
		{"[::ffff:127.0.0.2]:1", reserved},
		{"[::ffff:10.1.2.3]:1", reserved},
		{"[::ffff:169.254.169.254]:80", reserved},
		// IPv6.
		{"[::1]:1", reserved},
		{"[::]:1", reserved},
		{"[::2]:1", reserved},
		{"[::10.1.2.3]:1", reserved}, // IPv4-compatible, deprecated
		{"[fe80::1]:1", reserved},
		{"[fe80::1%eth0]:1", reserved},
		{"[fec0::1]:1", reserved},
		{"[fc00::1]:1", reserved},
		{"[fd12:3456::1]:1", reserved},
		{"[ff02::1]:1", reserved},
		{"[ff0e::1]:1", reserved},
		{"[100::1]:1", reserved},
		{"[2001:db8::1]:1", reserved},
		{"[3fff::1]:1", reserved},
		{"[2001::1]:1", reserved},          // Teredo
		{"[2002:a01:203::1]:1", reserved},  // 6to4 of 10.1.2.3
		{"[2002:808:808::1]:1", reserved},  // 6to4 of a public address: refused too
		{"[64:ff9b:1::1]:1", reserved},     // local-use NAT64
		{"[64:ff9b::a01:203]:1", reserved}, // NAT64 of 10.1.2.3
		{"[64:ff9b::7f00:1]:1", self},      // NAT64 of 127.0.0.1, an own IP
		{"[64:ff9b::7f00:2]:1", reserved},  // NAT64 of 127.0.0.2
		{"[64:ff9b::a9fe:a9fe]:80", reserved},
		// Public addresses are what TURN is for.
		{"1.1.1.1:3478", allowed},
		{"93.184.215.14:50000", allowed},
		{"[::ffff:1.1.1.1]:1", allowed},
		{"[2a00:1450:4001::1]:1", allowed},
		{"[64:ff9b::101:101]:1", allowed}, // NAT64 of 1.1.1.1
		// Allow opens, Deny wins over it, Deny closes public addresses.
		{"10.20.1.1:1", allowed},
		{"10.20.30.1:1", denied},
		{"[::ffff:10.20.1.1]:1", allowed},
		{"[64:ff9b::a14:101]:1", allowed}, // NAT64 of 10.20.1.1
		{"[64:ff9b::a14:1e01]:1", denied}, // NAT64 of 10.20.30.1
		{"192.168.50.9:1", allowed},       // allowed by a prefix written IPv4-mapped
		{"[fd00:1::5]:1", allowed},
		{"8.8.8.8:53", denied},
		{"[64:ff9b::808:808]:53", denied},
		{"[2606:4700::1111]:53", denied},
	} {
		ap, err := netip.ParseAddrPort(c.peer)
		if err != nil {
			t.Fatal(err)
		}
		if got := g.peer(ap); got != c.want {
			t.Errorf("packet to %v: %v, want %v", c.peer, got, c.want)
		}
		// A permission names the IP only: the server's own IPs pass it
		// when some port of theirs may be reached, and the packets decide.
		wantIP := c.want
		if _, ok := g.ownIPs[clean(ap.Addr())]; ok || clean(ap.Addr()) == g.relayIP {
			wantIP = allowed
		}
		if got := g.peerIP(ap.Addr()); got != wantIP {
			t.Errorf("permission for %v: %v, want %v", ap.Addr(), got, wantIP)
		}
	}
}

// Own beats Deny: the SFU stays reachable even under a deny-all list.
func TestGuardOwnBeatsDeny(t *testing.T) {
	cfg := Config{
		RelayIP: loopback4,
		Own:     []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:10000")},
		Deny:    []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")},
	}
	g := newGuard(&cfg, nil, func(uint16) bool { return false })
	if got := g.peer(netip.MustParseAddrPort("127.0.0.1:10000")); got != allowed {
		t.Errorf("own media address: %v", got)
	}
	if got := g.peer(netip.MustParseAddrPort("1.1.1.1:1")); got != denied {
		t.Errorf("public address under deny-all: %v", got)
	}
}

// The per-packet check is on the hot path of every relayed packet.
func BenchmarkGuard(b *testing.B) {
	cfg := Config{RelayIP: loopback4, Own: []netip.AddrPort{netip.MustParseAddrPort("203.0.113.7:10000")}}
	g := newGuard(&cfg, []netip.Addr{netip.MustParseAddr("203.0.113.7")}, func(uint16) bool { return false })
	for _, c := range []string{"203.0.113.7:10000", "93.184.215.14:50000", "[2a00:1450:4001::1]:1"} {
		ap := netip.MustParseAddrPort(c)
		b.Run(c, func(b *testing.B) {
			for b.Loop() {
				if g.peer(ap) != allowed {
					b.Fatal("refused")
				}
			}
		})
	}
}
