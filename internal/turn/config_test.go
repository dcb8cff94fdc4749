package turn

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{RelayIP: netip.MustParseAddr("198.51.100.7")}
	c.Defaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Realm != "plausch" || c.CredentialTTL != 12*time.Hour || c.MaxAllocationsPerUser != 24 ||
		c.MaxBitrate != 20_000_000 || c.IdleTimeout != 30*time.Second || c.ListenIP != netip.IPv4Unspecified() {
		t.Errorf("defaults %+v", c)
	}
	c6 := Config{RelayIP: netip.MustParseAddr("2001:db8::7")}
	c6.Defaults()
	if c6.ListenIP != netip.IPv6Unspecified() {
		t.Errorf("IPv6 listen default %v", c6.ListenIP)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := func() Config {
		c := Config{RelayIP: netip.MustParseAddr("198.51.100.7")}
		c.Defaults()
		return c
	}
	for _, c := range []struct {
		want string
		mod  func(*Config)
	}{
		{"secret", func(c *Config) { c.Secret = []byte("short") }},
		{"no relay IP", func(c *Config) { c.RelayIP = netip.Addr{} }},
		{"not a unicast", func(c *Config) { c.RelayIP = netip.IPv4Unspecified() }},
		{"different families", func(c *Config) { c.ListenIP = netip.IPv6Unspecified() }},
		{"relay ports", func(c *Config) { c.RelayPorts = [2]uint16{50000, 0} }},
		{"relay ports", func(c *Config) { c.RelayPorts = [2]uint16{50010, 50000} }},
		{"credential lifetime", func(c *Config) { c.CredentialTTL = time.Second }},
		{"own media address", func(c *Config) { c.Own = []netip.AddrPort{netip.MustParseAddrPort("198.51.100.7:0")} }},
		{"invalid prefix", func(c *Config) { c.Deny = []netip.Prefix{{}} }},
		{"allocations per user", func(c *Config) { c.MaxAllocationsPerUser = -2 }},
		{"bitrate", func(c *Config) { c.MaxBitrate = 1000 }},
		{"idle timeout", func(c *Config) { c.IdleTimeout = -time.Second }},
	} {
		cfg := ok()
		c.mod(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.want, err)
		}
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New without a relay IP")
	}
}
