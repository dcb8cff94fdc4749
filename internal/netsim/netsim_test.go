package netsim

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pion/transport/v5"
)

func newNet(t *testing.T, seed uint64) *Net {
	t.Helper()
	n, err := New(seed)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// plainUDP is a socket outside the simulation: the far end of the link.
func plainUDP(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func simUDP(t *testing.T, n *Net) transport.UDPConn {
	t.Helper()
	c, err := n.ListenUDP("udp4", &net.UDPAddr{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type packetReader interface {
	ReadFrom([]byte) (int, net.Addr, error)
	SetReadDeadline(time.Time) error
}

// collect reads numbered packets until none comes for a while. It runs on
// its own goroutine, so it reports errors with t.Error.
func collect(t *testing.T, r packetReader, quiet time.Duration) (got []uint32, from []net.Addr) {
	buf := make([]byte, 1500)
	for {
		_ = r.SetReadDeadline(time.Now().Add(quiet))
		n, addr, err := r.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Error(err)
			}
			return got, from
		}
		if n >= 4 {
			got = append(got, binary.BigEndian.Uint32(buf))
			from = append(from, addr)
		}
	}
}

type packetWriter interface {
	WriteTo([]byte, net.Addr) (int, error)
}

// sendNumbered sends packets 0..count-1, paced so the kernel drops none.
func sendNumbered(t *testing.T, w packetWriter, to net.Addr, count int) {
	t.Helper()
	p := make([]byte, 100)
	for i := range count {
		binary.BigEndian.PutUint32(p, uint32(i))
		if _, err := w.WriteTo(p, to); err != nil {
			t.Fatal(err)
		}
		if i%50 == 49 {
			time.Sleep(time.Millisecond)
		}
	}
}

// sendAndCollect sends count packets from w to r's address while r reads.
func sendAndCollect(t *testing.T, w packetWriter, r interface {
	packetReader
	LocalAddr() net.Addr
}, count int) []uint32 {
	t.Helper()
	done := make(chan []uint32, 1)
	go func() {
		got, _ := collect(t, r, 200*time.Millisecond)
		done <- got
	}()
	sendNumbered(t, w, r.LocalAddr(), count)
	return <-done
}

func TestLossRateEachWay(t *testing.T) {
	const count = 2000
	n := newNet(t, 1)
	sim, far := simUDP(t, n), plainUDP(t)

	n.SetLoss(0.1, 0)
	gotOut := sendAndCollect(t, sim, far, count)
	n.SetLoss(0, 0.3)
	gotIn := sendAndCollect(t, far, sim, count)

	for _, c := range []struct {
		name string
		got  []uint32
		want float64
	}{{"out", gotOut, 0.1}, {"in", gotIn, 0.3}} {
		loss := 1 - float64(len(c.got))/count
		// Binomial(2000, p): the standard deviation is 0.7 (p=0.1) or 1
		// (p=0.3) percentage points; 4 points is far outside chance.
		if loss < c.want-0.04 || loss > c.want+0.04 {
			t.Errorf("%s: lost %.3f, want about %.1f", c.name, loss, c.want)
		}
	}
	st := n.Stats()
	if st.Sent+st.DroppedOut != count || st.Received+st.DroppedIn != count {
		t.Errorf("stats %+v, want %d each way", st, count)
	}
	if st.Received != len(gotIn) || count-st.DroppedOut != len(gotOut) {
		t.Errorf("stats %+v disagree with what arrived (%d out, %d in)", st, len(gotOut), len(gotIn))
	}
	t.Logf("loss out %.3f, in %.3f", st.LossOut(), st.LossIn())
}

// The same seed drops the same packets of the same sequence.
func TestLossIsReproducible(t *testing.T) {
	run := func(seed uint64) []uint32 {
		n := newNet(t, seed)
		n.SetLoss(0.2, 0)
		return sendAndCollect(t, simUDP(t, n), plainUDP(t), 500)
	}
	a, b, c := run(7), run(7), run(8)
	if !slices.Equal(a, b) {
		t.Errorf("seed 7 gave different packets:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Error("seeds 7 and 8 dropped the same packets")
	}
}

func TestLinkDown(t *testing.T) {
	n := newNet(t, 1)
	sim, far := simUDP(t, n), plainUDP(t)
	n.SetDown(true)
	if got := sendAndCollect(t, sim, far, 50); len(got) != 0 {
		t.Errorf("%d packets went out while down", len(got))
	}
	if got := sendAndCollect(t, far, sim, 50); len(got) != 0 {
		t.Errorf("%d packets came in while down", len(got))
	}
	n.SetDown(false)
	if got := sendAndCollect(t, sim, far, 50); len(got) != 50 {
		t.Errorf("%d of 50 packets went out after the link came back", len(got))
	}
	if got := sendAndCollect(t, far, sim, 50); len(got) != 50 {
		t.Errorf("%d of 50 packets came in after the link came back", len(got))
	}
	if st := n.Stats(); st.DroppedOut != 50 || st.DroppedIn != 50 || st.Sent != 50 || st.Received != 50 {
		t.Errorf("stats %+v", st)
	}
}

func TestAddressChange(t *testing.T) {
	n := newNet(t, 1)
	ifAddr := func() string {
		ifs, err := n.Interfaces()
		if err != nil || len(ifs) != 1 {
			t.Fatalf("interfaces %v %v", ifs, err)
		}
		addrs, err := ifs[0].Addrs()
		if err != nil || len(addrs) != 1 {
			t.Fatalf("addresses %v %v", addrs, err)
		}
		if ifs[0].Flags&net.FlagLoopback == 0 {
			t.Errorf("%s is not the loopback interface", ifs[0].Name)
		}
		return addrs[0].String()
	}
	if a := ifAddr(); a != "127.0.0.1/8" {
		t.Errorf("interface address %s", a)
	}
	old, far := simUDP(t, n), plainUDP(t)

	moved := netip.MustParseAddr("127.0.0.2")
	if err := n.SetAddress(moved); err != nil {
		t.Fatal(err)
	}
	if a := ifAddr(); a != "127.0.0.2/8" {
		t.Errorf("interface address after the move %s", a)
	}
	if got := sendAndCollect(t, old, far, 20); len(got) != 0 {
		t.Errorf("the old address still sends: %d packets", len(got))
	}
	if got := sendAndCollect(t, far, old, 20); len(got) != 0 {
		t.Errorf("the old address still receives: %d packets", len(got))
	}
	if _, err := n.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}); err == nil {
		t.Error("could bind the old address")
	}

	// A new socket has the new address, and the far end sees it.
	fresh := simUDP(t, n)
	if ip := fresh.LocalAddr().(*net.UDPAddr).IP; !ip.Equal(moved.AsSlice()) {
		t.Errorf("new socket bound to %v", ip)
	}
	done := make(chan []net.Addr, 1)
	go func() { _, from := collect(t, far, 200*time.Millisecond); done <- from }()
	sendNumbered(t, fresh, far.LocalAddr(), 5)
	from := <-done
	if len(from) != 5 || from[0].(*net.UDPAddr).IP.String() != "127.0.0.2" {
		t.Errorf("far end got %v", from)
	}
	if got := sendAndCollect(t, far, fresh, 5); len(got) != 5 {
		t.Errorf("new socket received %d of 5", len(got))
	}

	// Moving back brings the old socket back.
	if err := n.SetAddress(netip.MustParseAddr("127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if got := sendAndCollect(t, old, far, 5); len(got) != 5 {
		t.Errorf("old socket sent %d of 5 after moving back", len(got))
	}
	if err := n.SetAddress(netip.MustParseAddr("10.0.0.1")); !errors.Is(err, ErrNotLoopback) {
		t.Errorf("moving off loopback: %v", err)
	}
}

// echoServer accepts TCP connections outside the simulation and echoes.
func echoServer(t *testing.T) (addr string, peers <-chan net.Addr) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan net.Addr, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ch <- c.RemoteAddr()
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	return ln.Addr().String(), ch
}

// roundTrip writes msg and reads the echo, failing after timeout.
func roundTrip(c net.Conn, msg []byte, timeout time.Duration) error {
	errc := make(chan error, 1)
	go func() {
		if _, err := c.Write(msg); err != nil {
			errc <- err
			return
		}
		got := make([]byte, len(msg))
		_, err := io.ReadFull(c, got)
		if err == nil && !bytes.Equal(got, msg) {
			err = errors.New("echo differs")
		}
		errc <- err
	}()
	select {
	case err := <-errc:
		return err
	case <-time.After(timeout):
		return context.DeadlineExceeded
	}
}

func TestTCPStallsAndResumes(t *testing.T) {
	n := newNet(t, 1)
	addr, peers := echoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := n.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := <-peers; p.(*net.TCPAddr).IP.String() != "127.0.0.1" {
		t.Errorf("server sees %v", p)
	}
	if err := roundTrip(c, []byte("hello"), 2*time.Second); err != nil {
		t.Fatal(err)
	}

	// Down: nothing gets through, but nothing is lost either.
	n.SetDown(true)
	errc := make(chan error, 1)
	go func() { errc <- roundTrip(c, []byte("while down"), 10*time.Second) }()
	select {
	case err := <-errc:
		t.Fatalf("round trip while down: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	n.SetDown(false)
	if err := <-errc; err != nil {
		t.Fatalf("held data after the link came back: %v", err)
	}

	// An address change kills the connection; a new one comes from the new
	// address. Close ends the stalled wait.
	if err := n.SetAddress(netip.MustParseAddr("127.0.0.3")); err != nil {
		t.Fatal(err)
	}
	if err := roundTrip(c, []byte("old address"), 300*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("old connection after the move: %v", err)
	}
	c.Close()
	c2, err := n.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if p := <-peers; p.(*net.TCPAddr).IP.String() != "127.0.0.3" {
		t.Errorf("server sees the new connection from %v", p)
	}
	if err := roundTrip(c2, []byte("new address"), 2*time.Second); err != nil {
		t.Fatal(err)
	}

	// Dialing while down waits for the link.
	n.SetDown(true)
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancelShort()
	if _, err := n.DialContext(short, "tcp", addr); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("dial while down: %v", err)
	}
}

// Multicast sockets (mDNS) and IPv6 are outside the simulation.
func TestUnsupported(t *testing.T) {
	n := newNet(t, 1)
	if _, err := n.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback}); !errors.Is(err, transport.ErrNotSupported) {
		t.Errorf("udp6: %v", err)
	}
	if _, err := n.ListenTCP("tcp4", &net.TCPAddr{}); !errors.Is(err, transport.ErrNotSupported) {
		t.Errorf("ListenTCP: %v", err)
	}
	if c, err := n.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
		t.Errorf("ListenPacket: %v", err)
	} else {
		if _, ok := c.(*udpConn); !ok {
			t.Errorf("ListenPacket gave an unimpaired %T", c)
		}
		c.Close()
	}
}
