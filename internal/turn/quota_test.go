package turn

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// One user gets MaxAllocationsPerUser allocations, over any transports;
// the next is refused with 486, while another user still gets one.
func TestAllocationQuota(t *testing.T) {
	ts := newTestServer(t, Config{MaxAllocationsPerUser: 2})
	user, pass := ts.Credentials("alice", time.Now())
	ts.dial(t, "udp", user, pass).allocate(t)
	ts.dial(t, "tcp", user, pass).allocate(t)
	_, err := ts.dial(t, "tls", user, pass).Allocate()
	if turnCode(err) != int(stun.CodeAllocQuotaReached) {
		t.Fatalf("third allocation: %v, want 486 Allocation Quota Reached", err)
	}
	bob, bobPass := ts.Credentials("bob", time.Now())
	ts.dial(t, "udp", bob, bobPass).allocate(t)
	if st := ts.Stats(); st.Allocations != 3 || st.QuotaRefused != 1 {
		t.Errorf("stats %+v, want 3 allocations and 1 refused", st)
	}
}

// EndUser closes that user's allocations (their relay sockets are gone,
// pion forgets them, the TCP connection carrying one is closed) and
// refuses the user's credential from then on; the other user's
// allocation relays on.
func TestEndUser(t *testing.T) {
	peer := udpPeer(t, loopback4)
	ts := newTestServer(t, Config{Own: []netip.AddrPort{addrPort(peer)}})
	alice, alicePass := ts.Credentials("alice", time.Now())
	bob, bobPass := ts.Credentials("bob", time.Now())
	aUDP := ts.dial(t, "udp", alice, alicePass)
	aTCP := ts.dial(t, "tcp", alice, alicePass)
	relays := []net.PacketConn{aUDP.allocate(t), aTCP.allocate(t)}
	for _, r := range relays {
		roundTrip(t, r, peer, "before")
	}
	bobRelay := ts.dial(t, "tls", bob, bobPass).allocate(t)

	ts.EndUser("alice")

	if st := ts.Stats(); st.Allocations != 1 {
		t.Errorf("%d allocations after EndUser, want bob's 1", st.Allocations)
	}
	// The relay sockets are closed by the time EndUser returns: their
	// ports are free (binding one sends nothing anywhere).
	for _, r := range relays {
		c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(addrPort(r)))
		if err != nil {
			t.Fatalf("relay port %v still bound after EndUser: %v", addrPort(r), err)
		}
		_ = c.Close()
	}
	<-aTCP.closed // the server closed alice's TCP connection
	waitFor(func() bool { return ts.pionAllocations() == 1 })

	// Alice's credential is refused from now on; new credentials for her
	// (a rejoin under the same id) work again.
	if _, err := ts.dial(t, "udp", alice, alicePass).Allocate(); turnCode(err) != int(stun.CodeUnauthorized) {
		t.Errorf("alice allocating after EndUser: %v, want 401", err)
	}
	roundTrip(t, bobRelay, peer, "after")
	alice, alicePass = ts.Credentials("alice", time.Now())
	ts.dial(t, "udp", alice, alicePass).allocate(t)
}

// Each direction of an allocation is held to MaxBitrate: a burst far
// beyond it is cut to the bucket's size plus what the rate allowed while
// it was sent, however fast or slow the machine.
func TestBitrateLimit(t *testing.T) {
	peer := udpPeer(t, loopback4)
	const bitrate = minBitrate // 8000 bytes/s, a 16 KiB bucket
	// 127.0.0.2 is allowed, so that only the lack of a permission stops
	// the stranger below.
	ts := newTestServer(t, Config{Own: []netip.AddrPort{addrPort(peer)}, MaxBitrate: bitrate,
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}})
	user, pass := ts.Credentials("p1", time.Now())
	relay := ts.dial(t, "udp", user, pass).allocate(t)
	const packets, size = 50, 1000
	payload := make([]byte, size)

	check := func(dir string, passed func(Stats) uint64, send func()) {
		t.Helper()
		before := ts.Stats()
		start := time.Now()
		for range packets {
			send()
		}
		// Every packet is either relayed or dropped, each counted.
		waitFor(func() bool {
			st := ts.Stats()
			return passed(st)-passed(before)+st.RateDropped-before.RateDropped >= packets
		})
		elapsed := time.Since(start)
		through := passed(ts.Stats()) - passed(before)
		allowed := uint64((16<<10)+elapsed.Seconds()*bitrate/8)/size + 1
		if through > allowed || through == 0 {
			t.Errorf("%s: %d of %d packets went through in %v, want 1 to %d", dir, through, packets, elapsed, allowed)
		}
	}
	check("to peer", func(s Stats) uint64 { return s.PacketsToPeers }, func() {
		_, err := relay.WriteTo(payload, peer.LocalAddr())
		must(t, err)
	})

	// Packets from a stranger without a permission (127.0.0.2, still
	// loopback) neither count nor spend the allocation's bitrate: they
	// are dropped first, so the peer's packet behind them gets through.
	// (Else anyone who knows a relayed address could starve it.)
	stranger := udpPeer(t, netip.MustParseAddr("127.0.0.2"))
	before := ts.Stats()
	for range packets {
		_, err := stranger.WriteTo(payload, relay.LocalAddr())
		must(t, err)
	}
	_, err := peer.WriteTo([]byte("after the stranger"), relay.LocalAddr())
	must(t, err)
	buf := make([]byte, 1500)
	if n, _, err := relay.ReadFrom(buf); err != nil || string(buf[:n]) != "after the stranger" {
		t.Fatalf("client read %q, %v", buf[:n], err)
	}
	if st := ts.Stats(); st.PacketsFromPeers-before.PacketsFromPeers != 1 || st.RateDropped != before.RateDropped {
		t.Errorf("the stranger's packets counted: %+v, before %+v", st, before)
	}

	check("from peer", func(s Stats) uint64 { return s.PacketsFromPeers }, func() {
		_, err := peer.WriteTo(payload, relay.LocalAddr())
		must(t, err)
	})
}

// TCP relaying (RFC 6062) is not offered: browsers relay UDP only, and a
// TCP relay would be a way to open connections from the server.
func TestTCPAllocationRefused(t *testing.T) {
	ts := newTestServer(t, Config{})
	user, pass := ts.Credentials("p1", time.Now())
	if _, err := ts.dial(t, "tcp", user, pass).AllocateTCP(); turnCode(err) != int(stun.CodeInsufficientCapacity) {
		t.Errorf("TCP allocation: %v, want 508 Insufficient Capacity", err)
	}
	if st := ts.Stats(); st.Allocations != 0 {
		t.Errorf("%d allocations", st.Allocations)
	}
}
