package server

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"

	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/hostile"
	"plausch.dev/plausch/internal/netsim"
	"plausch.dev/plausch/internal/sfu"
	"plausch.dev/plausch/internal/signal"
)

// The attacks on the media path: what a participant can put into its
// publish offer and send on it.

const (
	audioKind = webrtc.RTPCodecTypeAudio
	videoKind = webrtc.RTPCodecTypeVideo
)

// hostilePublish offers o as c and returns the publisher and the server's
// refusal, if any (nil when it answered).
func hostilePublish(t *testing.T, c *client.Client, o hostile.Offer) (*hostile.Publisher, *client.OfferError) {
	t.Helper()
	ctx, cancel := contextTimeout(15 * time.Second)
	defer cancel()
	p, err := hostile.Publish(ctx, c, o)
	if p != nil {
		t.Cleanup(p.Close)
	}
	var refused *client.OfferError
	if errors.As(err, &refused) {
		return p, refused
	}
	if err != nil {
		t.Fatalf("hostile publish: %v", err)
	}
	return p, nil
}

// editRIDs applies f to the rid lines of every m-section: a=rid values and
// the a=simulcast list, for rids that Pion itself would never offer.
func editRIDs(f func(kind string, rids []string) []string) func(string) string {
	return func(sdp string) string {
		return hostile.EditMLines(sdp, func(_ int, lines []string) []string {
			kind := strings.Fields(strings.TrimPrefix(lines[0], "m="))[0]
			var rids []string
			var out []string
			for _, l := range lines {
				switch {
				case strings.HasPrefix(l, "a=rid:"):
					rids = append(rids, strings.Fields(strings.TrimPrefix(l, "a=rid:"))[0])
				case strings.HasPrefix(l, "a=simulcast:"):
				default:
					out = append(out, l)
				}
			}
			rids = f(kind, rids)
			if len(rids) == 0 {
				return out
			}
			for _, r := range rids {
				out = append(out, "a=rid:"+r+" send")
			}
			return append(out, "a=simulcast:send "+strings.Join(rids, ";"))
		})
	}
}

// A camera sent as four simulcast layers (rids x, q, h, f) crashed the
// whole server within a second: allocation indexed its table of assumed
// rates by a layer count it did not expect. The server now refuses more
// layers than it supports, and rids no browser sends (duplicate, empty, on
// audio), at the offer; a camera of three layers with unknown rids still
// works.
func TestHostileSimulcastLayers(t *testing.T) {
	srv := startServer(t)
	h := startHonestMeeting(t, srv, "layers")
	for i, tc := range []struct {
		name  string
		offer hostile.Offer
	}{
		{"four layers", hostile.Offer{MLines: []hostile.MLine{{Kind: videoKind, Source: camera, RIDs: []string{"x", "q", "h", "f"}}}}},
		{"ten layers", hostile.Offer{MLines: []hostile.MLine{{Kind: videoKind, Source: camera,
			RIDs: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}}}}},
		{"duplicate rid", hostile.Offer{MLines: []hostile.MLine{{Kind: videoKind, Source: camera, RIDs: []string{"q", "h"}}},
			Edit: editRIDs(func(_ string, rids []string) []string { return append(rids, rids[len(rids)-1]) })}},
		{"empty rid", hostile.Offer{MLines: []hostile.MLine{{Kind: videoKind, Source: camera, RIDs: []string{"q", "h"}}},
			Edit: editRIDs(func(_ string, rids []string) []string { return append(rids, "") })}},
		{"rids on audio", hostile.Offer{MLines: []hostile.MLine{{Kind: audioKind, Source: mic}},
			Edit: editRIDs(func(kind string, rids []string) []string {
				if kind == "audio" {
					return []string{"a", "b"}
				}
				return rids
			})}},
	} {
		bad := join(t, srv, "layers", fmt.Sprintf("Mallory %d", i))
		_, refused := hostilePublish(t, bad, tc.offer)
		if refused == nil || refused.Code != signal.CodeBadSDP {
			t.Errorf("%s: offer not refused with %s: %v", tc.name, signal.CodeBadSDP, refused)
		} else {
			t.Logf("%s: refused: %s", tc.name, refused.Message)
		}
	}
	// Give a crash its second, then check that nobody noticed.
	time.Sleep(2 * time.Second)
	h.check(t, "simulcast layers")

	// Three layers with rids the server does not know by name work, ordered
	// as offered.
	odd := join(t, srv, "layers", "Odd")
	if _, refused := hostilePublish(t, odd, hostile.Offer{MLines: []hostile.MLine{
		{Kind: videoKind, Source: camera, RIDs: []string{"lo", "mid", "hi"}},
	}}); refused != nil {
		t.Fatalf("three layers refused: %v", refused)
	}
	for _, c := range h.clients {
		waitFor(t, c, "the camera with unknown rids", func(st client.State) bool { return receives(st, odd.ID, camera, 10) })
	}
}

// heapMB is the live heap after a collection, in MB.
func heapMB() float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// flooded waits until p has sent packets RTP packets, or its connection
// is not up, or d has passed.
func flooded(p *hostile.Publisher, packets int, d time.Duration) {
	deadline := time.Now().Add(d)
	for p != nil && time.Now().Before(deadline) && p.Sent() < packets {
		time.Sleep(100 * time.Millisecond)
	}
}

// An offer with many m-lines, of which one is announced as a source, with
// RTP on all, held about a megabyte per unread m-line for as long as the
// connection lived (Pion buffers what nobody reads): 88 m-lines grew the
// heap by some 100 MB. The server now refuses an m-line that sends without
// being announced, and more than MaxMLines m-lines.
func TestHostileUnreadMLines(t *testing.T) {
	srv := startServer(t)
	h := startHonestMeeting(t, srv, "mlines")
	for _, n := range []int{32, 88} {
		bad := join(t, srv, "mlines", fmt.Sprintf("Mallory %d", n))
		waitFor(t, bad, "the meeting's media", func(st client.State) bool {
			return receives(st, h.clients[0].ID, camera, 10)
		})
		before := heapMB()
		mlines := []hostile.MLine{{Kind: videoKind, Source: camera}}
		for range n - 1 {
			mlines = append(mlines, hostile.MLine{Kind: videoKind, Flood: 300})
		}
		p, refused := hostilePublish(t, bad, hostile.Offer{MLines: mlines})
		if refused == nil {
			// Enough for Pion to fill a megabyte buffer on every unread m-line.
			flooded(p, (n-1)*1200, 15*time.Second)
		}
		after := heapMB()
		sent := 0
		if p != nil {
			sent = p.Sent()
		}
		t.Logf("%d m-lines, 1 announced: refused %v; %d RTP packets sent; heap %.1f MB before, %.1f MB after (+%.1f MB)",
			n, refused, sent, before, after, after-before)
		if refused == nil || refused.Code != signal.CodeBadSDP {
			t.Errorf("%d m-lines: offer not refused with %s", n, signal.CodeBadSDP)
		}
		if after-before > 10 {
			t.Errorf("%d m-lines: the heap grew by %.1f MB", n, after-before)
		}
	}
	h.check(t, "unread m-lines")
}

// RTP on SSRCs that no offer declared, on an announced m-line: Pion opens
// a stream for each and, when it cannot place it, keeps it unread for as
// long as the connection lives. Nothing in the offer shows it; each
// connection's buffers now share a budget of unread bytes (connBuffers).
func TestHostileStraySSRCs(t *testing.T) {
	srv := startServer(t)
	h := startHonestMeeting(t, srv, "strays")
	bad := join(t, srv, "strays", "Mallory")
	p, refused := hostilePublish(t, bad, hostile.Offer{MLines: []hostile.MLine{{Kind: videoKind, Source: camera}}})
	if refused != nil {
		t.Fatalf("refused: %v", refused)
	}
	// Everyone sees the camera first, so that what receiving it costs in
	// this process is not counted as the attack's.
	for _, c := range append([]*client.Client{bad}, h.clients...) {
		waitFor(t, c, "media", func(st client.State) bool {
			if c == bad {
				return receives(st, h.clients[0].ID, camera, 10)
			}
			return receives(st, bad.ID, camera, 10)
		})
	}
	h.mark()
	before := heapMB()
	// Some 36 MB of RTP, of which each stray's first megabyte stayed in
	// memory; at a rate the honest meeting's machine can take beside it.
	const strays = 30
	p.Stray(strays, 100)
	flooded(p, p.Sent()+strays*1000, 20*time.Second)
	after := heapMB()
	t.Logf("%d stray SSRCs: %d RTP packets sent; heap %.1f MB before, %.1f MB after (+%.1f MB)", strays, p.Sent(), before, after, after-before)
	// The attacker's connection may hold 3 MB unread (connBuffers); the
	// rest of the bound is what this process's honest clients take in the
	// meantime (their NACK caches fill as they send, some 8 MB here).
	if after-before > 24 {
		t.Errorf("the heap grew by %.1f MB", after-before)
	}
	h.check(t, "stray SSRCs")
}

// udpSinks are loopback UDP sockets that count what arrives, standing for
// local services a candidate could name.
type udpSinks struct {
	conns []*net.UDPConn
	mu    sync.Mutex
	got   map[netip.AddrPort]int // packets, by sink
	bytes int
	wg    sync.WaitGroup
}

func listenSinks(t *testing.T, n int) *udpSinks {
	t.Helper()
	s := &udpSinks{got: map[netip.AddrPort]int{}}
	for range n {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		s.conns = append(s.conns, c)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			buf := make([]byte, 1500)
			for {
				n, _, err := c.ReadFromUDP(buf)
				if err != nil {
					return
				}
				s.mu.Lock()
				s.got[c.LocalAddr().(*net.UDPAddr).AddrPort()]++
				s.bytes += n
				s.mu.Unlock()
			}
		}()
	}
	t.Cleanup(func() {
		for _, c := range s.conns {
			c.Close()
		}
		s.wg.Wait()
	})
	return s
}

func (s *udpSinks) addr(i int) netip.AddrPort {
	return s.conns[i].LocalAddr().(*net.UDPAddr).AddrPort()
}

// counts returns the packets and bytes received so far, and at how many
// sinks.
func (s *udpSinks) counts() (packets, bytes, sinks int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.got {
		packets += n
	}
	return packets, s.bytes, len(s.got)
}

// One offer with 1000 candidates made the server send 8000 packets, and
// trickled candidates had no limit at all. The server now takes at most
// sfu.MaxCandidates a connection, offer and trickle together. The server
// here accepts loopback candidates (test mode), so the candidates name
// loopback sockets of the test, which count what arrives.
func TestHostileManyCandidates(t *testing.T) {
	srv := startServer(t)
	const offered, trickled = 1000, 50
	sinks := listenSinks(t, offered+trickled)
	h := startHonestMeeting(t, srv, "candidates")
	bad := join(t, srv, "candidates", "Mallory")
	var cands []string
	for i := range offered {
		cands = append(cands, hostile.Candidate(sinks.addr(i)))
	}
	ctx, cancel := contextTimeout(15 * time.Second)
	defer cancel()
	// The server may take the candidates or leave them out; it has no
	// reason to refuse the offer.
	p, err := hostile.Publish(ctx, bad, hostile.Offer{MLines: []hostile.MLine{{Kind: videoKind, Source: camera}}, Candidates: cands})
	if p == nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	if err != nil {
		t.Errorf("publish: %v", err)
	}
	cands = cands[:0]
	for i := range trickled {
		cands = append(cands, hostile.Candidate(sinks.addr(offered+i)))
	}
	if err := p.Trickle(cands...); err != nil {
		t.Errorf("trickle: %v", err)
	}
	// Checks to a pair that never answers end after some 7 tries, within
	// two seconds or so; give them twice that.
	time.Sleep(4 * time.Second)
	packets, bytes, reached := sinks.counts()
	t.Logf("%d candidates in a %d byte offer, %d trickled: the server sent %d packets (%d bytes) to %d of them",
		offered, len(p.Offer), trickled, packets, bytes, reached)
	if reached > sfu.MaxCandidates {
		t.Errorf("the server sent to %d candidates of one connection, at most %d allowed", reached, sfu.MaxCandidates)
	}
	if bytes > len(p.Offer) {
		t.Errorf("the server sent %d bytes for an offer of %d", bytes, len(p.Offer))
	}
	h.check(t, "many candidates")
}

// guardNet is a netsim host (only a loopback interface) whose UDP sockets
// record every address they send to and send nothing outside 127.0.0.0/8:
// a server on it can be told to reach anywhere, and the test sees where it
// tried, while nothing leaves the machine whatever the server does.
type guardNet struct {
	*netsim.Net
	mu   sync.Mutex
	sent map[netip.AddrPort]int
}

func (g *guardNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := g.Net.ListenUDP(network, laddr)
	if err != nil {
		return nil, err
	}
	return &guardConn{UDPConn: c, g: g}, nil
}

func (g *guardNet) ListenPacket(network, address string) (net.PacketConn, error) {
	laddr, err := g.ResolveUDPAddr(network, address)
	if err != nil {
		return nil, err
	}
	return g.ListenUDP(network, laddr)
}

// pass records a packet to addr and says whether it may go.
func (g *guardNet) pass(addr net.Addr) bool {
	u, ok := addr.(*net.UDPAddr)
	if !ok {
		return false
	}
	ap := u.AddrPort()
	g.mu.Lock()
	g.sent[netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())]++
	g.mu.Unlock()
	return ap.Addr().Unmap().IsLoopback()
}

func (g *guardNet) destinations() map[netip.AddrPort]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return maps.Clone(g.sent)
}

type guardConn struct {
	transport.UDPConn
	g *guardNet
}

func (c *guardConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if !c.g.pass(addr) {
		return len(p), nil
	}
	return c.UDPConn.WriteTo(p, addr)
}

func (c *guardConn) WriteToUDP(p []byte, addr *net.UDPAddr) (int, error) {
	if !c.g.pass(addr) {
		return len(p), nil
	}
	return c.UDPConn.WriteToUDP(p, addr)
}

func (c *guardConn) WriteMsgUDP(p, oob []byte, addr *net.UDPAddr) (int, int, error) {
	if !c.g.pass(addr) {
		return len(p), len(oob), nil
	}
	return c.UDPConn.WriteMsgUDP(p, oob, addr)
}

// The server sent ICE checks to any address a client named: to services on
// its own loopback, to its private network and the cloud's metadata
// address, to broadcast and multicast groups. A server on the Internet now
// takes no remote candidate at such an address, whether in the offer,
// trickled or learnt from a check (peer-reflexive). The attacked server
// runs as on the Internet, on a host of loopback alone (guardNet), so
// that nothing can leave; the honest meeting runs on a test server beside
// it, in the same process, since on loopback it could not reach the other.
func TestHostileCandidateAddresses(t *testing.T) {
	host, err := netsim.New(10)
	if err != nil {
		t.Fatal(err)
	}
	g := &guardNet{Net: host, sent: map[netip.AddrPort]int{}}
	srv := startServer(t, func(c *Config) { c.Media = sfu.Config{Net: g} })
	h := startHonestMeeting(t, startServer(t), "beside")
	sinks := listenSinks(t, 2)
	named := []string{
		sinks.addr(0).String(), // a local service
		netip.AddrPortFrom(netip.MustParseAddr("127.0.0.9"), sinks.addr(1).Port()).String(),
		"0.0.0.0:" + fmt.Sprint(sinks.addr(1).Port()), // Linux delivers this to the host itself
		"255.255.255.255:9", "224.0.0.251:5353", "239.255.255.250:1900", "240.0.0.1:9",
		"10.0.0.1:9", "172.16.0.1:9", "192.168.1.1:9", "100.64.0.1:9",
		"169.254.169.254:80", "192.0.2.1:9", "198.18.0.1:9",
		"[::1]:9", "[fe80::1]:9", "[ff02::fb]:5353", "[fd00::1]:9",
	}
	var cands []string
	for _, a := range named {
		cands = append(cands, hostile.Candidate(netip.MustParseAddrPort(a)))
	}
	bad := join(t, srv, "anywhere", "Mallory")
	p, refused := hostilePublish(t, bad, hostile.Offer{MLines: []hostile.MLine{{Kind: videoKind, Source: camera}}, Candidates: cands})
	if refused != nil {
		t.Fatalf("refused: %v", refused)
	}
	if !strings.Contains(p.Answer, " 127.0.0.1 ") {
		t.Fatalf("the server gathered no loopback candidate, so it could not have sent anything:\n%s", p.Answer)
	}
	// Trickled, the same addresses with other ports.
	cands = cands[:0]
	for _, a := range named {
		ap := netip.MustParseAddrPort(a)
		cands = append(cands, hostile.Candidate(netip.AddrPortFrom(ap.Addr(), ap.Port()+1)))
	}
	if err := p.Trickle(cands...); err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second)
	packets, _, _ := sinks.counts()
	sent := g.destinations()
	t.Logf("%d addresses named in the offer and trickled; the server sent to %d addresses, %d packets reached the test's sockets: %v",
		len(named), len(sent), packets, sent)
	if len(sent) > 0 || packets > 0 {
		t.Errorf("the server sent to addresses a client named: %v", sent)
	}
	h.check(t, "candidate addresses")
}
