package turn

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pion/stun/v4"
)

// The REST scheme, byte for byte as coturn's use-auth-secret checks it:
// username "expiry:user", password base64(HMAC-SHA1(secret, username)).
func TestCredentialsAreTheRESTScheme(t *testing.T) {
	secret := []byte("0123456789abcdef0123")
	srv, err := New(Config{Secret: secret, RelayIP: loopback4, SelfIPs: []netip.Addr{}})
	must(t, err)
	defer srv.Close()
	now := time.Unix(1_800_000_000, 0)
	user, pass := srv.Credentials("p1", now)
	if want := "1800043200:p1"; user != want { // 12 h later
		t.Errorf("username %q, want %q", user, want)
	}
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(user))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); pass != want {
		t.Errorf("password %q, want %q", pass, want)
	}
}

// A fresh credential allocates; an expired one, a forged one, another
// user's password and another realm are refused, over every transport
// for the first two.
func TestCredentialsRefused(t *testing.T) {
	ts := newTestServer(t, Config{})
	now := time.Now()
	user, pass := ts.Credentials("alice", now)
	_, bobPass := ts.Credentials("bob", now)
	expUser, expPass := ts.Credentials("alice", now.Add(-13*time.Hour)) // expired an hour ago

	for _, tr := range []string{"udp", "tcp", "tls"} {
		t.Run(tr, func(t *testing.T) {
			ts.dial(t, tr, user, pass).allocate(t)
			for _, c := range []struct{ name, user, pass string }{
				{"expired", expUser, expPass},
				{"forged", user, forge(pass)},
				{"other user's password", user, bobPass},
				{"no expiry", "alice", pass},
				{"expiry changed", "9" + user[1:], pass},
			} {
				_, err := ts.dial(t, tr, c.user, c.pass).Allocate()
				if turnCode(err) != int(stun.CodeUnauthorized) {
					t.Errorf("%s: allocate: %v, want 401 Unauthorized", c.name, err)
				}
			}
		})
	}

	// Pion derives the key from the realm the request names, so a client
	// could pick its own; the server's realm is enforced. The same
	// request with the right realm is the control.
	transport := stun.RawAttribute{Type: stun.AttrRequestedTransport, Value: []byte{17, 0, 0, 0}} // UDP
	if code := responseCode(bareRequest(t, ts.udp, user, pass, "elsewhere", stun.MethodAllocate, transport)); code != int(stun.CodeUnauthorized) {
		t.Errorf("other realm: code %d, want 401", code)
	}
	if code := responseCode(bareRequest(t, ts.udp, user, pass, "", stun.MethodAllocate, transport)); code != 0 {
		t.Errorf("control with the right realm: code %d, want success", code)
	}
	if f := ts.Stats().AuthFailures; f < 16 {
		t.Errorf("%d failed authentications counted, want at least 16", f)
	}
}

// forge changes the last character of a password that base64 keeps.
func forge(pass string) string {
	b := []byte(pass)
	i := strings.LastIndexFunc(pass, func(r rune) bool { return r != '=' })
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}
