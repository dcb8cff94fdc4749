// Package source names where a connection comes from without keeping its
// address, so the server can apply limits per source: a client's IP address
// (an IPv6 address by its /64, what one customer usually gets) becomes a
// Key, an HMAC with a salt made at start and never stored or logged. The
// tables in table.go keep counters and rate limiters per Key, in memory
// only, and forget a source soon after its last use.
//
// Behind a reverse proxy the peer is the proxy: a Resolver then takes the
// client's address from X-Forwarded-For, trusting only the entries its
// trusted proxies appended.
package source

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// Key stands for one source. The zero Key is an unknown source, to which
// no per-source limit applies.
type Key string

// Known reports whether k names a source.
func (k Key) Known() bool { return k != "" }

// Hasher turns addresses into Keys. Its salt lives only in this process:
// a Key says nothing about the address it stands for, and no Key outlives
// the process.
type Hasher struct{ salt [32]byte }

// NewHasher makes a Hasher with a fresh random salt.
func NewHasher() *Hasher {
	h := &Hasher{}
	_, _ = rand.Read(h.salt[:])
	return h
}

// Key is a's source: an IPv4 address as it is, an IPv6 address by its /64.
func (h *Hasher) Key(a netip.Addr) Key {
	a = a.Unmap()
	if !a.IsValid() {
		return ""
	}
	var b []byte
	if a.Is4() {
		v := a.As4()
		b = v[:]
	} else {
		v := a.As16()
		b = v[:8] // the network: one household or customer gets a /64
	}
	m := hmac.New(sha256.New, h.salt[:])
	m.Write(b)
	return Key(m.Sum(nil)[:16])
}

// ParsePrefixes reads a comma-separated list of addresses and CIDR
// prefixes ("127.0.0.0/8,::1").
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("source: bad prefix %q: %w", f, err)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("source: bad address %q: %w", f, err)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// Resolver finds the source of an HTTP request.
type Resolver struct {
	hasher  *Hasher
	trusted []netip.Prefix
}

// NewResolver makes a Resolver that believes X-Forwarded-For only from the
// trusted proxies; with none it never reads the header.
func NewResolver(h *Hasher, trusted []netip.Prefix) *Resolver {
	return &Resolver{hasher: h, trusted: trusted}
}

// Why a source is unknown.
const (
	UnknownNoHeader = "a trusted proxy sends no X-Forwarded-For"
	UnknownBadAddr  = "an address could not be read"
)

// Request is the source of r; when it is unknown, why says why.
func (rs *Resolver) Request(r *http.Request) (k Key, why string) {
	return rs.Source(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
}

// Source is the source of a request from the peer remoteAddr (host:port)
// with these X-Forwarded-For header lines. From a trusted proxy it is the
// right-most forwarded address that is not a trusted proxy itself: every
// entry to the right of it was appended by a proxy we trust, while anything
// further left the client may have written. If every entry is a trusted
// proxy, the left-most is the client.
func (rs *Resolver) Source(remoteAddr string, forwardedFor []string) (k Key, why string) {
	peer, ok := parseAddr(remoteAddr)
	if !ok {
		return "", UnknownBadAddr
	}
	if !rs.isTrusted(peer) {
		return rs.hasher.Key(peer), ""
	}
	var hops []string
	for _, line := range forwardedFor {
		for _, f := range strings.Split(line, ",") {
			if f = strings.TrimSpace(f); f != "" {
				hops = append(hops, f)
			}
		}
	}
	if len(hops) == 0 {
		return "", UnknownNoHeader
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseAddr(hops[i])
		if !ok {
			// Written by a trusted proxy, or by the client if a proxy
			// passed it on unchecked: either way nobody to hold to it.
			return "", UnknownBadAddr
		}
		if !rs.isTrusted(a) || i == 0 {
			return rs.hasher.Key(a), ""
		}
	}
	return "", UnknownBadAddr // not reached
}

func (rs *Resolver) isTrusted(a netip.Addr) bool {
	for _, p := range rs.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr reads "1.2.3.4", "2001:db8::1", "1.2.3.4:5678" or
// "[2001:db8::1]:80".
func parseAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.WithZone("").Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	return netip.Addr{}, false
}
