package turn

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	pionturn "github.com/pion/turn/v5"
)

// The benchmark's TURN server runs in a process of its own (this test
// binary again, see TestMain), so that its CPU time is the relay's alone:
// the client and the peer that measure it run in the benchmark's process.
const (
	benchChildEnv = "PLAUSCH_TURN_BENCH"     // "plausch" or "pion" (pion/turn as it comes, for comparison)
	benchOwnEnv   = "PLAUSCH_TURN_BENCH_OWN" // the peer's address, allowed as the server's own media address
)

// payloadSize is an SRTP video packet's: 1100 bytes of VP8 payload, as in
// the SFU's BenchmarkForward, with RTP header and authentication tag.
const payloadSize = 1130

// BenchmarkRelay measures the TURN server's CPU time per relayed packet
// (server-cpu-ns/pkt: the server process's CPU time over the packets it
// relayed), from a pion/turn client's UDP allocation to a UDP peer on
// loopback (to-peer) and back (to-client): the figure to put next to the
// SFU's cpu-ns/fwd-pkt. "max" sends as fast as the server relays (a window
// of packets in flight), "20kpps" 20,000 packets a second in bursts of 20
// per millisecond, where the server also pays for waking up. The "pion"
// runs are pion/turn without this package (no guard, no limit, no
// per-allocation counters), to show what those cost.
func BenchmarkRelay(b *testing.B) {
	for _, mode := range []string{"plausch", "pion"} {
		for _, dir := range []string{"to-peer", "to-client"} {
			for _, pps := range []int{0, 20000} {
				load := "max"
				if pps > 0 {
					load = fmt.Sprintf("%dkpps", pps/1000)
				}
				b.Run(mode+"/"+dir+"/"+load, func(b *testing.B) { benchRelay(b, mode, dir == "to-peer", pps) })
			}
		}
	}
}

func benchRelay(b *testing.B, mode string, toPeer bool, pps int) {
	peer, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	must(b, err)
	defer peer.Close()
	child := startBenchChild(b, mode, addrPort(peer))
	defer child.stop(b)

	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	must(b, err)
	defer conn.Close()
	cl, err := pionturn.NewClient(&pionturn.ClientConfig{
		TURNServerAddr: child.addr, Username: child.user, Password: child.pass,
		Conn: conn, LoggerFactory: discardLogs{},
	})
	must(b, err)
	defer cl.Close()
	must(b, cl.Listen())
	relay, err := cl.Allocate()
	must(b, err)
	defer relay.Close()
	relayAddr := addrPort(relay)

	// The receiving side counts what arrives.
	var got atomic.Uint64
	read := func(r func([]byte) (int, error)) {
		buf := make([]byte, 2048)
		for {
			if _, err := r(buf); err != nil {
				return
			}
			got.Add(1)
		}
	}
	payload := make([]byte, payloadSize)
	var send func()
	if toPeer {
		go read(func(p []byte) (int, error) { n, _, err := peer.ReadFrom(p); return n, err })
		send = func() { _, _ = relay.WriteTo(payload, peer.LocalAddr()) }
	} else {
		go read(func(p []byte) (int, error) { n, _, err := relay.ReadFrom(p); return n, err })
		// The client's permission (and channel) for the peer.
		_, err := relay.WriteTo([]byte("hello"), peer.LocalAddr())
		must(b, err)
		send = func() { _, _ = peer.WriteToUDPAddrPort(payload, relayAddr) }
	}

	// At full speed, a window of packets in flight keeps socket buffers
	// from overflowing; what has not arrived after 5 ms without progress
	// counts as lost.
	const window = 64
	var sent, lost uint64
	pace := func(base uint64) {
		for sent-lost > got.Load()-base+window {
			before := got.Load()
			deadline := time.Now().Add(5 * time.Millisecond)
			for got.Load() == before && time.Now().Before(deadline) {
				time.Sleep(20 * time.Microsecond)
			}
			if got.Load() == before {
				lost = sent - (before - base)
			}
		}
	}
	// Warm up: channel bound, buffers grown.
	for range 2000 {
		send()
		sent++
		pace(0)
	}
	waitFor(func() bool { return got.Load() > 0 })

	burst := pps / 1000
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	base := got.Load()
	sent, lost = 0, 0
	cpu0, relayed0 := child.cpu(b)
	b.SetBytes(payloadSize)
	for b.Loop() {
		send()
		sent++
		if burst == 0 {
			pace(base)
		} else if sent%uint64(burst) == 0 {
			<-tick.C
		}
	}
	// Let the last packets arrive.
	for last := uint64(0); got.Load() != last; {
		last = got.Load()
		time.Sleep(5 * time.Millisecond)
	}
	cpu1, relayed1 := child.cpu(b)
	b.ReportMetric(float64(cpu1-cpu0)/float64(relayed1-relayed0), "server-cpu-ns/pkt")
	b.ReportMetric(float64(got.Load()-base)/float64(sent), "delivered")
}

// benchChild is the server process of one benchmark.
type benchChild struct {
	cmd              *exec.Cmd
	in               io.WriteCloser
	out              *bufio.Reader
	addr, user, pass string
}

func startBenchChild(b *testing.B, mode string, own netip.AddrPort) *benchChild {
	b.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), benchChildEnv+"="+mode, benchOwnEnv+"="+own.String())
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	must(b, err)
	out, err := cmd.StdoutPipe()
	must(b, err)
	must(b, cmd.Start())
	c := &benchChild{cmd: cmd, in: in, out: bufio.NewReader(out)}
	line, err := c.out.ReadString('\n')
	must(b, err)
	f := strings.Fields(line)
	if len(f) != 3 {
		b.Fatalf("bench server said %q", line)
	}
	c.addr, c.user, c.pass = f[0], f[1], f[2]
	return c
}

// cpu is the server process's CPU time (user and system) and the
// packets it has relayed so far.
func (c *benchChild) cpu(b *testing.B) (time.Duration, uint64) {
	_, err := io.WriteString(c.in, "cpu\n")
	must(b, err)
	line, err := c.out.ReadString('\n')
	must(b, err)
	var ns int64
	var relayed uint64
	if _, err := fmt.Sscan(line, &ns, &relayed); err != nil {
		b.Fatalf("bench server said %q: %v", line, err)
	}
	return time.Duration(ns), relayed
}

func (c *benchChild) stop(b *testing.B) {
	_ = c.in.Close()
	if err := c.cmd.Wait(); err != nil {
		b.Errorf("bench server: %v", err)
	}
}

// runBenchChild runs the benchmark's TURN server: it prints its address
// and a credential, answers "cpu" with its CPU time in nanoseconds and the
// packets relayed, and ends when its standard input does.
func runBenchChild() int {
	own, err := netip.ParseAddrPort(os.Getenv(benchOwnEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var user, pass string
	var closer io.Closer
	var relayed func() uint64
	switch mode := os.Getenv(benchChildEnv); mode {
	case "plausch":
		// The limiter is on, at a rate no benchmark reaches, so that its
		// cost is counted but it drops nothing.
		srv, err := New(Config{RelayIP: loopback4, ListenIP: loopback4, Own: []netip.AddrPort{own}, MaxBitrate: 100e9})
		if err == nil {
			err = srv.ServeUDP(pc)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		user, pass = srv.Credentials("bench", time.Now())
		closer = srv
		relayed = func() uint64 { st := srv.Stats(); return st.PacketsToPeers + st.PacketsFromPeers }
	case "pion":
		const secret = "benchmark-secret-0123456789"
		var n atomic.Uint64
		relayed = n.Load
		srv, err := pionturn.NewServer(pionturn.ServerConfig{
			Realm:         defaultRealm,
			AuthHandler:   pionturn.LongTermTURNRESTAuthHandler(secret, discardLogs{}),
			LoggerFactory: discardLogs{},
			PacketConnConfigs: []pionturn.PacketConnConfig{{
				PacketConn: pc,
				RelayAddressGenerator: countingGenerator{
					&pionturn.RelayAddressGeneratorStatic{RelayAddress: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1"}, &n},
			}},
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if user, pass, err = pionturn.GenerateLongTermTURNRESTCredentials(secret, "bench", time.Hour); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		closer = srv
	default:
		fmt.Fprintf(os.Stderr, "mode %q\n", mode)
		return 1
	}
	defer closer.Close()
	fmt.Println(pc.LocalAddr(), user, pass)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(ru.Utime.Nano()+ru.Stime.Nano(), relayed())
	}
	return 0
}

// countingGenerator counts the packets that pion's own relay sockets
// carry, for the "pion" runs.
type countingGenerator struct {
	pionturn.RelayAddressGenerator
	n *atomic.Uint64
}

func (g countingGenerator) AllocatePacketConn(c pionturn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	pc, addr, err := g.RelayAddressGenerator.AllocatePacketConn(c)
	if err != nil {
		return nil, nil, err
	}
	return countingConn{pc, g.n}, addr, nil
}

type countingConn struct {
	net.PacketConn
	n *atomic.Uint64
}

func (c countingConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(p, addr)
	if err == nil {
		c.n.Add(1)
	}
	return n, err
}

func (c countingConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(p)
	if err == nil {
		c.n.Add(1)
	}
	return n, addr, err
}
