package turn

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// A TCP connection that holds no allocation is closed after IdleTimeout;
// one that holds an allocation stays however quiet it is, until its
// allocation ends.
func TestStreamIdleTimeout(t *testing.T) {
	peer := udpPeer(t, loopback4)
	const idle = 100 * time.Millisecond
	ts := newTestServer(t, Config{Own: []netip.AddrPort{addrPort(peer)}, IdleTimeout: idle})

	silent, err := net.Dial("tcp", ts.tcp)
	must(t, err)
	defer silent.Close()
	if _, err := silent.Read(make([]byte, 1)); err == nil {
		t.Fatal("read from a connection that never allocated: no error")
	}

	user, pass := ts.Credentials("p1", time.Now())
	c := ts.dial(t, "tcp", user, pass)
	relay := c.allocate(t)
	time.Sleep(3 * idle) // quiet, but holding an allocation
	roundTrip(t, relay, peer, "after a quiet while")
	must(t, relay.Close()) // a Refresh with lifetime 0: the allocation ends
	<-c.closed             // and the connection with it, once idle
}

// The accept loop outlives errors such as running out of file
// descriptors (pion's would end for good), and ends on Close.
func TestStreamAcceptSurvivesErrors(t *testing.T) {
	peer := udpPeer(t, loopback4)
	ts := newTestServer(t, Config{Own: []netip.AddrPort{addrPort(peer)}})
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	must(t, ts.ServeTCP(&failingListener{Listener: inner, failures: 3}))
	ts.tcp = inner.Addr().String()
	user, pass := ts.Credentials("p1", time.Now())
	roundTrip(t, ts.dial(t, "tcp", user, pass).allocate(t), peer, "after EMFILE")
}

// failingListener fails its first Accepts as a process out of file
// descriptors does.
type failingListener struct {
	net.Listener
	failures int // accept is called from one goroutine
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.failures > 0 {
		l.failures--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	return l.Listener.Accept()
}

// Close closes everything it was given, and nothing is served after it.
func TestCloseIsFinal(t *testing.T) {
	checkGoroutines(t)
	srv, err := New(Config{RelayIP: loopback4})
	must(t, err)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	must(t, err)
	must(t, srv.ServeUDP(pc))
	must(t, srv.Close())
	must(t, srv.Close())
	if _, _, err := pc.ReadFrom(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("the UDP socket is open after Close: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	if err := srv.ServeTCP(ln); !errors.Is(err, ErrClosed) {
		t.Errorf("ServeTCP after Close: %v", err)
	}
	if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("the listener is open after a refused ServeTCP: %v", err)
	}
}
