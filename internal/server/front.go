package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"plausch.dev/plausch/internal/certs"
	"plausch.dev/plausch/internal/tlsmux"
	"plausch.dev/plausch/internal/web"
)

// TLSConfig turns on HTTPS in the binary.
type TLSConfig struct {
	// Certs says where the certificate comes from (files, or a domain
	// through ACME); its HTTPAddr and HTTPSAddr are filled in by Start.
	Certs certs.Config
	// HTTPAddr is where plain HTTP is answered: ACME's HTTP-01 challenges
	// and a redirect of everything else to HTTPS. Empty: no plain HTTP.
	HTTPAddr string
}

// front is what the public connects to: plain HTTP on Config.Addr, or
// HTTPS there (TURN over TLS on the same port, through the tlsmux) and
// plain HTTP that redirects on TLSConfig.HTTPAddr.
type front struct {
	ln         net.Listener // the TCP listener on Config.Addr
	serve      net.Listener // what the main http.Server serves
	mux        *tlsmux.Mux  // nil without TLS
	certs      *certs.Manager
	redirect   *http.Server // nil without TLS or HTTPAddr
	redirectLn net.Listener
	served     chan error // the redirect server's end
	serving    bool       // the main http.Server owns serve (and closes it)
}

// openFront listens on addr and, with tc, on its HTTP address, and
// prepares the certificate. Nothing is served yet (start).
func openFront(addr string, tc *TLSConfig, f *front) (err error) {
	if f.ln, err = net.Listen("tcp", addr); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if tc == nil {
		f.serve = web.Listener(f.ln)
		return nil
	}
	defer func() {
		if err != nil {
			f.close()
		}
	}()
	cc := tc.Certs
	cc.HTTPSAddr = f.ln.Addr().String()
	if tc.HTTPAddr != "" {
		if f.redirectLn, err = net.Listen("tcp", tc.HTTPAddr); err != nil {
			return fmt.Errorf("listen for plain HTTP: %w", err)
		}
		cc.HTTPAddr = f.redirectLn.Addr().String()
	}
	if f.certs, err = certs.New(cc); err != nil {
		return err
	}
	if f.mux, err = tlsmux.New(f.ln, f.certs.TLSConfig(), tlsmux.Options{Log: cc.Log}); err != nil {
		return err
	}
	f.serve = web.Listener(f.mux.HTTP())
	return nil
}

// handler wraps the app's handler for the public side: HSTS over HTTPS.
// Every request there came over TLS, but one that negotiated no ALPN
// reaches net/http through the mux's sniffing wrapper, not as a *tls.Conn,
// so r.TLS (which certs.HSTS goes by) is unset for it.
func (f *front) handler(h http.Handler) http.Handler {
	if f.mux == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", certs.HSTSValue)
		h.ServeHTTP(w, r)
	})
}

// start serves the redirect and starts obtaining certificates, now that
// the listeners that answer ACME's challenges are up.
func (f *front) start(ctx context.Context, cfg HTTPConfig) error {
	if f.redirectLn != nil {
		f.redirect = newHTTPServer(ctx, cfg, web.WithSecurityHeaders(f.certs.HTTPHandler(nil)))
		f.served = make(chan error, 1)
		go func() { f.served <- f.redirect.Serve(web.Listener(f.redirectLn)) }()
	}
	if f.certs != nil {
		return f.certs.Start()
	}
	return nil
}

// scheme is the public URL's scheme.
func (f *front) scheme() string {
	if f.mux != nil {
		return "https"
	}
	return "http"
}

// turnOverTLS is the listener of TURN connections on the HTTPS port; nil
// without TLS.
func (f *front) turnOverTLS() net.Listener {
	if f.mux == nil {
		return nil
	}
	return f.mux.TURN()
}

// close stops what openFront and start began; the main http.Server is
// closed by its owner.
func (f *front) close() error {
	var err error
	if f.redirect != nil {
		err = f.redirect.Close()
		if e := <-f.served; !errors.Is(e, http.ErrServerClosed) {
			err = errors.Join(err, e)
		}
	} else if f.redirectLn != nil {
		err = f.redirectLn.Close()
	}
	if f.mux != nil {
		err = errors.Join(err, f.mux.Close())
	} else if f.ln != nil && !f.serving {
		err = errors.Join(err, f.ln.Close())
	}
	if f.certs != nil {
		err = errors.Join(err, f.certs.Close())
	}
	return err
}
