package tlsmux

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"go.uber.org/goleak"

	"plausch.dev/plausch/internal/testca"
)

// guard keeps a broken test from hanging; it bounds no assertion.
const guard = time.Minute

// rig is a mux on 127.0.0.1 with an HTTPS server on one side and a fake
// TURN server (it answers STUN binding requests) on the other.
type rig struct {
	mux       *Mux
	addr      string
	roots     *testca.CA
	srv       *http.Server
	turn      *fakeTURN
	done      chan error
	httpConns atomic.Int32 // connections the HTTP server got
}

func newRig(t *testing.T, opts Options) *rig { return newRigWith(t, opts, nil) }

// newRigWith serves h on the HTTP side instead of the echo of protocol
// and TLS state.
func newRigWith(t *testing.T, opts Options, h http.Handler) *rig {
	t.Helper()
	before := goleak.IgnoreCurrent() // now, not when the cleanup runs
	t.Cleanup(func() { goleak.VerifyNone(t, before) })
	ca := testca.New(t)
	cert := ca.Issue(t, "meet.plausch.test", "127.0.0.1")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The protocols a certs.Manager offers.
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1", "acme-tls/1"}}
	m, err := New(ln, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{mux: m, addr: ln.Addr().String(), roots: ca, done: make(chan error, 1)}
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			sni := ""
			if req.TLS != nil {
				sni = req.TLS.ServerName
			}
			fmt.Fprintf(w, "%s tls=%v sni=%s", req.Proto, req.TLS != nil, sni)
		})
	}
	r.srv = &http.Server{Handler: h, ConnState: func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			r.httpConns.Add(1)
		}
	}}
	go func() { r.done <- r.srv.Serve(m.HTTP()) }()
	r.turn = serveFakeTURN(m.TURN())
	t.Cleanup(func() {
		if err := r.srv.Close(); err != nil {
			t.Errorf("http close: %v", err)
		}
		// ErrClosed: the test closed the mux first.
		if err := <-r.done; !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("Serve: %v", err)
		}
		r.turn.close()
		if err := m.Close(); err != nil {
			t.Errorf("mux close: %v", err)
		}
	})
	return r
}

// tlsConfig is what a client that trusts the test root uses.
func (r *rig) tlsConfig(alpn ...string) *tls.Config {
	return &tls.Config{RootCAs: r.roots.Pool, ServerName: "meet.plausch.test", NextProtos: alpn}
}

// get fetches / over a client whose TLS offers alpn (none: no ALPN at all).
func (r *rig) get(t *testing.T, h2 bool, alpn ...string) (*http.Response, string) {
	t.Helper()
	tr := &http.Transport{TLSClientConfig: r.tlsConfig(), ForceAttemptHTTP2: h2}
	if !h2 {
		tr.DialTLSContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			d := tls.Dialer{Config: r.tlsConfig(alpn...)}
			return d.DialContext(ctx, network, r.addr)
		}
	}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://"+r.addr+"/", nil)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

// HTTPS (HTTP/2, HTTP/1.1 with and without ALPN) and STUN over TLS (with
// and without ALPN) on one listener each reach their own side, and
// net/http sees the TLS state on every kind of HTTPS connection.
func TestHTTPAndTURNOnOnePort(t *testing.T) {
	r := newRig(t, Options{})
	for _, tc := range []struct {
		name string
		h2   bool
		alpn []string
		want string
	}{
		{"HTTP/2", true, nil, "HTTP/2.0 tls=true sni=meet.plausch.test"},
		{"HTTP/1.1 ALPN", false, []string{"http/1.1"}, "HTTP/1.1 tls=true sni=meet.plausch.test"},
		{"HTTP/1.1 no ALPN", false, nil, "HTTP/1.1 tls=true sni=meet.plausch.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := r.get(t, tc.h2, tc.alpn...)
			if body != tc.want {
				t.Errorf("got %q, want %q", body, tc.want)
			}
			if tc.h2 && resp.TLS.NegotiatedProtocol != "h2" {
				t.Errorf("ALPN %q", resp.TLS.NegotiatedProtocol)
			}
		})
	}
	for _, alpn := range [][]string{nil, {ALPNTURN}} {
		t.Run(fmt.Sprintf("STUN ALPN %v", alpn), func(t *testing.T) {
			c, err := tls.Dial("tcp", r.addr, r.tlsConfig(alpn...))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got, want := c.ConnectionState().NegotiatedProtocol, append(alpn, "")[0]; got != want {
				t.Errorf("ALPN %q, want %q", got, want)
			}
			stunBinding(t, c)
		})
	}
	if n := r.turn.served(); n != 2 {
		t.Errorf("the TURN side got %d connections, want 2", n)
	}
}

// stunBinding sends a binding request on c and checks the answer: the
// right transaction, and the client's own address as the server saw it.
func stunBinding(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(guard))
	req, err := stun.Build(stun.TransactionID, stun.BindingRequest, stun.Fingerprint)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(req.Raw); err != nil {
		t.Fatal(err)
	}
	resp, err := readSTUN(c)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Type != stun.BindingSuccess || resp.TransactionID != req.TransactionID {
		t.Fatalf("answer %v", resp)
	}
	var addr stun.XORMappedAddress
	if err := addr.GetFrom(resp); err != nil {
		t.Fatal(err)
	}
	if addr.String() != c.LocalAddr().String() {
		t.Errorf("mapped address %s, want %s", addr, c.LocalAddr())
	}
}

// A connection that stays silent before or after its handshake, or that
// speaks neither HTTP nor STUN, is closed, and neither side sees it. The
// log says why, without the client's address.
func TestSilentAndUnknownConnectionsAreClosed(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// One mux whose handshakes time out and one whose silence after the
	// handshake does: a short timeout must never cut a handshake that a
	// loaded machine is slow to finish.
	short, long := 50*time.Millisecond, time.Minute
	hs := newRig(t, Options{HandshakeTimeout: short, SniffTimeout: long, Log: log})
	r := newRig(t, Options{HandshakeTimeout: long, SniffTimeout: short, Log: log})
	// Clients come from 127.0.0.2, to be looked for in the log.
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
	dialTLS := func(t *testing.T) *tls.Conn {
		t.Helper()
		c, err := tls.DialWithDialer(d, "tcp", r.addr, r.tlsConfig())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	t.Run("no handshake", func(t *testing.T) {
		c, err := d.Dial("tcp", hs.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		waitClosed(t, c)
	})
	t.Run("half a handshake", func(t *testing.T) {
		c, err := d.Dial("tcp", hs.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// A TLS record header announcing more than ever comes.
		if _, err := c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01}); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, c)
	})
	t.Run("silent after handshake", func(t *testing.T) {
		c := dialTLS(t)
		defer c.Close()
		waitClosed(t, c)
	})
	t.Run("unknown protocol", func(t *testing.T) {
		c := dialTLS(t)
		defer c.Close()
		// A byte no HTTP request or STUN message starts with.
		if _, err := c.Write([]byte{0xff, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07}); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, c)
	})
	t.Run("STUN type without cookie", func(t *testing.T) {
		c := dialTLS(t)
		defer c.Close()
		if _, err := c.Write([]byte{0x00, 0x01, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef}); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, c)
	})
	for _, r := range []*rig{hs, r} {
		if n, m := r.turn.served(), r.httpConns.Load(); n != 0 || m != 0 {
			t.Errorf("the TURN side got %d connections, HTTP %d", n, m)
		}
	}
	out := logs.String()
	t.Logf("log:\n%s", out)
	if strings.Contains(out, "127.0.0.2") {
		t.Error("a client address is in the log")
	}
	for _, want := range []string{"stage=handshake", `stage="first bytes" reason="read: i/o timeout"`, "neither HTTP nor STUN"} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing from the log", want)
		}
	}
}

// The handshake that completes the TLS-ALPN-01 challenge ends there.
func TestACMETLSALPNConnectionEndsAfterHandshake(t *testing.T) {
	r := newRig(t, Options{})
	c, err := tls.Dial("tcp", r.addr, &tls.Config{RootCAs: r.roots.Pool, ServerName: "meet.plausch.test", NextProtos: []string{ALPNACMETLS1}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.ConnectionState().NegotiatedProtocol; p != ALPNACMETLS1 {
		t.Fatalf("ALPN %q", p)
	}
	waitClosed(t, c)
	if n, m := r.turn.served(), r.httpConns.Load(); n != 0 || m != 0 {
		t.Errorf("the TURN side got %d connections, HTTP %d", n, m)
	}
}

// waitClosed reads until the server closes c.
func waitClosed(t *testing.T, c net.Conn) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(guard))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server did not close the connection")
	}
}

// A client that never finishes its handshake does not hold up another.
func TestSlowHandshakeDoesNotBlockOthers(t *testing.T) {
	r := newRig(t, Options{HandshakeTimeout: time.Hour})
	slow, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := slow.Write([]byte{0x16, 0x03, 0x01}); err != nil { // a third of a record header
		t.Fatal(err)
	}
	for range 3 {
		if _, body := r.get(t, true); body != "HTTP/2.0 tls=true sni=meet.plausch.test" {
			t.Fatalf("got %q", body)
		}
	}
	// The slow one is still waiting (an hour's timeout); closing the mux
	// ends it.
	if err := r.mux.Close(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, slow)
}

// With MaxPending 1, a second handshake starts only once the first
// connection has left the mux: accepting waits instead of piling up.
func TestPendingCap(t *testing.T) {
	r := newRig(t, Options{MaxPending: 1, HandshakeTimeout: time.Hour})
	first, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	waitPending(t, r.mux, 1)
	second := make(chan error, 1)
	go func() {
		d := tls.Dialer{Config: r.tlsConfig("http/1.1")}
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		c, err := d.DialContext(ctx, "tcp", r.addr)
		if err == nil {
			c.Close()
		}
		second <- err
	}()
	// Give a mux without the cap the chance to serve the second client.
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-second:
		t.Fatalf("second handshake ended (%v) while the first held the only slot", err)
	default:
	}
	first.Close()
	if err := <-second; err != nil {
		t.Fatalf("second handshake after the first left: %v", err)
	}
}

func waitPending(t *testing.T, m *Mux, n int) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for {
		m.mu.Lock()
		got := len(m.pending)
		m.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pending, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// Closing both sides closes the TCP listener; each side's Accept ends.
func TestClosingBothSidesClosesTheMux(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ca := testca.New(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(ln, &tls.Config{Certificates: []tls.Certificate{ca.Issue(t, "127.0.0.1")}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan error, 2)
	for _, l := range []net.Listener{m.HTTP(), m.TURN()} {
		go func() { _, err := l.Accept(); accepted <- err }()
	}
	_ = m.TURN().Close()
	if err := <-accepted; !errors.Is(err, net.ErrClosed) {
		t.Errorf("TURN Accept after Close: %v", err)
	}
	// A TURN client now finds its connection closed.
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: ca.Pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	stunReq, _ := stun.Build(stun.TransactionID, stun.BindingRequest)
	_, _ = c.Write(stunReq.Raw)
	waitClosed(t, c)
	c.Close()

	_ = m.HTTP().Close()
	if err := <-accepted; !errors.Is(err, net.ErrClosed) {
		t.Errorf("HTTP Accept after Close: %v", err)
	}
	if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		c.Close()
		t.Error("the TCP listener still accepts")
	}
	if err := m.Close(); err != nil {
		t.Errorf("Close after both sides: %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{HandshakeTimeout: -1}, {SniffTimeout: -1}, {MaxPending: -1}} {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	var o Options
	o.Defaults()
	if err := o.Validate(); err != nil || o.MaxPending != 1024 || o.HandshakeTimeout != 10*time.Second {
		t.Errorf("defaults %+v: %v", o, err)
	}
}

// fakeTURN answers STUN binding requests on every connection it accepts.
type fakeTURN struct {
	ln     net.Listener
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
	firsts []firstMessage
}

// firstMessage is what a TURN connection began with.
type firstMessage struct {
	alpn, sni string
	msgType   uint16
}

func serveFakeTURN(ln net.Listener) *fakeTURN {
	f := &fakeTURN{ln: ln}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns = append(f.conns, c)
			f.mu.Unlock()
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.answer(c)
			}()
		}
	}()
	return f
}

func (f *fakeTURN) answer(c net.Conn) {
	defer c.Close()
	for i := 0; ; i++ {
		req, err := readSTUN(c)
		if err != nil {
			return
		}
		if i == 0 {
			var first firstMessage
			if cs, ok := c.(interface{ ConnectionState() tls.ConnectionState }); ok {
				st := cs.ConnectionState()
				first.alpn, first.sni = st.NegotiatedProtocol, st.ServerName
			}
			first.msgType = req.Type.Value()
			f.mu.Lock()
			f.firsts = append(f.firsts, first)
			f.mu.Unlock()
		}
		tcp := c.RemoteAddr().(*net.TCPAddr)
		resp, err := stun.Build(req, stun.BindingSuccess, &stun.XORMappedAddress{IP: tcp.IP, Port: tcp.Port}, stun.Fingerprint)
		if err != nil {
			return
		}
		if _, err := c.Write(resp.Raw); err != nil {
			return
		}
	}
}

func (f *fakeTURN) first() []firstMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]firstMessage(nil), f.firsts...)
}

func (f *fakeTURN) served() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.conns)
}

func (f *fakeTURN) close() {
	_ = f.ln.Close()
	f.mu.Lock()
	for _, c := range f.conns {
		_ = c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// readSTUN reads one STUN message from a stream: the 20-byte header
// gives the length of the rest.
func readSTUN(r io.Reader) (*stun.Message, error) {
	const headerSize = 20
	head := make([]byte, headerSize)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	n := int(head[2])<<8 | int(head[3])
	raw := append(head, make([]byte, n)...)
	if _, err := io.ReadFull(r, raw[headerSize:]); err != nil {
		return nil, err
	}
	m := &stun.Message{Raw: raw}
	if err := m.Decode(); err != nil {
		return nil, err
	}
	return m, nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
