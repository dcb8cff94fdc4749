// Package web serves the browser app and the small HTTP API around the
// signalling socket, with strict security headers on every response.
package web

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"

	"plausch.dev/plausch/internal/names"
)

// dist is the built browser app (make web). Only .gitkeep is there before.
//
//go:embed all:dist
var dist embed.FS

// securityHeaders keep the app to its own origin: no third-party script,
// style, font, image, frame or connection can load, nothing can frame it,
// and no Referer leaks the meeting name to anyone.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
		"media-src 'self' blob: mediastream:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; " +
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
	"Referrer-Policy":              "no-referrer",
	"Permissions-Policy":           "camera=(self), microphone=(self), display-capture=(self), speaker-selection=(self), geolocation=(), payment=(), usb=()",
	"X-Content-Type-Options":       "nosniff",
	"X-Frame-Options":              "DENY",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
}

// Params wires the handler to the rest of the server.
type Params struct {
	WebSocket http.Handler  // the signalling endpoint at /ws
	NewName   func() string // a fresh meeting name for /api/new-name
	Ready     func() bool   // whether /readyz reports ready
	App       fs.FS         // the built app; nil serves the embedded one
	Metrics   http.Handler  // served at /metrics when not nil
	// AllowedHosts are the host names the server answers to (the Host
	// header, any port); any other gets 421. Empty allows every name.
	AllowedHosts []string
}

// Handler returns the server's whole HTTP surface.
func Handler(p Params) http.Handler {
	app := p.App
	if app == nil {
		app, _ = fs.Sub(dist, "dist")
	}
	mux := http.NewServeMux()
	mux.Handle("GET /ws", p.WebSocket)
	mux.HandleFunc("GET /api/new-name", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"name": p.NewName()})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if p.Ready != nil && !p.Ready() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ready\n"))
	})
	if p.Metrics != nil {
		mux.Handle("GET /metrics", p.Metrics)
	}
	files := http.FileServerFS(filesOnly{app})
	mux.Handle("GET /assets/", cached(files))
	mux.Handle("GET /manifest.webmanifest", files)
	// Every meeting is a page of its own; the app reads the name from the
	// path and validates it, so the server needs no list of meetings.
	mux.HandleFunc("GET /{$}", serveIndex(app))
	mux.HandleFunc("GET /privacy", serveIndex(app)) // "What this server knows about you"
	mux.HandleFunc("GET /{meeting}", serveIndex(app))
	return WithSecurityHeaders(allowHosts(p.AllowedHosts, mux))
}

func serveIndex(app fs.FS) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if m := r.PathValue("meeting"); strings.Contains(m, ".") || names.IsReserved(m) {
			http.NotFound(w, r) // a missing static file or route, not a meeting
			return
		}
		page, err := fs.ReadFile(app, "index.html")
		if err != nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			http.Error(w, "The web app is not built. Run: make web", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(page)
	}
}

func cached(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Asset names are not content-hashed, so browsers revalidate.
		w.Header().Set("Cache-Control", "no-cache")
		h.ServeHTTP(w, r)
	})
}

// SecurityHeaders returns the headers every response carries, a copy.
func SecurityHeaders() http.Header {
	h := make(http.Header, len(securityHeaders))
	for k, v := range securityHeaders {
		h.Set(k, v)
	}
	return h
}

// WithSecurityHeaders sets the security headers on every response of h.
func WithSecurityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range securityHeaders {
			w.Header().Set(k, v)
		}
		h.ServeHTTP(w, r)
	})
}
