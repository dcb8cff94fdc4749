package main

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"

	"plausch.dev/plausch/internal/certs"
	"plausch.dev/plausch/internal/server"
	"plausch.dev/plausch/internal/turn"
)

// edgeFlags defines the flags of what faces the Internet (HTTPS with its
// certificate, the built-in TURN) and returns what applies them.
func edgeFlags(fs *flag.FlagSet) func(cfg *server.Config) error {
	domain := fs.String("domain", env("PLAUSCH_DOMAIN", ""),
		"serve HTTPS on -addr with a certificate for this name from an ACME CA (Let's Encrypt by default), obtained and renewed by the server; setting it accepts the CA's subscriber agreement [PLAUSCH_DOMAIN]")
	certFile := fs.String("tls-cert", env("PLAUSCH_TLS_CERT", ""), "serve HTTPS on -addr with this certificate chain (PEM), read again when it changes [PLAUSCH_TLS_CERT]")
	keyFile := fs.String("tls-key", env("PLAUSCH_TLS_KEY", ""), "the key of -tls-cert (PEM) [PLAUSCH_TLS_KEY]")
	httpAddr := fs.String("http-addr", env("PLAUSCH_HTTP_ADDR", ":80"),
		"with HTTPS: plain HTTP here answers ACME challenges and redirects everything else to HTTPS; empty for none [PLAUSCH_HTTP_ADDR]")
	stateDir := fs.String("state-dir", env("PLAUSCH_STATE_DIR", certs.DefaultStateDir),
		"where the ACME account and certificates are kept: the only place the server writes to [PLAUSCH_STATE_DIR]")
	acmeCA := fs.String("acme-ca", env("PLAUSCH_ACME_CA", certs.DefaultACMECA), "the ACME CA's directory URL [PLAUSCH_ACME_CA]")
	acmeEmail := fs.String("acme-email", env("PLAUSCH_ACME_EMAIL", ""), "optional: where the CA may write about expiring certificates [PLAUSCH_ACME_EMAIL]")
	turnAddr := fs.String("turn-addr", env("PLAUSCH_TURN_ADDR", ""),
		"start the built-in TURN server on this address, UDP and TCP (e.g. :3478), and with HTTPS over TLS on the HTTPS port too; needs -udp-port; browsers get it with credentials of their own [PLAUSCH_TURN_ADDR]")
	turnHost := fs.String("turn-host", env("PLAUSCH_TURN_HOST", ""),
		"the name or IP browsers reach TURN by; default -domain, else the first -public-ip [PLAUSCH_TURN_HOST]")
	relayIP := fs.String("turn-relay-ip", env("PLAUSCH_TURN_RELAY_IP", ""),
		"the public IP of relayed addresses; default the first -public-ip [PLAUSCH_TURN_RELAY_IP]")
	secret := fs.String("turn-secret", env("PLAUSCH_TURN_SECRET", ""),
		"sign TURN credentials with this secret (at least 16 bytes) instead of a random one, e.g. to share it with a coturn (use-auth-secret) [PLAUSCH_TURN_SECRET]")
	return func(cfg *server.Config) error {
		var errs []error
		if *domain != "" || *certFile != "" || *keyFile != "" {
			cfg.TLS = &server.TLSConfig{HTTPAddr: *httpAddr, Certs: certs.Config{
				CertFile: *certFile, KeyFile: *keyFile, Domain: *domain,
				StateDir: *stateDir, ACMECA: *acmeCA, ACMEEmail: *acmeEmail, Log: cfg.Log,
			}}
			if *domain != "" && len(cfg.AllowedHosts) == 0 {
				cfg.AllowedHosts = []string{*domain}
			}
		}
		if *turnAddr == "" {
			return nil
		}
		host := *turnHost
		if host == "" {
			host = *domain
		}
		ip := *relayIP
		if ip == "" && len(cfg.Media.PublicIPs) > 0 {
			ip = cfg.Media.PublicIPs[0]
		}
		if cfg.Media.LoopbackOnly && ip == "" {
			ip = "127.0.0.1"
		}
		if host == "" {
			host = ip
		}
		relay, err := netip.ParseAddr(ip)
		if err != nil {
			errs = append(errs, fmt.Errorf("TURN needs the server's public IP: -turn-relay-ip or -public-ip (%q: %v)", ip, err))
		}
		if host == "" {
			errs = append(errs, errors.New("TURN needs the name browsers reach it by: -turn-host or -domain"))
		}
		if cfg.Media.UDPPort == 0 {
			errs = append(errs, errors.New("TURN needs -udp-port: the relay lets through only the media port to this server"))
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		cfg.TURN = &server.TURNConfig{Addr: *turnAddr, Host: host,
			Server: turn.Config{RelayIP: relay, Secret: []byte(*secret), Log: cfg.Log}}
		return nil
	}
}
