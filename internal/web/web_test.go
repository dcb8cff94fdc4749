package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func newTestHandler(app fstest.MapFS) http.Handler {
	return Handler(Params{
		WebSocket: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }),
		NewName:   func() string { return "amber-falcon-quiet-river-stone-4821" },
		App:       app,
	})
}

var testApp = fstest.MapFS{
	"index.html":           {Data: []byte("<!doctype html><title>Plausch</title>")},
	"assets/app.js":        {Data: []byte("console.log(1)")},
	"manifest.webmanifest": {Data: []byte("{}")},
}

func get(h http.Handler, path string) *http.Response {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	return rec.Result()
}

func TestRoutes(t *testing.T) {
	h := newTestHandler(testApp)
	cases := []struct {
		path   string
		status int
		body   string
	}{
		{"/", 200, "<title>Plausch"},
		{"/privacy", 200, "<title>Plausch"},
		{"/amber-falcon-quiet-river-stone-4821", 200, "<title>Plausch"},
		{"/Team-M%C3%BCller", 200, "<title>Plausch"},
		{"/assets/app.js", 200, "console.log"},
		{"/manifest.webmanifest", 200, "{}"},
		{"/api/new-name", 200, `"name":"amber-falcon-quiet-river-stone-4821"`},
		{"/healthz", 200, "ok"},
		{"/readyz", 200, "ready"},
		{"/ws", http.StatusTeapot, ""},
		{"/assets/missing.js", 404, ""},
		{"/favicon.ico", 404, ""},
		{"/a/b", 404, ""},
		{"/metrics", 404, ""},
		{"/API", 404, ""},
	}
	for _, c := range cases {
		res := get(h, c.path)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != c.status || !strings.Contains(string(body), c.body) {
			t.Errorf("%s: %d %q, want %d with %q", c.path, res.StatusCode, body, c.status, c.body)
		}
	}
}

func TestNewNameIsJSONAndNotCached(t *testing.T) {
	res := get(newTestHandler(testApp), "/api/new-name")
	var v struct{ Name string }
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil || v.Name == "" {
		t.Fatalf("decode: %v %+v", err, v)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
	}
}

// Every response, found or not, carries the security headers.
func TestSecurityHeadersEverywhere(t *testing.T) {
	h := newTestHandler(testApp)
	for _, path := range []string{"/", "/some-meeting", "/assets/app.js", "/api/new-name", "/nope/nope", "/healthz"} {
		res := get(h, path)
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.HasPrefix(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") ||
			!strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		want := map[string]string{
			"Referrer-Policy":        "no-referrer",
			"X-Content-Type-Options": "nosniff",
			"Permissions-Policy":     "camera=(self), microphone=(self), display-capture=(self)",
		}
		for k, v := range want {
			if !strings.HasPrefix(res.Header.Get(k), v) {
				t.Errorf("%s: %s = %q, want %q", path, k, res.Header.Get(k), v)
			}
		}
	}
}

func TestUnbuiltAppSaysWhatToDo(t *testing.T) {
	res := get(newTestHandler(fstest.MapFS{}), "/")
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "make web") {
		t.Errorf("%d %q", res.StatusCode, body)
	}
}
