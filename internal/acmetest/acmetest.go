// Package acmetest runs an ACME CA for tests: letsencrypt/pebble on
// loopback, validating for real against names that a DNS server of the
// test's own resolves to 127.0.0.1. Nothing leaves the machine.
package acmetest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"plausch.dev/plausch/internal/testca"
)

// env is the environment the test binary started with: building pebble
// needs the real HOME and Go caches, whatever a test sets later.
var env = os.Environ()

// guard keeps a broken test from hanging; it bounds no assertion.
const guard = 2 * time.Minute

var build struct {
	once sync.Once
	bin  string
	err  error
}

// PebbleBinary is letsencrypt/pebble, a tool in go.mod (so its version is
// pinned there), as "go tool" builds and caches it; built once per test
// binary. Call it before a test changes HOME.
func PebbleBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		cmd := exec.Command("go", "tool", "-n", "pebble")
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			build.err = fmt.Errorf("building pebble: %v\n%s", err, stderr.String())
			return
		}
		build.bin = strings.TrimSpace(string(out))
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// Pebble is a running ACME test CA.
type Pebble struct {
	Directory string         // the ACME directory URL
	APIRoots  *x509.CertPool // trusts pebble's own HTTPS: for the ACME client
	Issuer    *x509.CertPool // trusts what pebble issues: for the test's clients
}

// Config says where pebble validates and for how long it issues.
type Config struct {
	Dir      string        // for its config and certificate; made before a test moves TMPDIR
	DNS      string        // the DNS server it asks (over TCP), e.g. a DNS's Addr
	HTTPPort int           // where it fetches HTTP-01 tokens, on the address found
	TLSPort  int           // where it does TLS-ALPN-01 handshakes
	Validity time.Duration // of the certificates it issues; short ones make renewal come soon
}

// StartPebble runs pebble on loopback until the test ends. Validation is
// real (PEBBLE_VA_ALWAYS_VALID is not set); it does not sleep before
// validating, refuses no nonce at random, and validates every order anew
// (no authorization reuse), so a renewal is validated too.
func StartPebble(t testing.TB, c Config) *Pebble {
	t.Helper()
	bin := PebbleBinary(t)
	dir := c.Dir
	// Pebble's own HTTPS, from a root only the ACME client trusts.
	ca := testca.New(t)
	certPEM, keyPEM := ca.IssuePEM(t, "127.0.0.1", "localhost")
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for f, b := range map[string][]byte{certFile: certPEM, keyFile: keyPEM} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	api, mgmt := FreeAddr(t), FreeAddr(t)
	var cfg struct {
		Pebble map[string]any `json:"pebble"`
	}
	cfg.Pebble = map[string]any{
		"listenAddress":           api,
		"managementListenAddress": mgmt,
		"certificate":             certFile,
		"privateKey":              keyFile,
		"httpPort":                c.HTTPPort,
		"tlsPort":                 c.TLSPort,
		"ocspResponderURL":        "",
		"retryAfter":              map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm":            "ecdsa",
		"profiles": map[string]any{"default": map[string]any{
			"description": "short-lived, so that renewal comes during the test", "validityPeriod": int(c.Validity.Seconds())}},
	}
	cfgFile := filepath.Join(dir, "pebble.json")
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(bin, "-config", cfgFile, "-dnsserver", c.DNS)
	cmd.Env = slices.Concat(env, []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0"})
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("pebble's output:\n%s", out.String())
		}
	})
	p := &Pebble{Directory: "https://" + api + "/dir", APIRoots: ca.Pool}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(guard)
	for {
		resp, err := client.Get(p.Directory)
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble did not start: %v\n%s", err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The root of what pebble issues is made at its start.
	resp, err := client.Get("https://" + mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	root, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p.Issuer = x509.NewCertPool()
	if !p.Issuer.AppendCertsFromPEM(root) {
		t.Fatalf("pebble's root: %q", root)
	}
	return p
}

// FreeAddr is a loopback address nobody listens on, for pebble, which
// takes fixed addresses from its config.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// DNS answers A queries for one name with 127.0.0.1 (no AAAA), and
// NXDOMAIN for every other name, over TCP on 127.0.0.1 (pebble asks its
// -dnsserver over TCP).
type DNS struct {
	Addr    string
	Queries atomic.Int32 // for the name
}

// StartDNS serves name until the test ends.
func StartDNS(t testing.TB, name string) *DNS {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &DNS{Addr: ln.Addr().String()}
	srv := &dns.Server{Listener: ln, Net: "tcp", Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		for _, qq := range q.Question {
			if !strings.EqualFold(qq.Name, dns.Fqdn(name)) {
				m.Rcode = dns.RcodeNameError
				continue
			}
			d.Queries.Add(1)
			if qq.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeA, Class: dns.ClassINET},
					A:   net.IPv4(127, 0, 0, 1)})
			}
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	done := make(chan error, 1)
	go func() { done <- srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		_ = srv.ShutdownContext(ctx)
		<-done
	})
	return d
}

// syncBuffer collects pebble's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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
