package certs

import (
	"context"
	"crypto/x509"
	"fmt"

	"github.com/caddyserver/certmagic"
)

// acmeSource obtains and renews the certificate through certmagic.
type acmeSource struct {
	domain string
	cache  *certmagic.Cache
	magic  *certmagic.Config
	issuer *certmagic.ACMEIssuer
}

func newACME(cfg Config) (*acmeSource, error) {
	iss := certmagic.ACMEIssuer{
		CA:           cfg.ACMECA,
		Email:        cfg.ACMEEmail,
		Agreed:       true,
		TrustedRoots: cfg.ACMERoots,
		// One server, one process: the challenge lives in memory, not in
		// the state directory for other instances to find.
		DisableDistributedSolvers: true,
		DisableHTTPChallenge:      cfg.HTTPAddr == "",
		DisableTLSALPNChallenge:   cfg.DisableTLSALPN || cfg.HTTPSAddr == "",
	}
	// certmagic binds a listener of its own for a challenge unless the
	// port is taken; pointing it at ours makes it find them taken (and
	// answered by our handlers), so it never listens anywhere itself.
	for _, a := range []struct {
		addr string
		port *int
	}{{cfg.HTTPSAddr, &iss.AltTLSALPNPort}, {cfg.HTTPAddr, &iss.AltHTTPPort}} {
		if a.addr == "" {
			continue
		}
		host, port, err := splitPort(a.addr)
		if err != nil {
			return nil, fmt.Errorf("certs: %w", err)
		}
		iss.ListenHost, *a.port = host, port
	}

	zl := zapToSlog(cfg.Log.With("part", "acme"))
	iss.Logger = zl
	a := &acmeSource{domain: cfg.Domain}
	a.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert:   func(certmagic.Certificate) (*certmagic.Config, error) { return a.magic, nil },
		RenewCheckInterval: cfg.RenewCheckEvery,
		Logger:             zl,
	})
	a.magic = certmagic.New(a.cache, certmagic.Config{
		// The state directory is the only place written to; certmagic's
		// default would be under $HOME.
		Storage: &certmagic.FileStorage{Path: cfg.StateDir},
		// No OCSP stapling: Let's Encrypt's certificates carry no OCSP
		// URL since 2025 and browsers no longer ask; for another CA a
		// staple would cost the server requests to its responder that no
		// browser needs.
		OCSP: certmagic.OCSPConfig{DisableStapling: true},
		// Clients without SNI (a TURN URL with an address) or with
		// another name still get our certificate rather than a failed
		// handshake.
		DefaultServerName:  cfg.Domain,
		FallbackServerName: cfg.Domain,
		Logger:             zl,
	})
	a.issuer = certmagic.NewACMEIssuer(a.magic, iss)
	a.magic.Issuers = []certmagic.Issuer{a.issuer}
	return a, nil
}

// start loads the certificate from the state directory or obtains it, in
// the background, retrying with backoff; the cache's maintenance renews it.
// Cancelling ctx ends the retries.
func (a *acmeSource) start(ctx context.Context) error {
	if err := a.magic.ManageAsync(ctx, []string{a.domain}); err != nil {
		return fmt.Errorf("certs: managing %s: %w", a.domain, err)
	}
	return nil
}

func (a *acmeSource) stop() { a.cache.Stop() }

// leaf is the newest certificate in the cache for the domain.
func (a *acmeSource) leaf() *x509.Certificate {
	var newest *x509.Certificate
	for _, c := range a.cache.AllMatchingCertificates(a.domain) {
		if c.Leaf != nil && (newest == nil || c.Leaf.NotAfter.After(newest.NotAfter)) {
			newest = c.Leaf
		}
	}
	return newest
}
