package turn

import (
	"crypto/tls"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// Relaying works end to end on loopback over each transport a browser
// uses: UDP, TCP, and TLS (the form TURN takes on the HTTPS port). The
// peer stands for the SFU: the server's own media address.
func TestRelayOverEveryTransport(t *testing.T) {
	for _, tr := range []string{"udp", "tcp", "tls"} {
		t.Run(tr, func(t *testing.T) {
			peer := udpPeer(t, loopback4)
			ts := newTestServer(t, Config{Own: []netip.AddrPort{addrPort(peer)}})
			user, pass := ts.Credentials("p1", time.Now())
			relay := ts.dial(t, tr, user, pass).allocate(t)
			if got := addrPort(relay).Addr(); got != loopback4 {
				t.Fatalf("relayed address %v, want the relay IP %v", got, loopback4)
			}
			for i := range 5 { // the first go as Send indications, later ones on a channel
				roundTrip(t, relay, peer, string(rune('a'+i)))
			}
			// The server counts a packet just after sending it on.
			waitFor(func() bool { st := ts.Stats(); return st.PacketsToPeers == 5 && st.PacketsFromPeers == 5 })
			if st := ts.Stats(); st.Allocations != 1 || st.AllocationsTotal != 1 || st.BytesToPeers != uint64(5*len("to peer a")) {
				t.Errorf("stats %+v, want 1 allocation, 5 packets and 45 bytes each way", st)
			}
		})
	}
}

// Two participants who both relay reach each other through their
// relayed addresses (the relay-only direct call), although those are the
// server's own IP: a live relay port is allowed, other ports are not.
func TestRelayToRelay(t *testing.T) {
	ts := newTestServer(t, Config{})
	ua, pa := ts.Credentials("a", time.Now())
	ub, pb := ts.Credentials("b", time.Now())
	ra := ts.dial(t, "udp", ua, pa).allocate(t)
	rb := ts.dial(t, "tcp", ub, pb).allocate(t)

	// Each needs a permission for the other (as ICE's checks both ways
	// make): a's first packet opens a's, b's first packet b's, and then
	// every packet arrives.
	if _, err := ra.WriteTo([]byte("a opens"), rb.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if _, err := rb.WriteTo([]byte("b opens"), ra.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	readUntil(t, ra, "b opens", rb.LocalAddr())
	if _, err := ra.WriteTo([]byte("a answers"), rb.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	readUntil(t, rb, "a answers", ra.LocalAddr())
}

// readUntil reads from a relay until want arrives from from; "a opens"
// may or may not have made it, depending on which permission came first.
func readUntil(t *testing.T, relay net.PacketConn, want string, from net.Addr) {
	t.Helper()
	buf := make([]byte, 100)
	for {
		n, src, err := relay.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(buf[:n]); got == want && src.String() == from.String() {
			return
		} else if got != "a opens" {
			t.Fatalf("read %q from %v, want %q from %v", got, src, want, from)
		}
	}
}

// Any net.Listener of stream connections carries TURN: here one whose
// connections are already-handshaken TLS, as the HTTPS port's
// demultiplexer hands them over.
func TestServeTCPTakesHandshakenTLS(t *testing.T) {
	peer := udpPeer(t, loopback4)
	ts := newTestServer(t, Config{Own: []netip.AddrPort{addrPort(peer)}})
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	cert, roots := selfSigned(t, loopback4)
	must(t, ts.ServeTCP(&handshakingListener{Listener: inner, cert: cert}))
	ts.tls, ts.roots = inner.Addr().String(), roots

	user, pass := ts.Credentials("p1", time.Now())
	roundTrip(t, ts.dial(t, "tls", user, pass).allocate(t), peer, "demuxed")
}

// handshakingListener completes the TLS handshake before handing a
// connection over, behind a type of its own, as a demultiplexer that has
// looked at the first bytes would.
type handshakingListener struct {
	net.Listener
	cert tls.Certificate
}

type demuxedConn struct{ net.Conn }

func (l *handshakingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{l.cert}, MinVersion: tls.VersionTLS12})
		if err := tc.Handshake(); err != nil {
			_ = c.Close()
			continue
		}
		return demuxedConn{tc}, nil
	}
}

// Relay sockets take their ports from RelayPorts; when the range is full,
// an allocation fails (508) rather than use a port outside it.
func TestRelayPortRange(t *testing.T) {
	free, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	must(t, err)
	port := uint16(addrPort(free).Port())
	must(t, free.Close())
	ts := newTestServer(t, Config{RelayPorts: [2]uint16{port, port}})
	user, pass := ts.Credentials("p1", time.Now())
	if got := addrPort(ts.dial(t, "udp", user, pass).allocate(t)).Port(); got != port {
		t.Errorf("relay port %d, want %d", got, port)
	}
	if _, err := ts.dial(t, "udp", user, pass).Allocate(); turnCode(err) != int(stun.CodeInsufficientCapacity) {
		t.Errorf("allocation with the range full: %v, want 508", err)
	}
}
