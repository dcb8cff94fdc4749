package certs

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

// env is the environment the test binary started with: the pebble build
// needs the real HOME and Go caches, whatever a test sets later.
var env = os.Environ()

var pebbleBuild struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pebbleBuild.dir != "" {
		_ = os.RemoveAll(pebbleBuild.dir)
	}
	os.Exit(code)
}

// pebbleBinary builds letsencrypt/pebble (a tool in go.mod, so the
// version is pinned there) once per test binary.
func pebbleBinary(t *testing.T) string {
	t.Helper()
	b := &pebbleBuild
	b.once.Do(func() {
		b.dir, b.err = os.MkdirTemp("", "plausch-pebble-")
		if b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, "pebble")
		cmd := exec.Command("go", "build", "-o", b.bin, "github.com/letsencrypt/pebble/v2/cmd/pebble")
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("building pebble: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

// pebble is a running ACME test CA.
type pebble struct {
	directory string         // the ACME directory URL
	apiRoots  *x509.CertPool // trusts pebble's own HTTPS
	issuer    *x509.CertPool // trusts what pebble issues
}

// startPebble runs pebble on loopback with its files in dir: it resolves
// names through dnsAddr and validates HTTP-01 on httpPort and TLS-ALPN-01
// on tlsPort of the address found; certificates are valid for validity.
func startPebble(t *testing.T, dir, dnsAddr string, httpPort, tlsPort int, validity time.Duration) *pebble {
	t.Helper()
	bin := pebbleBinary(t)
	// Pebble's own HTTPS, from a root only the ACME client trusts.
	ca := testca.New(t)
	certPEM, keyPEM := ca.IssuePEM(t, "127.0.0.1", "localhost")
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for f, b := range map[string][]byte{certFile: certPEM, keyFile: keyPEM} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	api, mgmt := freePort(t), freePort(t)
	var cfg struct {
		Pebble map[string]any `json:"pebble"`
	}
	cfg.Pebble = map[string]any{
		"listenAddress":           api,
		"managementListenAddress": mgmt,
		"certificate":             certFile,
		"privateKey":              keyFile,
		"httpPort":                httpPort,
		"tlsPort":                 tlsPort,
		"ocspResponderURL":        "",
		"retryAfter":              map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm":            "ecdsa",
		"profiles": map[string]any{"default": map[string]any{
			"description": "short-lived, so that renewal comes during the test", "validityPeriod": int(validity.Seconds())}},
	}
	cfgFile := filepath.Join(dir, "pebble.json")
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	cmd := exec.Command(bin, "-config", cfgFile, "-dnsserver", dnsAddr)
	// No sleeping before validation, no nonces refused at random, and a
	// fresh validation for every order (the renewal's too); validation
	// itself is real: PEBBLE_VA_ALWAYS_VALID is not set.
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
	p := &pebble{directory: "https://" + api + "/dir", apiRoots: ca.Pool}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(guard)
	for {
		resp, err := client.Get(p.directory)
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
	p.issuer = x509.NewCertPool()
	if !p.issuer.AppendCertsFromPEM(root) {
		t.Fatalf("pebble's root: %q", root)
	}
	return p
}

// freePort is a loopback address nobody listens on, for pebble, which
// takes fixed addresses from its config.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// fakeDNS answers A queries for one name with 127.0.0.1 (no AAAA), and
// NXDOMAIN for every other name, over TCP on 127.0.0.1 (pebble asks a
// -dnsserver over TCP).
type fakeDNS struct {
	addr    string
	queries atomic.Int32 // for the name
}

func startDNS(t *testing.T, name string) *fakeDNS {
	t.Helper()
	ln := listen(t)
	d := &fakeDNS{addr: ln.Addr().String()}
	srv := &dns.Server{Listener: ln, Net: "tcp", Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		for _, qq := range q.Question {
			if !strings.EqualFold(qq.Name, dns.Fqdn(name)) {
				m.Rcode = dns.RcodeNameError
				continue
			}
			d.queries.Add(1)
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
