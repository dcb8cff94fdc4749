package web

import (
	"bufio"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

var appWithDirsAndMaps = fstest.MapFS{
	"index.html":          {Data: []byte("<!doctype html><title>Plausch</title>")},
	"assets/app.js":       {Data: []byte("console.log(1)\n//# sourceMappingURL=app.js.map")},
	"assets/app.js.map":   {Data: []byte(`{"version":3}`)},
	"assets/sub/deep.css": {Data: []byte("body{}")},
}

// No directory is listed and no source map is served, whatever the app
// holds; files are served as before.
func TestNoListingsNoSourceMaps(t *testing.T) {
	h := newTestHandler(appWithDirsAndMaps)
	for path, want := range map[string]int{
		"/assets/":             404,
		"/assets":              404,
		"/assets/sub/":         404,
		"/assets/sub":          404,
		"/assets/app.js.map":   404,
		"/assets/app.js":       200,
		"/assets/sub/deep.css": 200,
	} {
		res := get(h, path)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Errorf("%s: %d %.80q, want %d", path, res.StatusCode, body, want)
		}
		if res.Header.Get("Content-Security-Policy") == "" {
			t.Errorf("%s: no security headers", path)
		}
	}
}

// The app built into this binary holds no source map (web/build.mjs makes
// none).
func TestEmbeddedAppHasNoSourceMaps(t *testing.T) {
	app, _ := fs.Sub(dist, "dist")
	if _, err := fs.Stat(app, "index.html"); err != nil {
		t.Skip("the app is not built (make web)")
	}
	_ = fs.WalkDir(app, ".", func(path string, d fs.DirEntry, err error) error {
		if strings.HasSuffix(path, ".map") {
			t.Errorf("embedded app holds %s", path)
		}
		return err
	})
}

// With allowed hosts, any other Host gets 421 with the security headers,
// /ws included, but not the health checks; without, every Host is served.
func TestAllowedHosts(t *testing.T) {
	h := Handler(Params{
		WebSocket:    http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }),
		NewName:      func() string { return "x" },
		App:          testApp,
		AllowedHosts: []string{"Meet.Example.org", "::1", "192.0.2.7"},
	})
	for _, c := range []struct {
		host, path string
		want       int
	}{
		{"meet.example.org", "/", 200},
		{"meet.example.org:8443", "/ws", http.StatusTeapot},
		{"MEET.EXAMPLE.ORG.", "/healthz", 200},
		{"[::1]:8080", "/", 200},
		{"192.0.2.7", "/", 200},
		{"evil.example", "/", 421},
		{"evil.example", "/ws", 421},
		{"evil.example", "/api/new-name", 421},
		{"10.1.2.3:8080", "/healthz", 200}, // probes by address
		{"10.1.2.3:8080", "/readyz", 200},
		{"meet.example.org.evil.example", "/", 421},
		{"example.org", "/", 421},
		{"127.0.0.1:8080", "/", 421},
		{"", "/", 421},
	} {
		req := httptest.NewRequest("GET", c.path, nil)
		req.Host = c.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("Host %q %s: %d, want %d", c.host, c.path, rec.Code, c.want)
		}
		if rec.Header().Get("Content-Security-Policy") == "" {
			t.Errorf("Host %q %s: no security headers", c.host, c.path)
		}
	}
	open := newTestHandler(testApp)
	req := httptest.NewRequest("GET", "/", nil)
	req.Host = "anything.example"
	rec := httptest.NewRecorder()
	open.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("no allowed hosts: %d for any host", rec.Code)
	}
}

// Only replies without the security headers that start a write with an
// error status are touched, and they get every header, once.
func TestRawErrorReply(t *testing.T) {
	for _, c := range []struct {
		in    string
		touch bool
	}{
		{"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request", true},
		{"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain\r\n\r\n431", true},
		{"HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", true},
		{"HTTP/1.1 404 Not Found\r\nContent-Security-Policy: x\r\n\r\n404", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false},
		{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", false},
		{"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain", false}, // no end of headers here
		{"\x81\x05hello", false},
		{"", false},
	} {
		var out strings.Builder
		a, b := net.Pipe()
		go func() {
			_, _ = (&rawErrorConn{Conn: a}).Write([]byte(c.in))
			a.Close()
		}()
		_, _ = io.Copy(&out, b)
		got := out.String()
		touched := got != c.in
		if touched != c.touch {
			t.Errorf("%q: touched %v, want %v:\n%s", c.in, touched, c.touch, got)
			continue
		}
		if !c.touch {
			continue
		}
		res, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
		if err != nil {
			t.Fatalf("%q: %v", got, err)
		}
		for k, v := range securityHeaders {
			if vs := res.Header.Values(k); len(vs) != 1 || vs[0] != v {
				t.Errorf("%q: %s = %q", c.in, k, vs)
			}
		}
		if !strings.HasSuffix(got, c.in[strings.Index(c.in, "\r\n"):]) {
			t.Errorf("%q: the rest of the reply changed:\n%s", c.in, got)
		}
	}
}
