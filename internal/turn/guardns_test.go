package turn

import (
	"bytes"
	"crypto/rand"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// netnsEnv names the namespace a re-executed test runs in.
const netnsEnv = "PLAUSCH_TURN_NETNS"

// guardCase is what one address family's run of TestRelayGuard checks.
type guardCase struct {
	loopback    netip.Addr // the relay IP and the own media address's IP
	refused     []string   // permissions and channel binds to each are refused
	mapped      []string   // the same, sent as IPv4-mapped IPv6 addresses
	allowed     []string   // accepted through Allow
	allow, deny []netip.Prefix
}

var guardCases = map[string]guardCase{
	"ipv4": {
		loopback: loopback4,
		refused: []string{
			"127.0.0.2", "127.255.255.254", // loopback, other than the server's own
			"10.0.0.1", "172.16.0.1", "172.31.255.254", "192.168.1.1", // private
			"100.64.0.1", "100.127.255.254", // CGNAT
			"169.254.169.254", "169.254.1.1", // link-local, metadata
			"224.0.0.1", "239.255.255.250", // multicast
			"255.255.255.255", "0.0.0.0", "0.1.2.3", "240.0.0.1", // broadcast, unspecified, reserved
			"192.0.0.170", "192.0.2.1", "198.18.0.1", "198.51.100.1", "203.0.113.1", "192.88.99.1",
			"8.8.8.8",  // Deny
			"10.9.9.9", // Deny wins over Allow
		},
		mapped:  []string{"::ffff:127.0.0.2", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:192.168.1.1"},
		allowed: []string{"10.9.1.1"},
		allow:   []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")},
		deny:    []netip.Prefix{netip.MustParsePrefix("8.8.8.0/24"), netip.MustParsePrefix("10.9.9.0/24")},
	},
	"ipv6": {
		loopback: netip.IPv6Loopback(),
		refused: []string{
			"::", "::2", "fe80::1", "fec0::1", "fc00::1", "fd12:3456::1", "ff02::1", "ff0e::1", "100::1",
			"64:ff9b::a00:1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::1", // NAT64
			"2001:db8::1", "3fff::1", "2001::1", "2002:a00:1::1",
			"2606:4700::1111", // Deny
			"fd00:2:3::1",     // Deny wins over Allow
		},
		allowed: []string{"fd00:1::5", "fd00:2:4::1"},
		allow:   []netip.Prefix{netip.MustParsePrefix("fd00:1::/32"), netip.MustParsePrefix("fd00:2::/32")},
		deny:    []netip.Prefix{netip.MustParsePrefix("2606:4700::/32"), netip.MustParsePrefix("fd00:2:3::/48")},
	},
}

// The relay guard with real pion clients: permissions and channel binds
// to every refused range are refused, to the own media address and to
// Allow accepted, and packets to or from the server's own IP at other
// ports are dropped. It runs in a network namespace that has only lo, so
// that a broken guard fails with "network unreachable" instead of
// sending anything anywhere.
func TestRelayGuard(t *testing.T) {
	if os.Getenv(netnsEnv) == "" {
		runInNetns(t)
		return
	}
	ifs, err := net.Interfaces()
	must(t, err)
	if len(ifs) != 1 || ifs[0].Flags&net.FlagLoopback == 0 {
		t.Fatalf("namespace %s has interfaces %v, want lo only", os.Getenv(netnsEnv), ifs)
	}
	for name, c := range guardCases {
		t.Run(name, func(t *testing.T) { testGuard(t, c) })
	}
}

func testGuard(t *testing.T, gc guardCase) {
	sfu := udpPeer(t, gc.loopback)
	// A service on the server's own IP that is not media (its SSH, say).
	service := udpPeer(t, gc.loopback)
	ts := newTestServer(t, Config{RelayIP: gc.loopback, Own: []netip.AddrPort{addrPort(sfu)}, Allow: gc.allow, Deny: gc.deny})
	user, pass := ts.Credentials("p1", time.Now())
	c := ts.dial(t, "udp", user, pass)
	relay := c.allocate(t)

	ch := channelNumber(0x4000)
	request := func(method stun.Method, peer netip.AddrPort) int {
		ch++
		attrs := []stun.Setter{peerAttr(peer)}
		if method == stun.MethodChannelBind {
			attrs = append(attrs, ch)
		}
		return responseCode(c.authRequest(t, user, pass, method, attrs...))
	}
	refused := func(peer netip.AddrPort, viaClient bool) {
		t.Helper()
		before := ts.Stats().PermissionsRefused
		if viaClient {
			if err := c.CreatePermission(net.UDPAddrFromAddrPort(peer)); turnCode(err) != int(stun.CodeForbidden) {
				t.Errorf("permission for %v: %v, want 403 Forbidden", peer, err)
			}
		} else if code := request(stun.MethodCreatePermission, peer); code != int(stun.CodeForbidden) {
			t.Errorf("permission for %v: code %d, want 403 Forbidden", peer, code)
		}
		// Pion answers a refused channel bind with 401.
		if code := request(stun.MethodChannelBind, peer); code == 0 {
			t.Errorf("channel bind to %v accepted", peer)
		}
		// Both refusals were the guard's, not a malformed request's.
		if n := ts.Stats().PermissionsRefused - before; n != 2 {
			t.Errorf("%v: the guard refused %d requests, want 2", peer, n)
		}
	}
	for _, a := range gc.refused {
		refused(netip.AddrPortFrom(netip.MustParseAddr(a), 9), true)
	}
	for _, a := range gc.mapped {
		refused(netip.AddrPortFrom(netip.MustParseAddr(a), 9), false)
	}
	for _, a := range gc.allowed {
		peer := netip.AddrPortFrom(netip.MustParseAddr(a), 9)
		if err := c.CreatePermission(net.UDPAddrFromAddrPort(peer)); err != nil {
			t.Errorf("permission for %v: %v", peer, err)
		}
		if code := request(stun.MethodChannelBind, peer); code != 0 {
			t.Errorf("channel bind to %v: code %d", peer, code)
		}
	}

	// A channel bind to the own media address, on an allocation of its own
	// (the first client binds its own channel to it below).
	c2 := ts.dial(t, "udp", user, pass)
	c2.allocate(t)
	if code := responseCode(c2.authRequest(t, user, pass, stun.MethodChannelBind, peerAttr(addrPort(sfu)), channelNumber(0x7000))); code != 0 {
		t.Errorf("channel bind to the own media address: code %d", code)
	}

	// Packets to and from the server's own IP at a port that is not media
	// are dropped, although the IP passed (it is the media address's).
	// Each is sent before a round trip with the SFU through the same
	// relay: had it gone through, it would arrive first.
	leaked, done := make(chan string, 1), make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 100)
		if n, _, err := service.ReadFrom(buf); err == nil {
			leaked <- string(buf[:n])
		}
	}()
	defer func() { _ = service.Close(); <-done }()
	dropped := ts.Stats().GuardDropped
	if _, err := relay.WriteTo([]byte("to the service"), service.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_, err := service.WriteToUDPAddrPort([]byte("from the service"), addrPort(relay))
	must(t, err)
	roundTrip(t, relay, sfu, "media")
	for ts.Stats().GuardDropped-dropped < 2 {
		select {
		case m := <-leaked:
			t.Fatalf("the service received %q", m)
		case <-time.After(time.Millisecond):
		}
	}
	select {
	case m := <-leaked:
		t.Fatalf("the service received %q", m)
	default:
	}
}

// runInNetns runs the calling test again in a new network namespace with
// only lo, and fails if it cannot.
func runInNetns(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test runs itself in a network namespace of its own (only loopback, so that nothing could leave if the relay guard broke): it needs root, as CI has, and iproute2's ip")
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Fatalf("this test needs iproute2's ip to make a network namespace (apt-get install iproute2): %v", err)
	}
	ns := fmt.Sprintf("plausch-turn-%d-%s", os.Getpid(), strings.ToLower(rand.Text()[:8]))
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(ip, args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("netns", "add", ns)
	t.Cleanup(func() {
		if out, err := exec.Command(ip, "netns", "delete", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v\n%s", ns, err, out)
		}
	})
	run("-n", ns, "link", "set", "lo", "up")

	args := []string{"netns", "exec", ns, os.Args[0], "-test.run", "^" + t.Name() + "$", "-test.count", "1", "-test.v"}
	if f := flag.Lookup("test.timeout"); f != nil {
		args = append(args, "-test.timeout", f.Value.String())
	}
	cmd := exec.Command(ip, args...)
	cmd.Env = append(os.Environ(), netnsEnv+"="+ns)
	out, err := cmd.CombinedOutput()
	t.Logf("in network namespace %s:\n%s", ns, out)
	if err != nil {
		t.Fatalf("in network namespace %s: %v", ns, err)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("in network namespace %s: %s did not run", ns, t.Name())
	}
}
