package sfu

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

func TestCandidatePolicy(t *testing.T) {
	internet := candidatePolicy{}
	lan := candidatePolicy{allowPrivate: true}
	loopback := candidatePolicy{loopbackOnly: true}
	for _, c := range []struct {
		addr                    string
		internet, lan, loopback bool
	}{
		{"93.184.215.14", true, true, false},
		{"2a00:1450:4001:82a::200e", true, true, false},
		{"127.0.0.1", false, false, true},
		{"127.3.4.5", false, false, true},
		{"::1", false, false, true},
		{"::ffff:127.0.0.1", false, false, true},
		{"0.0.0.0", false, false, false},
		{"0.1.2.3", false, false, false},
		{"::", false, false, false},
		{"255.255.255.255", false, false, false},
		{"240.0.0.1", false, false, false},
		{"224.0.0.251", false, false, false},
		{"239.255.255.250", false, false, false},
		{"ff02::fb", false, false, false},
		{"169.254.169.254", false, false, false},
		{"fe80::1", false, false, false},
		{"fe80::1%eth0", false, false, false},
		{"192.0.2.1", false, false, false},
		{"198.51.100.7", false, false, false},
		{"203.0.113.7", false, false, false},
		{"198.18.0.1", false, false, false},
		{"2001:db8::1", false, false, false},
		{"100::1", false, false, false},
		{"fec0::1", false, false, false},
		{"::10.0.0.1", false, false, false},
		{"10.0.0.1", false, true, false},
		{"172.16.0.1", false, true, false},
		{"172.31.255.254", false, true, false},
		{"172.32.0.1", true, true, false},
		{"192.168.1.1", false, true, false},
		{"100.64.0.1", false, true, false},
		{"100.127.255.254", false, true, false},
		{"fd00::1", false, true, false},
		{"::ffff:10.0.0.1", false, true, false},
		{"64:ff9b::127.0.0.1", false, false, false},
		{"64:ff9b::10.0.0.1", false, true, false},
		{"64:ff9b::93.184.215.14", true, true, false},
		{"64:ff9b:1::1", false, false, false},
	} {
		a := netip.MustParseAddr(c.addr)
		for _, p := range []struct {
			name   string
			policy candidatePolicy
			want   bool
		}{{"internet", internet, c.internet}, {"lan", lan, c.lan}, {"loopback", loopback, c.loopback}} {
			if got := p.policy.allows(a); got != p.want {
				t.Errorf("%s server, %s: allowed %v, want %v", p.name, c.addr, got, p.want)
			}
		}
	}
}

func TestUsableCandidates(t *testing.T) {
	p := candidatePolicy{}
	for _, c := range []struct {
		cand string
		want bool
	}{
		{"candidate:1 1 udp 2122260223 93.184.215.14 50000 typ host", true},
		{"candidate:1 1 udp 1686052607 93.184.215.14 50000 typ srflx raddr 192.168.1.2 rport 50000", true},
		{"candidate:1 1 udp 2122260223 93.184.215.14 0 typ host", false},
		{"candidate:1 1 tcp 1518280447 93.184.215.14 9 typ host tcptype active", false},
		{"candidate:1 1 udp 2122260223 4e1f7fc4-4f5b-4a09-a9be-6b3f0d1b7f65.local 50000 typ host", false},
		{"candidate:1 1 udp 2122260223 192.168.1.2 50000 typ host", false},
	} {
		cand, err := ice.UnmarshalCandidate(c.cand)
		if err != nil {
			t.Fatalf("%s: %v", c.cand, err)
		}
		if got := p.usable(cand); got != c.want {
			t.Errorf("%s: usable %v, want %v", c.cand, got, c.want)
		}
	}
}

func hostCandidate(tb testing.TB, a netip.AddrPort) ice.Candidate {
	tb.Helper()
	c, err := ice.UnmarshalCandidate(fmt.Sprintf("candidate:1 1 udp 2122260223 %s %d typ host", a.Addr(), a.Port()))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// The budget: MaxCandidates at once, repeats free, one more per
// candidateRefill, and an ICE restart does not fill it again.
func TestCandidateBudget(t *testing.T) {
	g := newCandidateGuard(candidatePolicy{loopbackOnly: true})
	now := time.Unix(1000, 0)
	g.now = func() time.Time { return now }
	addr := func(i int) ice.Candidate {
		return hostCandidate(t, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(1000+i)))
	}
	for i := range MaxCandidates {
		if !g.admit(addr(i)) {
			t.Fatalf("candidate %d refused", i)
		}
	}
	if g.admit(addr(MaxCandidates)) {
		t.Error("a candidate over the budget was taken")
	}
	if !g.admit(addr(0)) {
		t.Error("a candidate already taken was refused")
	}
	now = now.Add(candidateRefill)
	if !g.admit(addr(MaxCandidates)) || g.admit(addr(MaxCandidates+1)) {
		t.Error("not one more candidate after the refill time")
	}
	// A new generation: the same candidates count again.
	desc := &sdp.SessionDescription{MediaDescriptions: []*sdp.MediaDescription{{}}}
	desc.MediaDescriptions[0].Attributes = []sdp.Attribute{{Key: "ice-ufrag", Value: "new"},
		{Key: "candidate", Value: strings.TrimPrefix(addr(0).Marshal(), "candidate:")}}
	if removed := g.filterDescription(desc); removed != 1 {
		t.Errorf("after an ICE restart with no budget left, %d candidates removed, want 1", removed)
	}
}

// An offer's candidates beyond the budget, and those the server does not
// send to, are left out of it before Pion sees them.
func TestFilterDescription(t *testing.T) {
	var lines []string
	for i := range 1000 {
		lines = append(lines, fmt.Sprintf("a=candidate:%d 1 udp 2122260223 93.184.%d.%d 50000 typ host", i, i/250, i%250))
	}
	lines = append([]string{
		"a=candidate:a 1 udp 2122260223 10.0.0.1 50000 typ host",
		"a=candidate:b 1 udp 2122260223 127.0.0.1 50000 typ host",
		"a=candidate:c 1 udp 2122260223 169.254.169.254 80 typ host",
		"a=candidate:d 1 tcp 1518280447 93.184.215.14 9 typ host tcptype active",
		"a=candidate:e 1 udp 2122260223 x.local 50000 typ host",
		"a=candidate:f 1 udp garbage",
	}, lines...)
	raw := offerSDP("video\na=ice-ufrag:u\na=sendonly\n"+strings.Join(lines, "\n"), "audio\n"+lines[6])
	desc := &sdp.SessionDescription{}
	if err := desc.UnmarshalString(raw); err != nil {
		t.Fatal(err)
	}
	g := newCandidateGuard(candidatePolicy{})
	removed := g.filterDescription(desc)
	var kept []string
	for _, m := range desc.MediaDescriptions {
		for _, a := range m.Attributes {
			if a.IsICECandidate() {
				kept = append(kept, a.Value)
			}
		}
	}
	// The first MaxCandidates public ones, and the repeat in the second
	// m-line, which costs nothing.
	if len(kept) != MaxCandidates+1 || removed != len(lines)+1-len(kept) {
		t.Fatalf("kept %d, removed %d of %d", len(kept), removed, len(lines)+1)
	}
	for i, k := range kept[:MaxCandidates] {
		if !strings.Contains(k, fmt.Sprintf(" 93.184.%d.%d ", i/250, i%250)) {
			t.Errorf("kept %q as the %dth", k, i)
		}
	}
}

// A subscriber's answer and trickle are guarded like an offer: at most
// MaxCandidates reach Pion, whatever the participant sends.
func TestAnswerCandidatesAreGuarded(t *testing.T) {
	f := setupForwarding(t, 0, false)
	defer f.close()
	e, err := NewEngine(Config{LoopbackOnly: true})
	must(t, err)
	defer e.Close()
	offers := make(chan string, 4)
	sub, err := e.NewSubscriber(SubscriberParams{SendOffer: func(sdp string, _ []OfferedTrack) { offers <- sdp }})
	must(t, err)
	defer sub.Close()
	must(t, sub.AddTrack(f.track))
	peer, err := peerAPI(t).NewPeerConnection(webrtc.Configuration{})
	must(t, err)
	defer peer.Close()
	must(t, peer.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: <-offers}))
	ans, err := peer.CreateAnswer(nil)
	must(t, err)
	g := webrtc.GatheringCompletePromise(peer)
	must(t, peer.SetLocalDescription(ans))
	<-g
	// Loopback ports nobody listens on (the engine takes loopback only),
	// ahead of the peer's own candidates.
	var extra []string
	for i := range 100 {
		extra = append(extra, fmt.Sprintf("a=candidate:%d 1 udp 1 127.0.0.1 %d typ host", i, 1000+i))
	}
	answer := strings.Replace(peer.LocalDescription().SDP, "a=candidate:", strings.Join(extra, "\r\n")+"\r\na=candidate:", 1)
	must(t, sub.HandleAnswer(answer))
	for i := range 10 {
		err := sub.AddCandidate(webrtc.ICECandidateInit{Candidate: fmt.Sprintf("candidate:t%d 1 udp 1 127.0.0.1 %d typ host", i, 2000+i)})
		if err != nil {
			t.Fatalf("a trickled candidate over the budget is an error: %v", err)
		}
	}
	if n := strings.Count(sub.pc.RemoteDescription().SDP, "a=candidate:"); n > MaxCandidates {
		t.Errorf("%d candidates in the answer applied, at most %d", n, MaxCandidates)
	}
	// Pion adds them in the background: the count must reach the budget
	// and stay there.
	remote := func() int {
		n := 0
		for _, s := range sub.pc.GetStats() {
			if c, ok := s.(webrtc.ICECandidateStats); ok && c.Type == webrtc.StatsTypeRemoteCandidate &&
				c.CandidateType != webrtc.ICECandidateTypePrflx {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(5 * time.Second)
	for remote() < MaxCandidates && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if n := remote(); n != MaxCandidates {
		t.Errorf("Pion knows %d remote candidates, want the budget, %d", n, MaxCandidates)
	}
}
