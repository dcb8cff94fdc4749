package web

import (
	"net"
	"net/http"
	"strings"
)

// allowHosts refuses every request whose Host is not one of hosts (any
// port), with 421 Misdirected Request. It holds against DNS rebinding: a
// page of another site whose name was made to resolve to this server
// could otherwise load the app and open /ws as if it came from here, since
// its Origin and Host agree (which is all the WebSocket's origin check
// compares). Empty hosts allow any Host.
//
// The health checks answer any Host: a load balancer or an orchestrator
// probes by address (Kubernetes sends the pod's IP), and "ok" tells a
// rebinding page nothing.
func allowHosts(hosts []string, h http.Handler) http.Handler {
	if len(hosts) == 0 {
		return h
	}
	allowed := make(map[string]bool, len(hosts))
	for _, host := range hosts {
		allowed[canonicalHost(host)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed[canonicalHost(r.Host)] && !anyHost[r.URL.Path] {
			// The Host is not echoed: it is the client's, and says nothing
			// the client does not know.
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "This server does not serve this host name.", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

var anyHost = map[string]bool{"/healthz": true, "/readyz": true}

// canonicalHost is a Host header or a configured name without port,
// brackets, case and a final dot: "Meet.Example.org.:443" is
// "meet.example.org", "[::1]:8080" is "::1".
func canonicalHost(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.TrimSuffix(strings.ToLower(h), ".")
}
