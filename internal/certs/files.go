package certs

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// fileSource serves a certificate from PEM files and reads them again on
// a timer or on demand. A pair that does not load (half written, a key
// that does not match) leaves the current certificate in place.
type fileSource struct {
	certFile, keyFile string
	log               *slog.Logger
	cur               atomic.Pointer[tls.Certificate] // Leaf is set

	mu       sync.Mutex // serialises reloads
	certPEM  []byte     // what cur was loaded from
	keyPEM   []byte
	failures string // the last reload error, logged once
}

func loadFiles(certFile, keyFile string, log *slog.Logger) (*fileSource, error) {
	f := &fileSource{certFile: certFile, keyFile: keyFile, log: log}
	if _, err := f.reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// reload reads both files and switches to them if they differ from what
// is served. Comparing contents, not modification times, catches every
// replacement (certbot's symlink swaps included) and ignores a touch.
func (f *fileSource) reload() (changed bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	certPEM, err := os.ReadFile(f.certFile)
	if err != nil {
		return false, f.failed(fmt.Errorf("certificate: %w", err))
	}
	keyPEM, err := os.ReadFile(f.keyFile)
	if err != nil {
		return false, f.failed(fmt.Errorf("certificate key: %w", err))
	}
	if bytes.Equal(certPEM, f.certPEM) && bytes.Equal(keyPEM, f.keyPEM) {
		return false, nil
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return false, f.failed(fmt.Errorf("certificate %s with key %s: %w", f.certFile, f.keyFile, err))
	}
	if cert.Leaf == nil {
		return false, f.failed(errors.New("certificate: no leaf"))
	}
	f.cur.Store(&cert)
	f.certPEM, f.keyPEM, f.failures = certPEM, keyPEM, ""
	f.log.Info("certificate loaded", "file", f.certFile, "names", leafNames(&cert),
		"not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	if left := time.Until(cert.Leaf.NotAfter); left < 7*24*time.Hour {
		f.log.Warn("certificate expires soon", "file", f.certFile, "left", left.Round(time.Minute).String())
	}
	return true, nil
}

// failed logs err once until it changes, so a file left broken does not
// fill the log every ReloadEvery.
func (f *fileSource) failed(err error) error {
	if msg := err.Error(); msg != f.failures {
		f.failures = msg
		if f.cur.Load() != nil {
			f.log.Warn("certificate files not reloaded; the current certificate stays", "err", err)
		}
	}
	return err
}

func (f *fileSource) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_, _ = f.reload() // failed logged it
		}
	}
}

func (f *fileSource) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return f.cur.Load(), nil
}

func (f *fileSource) names() []string { return leafNames(f.cur.Load()) }

func leafNames(c *tls.Certificate) []string {
	names := append([]string(nil), c.Leaf.DNSNames...)
	for _, ip := range c.Leaf.IPAddresses {
		names = append(names, ip.String())
	}
	return names
}
