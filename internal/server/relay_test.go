package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"plausch.dev/plausch/internal/certs"
	"plausch.dev/plausch/internal/client"
	"plausch.dev/plausch/internal/testca"
	"plausch.dev/plausch/internal/turn"
)

// startTLSServer starts a server with HTTPS (a certificate from files,
// issued by a CA of the test's own), plain HTTP that redirects, and the
// built-in TURN, all on loopback. It returns the server and the roots
// that trust it.
func startTLSServer(t *testing.T) (*Server, *x509.CertPool) {
	t.Helper()
	ca := testca.New(t)
	certPEM, keyPEM := ca.IssuePEM(t, "localhost", "127.0.0.1")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	// The media's one UDP port, which the relay guard lets through.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udpPort := pc.LocalAddr().(*net.UDPAddr).Port
	_ = pc.Close()
	loopback := netip.MustParseAddr("127.0.0.1")
	srv := startServer(t, func(c *Config) {
		c.Media.UDPPort = udpPort
		c.TLS = &TLSConfig{Certs: certs.Config{CertFile: certFile, KeyFile: keyFile}, HTTPAddr: "127.0.0.1:0"}
		c.TURN = &TURNConfig{Addr: "127.0.0.1:0", Host: "127.0.0.1",
			Server: turn.Config{RelayIP: loopback, SelfIPs: []netip.Addr{loopback}}}
	})
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM())
	return srv, roots
}

// HTTPS in the binary: the app over HTTPS with HSTS, and plain HTTP that
// sends browsers there.
func TestHTTPSServesTheAppAndRedirects(t *testing.T) {
	srv, roots := startTLSServer(t)
	if !strings.HasPrefix(srv.URL(), "https://") {
		t.Fatalf("URL %s, want https://", srv.URL())
	}
	// As browsers do (ALPN h2), as old clients do (no ALPN): HTTP/2
	// needs the TLS connection itself, not a wrapper, to reach net/http.
	for _, h2 := range []bool{true, false} {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: h2}}
		resp, err := hc.Get(srv.URL() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		hc.CloseIdleConnections()
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
			t.Errorf("HTTPS (h2 %v): %s, HSTS %q", h2, resp.Status, resp.Header.Get("Strict-Transport-Security"))
		}
		if want := map[bool]int{true: 2, false: 1}[h2]; resp.ProtoMajor != want {
			t.Errorf("HTTPS: HTTP/%d, want HTTP/%d", resp.ProtoMajor, want)
		}
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get(srv.RedirectURL() + "/standup?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || !strings.HasPrefix(loc, "https://") || !strings.HasSuffix(loc, "/standup?x=1") {
		t.Errorf("plain HTTP: %s to %q, want a redirect to https://…/standup?x=1", resp.Status, loc)
	}
	if resp.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over plain HTTP (RFC 6797 forbids it)")
	}
}

// Participants who may use nothing but TURN see and hear each other,
// through each of the built-in TURN's transports: UDP, TCP, and TLS on the
// HTTPS port itself. Each gets credentials of its own in joined, and
// leaving ends them.
func TestMeetingThroughTURN(t *testing.T) {
	srv, roots := startTLSServer(t)
	urls := srv.TURNURLs()
	if len(urls) != 3 {
		t.Fatalf("TURN URLs %v, want UDP, TCP and TLS", urls)
	}
	_, httpsPort, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL(), "https://"))
	if want := "turns:127.0.0.1:" + httpsPort + "?transport=tcp"; urls[2] != want {
		t.Errorf("TURN over TLS at %s, want %s (the HTTPS port)", urls[2], want)
	}
	for _, url := range urls {
		t.Run(url[:strings.Index(url, ":")]+"-"+url[strings.Index(url, "=")+1:], func(t *testing.T) {
			room := "relay-" + strings.NewReplacer(":", "", "?", "", "=", "", ".", "").Replace(url)
			before := srv.relay.srv.Stats()
			var cs []*client.Client
			for _, name := range []string{"Ada", "Grace", "Linus"} {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				c, err := client.Dial(ctx, srv.URL(), room, client.Options{Name: name, Audio: true, Video: true, Loopback: true,
					RootCAs: roots, RelayVia: func(u string) bool { return u == url }})
				cancel()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				t.Cleanup(c.Close)
				ice := c.State().ICEServers
				if len(ice) != 1 || !strings.HasSuffix(ice[0].Username, ":"+c.ID) || ice[0].Credential == "" {
					t.Fatalf("%s got ICE servers %+v, want the TURN URLs with credentials of its own", name, ice)
				}
				publish(t, c, mic, camera)
				cs = append(cs, c)
			}
			for _, c := range cs {
				for _, o := range cs {
					if o != c {
						waitFor(t, c, "media from "+o.ID, func(st client.State) bool {
							return receives(st, o.ID, camera, 10) && receives(st, o.ID, mic, 25)
						})
					}
				}
			}
			after := srv.relay.srv.Stats()
			// Two connections each (publish and subscribe).
			if n := after.AllocationsTotal - before.AllocationsTotal; n < 6 {
				t.Errorf("%d allocations made, want at least 6", n)
			}
			if after.PacketsToPeers-before.PacketsToPeers < 100 || after.PacketsFromPeers-before.PacketsFromPeers < 100 {
				t.Errorf("relayed %d packets to the SFU and %d from it", after.PacketsToPeers-before.PacketsToPeers,
					after.PacketsFromPeers-before.PacketsFromPeers)
			}
			t.Logf("%s: %d allocations, %d packets to the SFU, %d from it", url, after.AllocationsTotal-before.AllocationsTotal,
				after.PacketsToPeers-before.PacketsToPeers, after.PacketsFromPeers-before.PacketsFromPeers)
			for _, c := range cs {
				c.Leave()
			}
			deadline := time.Now().Add(10 * time.Second)
			for srv.relay.srv.Stats().Allocations > before.Allocations && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if n := srv.relay.srv.Stats().Allocations; n > before.Allocations {
				t.Errorf("%d allocations still live after everyone left", n)
			}
		})
	}
}

// Media over TCP (ICE-TCP) listens on its port, closes a connection that
// does not begin with ICE, and gives the port back when the server stops.
// (Browsers using it: web/e2e/turn.test.mjs.)
func TestICETCPPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	srv := startServer(t, func(c *Config) { c.Media.TCPPort = port })
	c := join(t, srv, "ice-tcp", "Ada")
	publish(t, c, mic)
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		t.Fatalf("media TCP port: %v", err)
	}
	_, _ = conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := conn.Read(make([]byte, 64)); err == nil {
		t.Errorf("not ICE, yet %d bytes came back", n)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Error("a connection that is not ICE stays open")
	}
	_ = conn.Close()
	c.Close()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	ln, err = net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("the port is still taken after Close: %v", err)
	}
	_ = ln.Close()
}
