package source

import (
	"net/netip"
	"strings"
	"testing"
)

func TestKeyIsPerAddressOrSlash64(t *testing.T) {
	h := NewHasher()
	k := func(s string) Key { return h.Key(netip.MustParseAddr(s)) }
	same := [][2]string{
		{"203.0.113.7", "203.0.113.7"},
		{"203.0.113.7", "::ffff:203.0.113.7"}, // the same address, mapped
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
	}
	for _, c := range same {
		if k(c[0]) != k(c[1]) {
			t.Errorf("%s and %s are different sources", c[0], c[1])
		}
	}
	differ := [][2]string{
		{"203.0.113.7", "203.0.113.8"},
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
		{"127.0.0.1", "127.0.0.2"},
	}
	for _, c := range differ {
		if k(c[0]) == k(c[1]) {
			t.Errorf("%s and %s are one source", c[0], c[1])
		}
	}
	if !k("127.0.0.1").Known() || h.Key(netip.Addr{}).Known() {
		t.Error("Known")
	}
	// Salted per process: another Hasher gives another key, and the key
	// holds nothing of the address.
	if NewHasher().Key(netip.MustParseAddr("203.0.113.7")) == k("203.0.113.7") {
		t.Error("keys are not salted")
	}
	if strings.Contains(string(k("203.0.113.7")), "203.0.113.7") || len(k("203.0.113.7")) != 16 {
		t.Errorf("key %q", k("203.0.113.7"))
	}
}

func TestResolverTrustsOnlyItsProxies(t *testing.T) {
	h := NewHasher()
	k := func(s string) Key { return h.Key(netip.MustParseAddr(s)) }
	loopback, err := ParsePrefixes("127.0.0.0/8, ::1")
	if err != nil {
		t.Fatal(err)
	}
	proxies, err := ParsePrefixes("10.0.0.0/8,192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		trusted []netip.Prefix
		peer    string
		xff     []string
		want    Key
		why     string
	}{
		{"no proxies: the peer", nil, "198.51.100.9:4000", []string{"203.0.113.7"}, k("198.51.100.9"), ""},
		{"an untrusted peer's header is ignored", proxies, "198.51.100.9:4000", []string{"203.0.113.7"}, k("198.51.100.9"), ""},
		{"one trusted proxy", proxies, "192.0.2.1:4000", []string{"203.0.113.7"}, k("203.0.113.7"), ""},
		{"a forged left part is skipped", proxies, "192.0.2.1:4000", []string{"6.6.6.6, 203.0.113.7"}, k("203.0.113.7"), ""},
		{"two trusted hops", proxies, "192.0.2.1:4000", []string{"6.6.6.6, 203.0.113.7, 10.1.2.3"}, k("203.0.113.7"), ""},
		{"several header lines", proxies, "192.0.2.1:4000", []string{"6.6.6.6", "203.0.113.7", "10.1.2.3"}, k("203.0.113.7"), ""},
		{"with a port", proxies, "192.0.2.1:4000", []string{"203.0.113.7:5555"}, k("203.0.113.7"), ""},
		{"IPv6 with a port", proxies, "192.0.2.1:4000", []string{"[2001:db8::1]:5555"}, k("2001:db8::"), ""},
		{"all trusted: the left-most", proxies, "192.0.2.1:4000", []string{"10.9.9.9, 10.1.2.3"}, k("10.9.9.9"), ""},
		{"trusted proxy without the header", loopback, "127.0.0.1:4000", nil, "", UnknownNoHeader},
		{"trusted proxy, empty header", loopback, "[::1]:4000", []string{" , "}, "", UnknownNoHeader},
		{"garbage from the proxy", loopback, "127.0.0.1:4000", []string{"unknown"}, "", UnknownBadAddr},
		{"garbage left of a good hop is not reached", loopback, "127.0.0.1:4000", []string{"unknown, 203.0.113.7"}, k("203.0.113.7"), ""},
		{"loopback untrusted: itself", nil, "127.0.0.3:4000", nil, k("127.0.0.3"), ""},
		{"bad peer", nil, "nonsense", nil, "", UnknownBadAddr},
	}
	for _, c := range cases {
		got, why := NewResolver(h, c.trusted).Source(c.peer, c.xff)
		if got != c.want || why != c.why {
			t.Errorf("%s: got %x %q, want %x %q", c.name, got, why, c.want, c.why)
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	p, err := ParsePrefixes("127.0.0.0/8,::1, 10.1.2.3/8 ,,")
	if err != nil || len(p) != 3 || p[2].String() != "10.0.0.0/8" || p[1].String() != "::1/128" {
		t.Errorf("%v %v", p, err)
	}
	for _, bad := range []string{"127.0.0.0/33", "example.org", "1.2.3"} {
		if _, err := ParsePrefixes(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
