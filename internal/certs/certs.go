// Package certs gives the server its TLS certificate: from files that an
// operator (or certbot) keeps up to date, reloaded when they change, or
// obtained and renewed by itself from an ACME CA (Let's Encrypt) through
// certmagic, with the account and certificates in the state directory, the
// only place the server ever writes to.
//
// It also answers the plain-HTTP side: ACME HTTP-01 challenges, and a
// redirect of everything else to HTTPS that never leads to a host of the
// request's choosing. HSTS is a middleware for the HTTPS side.
package certs

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
)

// Defaults.
const (
	DefaultStateDir = "/var/lib/plausch"
	// DefaultACMECA is Let's Encrypt's production directory.
	DefaultACMECA = certmagic.LetsEncryptProductionCA
	// DefaultReloadEvery: certbot renews 30 days ahead, so a minute's delay
	// in noticing new files costs nothing, and reading two small files a
	// minute costs nothing either.
	DefaultReloadEvery = time.Minute
	// DefaultRenewCheckEvery is certmagic's own: renewal starts when a
	// third of the lifetime is left (or the CA's ARI window says so),
	// days ahead for 90-day and 6-day certificates alike.
	DefaultRenewCheckEvery = 10 * time.Minute
)

// Config says where the certificate comes from: CertFile and KeyFile, or
// Domain (ACME). Exactly one of the two.
type Config struct {
	// Files (PEM): the certificate chain and its key.
	CertFile, KeyFile string
	// ReloadEvery is how often the files are read again to pick up
	// replaced ones; Reload (on SIGHUP) does it at once.
	ReloadEvery time.Duration

	// Domain gets a certificate from the ACME CA; setting it accepts the
	// CA's subscriber agreement.
	Domain string
	// StateDir holds the ACME account key and the certificates.
	StateDir string
	// ACMECA is the CA's directory URL.
	ACMECA string
	// ACMEEmail is optional; the CA writes to it about expiring or
	// revoked certificates.
	ACMEEmail string
	// ACMERoots, when set, are the only roots trusted for the CA's own
	// HTTPS (tests: pebble); nil trusts the system's (which honours
	// SSL_CERT_FILE for a private CA).
	ACMERoots *x509.CertPool
	// RenewCheckEvery is how often certificates are checked for renewal.
	RenewCheckEvery time.Duration
	// DisableTLSALPN turns off the TLS-ALPN-01 challenge, which is
	// answered on the HTTPS port (through the tlsmux); tests pin HTTP-01
	// with it.
	DisableTLSALPN bool

	// HTTPAddr is the address the plain-HTTP listener is bound to (the
	// real one, after listening). ACME answers HTTP-01 there; empty means
	// no such listener, and no HTTP-01.
	HTTPAddr string
	// HTTPSAddr is the address the HTTPS listener is bound to. Its port is
	// where the redirect sends browsers (443 when empty) and where
	// TLS-ALPN-01 is answered.
	HTTPSAddr string

	// Log receives what goes on, never a client's address.
	Log *slog.Logger
}

// Defaults fills in zero fields.
func (c *Config) Defaults() {
	if c.ReloadEvery == 0 {
		c.ReloadEvery = DefaultReloadEvery
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.ACMECA == "" {
		c.ACMECA = DefaultACMECA
	}
	if c.RenewCheckEvery == 0 {
		c.RenewCheckEvery = DefaultRenewCheckEvery
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Validate reports every mistake in c at once.
func (c Config) Validate() error {
	var errs []error
	files := c.CertFile != "" || c.KeyFile != ""
	switch {
	case files && c.Domain != "":
		errs = append(errs, errors.New("a certificate from files and one for a domain (ACME): choose one"))
	case files && (c.CertFile == "" || c.KeyFile == ""):
		errs = append(errs, errors.New("a certificate file needs its key file, and the other way round"))
	case !files && c.Domain == "":
		errs = append(errs, errors.New("no certificate: give certificate and key files, or a domain"))
	}
	if c.Domain != "" {
		if err := checkDomain(c.Domain); err != nil {
			errs = append(errs, err)
		}
		if c.StateDir == "" {
			errs = append(errs, errors.New("ACME needs a state directory"))
		}
		if u, err := url.Parse(c.ACMECA); err != nil || u.Scheme != "https" || u.Host == "" {
			errs = append(errs, fmt.Errorf("ACME CA %q: want an https:// directory URL", c.ACMECA))
		}
		if c.ACMEEmail != "" && !strings.Contains(c.ACMEEmail, "@") {
			errs = append(errs, fmt.Errorf("ACME email %q: not an address", c.ACMEEmail))
		}
		if c.HTTPAddr == "" && (c.DisableTLSALPN || c.HTTPSAddr == "") {
			errs = append(errs, errors.New("ACME needs the HTTP address (HTTP-01) or the HTTPS address (TLS-ALPN-01) to answer a challenge"))
		}
	}
	for _, a := range []struct{ name, addr string }{{"HTTP", c.HTTPAddr}, {"HTTPS", c.HTTPSAddr}} {
		if a.addr == "" {
			continue
		}
		if _, port, err := splitPort(a.addr); err != nil || port == 0 {
			errs = append(errs, fmt.Errorf("%s address %q: want host:port with the port actually bound", a.name, a.addr))
		}
	}
	if c.ReloadEvery < 0 || c.RenewCheckEvery < 0 {
		errs = append(errs, errors.New("intervals must not be negative"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("certs: %w", errors.Join(errs...))
	}
	return nil
}

// checkDomain accepts a fully qualified DNS name that HTTP-01 can prove:
// no wildcard, no IP address, no port or scheme.
func checkDomain(d string) error {
	bad := func(why string) error { return fmt.Errorf("domain %q: %s", d, why) }
	if net.ParseIP(d) != nil {
		return bad("an IP address, not a name")
	}
	if len(d) > 253 || !strings.Contains(d, ".") || strings.HasSuffix(d, ".") {
		return bad("want a name like meet.example.org")
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return bad("want a name like meet.example.org")
		}
		for _, r := range label {
			if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-') {
				return bad("only lowercase letters, digits, hyphens and dots")
			}
		}
	}
	return nil
}

// Manager is the server's certificate source.
type Manager struct {
	cfg   Config
	files *fileSource // one of files and acme
	acme  *acmeSource

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	startOnce sync.Once
	closeOnce sync.Once
}

// New checks cfg and prepares the certificate: files are loaded now (a
// missing or broken file is an error at once); ACME starts with Start,
// once the listeners that answer its challenges are up.
func New(cfg Config) (*Manager, error) {
	cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Manager{cfg: cfg, ctx: ctx, cancel: cancel}
	var err error
	if cfg.Domain != "" {
		m.acme, err = newACME(cfg)
	} else {
		m.files, err = loadFiles(cfg.CertFile, cfg.KeyFile, cfg.Log)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return m, nil
}

// Start begins the work in the background: reading the files again every
// ReloadEvery, or obtaining the certificate (with retries and backoff, for
// as long as it takes) and renewing it. Calls after the first do nothing.
func (m *Manager) Start() error {
	var err error
	m.startOnce.Do(func() {
		if m.acme != nil {
			err = m.acme.start(m.ctx)
			return
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.files.run(m.ctx, m.cfg.ReloadEvery)
		}()
	})
	return err
}

// Reload reads the certificate files again now (for SIGHUP); a broken
// pair is reported and the current certificate stays. With ACME it does
// nothing: renewal runs by itself.
func (m *Manager) Reload() error {
	if m.files == nil {
		return nil
	}
	_, err := m.files.reload()
	return err
}

// TLSConfig is the server side of TLS: the current certificate for every
// handshake, HTTP/2 and HTTP/1.1 offered by ALPN (and acme-tls/1 when
// TLS-ALPN-01 is on), TLS 1.2 at least. Each call returns a fresh copy.
func (m *Manager) TLSConfig() *tls.Config {
	protos := []string{"h2", "http/1.1"}
	var get func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	if m.acme != nil {
		get = m.acme.magic.GetCertificate
		if !m.cfg.DisableTLSALPN && m.cfg.HTTPSAddr != "" {
			protos = append(protos, "acme-tls/1")
		}
	} else {
		get = m.files.getCertificate
	}
	return &tls.Config{GetCertificate: get, NextProtos: protos, MinVersion: tls.VersionTLS12}
}

// Names are the host names (and addresses) the certificate is for.
func (m *Manager) Names() []string {
	if m.acme != nil {
		return []string{m.cfg.Domain}
	}
	return m.files.names()
}

// Leaf is the certificate served now, for a health check or a doctor to
// tell how long it has left; nil while ACME has none yet.
func (m *Manager) Leaf() *x509.Certificate {
	if m.acme != nil {
		return m.acme.leaf()
	}
	return m.files.cur.Load().Leaf
}

// Close stops reloading or renewing and waits for it.
func (m *Manager) Close() error {
	m.closeOnce.Do(func() {
		m.cancel()
		m.wg.Wait()
		if m.acme != nil {
			m.acme.stop()
		}
	})
	return nil
}

// splitPort splits host:port and parses the port.
func splitPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("port %q", p)
	}
	return host, port, nil
}
