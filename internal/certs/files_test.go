package certs

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"plausch.dev/plausch/internal/testca"
)

// guard keeps a broken test from hanging; it bounds no assertion.
const guard = 2 * time.Minute

// A certificate from files is served, with HSTS; replaced files are picked
// up by the timer and by Reload, and broken ones leave the current one.
func TestFilesServedAndReloaded(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ca := testca.New(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write := func(cert, key []byte) {
		t.Helper()
		for f, b := range map[string][]byte{certFile: cert, keyFile: key} {
			if err := os.WriteFile(f, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	c1, k1 := ca.IssuePEM(t, "meet.plausch.test", "127.0.0.1")
	write(c1, k1)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{CertFile: certFile, KeyFile: keyFile, ReloadEvery: 10 * time.Millisecond,
		HTTPSAddr: ln.Addr().String(), Log: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: HSTS(http.NotFoundHandler())}
	go func() { _ = srv.Serve(tls.NewListener(ln, m.TLSConfig())) }()
	defer srv.Close()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
	defer client.CloseIdleConnections()
	url := "https://meet.plausch.test:" + port(ln) + "/"
	client.Transport.(*http.Transport).DialContext = dialTo(ln.Addr().String())
	served := func() *x509.Certificate {
		t.Helper()
		client.CloseIdleConnections() // a new handshake each time
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != HSTSValue {
			t.Errorf("HSTS %q", got)
		}
		return resp.TLS.PeerCertificates[0]
	}
	if got := served(); !got.Equal(leaf(t, c1)) {
		t.Fatalf("serving %v, want the first certificate", got.SerialNumber)
	}
	if names := m.Names(); strings.Join(names, ",") != "meet.plausch.test,127.0.0.1" {
		t.Errorf("names %v", names)
	}

	// Replaced on disk: the timer notices (the key is written after the
	// certificate, so for a moment the pair does not match and the first
	// certificate must stay).
	c2, k2 := ca.IssuePEM(t, "meet.plausch.test")
	write(c2, k2)
	waitServed(t, served, leaf(t, c2))

	// Broken files: the current certificate stays, Reload says why.
	write([]byte("garbage"), k2)
	if err := m.Reload(); err == nil {
		t.Error("Reload of a broken certificate: no error")
	}
	if got := served(); !got.Equal(leaf(t, c2)) {
		t.Errorf("after broken files: serving %v", got.SerialNumber)
	}

	// SIGHUP's way: Reload switches at once.
	c3, k3 := ca.IssuePEM(t, "meet.plausch.test")
	write(c3, k3)
	if err := m.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := served(); !got.Equal(leaf(t, c3)) || !m.Leaf().Equal(got) {
		t.Errorf("after Reload: serving %v, Leaf %v", got.SerialNumber, m.Leaf().SerialNumber)
	}
}

func TestFilesMissingOrBroken(t *testing.T) {
	dir := t.TempDir()
	ca := testca.New(t)
	c1, _ := ca.IssuePEM(t, "a.example")
	_, k2 := ca.IssuePEM(t, "a.example")
	cf, kf := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	_ = os.WriteFile(cf, c1, 0o600)
	_ = os.WriteFile(kf, k2, 0o600)
	if _, err := New(Config{CertFile: cf, KeyFile: kf}); err == nil {
		t.Error("a key that does not match: no error")
	}
	if _, err := New(Config{CertFile: cf, KeyFile: filepath.Join(dir, "none")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing key file: %v", err)
	}
}

func waitServed(t *testing.T, served func() *x509.Certificate, want *x509.Certificate) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !served().Equal(want) {
		if time.Now().After(deadline) {
			t.Fatalf("certificate %v never served", want.SerialNumber)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func leaf(t *testing.T, certPEM []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(certPEM)
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
