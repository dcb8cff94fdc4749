package certs

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestPickHost(t *testing.T) {
	names := []string{"meet.example.org", "*.rooms.example.org", "203.0.113.7", "2001:db8::1"}
	for _, tc := range []struct{ req, want string }{
		{"meet.example.org", "meet.example.org"},
		{"MEET.example.org.:80", "meet.example.org"},
		{"a.rooms.example.org", "a.rooms.example.org"},
		{"203.0.113.7:80", "203.0.113.7"},
		{"[2001:db8::1]:80", "2001:db8::1"},
		// Hosts the certificate does not cover go to its first name.
		{"evil.example", "meet.example.org"},
		{"a.b.rooms.example.org", "meet.example.org"},
		{"rooms.example.org", "meet.example.org"},
		{"evil.example/meet.example.org", "meet.example.org"},
		{"", "meet.example.org"},
	} {
		if got, ok := pickHost(tc.req, names); !ok || got != tc.want {
			t.Errorf("Host %q: got %q %v, want %q", tc.req, got, ok, tc.want)
		}
	}
	if got, ok := pickHost("evil.example", []string{"*.example.org"}); ok {
		t.Errorf("only a wildcard to fall back on: got %q", got)
	}
}

// The redirect keeps path and query, answers 308, and names only hosts
// of the certificate, with the HTTPS port unless it is 443.
func TestRedirect(t *testing.T) {
	m := &Manager{cfg: Config{Domain: "meet.example.org", HTTPSAddr: "0.0.0.0:443"}, acme: &acmeSource{}}
	h := http.HandlerFunc(m.redirect)
	for _, tc := range []struct{ method, host, target, want string }{
		{"GET", "meet.example.org", "/", "https://meet.example.org/"},
		{"GET", "meet.example.org", "/Room-Name?x=1&y=%20", "https://meet.example.org/Room-Name?x=1&y=%20"},
		{"POST", "meet.example.org:80", "/api", "https://meet.example.org/api"},
		{"GET", "evil.example", "/x", "https://meet.example.org/x"},
		{"GET", "meet.example.org", "//evil.example/x", "https://meet.example.org//evil.example/x"},
		{"GET", "meet.example.org", "/a%2Fb", "https://meet.example.org/a%2Fb"},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(tc.method, "http://"+tc.host+tc.target, nil)
		r.Host = tc.host
		h.ServeHTTP(w, r)
		if w.Code != http.StatusPermanentRedirect || w.Header().Get("Location") != tc.want {
			t.Errorf("%s %s%s: %d %q, want 308 %q", tc.method, tc.host, tc.target, w.Code, w.Header().Get("Location"), tc.want)
		}
	}
	m.cfg.HTTPSAddr = "[::]:8443"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "http://meet.example.org/x", nil))
	if got := w.Header().Get("Location"); got != "https://meet.example.org:8443/x" {
		t.Errorf("other port: %q", got)
	}
}

func TestHSTSOnlyOverTLS(t *testing.T) {
	h := HSTS(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for _, tls := range []*tls.ConnectionState{nil, {}} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		r.TLS = tls
		h.ServeHTTP(w, r)
		want := ""
		if tls != nil {
			want = "max-age=31536000"
		}
		if got := w.Header().Get("Strict-Transport-Security"); got != want {
			t.Errorf("TLS %v: HSTS %q, want %q", tls != nil, got, want)
		}
	}
}
