package certs

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	acme := func(mod func(*Config)) Config {
		c := Config{Domain: "meet.example.org", HTTPAddr: "0.0.0.0:80", HTTPSAddr: "0.0.0.0:443"}
		mod(&c)
		c.Defaults()
		return c
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // in the error; "" means valid
	}{
		{"files", Config{CertFile: "c.pem", KeyFile: "k.pem"}, ""},
		{"ACME", acme(func(*Config) {}), ""},
		{"ACME, HTTP-01 only", acme(func(c *Config) { c.HTTPSAddr = "" }), ""},
		{"ACME, TLS-ALPN-01 only", acme(func(c *Config) { c.HTTPAddr = "" }), ""},
		{"nothing", Config{}, "no certificate"},
		{"both", Config{CertFile: "c", KeyFile: "k", Domain: "meet.example.org"}, "choose one"},
		{"cert without key", Config{CertFile: "c"}, "needs its key"},
		{"key without cert", Config{KeyFile: "k"}, "needs its key"},
		{"no challenge", acme(func(c *Config) { c.HTTPAddr = ""; c.DisableTLSALPN = true }), "answer a challenge"},
		{"wildcard", acme(func(c *Config) { c.Domain = "*.example.org" }), "only lowercase"},
		{"IP", acme(func(c *Config) { c.Domain = "203.0.113.7" }), "IP address"},
		{"port", acme(func(c *Config) { c.Domain = "meet.example.org:443" }), "only lowercase"},
		{"scheme", acme(func(c *Config) { c.Domain = "https://meet.example.org" }), "only lowercase"},
		{"single label", acme(func(c *Config) { c.Domain = "localhost" }), "like meet.example.org"},
		{"uppercase", acme(func(c *Config) { c.Domain = "Meet.example.org" }), "only lowercase"},
		{"empty label", acme(func(c *Config) { c.Domain = "meet..org" }), "like meet.example.org"},
		{"http CA", acme(func(c *Config) { c.ACMECA = "http://ca.example/dir" }), "https://"},
		{"bad email", acme(func(c *Config) { c.ACMEEmail = "nobody" }), "not an address"},
		{"unbound port", acme(func(c *Config) { c.HTTPAddr = "127.0.0.1:0" }), "actually bound"},
		{"no port", acme(func(c *Config) { c.HTTPSAddr = "127.0.0.1" }), "actually bound"},
		{"negative interval", Config{CertFile: "c", KeyFile: "k", ReloadEvery: -1}, "negative"},
	} {
		err := tc.cfg.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one about %q", tc.name, err, tc.want)
		}
	}
}

// Every mistake is reported at once, not one per try.
func TestConfigValidateReportsAll(t *testing.T) {
	c := Config{Domain: "Bad.example.org", ACMECA: "ftp://x", ACMEEmail: "x", StateDir: "/s"}
	err := c.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"only lowercase", "https://", "not an address", "answer a challenge"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q missing from %v", want, err)
		}
	}
}
