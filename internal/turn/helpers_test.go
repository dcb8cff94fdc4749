package turn

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"math/big"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	pionturn "github.com/pion/turn/v5"
)

// TestMain lets the test binary also be the TURN server of the benchmark
// (a process of its own, so that its CPU time is the server's alone).
func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) != "" {
		os.Exit(runBenchChild())
	}
	os.Exit(m.Run())
}

// testServer is a Server listening on 127.0.0.1 over UDP, TCP and TLS.
type testServer struct {
	*Server
	udp, tcp, tls string
	roots         *x509.CertPool
}

// loopback4 is the test servers' relay address.
var loopback4 = netip.MustParseAddr("127.0.0.1")

// newTestServer starts a server on loopback with cfg (RelayIP and
// ListenIP default to 127.0.0.1) and checks at the end of the test that
// no goroutine outlived it and its clients.
func newTestServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	checkGoroutines(t)
	if !cfg.RelayIP.IsValid() {
		cfg.RelayIP = loopback4
	}
	if !cfg.ListenIP.IsValid() {
		cfg.ListenIP = cfg.RelayIP
	}
	host := cfg.RelayIP.String()
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	ts := &testServer{Server: srv}

	pc, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
	must(t, err)
	must(t, srv.ServeUDP(pc))
	ts.udp = pc.LocalAddr().String()

	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	must(t, err)
	must(t, srv.ServeTCP(ln))
	ts.tcp = ln.Addr().String()

	cert, roots := selfSigned(t, cfg.RelayIP)
	tln, err := tls.Listen("tcp", net.JoinHostPort(host, "0"), &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	must(t, err)
	must(t, srv.ServeTCP(tln))
	ts.tls, ts.roots = tln.Addr().String(), roots
	return ts
}

// selfSigned makes a certificate for ip, and the pool that trusts it.
func selfSigned(t *testing.T, ip netip.Addr) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{ip.AsSlice()},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	must(t, err)
	leaf, err := x509.ParseCertificate(der)
	must(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

// client is a pion TURN client with its socket.
type client struct {
	*pionturn.Client
	conn   net.PacketConn
	closed chan struct{} // closed when the stream under it ends (TCP, TLS)
}

// dial connects a pion client to ts over transport ("udp", "tcp" or
// "tls") with the given credential.
func (ts *testServer) dial(t *testing.T, transport, username, password string) *client {
	t.Helper()
	c := &client{closed: make(chan struct{})}
	addr := ts.udp
	switch transport {
	case "udp":
		host, _, _ := net.SplitHostPort(ts.udp)
		pc, err := net.ListenPacket("udp", net.JoinHostPort(host, "0"))
		must(t, err)
		c.conn = pc
	case "tcp":
		conn, err := net.Dial("tcp", ts.tcp)
		must(t, err)
		c.conn, addr = pionturn.NewSTUNConn(&watchedConn{Conn: conn, closed: c.closed}), ts.tcp
	case "tls":
		conn, err := tls.Dial("tcp", ts.tls, &tls.Config{RootCAs: ts.roots, MinVersion: tls.VersionTLS12})
		must(t, err)
		c.conn, addr = pionturn.NewSTUNConn(&watchedConn{Conn: conn, closed: c.closed}), ts.tls
	default:
		t.Fatalf("transport %q", transport)
	}
	cl, err := pionturn.NewClient(&pionturn.ClientConfig{
		TURNServerAddr: addr, STUNServerAddr: addr,
		Username: username, Password: password,
		Conn: c.conn, LoggerFactory: discardLogs{},
	})
	must(t, err)
	must(t, cl.Listen())
	c.Client = cl
	t.Cleanup(func() {
		cl.Close()
		_ = c.conn.Close()
	})
	return c
}

// allocate allocates and closes the relay conn at the end of the test.
func (c *client) allocate(t *testing.T) net.PacketConn {
	t.Helper()
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	t.Cleanup(func() { _ = relay.Close() })
	return relay
}

// watchedConn closes closed when a read fails: the server ended the
// connection (or the test did).
type watchedConn struct {
	net.Conn
	closed chan struct{}
	once   sync.Once
}

func (w *watchedConn) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if err != nil {
		w.once.Do(func() { close(w.closed) })
	}
	return n, err
}

// turnCode is the error code of a TURN error response, or 0.
func turnCode(err error) int {
	var p *stun.TurnError
	if errors.As(err, &p) {
		return int(p.ErrorCodeAttr.Code)
	}
	var v stun.TurnError
	if errors.As(err, &v) {
		return int(v.ErrorCodeAttr.Code)
	}
	return 0
}

// udpPeer is a UDP socket on loopback standing for the SFU (or any peer).
func udpPeer(t *testing.T, ip netip.Addr) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	must(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func addrPort(c interface{ LocalAddr() net.Addr }) netip.AddrPort {
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// roundTrip sends from the client's relay to peer and back, and checks
// both arrive intact.
func roundTrip(t *testing.T, relay net.PacketConn, peer *net.UDPConn, tag string) {
	t.Helper()
	out := []byte("to peer " + tag)
	if _, err := relay.WriteTo(out, peer.LocalAddr()); err != nil {
		t.Fatalf("relay write: %v", err)
	}
	buf := make([]byte, 1500)
	n, from, err := peer.ReadFromUDPAddrPort(buf)
	must(t, err)
	if !bytes.Equal(buf[:n], out) {
		t.Fatalf("peer got %q, want %q", buf[:n], out)
	}
	if want := addrPort(relay); from != want {
		t.Fatalf("peer got it from %v, want the relayed address %v", from, want)
	}
	back := []byte("to client " + tag)
	_, err = peer.WriteToUDPAddrPort(back, from)
	must(t, err)
	n, src, err := relay.ReadFrom(buf)
	must(t, err)
	if !bytes.Equal(buf[:n], back) {
		t.Fatalf("client got %q, want %q", buf[:n], back)
	}
	if src.String() != peer.LocalAddr().String() {
		t.Fatalf("client got it from %v, want %v", src, peer.LocalAddr())
	}
}

// authRequest sends a TURN request of method with attrs on the client's
// 5-tuple, authenticated with the long-term credential (the first try,
// without integrity, fetches a nonce), and returns the response. The
// client must have allocated: it drops responses whose integrity its own
// key does not match.
func (c *client) authRequest(t *testing.T, username, password string, method stun.Method, attrs ...stun.Setter) *stun.Message {
	t.Helper()
	return authenticated(t, username, password, "", method, attrs, func(m *stun.Message) *stun.Message {
		res, err := c.PerformTransaction(m, c.TURNServerAddr(), false)
		must(t, err)
		return res.Msg
	})
}

// bareRequest is authRequest from a socket of its own, without a pion
// client; realm overrides the server's, unless empty. The server always
// answers, and on loopback nothing is lost.
func bareRequest(t *testing.T, server, username, password, realm string, method stun.Method, attrs ...stun.Setter) *stun.Message {
	t.Helper()
	to, err := net.ResolveUDPAddr("udp", server)
	must(t, err)
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: to.IP})
	must(t, err)
	defer conn.Close()
	return authenticated(t, username, password, realm, method, attrs, func(m *stun.Message) *stun.Message {
		_, err := conn.WriteTo(m.Raw, to)
		must(t, err)
		buf := make([]byte, 1500)
		n, err := conn.Read(buf)
		must(t, err)
		res := &stun.Message{Raw: buf[:n]}
		must(t, res.Decode())
		return res
	})
}

// authenticated does the long-term credential exchange through send.
func authenticated(t *testing.T, username, password, realm string, method stun.Method, attrs []stun.Setter, send func(*stun.Message) *stun.Message) *stun.Message {
	t.Helper()
	build := func(extra ...stun.Setter) *stun.Message {
		setters := append([]stun.Setter{stun.TransactionID, stun.NewType(method, stun.ClassRequest)}, attrs...)
		m, err := stun.Build(append(setters, extra...)...)
		must(t, err)
		return m
	}
	res := send(build())
	var nonce stun.Nonce
	must(t, nonce.GetFrom(res))
	if realm == "" {
		var r stun.Realm
		must(t, r.GetFrom(res))
		realm = r.String()
	}
	return send(build(stun.NewUsername(username), stun.NewRealm(realm), nonce,
		stun.NewLongTermIntegrity(username, realm, password), stun.Fingerprint))
}

// responseCode is a response's error code, or 0 for a success.
func responseCode(m *stun.Message) int {
	if m.Type.Class == stun.ClassSuccessResponse {
		return 0
	}
	var code stun.ErrorCodeAttribute
	if err := code.GetFrom(m); err != nil {
		return -1
	}
	return int(code.Code)
}

// peerAttr is an XOR-PEER-ADDRESS. It is written by hand rather than by
// stun.XORMappedAddress so that an IPv4-mapped IPv6 address goes out as
// what it is (family IPv6, 16 bytes), the form a hostile client would use
// to slip an IPv4 address past a check for IPv4.
type peerAttr netip.AddrPort

// magicCookie is STUN's (RFC 8489 5).
const magicCookie = 0x2112A442

func (p peerAttr) AddTo(m *stun.Message) error {
	ap := netip.AddrPort(p)
	var v []byte
	if ap.Addr().Is4() {
		v = make([]byte, 8)
		v[1] = 0x01
		a := ap.Addr().As4()
		copy(v[4:], a[:])
	} else {
		v = make([]byte, 20)
		v[1] = 0x02
		a := ap.Addr().As16()
		copy(v[4:], a[:])
	}
	binary.BigEndian.PutUint16(v[2:], ap.Port()^uint16(magicCookie>>16))
	// The address is XORed with the magic cookie and, past it, the
	// transaction id (RFC 8489 14.2).
	var key [16]byte
	binary.BigEndian.PutUint32(key[:4], magicCookie)
	copy(key[4:], m.TransactionID[:])
	for i := 4; i < len(v); i++ {
		v[i] ^= key[i-4]
	}
	m.Add(stun.AttrXORPeerAddress, v)
	return nil
}

// channelNumber is a CHANNEL-NUMBER attribute.
type channelNumber uint16

func (n channelNumber) AddTo(m *stun.Message) error {
	v := make([]byte, 4)
	binary.BigEndian.PutUint16(v, uint16(n))
	m.Add(stun.AttrChannelNumber, v)
	return nil
}

// checkGoroutines fails the test if, once everything registered after it
// has been cleaned up, more goroutines run than before.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		// Goroutines end a moment after the sockets they read from close;
		// the limit is only there to fail rather than hang.
		deadline := time.Now().Add(20 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutines leaked: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// pionAllocations counts the allocations pion holds.
func (s *Server) pionAllocations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.pion {
		n += p.AllocationCount()
	}
	return n
}

// waitFor polls cond until it holds; the test's own timeout bounds it.
func waitFor(cond func() bool) {
	for !cond() {
		time.Sleep(5 * time.Millisecond)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
