package certs

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// HSTSValue tells browsers to use only HTTPS for this host for a year.
// Without includeSubDomains: Plausch often runs on the apex or beside
// other hosts of an organisation, and a meeting server must not decide
// for a year that every sibling under its name needs HTTPS. Without
// preload for the same reason: preloading is the operator's choice.
const HSTSValue = "max-age=31536000"

// HSTS adds Strict-Transport-Security to every response to a request that
// came over TLS. Browsers ignore the header over plain HTTP (RFC 6797), so
// behind a TLS-terminating proxy (--addr) the proxy sends it.
func HSTS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.Header().Set("Strict-Transport-Security", HSTSValue)
		}
		next.ServeHTTP(w, r)
	})
}

// HTTPHandler is the whole plain-HTTP side (port 80): ACME HTTP-01
// challenges are answered, everything else goes to fallback; a nil
// fallback redirects to HTTPS.
func (m *Manager) HTTPHandler(fallback http.Handler) http.Handler {
	if fallback == nil {
		fallback = http.HandlerFunc(m.redirect)
	}
	if m.acme != nil && m.cfg.HTTPAddr != "" {
		return m.acme.issuer.HTTPChallengeHandler(fallback)
	}
	return fallback
}

// redirect sends the request to the same path and query over HTTPS with
// 308 (the method and body are kept). The host is the request's only if
// the certificate covers it, else the certificate's first name: never one
// of the request's choosing, so this is no open redirect.
func (m *Manager) redirect(w http.ResponseWriter, r *http.Request) {
	host, ok := pickHost(r.Host, m.Names())
	if !ok {
		http.Error(w, "unknown host", http.StatusBadRequest)
		return
	}
	path := r.URL.EscapedPath()
	if !strings.HasPrefix(path, "/") {
		path = "/" + path // "OPTIONS *" and the like
	}
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	http.Redirect(w, r, "https://"+hostPort(host, m.httpsPort())+path, http.StatusPermanentRedirect)
}

// httpsPort is where browsers reach HTTPS: the HTTPS listener's port.
func (m *Manager) httpsPort() int {
	if _, port, err := splitPort(m.cfg.HTTPSAddr); err == nil && port != 0 {
		return port
	}
	return 443
}

// pickHost returns the request's host if one of names (the certificate's,
// wildcards included) covers it, else the first name that is no wildcard.
func pickHost(reqHost string, names []string) (string, bool) {
	host := reqHost
	if h, _, err := net.SplitHostPort(reqHost); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	for _, n := range names {
		if covers(strings.ToLower(n), host) {
			return host, true
		}
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "*.") {
			return strings.ToLower(n), true
		}
	}
	return "", false
}

// covers reports whether certificate name n is valid for host: equal, or
// a wildcard for exactly one label more.
func covers(n, host string) bool {
	if n == host {
		return true
	}
	rest, ok := strings.CutPrefix(n, "*.")
	if !ok {
		return false
	}
	label, parent, found := strings.Cut(host, ".")
	return found && label != "" && parent == rest
}

// hostPort writes host and port for a URL, leaving out the default port.
func hostPort(host string, port int) string {
	if port == 443 {
		if strings.Contains(host, ":") {
			return "[" + host + "]"
		}
		return host
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}
