package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"plausch.dev/plausch/internal/acmetest"
	"plausch.dev/plausch/internal/tlsmux"
)

const testDomain = "meet.plausch.test"

// The server gets its certificate from a real ACME CA (pebble, on
// loopback, validating for real through a DNS server of the test's own),
// serves HTTPS with it, redirects HTTP, sends HSTS and renews by itself;
// the second time through TLS-ALPN-01 on the demuxed HTTPS port. Files
// appear only in the state directories, and no client address is logged.
func TestACMEWithPebble(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs pebble")
	}
	leaks := goleak.IgnoreCurrent()
	acmetest.PebbleBinary(t) // with the real HOME and caches, before isolate
	dirs := map[string]string{}
	for _, d := range []string{"state-http01", "state-tlsalpn", "pebble-http01", "pebble-tlsalpn"} {
		dirs[d] = t.TempDir()
	}
	empty := isolate(t)

	t.Run("HTTP-01, redirect, HSTS, renewal", func(t *testing.T) {
		testHTTP01(t, dirs["pebble-http01"], dirs["state-http01"])
	})
	t.Run("TLS-ALPN-01 through the demux", func(t *testing.T) {
		testTLSALPN(t, dirs["pebble-tlsalpn"], dirs["state-tlsalpn"])
	})

	for _, d := range empty {
		_ = filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if path != d {
				t.Errorf("written outside the state directory: %s", path)
			}
			return err
		})
	}
	for _, d := range []string{"state-http01", "state-tlsalpn"} {
		var files []string
		_ = filepath.WalkDir(dirs[d], func(path string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				rel, _ := filepath.Rel(dirs[d], path)
				files = append(files, rel)
			}
			return err
		})
		t.Logf("%s holds:\n  %s", d, strings.Join(files, "\n  "))
		if !containsSuffix(files, testDomain+".crt") || !containsSuffix(files, testDomain+".key") {
			t.Errorf("%s: no certificate and key for %s", d, testDomain)
		}
	}
	// certmagic keeps one rate limiter per CA for the life of the process
	// (acmeclient.go: "TODO: stop rate limiter"); a lock file's keeper
	// ends within 5 s of the lock's release.
	opts := []goleak.Option{leaks, goleak.IgnoreAnyFunction("github.com/caddyserver/certmagic.(*RingBufferRateLimiter).loop")}
	for deadline := time.Now().Add(guard); goleak.Find(opts...) != nil && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	goleak.VerifyNone(t, opts...)
}

func testHTTP01(t *testing.T, pebbleDir, stateDir string) {
	dns := acmetest.StartDNS(t, testDomain)
	httpLn, httpsLn := listen(t), listen(t)
	// 20 s certificates: renewal (a third of the lifetime before the end,
	// or earlier in the CA's ARI window) comes within seconds.
	peb := acmetest.StartPebble(t, acmetest.Config{Dir: pebbleDir, DNS: dns.Addr,
		HTTPPort: portNum(httpLn), TLSPort: portNum(httpsLn), Validity: 20 * time.Second})
	r := startServer(t, Config{Domain: testDomain, StateDir: stateDir, ACMECA: peb.Directory, ACMERoots: peb.APIRoots,
		HTTPAddr: httpLn.Addr().String(), HTTPSAddr: httpsLn.Addr().String(), DisableTLSALPN: true,
		RenewCheckEvery: 200 * time.Millisecond}, httpLn, httpsLn)
	c := r.client(peb.Issuer)
	defer c.CloseIdleConnections()
	base := "https://" + testDomain + ":" + port(httpsLn)

	resp := waitFor(t, c, base+"/", func(*http.Response) bool { return true })
	first := resp.TLS.PeerCertificates[0]
	// The client checked the chain up to pebble's root and the name.
	if len(resp.TLS.VerifiedChains) == 0 || first.VerifyHostname(testDomain) != nil || resp.Proto != "HTTP/2.0" {
		t.Fatalf("chains %d, names %v, %s", len(resp.TLS.VerifiedChains), first.DNSNames, resp.Proto)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("HSTS %q", got)
	}
	if n := r.challenges.Load(); n == 0 {
		t.Error("pebble never fetched the HTTP-01 token from the HTTP port")
	}
	if dns.Queries.Load() == 0 {
		t.Error("pebble never asked the test's DNS")
	}
	// Nobody trusts pebble's root but the test's client.
	plain := &http.Client{Transport: &http.Transport{DialContext: c.Transport.(*http.Transport).DialContext}}
	defer plain.CloseIdleConnections()
	if _, err := plain.Get(base + "/"); !errors.As(err, new(x509.UnknownAuthorityError)) {
		t.Errorf("a client with the system's roots: %v", err)
	}
	// A name the certificate is not for still gets it (a TURN client by
	// address), and the handshake is logged without the client's address.
	tc, err := tls.DialWithDialer(&net.Dialer{LocalAddr: clientAddr}, "tcp", httpsLn.Addr().String(),
		&tls.Config{ServerName: "other.example", InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := tc.ConnectionState().PeerCertificates[0].DNSNames; len(got) != 1 || got[0] != testDomain {
		t.Errorf("fallback certificate for %v", got)
	}
	tc.Close()

	testRedirect(t, c, httpLn, httpsLn)

	// Renewal runs by itself: a different certificate is served later.
	resp = waitFor(t, c, base+"/", func(resp *http.Response) bool {
		return resp.TLS.PeerCertificates[0].SerialNumber.Cmp(first.SerialNumber) != 0
	})
	second := resp.TLS.PeerCertificates[0]
	if len(resp.TLS.VerifiedChains) == 0 || second.NotBefore.Before(first.NotBefore) || second.VerifyHostname(testDomain) != nil {
		t.Errorf("renewed: %v to %v for %v", second.NotBefore, second.NotAfter, second.DNSNames)
	}
	if l := r.m.Leaf(); l == nil || l.NotAfter.Before(second.NotAfter) {
		t.Errorf("Leaf is not the newest certificate: %v", l)
	}
	if n := r.challenges.Load(); n < 2 {
		t.Errorf("renewal without a new HTTP-01 validation (%d token fetches)", n)
	}
	t.Logf("first certificate %v (%v-%v), renewed %v (%v-%v), %d HTTP-01 token fetches",
		first.SerialNumber, first.NotBefore.Format(time.TimeOnly), first.NotAfter.Format(time.TimeOnly),
		second.SerialNumber, second.NotBefore.Format(time.TimeOnly), second.NotAfter.Format(time.TimeOnly), r.challenges.Load())
	r.checkLogs(t)
}

// testRedirect: the HTTP port answers 308 to the same path and query on
// HTTPS, only ever to the certificate's host.
func testRedirect(t *testing.T, c *http.Client, httpLn, httpsLn net.Listener) {
	t.Helper()
	noFollow := *c
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, host := range []string{testDomain, "evil.example"} {
		req, _ := http.NewRequest("GET", "http://"+testDomain+":"+port(httpLn)+"/Room-Name?x=1", nil)
		req.Host = host
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := "https://" + testDomain + ":" + port(httpsLn) + "/Room-Name?x=1"
		if resp.StatusCode != http.StatusPermanentRedirect || resp.Header.Get("Location") != want {
			t.Errorf("Host %s: %d %q, want 308 %q", host, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	resp, err := c.Get("http://" + testDomain + ":" + port(httpLn) + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.TLS == nil || resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("following the redirect: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
}

func testTLSALPN(t *testing.T, pebbleDir, stateDir string) {
	dns := acmetest.StartDNS(t, testDomain)
	httpsLn := listen(t)
	// Nothing listens on pebble's HTTP port: only TLS-ALPN-01 can succeed.
	_, noHTTP, _ := splitPort(acmetest.FreeAddr(t))
	peb := acmetest.StartPebble(t, acmetest.Config{Dir: pebbleDir, DNS: dns.Addr,
		HTTPPort: noHTTP, TLSPort: portNum(httpsLn), Validity: time.Hour})
	r := startServer(t, Config{Domain: testDomain, StateDir: stateDir, ACMECA: peb.Directory, ACMERoots: peb.APIRoots,
		HTTPSAddr: httpsLn.Addr().String()}, nil, httpsLn)
	c := r.client(peb.Issuer)
	defer c.CloseIdleConnections()
	resp := waitFor(t, c, "https://"+testDomain+":"+port(httpsLn)+"/", func(*http.Response) bool { return true })
	if len(resp.TLS.VerifiedChains) == 0 || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("chains %d, HSTS %q", len(resp.TLS.VerifiedChains), resp.Header.Get("Strict-Transport-Security"))
	}
	r.checkLogs(t)
}

// acmeServer is the HTTP and HTTPS side of a server as cmd/plausch will
// wire it: the port-80 handler from the Manager, HTTPS through the tlsmux
// with HSTS, the Manager started once both listen.
type acmeServer struct {
	m               *Manager
	httpLn, httpsLn net.Listener
	challenges      atomic.Int32 // HTTP-01 token fetches
	logs            *logSink
}

func startServer(t *testing.T, cfg Config, httpLn, httpsLn net.Listener) *acmeServer {
	t.Helper()
	r := &acmeServer{httpLn: httpLn, httpsLn: httpsLn, logs: newLogSink(t)}
	cfg.Log = slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.m = m
	if m.Leaf() != nil {
		t.Error("a certificate before ACME began")
	}
	mux, err := tlsmux.New(httpsLn, m.TLSConfig(), tlsmux.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_ = mux.TURN().Close() // no TURN here: its connections are closed
	app := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello") })
	servers := []*http.Server{{Handler: HSTS(app)}}
	var wg sync.WaitGroup
	serve := func(srv *http.Server, ln net.Listener) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("serve: %v", err)
			}
		}()
	}
	serve(servers[0], mux.HTTP())
	if httpLn != nil {
		servers = append(servers, &http.Server{Handler: countChallenges(&r.challenges, m.HTTPHandler(nil))})
		serve(servers[1], httpLn)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = m.Close() // renewals stop first
		for _, s := range servers {
			_ = s.Close()
		}
		_ = mux.Close()
		wg.Wait()
	})
	return r
}

func countChallenges(n *atomic.Int32, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			n.Add(1)
		}
		next.ServeHTTP(w, r)
	})
}

// clientAddr is where the test's clients connect from, so that the logs
// can be searched for it.
var clientAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}

// client trusts only roots, and reaches the server's ports under the test
// domain from clientAddr.
func (r *acmeServer) client(roots *x509.CertPool) *http.Client {
	target := map[string]string{port(r.httpsLn): r.httpsLn.Addr().String()}
	if r.httpLn != nil {
		target[port(r.httpLn)] = r.httpLn.Addr().String()
	}
	d := &net.Dialer{LocalAddr: clientAddr}
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, p, _ := net.SplitHostPort(addr)
			return d.DialContext(ctx, network, target[p])
		},
	}}
}

// checkLogs: the server logged, and never the client's address.
func (r *acmeServer) checkLogs(t *testing.T) {
	t.Helper()
	logs := r.logs.String()
	if !strings.Contains(logs, "certificate obtained successfully") {
		t.Error("no word of the certificate in the log")
	}
	if strings.Contains(logs, clientAddr.IP.String()) {
		t.Error("the client's address is in the log")
	}
}

// waitFor gets url on fresh connections until ok says the response is the
// one awaited (before the certificate exists, the handshake fails).
func waitFor(t *testing.T, c *http.Client, url string, ok func(*http.Response) bool) *http.Response {
	t.Helper()
	deadline := time.Now().Add(guard)
	for {
		c.CloseIdleConnections()
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && ok(resp) {
				return resp
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: never as awaited (last: %v)", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// isolate points HOME, the XDG directories and TMPDIR at empty
// directories and moves into another: where certmagic would write by
// default. It returns them, to be found empty at the end.
func isolate(t *testing.T) []string {
	t.Helper()
	root := t.TempDir()
	var dirs []string
	for _, v := range []string{"HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "TMPDIR", "work"} {
		d := filepath.Join(root, v)
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if v == "work" {
			t.Chdir(d)
		} else {
			t.Setenv(v, d)
		}
		dirs = append(dirs, d)
	}
	return dirs
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func containsSuffix(list []string, suffix string) bool {
	for _, s := range list {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}

// logSink keeps everything logged and shows it in the test's output while
// the test runs (certmagic may log from its goroutines a moment later).
type logSink struct {
	syncBuffer
	t    *testing.T
	mu   sync.Mutex
	done bool
}

func newLogSink(t *testing.T) *logSink {
	s := &logSink{t: t}
	t.Cleanup(func() { s.mu.Lock(); s.done = true; s.mu.Unlock() })
	return s
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	if !s.done {
		s.t.Log(strings.TrimSpace(string(p)))
	}
	s.mu.Unlock()
	return s.syncBuffer.Write(p)
}
